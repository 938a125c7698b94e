"""Request dependencies: the verified principal and the request's RLS transaction."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.middleware import TRANSACTION_KEY, RequestTransaction
from services.core.auth import Principal, TokenVerifier
from services.core.db import Database, UserSession
from services.core.errors import Forbidden, Unauthorized

PRINCIPAL_KEY = "foxeo.principal"


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def _principal(request: Request) -> Principal:
    # Read the header directly rather than through a sub-dependency: this runs on every request
    # and each FastAPI dependency level costs measurable time (bench/postgrest_bench.py).
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send an access token as 'Authorization: Bearer <token>'")
    verifier: TokenVerifier = request.app.state.verifier
    return await verifier.verify(token.strip())


async def get_principal(request: Request) -> Principal:
    principal: Principal | None = request.scope.get(PRINCIPAL_KEY)
    if principal is None:
        principal = request.scope[PRINCIPAL_KEY] = await _principal(request)
    return principal


async def get_session(request: Request) -> UserSession:
    """The request's transaction under RLS; `RequestContext` commits or rolls it back."""
    transaction: RequestTransaction = request.scope[TRANSACTION_KEY]
    return await transaction.open(await get_principal(request))


async def get_operator_session(request: Request) -> UserSession:
    """The request's transaction, for the operator only: the one place "operator only" is decided
    (RLS policies stay the floor underneath)."""
    principal = await get_principal(request)
    if not principal.is_operator:
        raise Forbidden("only the operator can do this")
    transaction: RequestTransaction = request.scope[TRANSACTION_KEY]
    return await transaction.open(principal)


async def get_one_statement_session(request: Request) -> UserSession:
    """For a write that is one statement (one SQL function call): it commits as it ends, releasing
    its locks without another round trip; a second statement fails (services/core/db.py)."""
    transaction: RequestTransaction = request.scope[TRANSACTION_KEY]
    return await transaction.open(await get_principal(request), one_statement=True)


CurrentUser = Annotated[Principal, Depends(get_principal)]
Session = Annotated[UserSession, Depends(get_session)]
OperatorSession = Annotated[UserSession, Depends(get_operator_session)]
OneStatement = Annotated[UserSession, Depends(get_one_statement_session)]
Db = Annotated[Database, Depends(get_database)]
