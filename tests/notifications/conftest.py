from __future__ import annotations

import pytest


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
