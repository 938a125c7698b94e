"""The `foxeo` command against a real database: migrate, token, openapi."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from api.cli import main
from services.core.settings import get_settings

SECRET = "cli-secret-" + "c" * 40


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SUPABASE_JWT_SECRET", SECRET)
    monkeypatch.setenv("FOXEO_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_migrate_then_token_for_an_operator(
    cli_env: None, capsys: pytest.CaptureFixture[str], sql_sync: Callable[[str], str]
) -> None:
    assert main(["migrate"]) == 0
    assert "none pending" in capsys.readouterr().out
    assert main(["token", "--email", "Boss@Example.com", "--operator"]) == 0
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="authenticated")
    assert claims["app_metadata"]["role"] == "operator" and claims["email"] == "Boss@Example.com"
    assert sql_sync(claims["sub"]) == "boss@example.com"


def test_openapi_writes_the_document(cli_env: None, tmp_path: Path) -> None:
    output = tmp_path / "out" / "openapi.json"
    assert main(["openapi", "--output", str(output)]) == 0
    assert json.loads(output.read_text())["info"]["title"] == "Foxeo API"


@pytest.fixture
def sql_sync(database_url: str) -> Callable[[str], str]:
    import asyncio

    import asyncpg

    def email_of(user_id: str) -> str:
        async def read() -> str:
            conn = await asyncpg.connect(database_url)
            try:
                value: str = await conn.fetchval("select email from auth.users where id = $1::uuid", user_id)
                return value
            finally:
                await conn.close()

        return asyncio.run(read())

    return email_of


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # the postmaster is not our child: once it exits, its pid is gone
    except ProcessLookupError:
        return False
    return True


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_its_embedded_postgres_on_either_signal(sig: signal.Signals) -> None:
    # Not pytest's tmp_path: its parents are closed to the user the embedded server runs as.
    data_dir = Path(tempfile.mkdtemp(prefix="foxeo-serve-"))
    try:
        _serve_and_stop(data_dir, sig)
    finally:
        pid_file = data_dir / "pg" / "postmaster.pid"
        if pid_file.exists() and _running(postmaster := int(pid_file.read_text().split()[0])):
            os.kill(postmaster, signal.SIGTERM)  # do not leave it behind when the test failed
            _wait_until(lambda: not _running(postmaster), 30)
        shutil.rmtree(data_dir, ignore_errors=True)


def _serve_and_stop(tmp_path: Path, sig: int) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(FOXEO_DATA_DIR=str(tmp_path), SUPABASE_JWT_SECRET=SECRET, FOXEO_RUN_SCHEDULER="false")
    foxeo = Path(sys.executable).with_name("foxeo")
    server = subprocess.Popen(
        [str(foxeo), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        assert _wait_until(lambda: _healthy(port) or server.poll() is not None, 240), "serve did not start"
        assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
        postmaster = int((tmp_path / "pg" / "postmaster.pid").read_text().split()[0])
        assert _running(postmaster)
        server.send_signal(sig)
        assert server.wait(60) == 128 + sig
        assert _wait_until(lambda: not _running(postmaster), 30), "the embedded PostgreSQL is still running"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
