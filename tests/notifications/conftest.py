from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest
from fastapi import FastAPI

from services.core.db import UserSession
from tests.conftest import User

OpenSession = Callable[[User], AbstractAsyncContextManager[UserSession]]


@pytest.fixture
def user_session(app: FastAPI) -> OpenSession:
    """`async with user_session(user) as session:` a UserSession (RLS) for calling services directly."""
    from services.core.auth import Principal
    from services.core.db import Database

    def open_(user: User) -> AbstractAsyncContextManager[UserSession]:
        import jwt

        claims = jwt.decode(user.token, options={"verify_signature": False})
        db: Database = app.state.db
        return db.user_session(Principal.from_claims(claims))

    return open_
