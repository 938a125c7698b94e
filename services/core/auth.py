"""Verification of Supabase access tokens: HS256 with the project secret, ES256/RS256 via JWKS."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import jwt
import orjson

from services.core.errors import ServiceUnavailable, Unauthorized

AUDIENCE = "authenticated"
# Supabase access tokens are 1-2 KB; anything far larger is refused before it is parsed.
MAX_TOKEN_CHARS = 8 * 1024
ASYMMETRIC_ALGORITHMS = ("ES256", "RS256")


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller. Membership of clients lives in the database, not here."""

    user_id: UUID
    email: str | None
    is_operator: bool
    claims: dict[str, Any] = field(repr=False, compare=False)
    claims_json: str = field(repr=False, compare=False)

    @property
    def subject(self) -> str:
        return str(self.user_id)

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        try:
            user_id = UUID(str(claims.get("sub")))
        except ValueError:
            raise Unauthorized("token subject is not a user id") from None
        # Python's UUID() accepts spellings PostgreSQL's uuid does not ('urn:uuid:…'): the database
        # reads auth.uid() from the claims, so hand it the id exactly as we understood it.
        claims = {**claims, "sub": str(user_id)}
        email = claims.get("email")
        app_metadata = claims.get("app_metadata") or {}
        is_operator = isinstance(app_metadata, dict) and app_metadata.get("role") == "operator"
        return cls(
            user_id=user_id,
            email=email if isinstance(email, str) else None,
            is_operator=is_operator,
            claims=claims,
            claims_json=orjson.dumps(claims).decode(),
        )


JwksFetcher = Callable[[], Awaitable[dict[str, Any]]]


class JwksCache:
    """The project's signing keys by `kid`: cached, refreshed when stale or on an unknown `kid`."""

    def __init__(self, fetch: JwksFetcher, ttl: float = 600, min_refresh_interval: float = 30) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._min_refresh = min_refresh_interval
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _refresh(self) -> None:
        document = await self._fetch()
        keys = {}
        for raw in document.get("keys", []):
            kid = raw.get("kid")
            if not kid:
                continue
            try:
                keys[kid] = jwt.PyJWK(raw)
            except (jwt.PyJWKError, jwt.InvalidKeyError):
                continue  # a key type we cannot use is simply not offered
        self._keys = keys
        self._fetched_at = time.monotonic()

    async def get(self, kid: str) -> jwt.PyJWK | None:
        age = time.monotonic() - self._fetched_at
        if kid in self._keys and age < self._ttl:
            return self._keys[kid]
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            # An unknown kid may be a rotation: refetch, but not more than once per interval so
            # random kids cannot turn us into a request amplifier.
            if age >= self._ttl or (kid not in self._keys and age >= self._min_refresh):
                try:
                    await self._refresh()
                except Exception:
                    if not self._keys:
                        # Our dependency failed, not the caller's token: 503, not 401.
                        raise ServiceUnavailable("the project's signing keys (JWKS) are unavailable") from None
        return self._keys.get(kid)


class TokenVerifier:
    """Turns a bearer token into a Principal or raises Unauthorized; verified tokens are memoised."""

    def __init__(
        self, *, hs256_secret: str | None, jwks: JwksCache | None, leeway: float = 10, cache_size: int = 4096
    ) -> None:
        if not hs256_secret and jwks is None:
            raise ValueError("configure SUPABASE_JWT_SECRET or SUPABASE_URL to verify tokens")
        self._secret = hs256_secret
        self._jwks = jwks
        self._leeway = leeway
        # Keyed by a digest: the memory a cached entry takes does not depend on the token's size.
        self._cache: dict[bytes, tuple[Principal, float]] = {}
        self._cache_size = cache_size

    async def verify(self, token: str) -> Principal:
        if len(token) > MAX_TOKEN_CHARS:
            raise Unauthorized(f"bearer token is longer than {MAX_TOKEN_CHARS} characters")
        key = hashlib.blake2b(token.encode(), digest_size=20).digest()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        claims = await self._decode(token)
        principal = Principal.from_claims(claims)
        if len(self._cache) >= self._cache_size:
            del self._cache[next(iter(self._cache))]  # the oldest entry (dicts keep insertion order)
        self._cache[key] = (principal, float(claims["exp"]) + self._leeway)
        return principal

    async def _decode(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("malformed bearer token") from None
        alg = header.get("alg")
        key: Any
        if alg == "HS256":
            if not self._secret:
                raise Unauthorized("HS256 tokens are not accepted: this project verifies with its JWKS")
            key = self._secret
        elif alg in ASYMMETRIC_ALGORITHMS:
            if self._jwks is None:
                raise Unauthorized(f"{alg} tokens are not accepted: no JWKS is configured")
            kid = header.get("kid")
            if not isinstance(kid, str) or not kid:
                raise Unauthorized("token has no key id (kid)")
            jwk = await self._jwks.get(kid)
            if jwk is None:
                raise Unauthorized("token signed by an unknown key")
            if jwk.algorithm_name != alg:
                raise Unauthorized("token algorithm does not match its key")
            key = jwk.key
        else:
            raise Unauthorized(f"token algorithm {alg!r} is not accepted")
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=AUDIENCE,
                leeway=self._leeway,
                options={"require": ["exp", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token has expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("token audience is not 'authenticated'") from None
        except jwt.InvalidSignatureError:
            raise Unauthorized("token signature is invalid") from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None


def mint_token(
    secret: str, user_id: UUID, *, email: str | None = None, operator: bool = False, ttl: int = 3600 * 24
) -> str:
    """A dev access token shaped like Supabase's (HS256), for the embedded default and tests."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "aud": AUDIENCE,
        "role": "authenticated",
        "iat": now,
        "exp": now + ttl,
        "email": email,
        "app_metadata": {"provider": "email", **({"role": "operator"} if operator else {})},
        "user_metadata": {},
        "aal": "aal1",
        "is_anonymous": False,
    }
    return jwt.encode(claims, secret, algorithm="HS256")
