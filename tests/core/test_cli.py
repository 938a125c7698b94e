"""The `foxeo` command against a real database: migrate, token, openapi."""

from __future__ import annotations

import json

import jwt
import pytest

from api.cli import main
from services.core.settings import get_settings

SECRET = "cli-secret-" + "c" * 40


@pytest.fixture
def cli_env(monkeypatch, database_url, tmp_path):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SUPABASE_JWT_SECRET", SECRET)
    monkeypatch.setenv("FOXEO_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_migrate_then_token_for_an_operator(cli_env, capsys, sql_sync):
    assert main(["migrate"]) == 0
    assert "none pending" in capsys.readouterr().out
    assert main(["token", "--email", "Boss@Example.com", "--operator"]) == 0
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="authenticated")
    assert claims["app_metadata"]["role"] == "operator" and claims["email"] == "Boss@Example.com"
    assert sql_sync(claims["sub"]) == "boss@example.com"


def test_openapi_writes_the_document(cli_env, tmp_path):
    output = tmp_path / "out" / "openapi.json"
    assert main(["openapi", "--output", str(output)]) == 0
    assert json.loads(output.read_text())["info"]["title"] == "Foxeo API"


@pytest.fixture
def sql_sync(database_url):
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
