from __future__ import annotations

import pytest


@pytest.fixture
async def operator(world, sql):
    """The operator as Supabase Auth stores it too (`raw_app_meta_data.role`), so notify_operators finds
    them: the root fixture only puts the role in the token."""
    user = await world.user("mikl@example.com", operator=True)
    await sql.execute("update auth.users set raw_app_meta_data = '{\"role\": \"operator\"}' where id = $1",
                      user.id)
    return user


@pytest.fixture
def user_session(app):
    """`async with user_session(user) as session:` a UserSession (RLS) for calling services directly."""
    from services.core.auth import Principal
    from services.core.db import Database

    def open_(user):
        import jwt

        claims = jwt.decode(user.token, options={"verify_signature": False})
        db: Database = app.state.db
        return db.user_session(Principal.from_claims(claims))

    return open_
