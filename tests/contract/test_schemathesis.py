"""Schemathesis against the app in-process: every operation of the OpenAPI document, generated valid and
invalid requests, sent as the operator and as two client members on a seeded world, every answer held to
the document (no 5xx, status codes, content types, headers and bodies as declared, invalid data refused).

The calls go through httpx on the test's own event loop (the app fixture's real lifespan and its asyncpg
pool live on it), so requests are serialised the way schemathesis does and sent with an httpx ASGI
transport rather than schemathesis's threaded ASGI client. The document declares no OpenAPI links, so
there is no stateful phase to run; instead every valid case is also sent with its path parameters
replaced by the seeded world's ids, so the operations reach real rows and not only 404s."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from services.core.settings import Settings
from tests.conftest import TEST_JWT_SECRET, PgServer, User, World
from tests.contract.seed import Seeded, seed

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

# The app's own document, read without starting it (`from_asgi` would run the lifespan at import time,
# against no database); the cases are sent to the `app` fixture's app below.
schema = (
    schemathesis.openapi.from_dict(
        create_app(Settings(SUPABASE_JWT_SECRET="x" * 40, DATABASE_URL="postgresql://unused/db")).openapi(),
        # The coverage phase sends every boundary of every field: hundreds of cases per operation, past
        # the time this suite may take; the examples and fuzzing phases stay on (bounded below).
        config=schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}}),
    )
    # Signed links (storage) authenticate by an HMAC in the query, not a token: random data only meets 403s
    # and is covered by tests/storage. The SSE stream never ends, so a call to it would never return.
    .exclude(tag="storage")
    # Likewise the pre-visio form (its signed link is covered by tests/prospects); a valid case would also
    # send its SIRET to the company lookup, a real vendor.
    .exclude(tag="previsio")
    .exclude(path="/api/v1/events")
)


@dataclass
class Arena:
    loop: asyncio.AbstractEventLoop
    http: httpx.AsyncClient
    seeded: Seeded
    _turn: Iterator[int] = field(default_factory=itertools.count)

    def next_user(self) -> User:
        """The operator, A's member and B's member in turn (deterministic: the cases are derandomised)."""
        users = [self.seeded.operator, self.seeded.a.tenant.member, self.seeded.b.tenant.member]
        return users[next(self._turn) % len(users)]

    @property
    def ids(self) -> dict[str, str]:
        return {**self.seeded.shared, **self.seeded.a.ids}

    def send(self, case: schemathesis.Case[Any], user: User) -> httpx.Response:
        """The request schemathesis would send (its own serialisation), through httpx on the app's loop.
        The user's token is added unless the case's headers are the invalid part (e.g. the bearer token
        left out on purpose): adding it would make the case valid and the check's verdict false."""
        negative_headers = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
        kwargs = case.as_transport_kwargs(base_url="http://test", headers=None if negative_headers else user.headers)
        prepared = requests.Request(**{k: v for k, v in kwargs.items() if k != "verify"}).prepare()
        body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
        assert body is None or isinstance(body, bytes), "a prepared body is bytes (requests encodes everything)"
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in prepared.headers.items()}
        request = self.http.request(prepared.method or case.method, prepared.url or "", headers=headers, content=body)
        return self.loop.run_until_complete(request)


@pytest.fixture(scope="module")
async def arena(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Arena]:
    """One fresh database, app (real lifespan, the `app` fixture's settings) and seeded world for the
    whole module: a database per operation would cost more than the cases themselves. Operations that
    delete or archive seeded rows leave the later ones to meet 404/409, which the document declares."""
    name = f"schemathesis_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(pg_server.admin_dsn)
    await admin.execute(f'create database "{name}" template foxeo_template strategy file_copy')
    settings = Settings(
        DATABASE_URL=pg_server.dsn(name),
        SUPABASE_JWT_SECRET=TEST_JWT_SECRET,
        FOXEO_ENV="test",
        FOXEO_RUN_SCHEDULER=False,
        FOXEO_AUTO_MIGRATE=False,
        FOXEO_DATA_DIR=Path(tmp_path_factory.mktemp("schemathesis")),
        FOXEO_DB_POOL_SIZE=4,
        # Meetings need LiveKit configured (503 otherwise); requests only queue jobs, which no worker runs here.
        LIVEKIT_URL="http://127.0.0.1:9",
        LIVEKIT_API_KEY="contract-key",
        LIVEKIT_API_SECRET="contract-secret-" + "x" * 32,
        LIVEKIT_EGRESS_S3_ENDPOINT="http://127.0.0.1:9",
        LIVEKIT_EGRESS_S3_ACCESS_KEY="contract",
        LIVEKIT_EGRESS_S3_SECRET="contract-secret",
        # Billing routes that reach Pennylane answer 503 without a token; with one they only queue jobs.
        PENNYLANE_API_TOKEN="contract-token",
        # The Cal.com webhook answers 503 without its secret; with it, unsigned cases meet 401s.
        CALCOM_WEBHOOK_SECRET="contract-calcom-secret",
        # Payment links are made by a job with Stripe configured; the webhook then answers 401 to bad signatures.
        STRIPE_SECRET_KEY="sk_test_contract",
        STRIPE_WEBHOOK_SECRET="whsec_contract",
    )
    app = create_app(settings)
    sql = await asyncpg.connect(settings.database_url)
    try:
        async with app.router.lifespan_context(app):
            # An unhandled error is the 500 the client would get, for `not_a_server_error` to report.
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield Arena(asyncio.get_running_loop(), http, await seed(http, World(sql)))
    finally:
        await sql.close()
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()


@schema.parametrize()
@settings(
    max_examples=15,  # per operation and generation mode: the whole module stays around two minutes
    deadline=None,
    derandomize=True,  # the same cases on every CI run
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_its_contract(case: schemathesis.Case[Any], arena: Arena) -> None:
    user = arena.next_user()
    case.validate_response(arena.send(case, user), checks=CHECKS, headers=user.headers)
    positive = case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE
    if positive and case.path_parameters:
        case.path_parameters = {name: arena.ids.get(name, value) for name, value in case.path_parameters.items()}
        user = arena.next_user()
        case.validate_response(arena.send(case, user), checks=CHECKS, headers=user.headers)
