"""The `pj` fixture: arrange projects and journeys through the API."""

from __future__ import annotations

import pytest
from projects.kit import Projects


@pytest.fixture
def pj(client, operator) -> Projects:
    return Projects(client, operator)


@pytest.fixture
async def reachable_operator(sql, operator):
    """The operator as Supabase Auth knows them (app_metadata.role), so notify_operators finds them."""
    await sql.execute("""update auth.users set raw_app_meta_data = '{"role": "operator"}' where id = $1""",
                      operator.id)
    return operator
