"""A real uvicorn process serving the app on a free port over this test's migrated database, for the
clients that cannot use the in-process transport (node, a browser)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.core.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def live_server(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """The base URL of `uvicorn api.app:create_app` configured like the in-process `app` fixture."""
    port = free_port()
    secret = settings.supabase_jwt_secret
    assert settings.database_url and secret
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SUPABASE_JWT_SECRET": secret.get_secret_value(),
        "FOXEO_ENV": "test",
        "FOXEO_RUN_SCHEDULER": "false",
        "FOXEO_AUTO_MIGRATE": "false",
        "FOXEO_DATA_DIR": str(tmp_path),
        "FOXEO_DB_POOL_SIZE": "2",
        "FOXEO_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    log = (tmp_path / "uvicorn.log").open("wb")
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1"]
    process = subprocess.Popen([*command, "--port", str(port)], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"uvicorn exited: {(tmp_path / 'uvicorn.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"uvicorn did not start: {(tmp_path / 'uvicorn.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
