"""Request dependencies: the verified principal and the request's RLS transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.core.auth import Principal, TokenVerifier
from services.core.context import request_id_var
from services.core.db import Database, UserSession
from services.core.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="Supabase access token")


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send an access token as 'Authorization: Bearer <token>'")
    verifier: TokenVerifier = request.app.state.verifier
    return await verifier.verify(credentials.credentials)


async def get_session(
    request: Request, principal: Principal = Depends(get_principal)
) -> AsyncIterator[UserSession]:
    # scope="function" (below) ends this before the response is sent: a failed commit is a 500,
    # never a lost write behind a 200.
    async with request.app.state.db.user_session(principal, request_id_var.get()) as session:
        yield session


async def require_operator(principal: Principal = Depends(get_principal)) -> Principal:
    if not principal.is_operator:
        raise Forbidden("only the operator can do this")
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]
Operator = Annotated[Principal, Depends(require_operator)]
Session = Annotated[UserSession, Depends(get_session, scope="function")]
Db = Annotated[Database, Depends(get_database)]
