"""Token verification: HS256 with the project secret, ES256/RS256 through a JWKS served by respx."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from services.core.auth import JwksCache, TokenVerifier
from services.core.errors import ServiceUnavailable, Unauthorized

SECRET = "s" * 40
SUPABASE_URL = "https://ref.supabase.co"
JWKS_URL = f"{SUPABASE_URL}/auth/v1/.well-known/jwks.json"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "sub": str(uuid.uuid4()),
        "aud": "authenticated",
        "role": "authenticated",
        "iat": now,
        "exp": now + 24 * 3600,  # parametrize builds these at collection: a slow suite must not expire them
        "email": "a@example.test",
        "app_metadata": {"provider": "email"},
    }
    base.update(overrides)
    return base


def public_jwk(private_key: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = jwt.get_algorithm_by_name(alg)
    jwk = algorithm.to_jwk(private_key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


@pytest.fixture
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


async def fetch_jwks() -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        response = await http.get(JWKS_URL)
        response.raise_for_status()
        jwks: dict[str, Any] = response.json()
        return jwks


def jwks_verifier(hs256_secret: str | None = None) -> TokenVerifier:
    return TokenVerifier(hs256_secret=hs256_secret, jwks=JwksCache(fetch_jwks, ttl=600, min_refresh_interval=0))


async def test_hs256_token_is_accepted_and_operator_read_from_app_metadata() -> None:
    verifier = TokenVerifier(hs256_secret=SECRET, jwks=None)
    token = jwt.encode(claims(app_metadata={"role": "operator"}), SECRET, algorithm="HS256")
    principal = await verifier.verify(token)
    assert principal.is_operator
    user = await verifier.verify(jwt.encode(claims(user_metadata={"role": "operator"}), SECRET, "HS256"))
    assert not user.is_operator  # user_metadata is user-editable: never trusted


@pytest.mark.parametrize(
    "bad, message",
    [
        (claims(exp=int(time.time()) - 60), "expired"),
        (claims(aud="anon"), "audience"),
        ({k: v for k, v in claims().items() if k != "exp"}, "exp"),
        (claims(sub="not-a-uuid"), "subject"),
    ],
)
async def test_hs256_claim_failures_are_unauthorized(bad: dict[str, Any], message: str) -> None:
    verifier = TokenVerifier(hs256_secret=SECRET, jwks=None)
    with pytest.raises(Unauthorized, match=message):
        await verifier.verify(jwt.encode(bad, SECRET, algorithm="HS256"))


async def test_wrong_secret_and_alg_none_are_refused() -> None:
    verifier = TokenVerifier(hs256_secret=SECRET, jwks=None)
    with pytest.raises(Unauthorized, match="signature"):
        await verifier.verify(jwt.encode(claims(), "another-secret-" + "y" * 30, algorithm="HS256"))
    unsigned = jwt.encode(claims(), None, algorithm="none")  # type: ignore[arg-type]
    with pytest.raises(Unauthorized, match="'none'"):
        await verifier.verify(unsigned)
    with pytest.raises(Unauthorized, match="malformed"):
        await verifier.verify("not.a.jwt")


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
async def test_asymmetric_tokens_verified_through_jwks(
    alg: str, ec_key: ec.EllipticCurvePrivateKey, rsa_key: rsa.RSAPrivateKey
) -> None:
    key = ec_key if alg == "ES256" else rsa_key
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(JWKS_URL).respond(200, json={"keys": [public_jwk(key, "k1", alg)]})
        verifier = jwks_verifier()
        token = jwt.encode(claims(), key, algorithm=alg, headers={"kid": "k1"})
        assert (await verifier.verify(token)).email == "a@example.test"
        await verifier.verify(jwt.encode(claims(), key, algorithm=alg, headers={"kid": "k1"}))
        assert route.call_count == 1  # cached


async def test_unknown_kid_refreshes_the_jwks_once(ec_key: ec.EllipticCurvePrivateKey) -> None:
    rotated = ec.generate_private_key(ec.SECP256R1())
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(JWKS_URL).mock(
            side_effect=[
                httpx.Response(200, json={"keys": [public_jwk(ec_key, "old", "ES256")]}),
                httpx.Response(
                    200, json={"keys": [public_jwk(ec_key, "old", "ES256"), public_jwk(rotated, "new", "ES256")]}
                ),
            ]
        )
        verifier = jwks_verifier()
        await verifier.verify(jwt.encode(claims(), ec_key, algorithm="ES256", headers={"kid": "old"}))
        await verifier.verify(jwt.encode(claims(), rotated, algorithm="ES256", headers={"kid": "new"}))
        assert route.call_count == 2


async def test_token_signed_by_another_key_is_refused(ec_key: ec.EllipticCurvePrivateKey) -> None:
    intruder = ec.generate_private_key(ec.SECP256R1())
    with respx.mock() as mock:
        mock.get(JWKS_URL).respond(200, json={"keys": [public_jwk(ec_key, "k1", "ES256")]})
        verifier = jwks_verifier()
        forged = jwt.encode(claims(), intruder, algorithm="ES256", headers={"kid": "k1"})
        with pytest.raises(Unauthorized, match="signature"):
            await verifier.verify(forged)
        with pytest.raises(Unauthorized, match="unknown key"):
            await verifier.verify(jwt.encode(claims(), intruder, algorithm="ES256", headers={"kid": "zz"}))


async def test_hs256_refused_when_only_jwks_is_configured(ec_key: ec.EllipticCurvePrivateKey) -> None:
    with respx.mock(assert_all_called=False) as mock:
        mock.get(JWKS_URL).respond(200, json={"keys": [public_jwk(ec_key, "k1", "ES256")]})
        verifier = jwks_verifier(hs256_secret=None)
        with pytest.raises(Unauthorized, match="HS256 tokens are not accepted"):
            await verifier.verify(jwt.encode(claims(), SECRET, algorithm="HS256"))


async def test_algorithm_confusion_rsa_key_with_es256_header_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    with respx.mock() as mock:
        mock.get(JWKS_URL).respond(200, json={"keys": [public_jwk(rsa_key, "k1", "RS256")]})
        verifier = jwks_verifier()
        ec_token = jwt.encode(
            claims(), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": "k1"}
        )
        with pytest.raises(Unauthorized, match="does not match"):
            await verifier.verify(ec_token)


async def test_api_answers_401_problem_for_bad_tokens(client: httpx.AsyncClient) -> None:
    no_token = await client.get("/api/v1/me")
    assert no_token.status_code == 401
    assert no_token.headers["content-type"] == "application/problem+json"
    assert no_token.json()["code"] == "unauthorized"
    expired = jwt.encode(claims(exp=int(time.time()) - 100), "test-secret-" + "x" * 40, algorithm="HS256")
    r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]


async def test_unreachable_jwks_is_503_not_401(ec_key: ec.EllipticCurvePrivateKey) -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(JWKS_URL).respond(404, json={"message": "no such project"})
        verifier = jwks_verifier()
        with pytest.raises(ServiceUnavailable, match="JWKS"):
            await verifier.verify(jwt.encode(claims(), ec_key, algorithm="ES256", headers={"kid": "k1"}))


async def test_subject_reaches_the_database_in_the_spelling_postgres_reads() -> None:
    """Python's UUID() reads 'urn:uuid:…' and upper case; auth.uid() casts the claim in SQL."""
    user_id = uuid.uuid4()
    verifier = TokenVerifier(hs256_secret=SECRET, jwks=None)
    for sub in (f"urn:uuid:{user_id}", str(user_id).upper(), user_id.hex):
        principal = await verifier.verify(jwt.encode(claims(sub=sub), SECRET, algorithm="HS256"))
        assert principal.user_id == user_id and principal.claims["sub"] == str(user_id)
        assert f'"sub":"{user_id}"' in principal.claims_json


async def test_a_non_string_email_claim_is_no_email() -> None:
    verifier = TokenVerifier(hs256_secret=SECRET, jwks=None)
    principal = await verifier.verify(jwt.encode(claims(email=5), SECRET, algorithm="HS256"))
    assert principal.email is None


async def test_api_accepts_a_urn_subject_and_an_odd_email_claim(
    client: httpx.AsyncClient, sql: asyncpg.Connection
) -> None:
    user_id = uuid.uuid4()
    await sql.execute("insert into auth.users (id, email) values ($1, 'urn@example.com')", user_id)
    token = jwt.encode(
        claims(sub=f"urn:uuid:{user_id}", email={"not": "a string"}), "test-secret-" + "x" * 40, algorithm="HS256"
    )
    r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == str(user_id) and r.json()["email"] is None


async def test_a_cached_token_stops_working_when_it_expires() -> None:
    verifier = TokenVerifier(hs256_secret=SECRET, jwks=None, leeway=0)
    exp = int(time.time()) + 2
    token = jwt.encode(claims(exp=exp), SECRET, algorithm="HS256")
    await verifier.verify(token)  # now cached
    await asyncio.sleep(max(0.0, exp - time.time()) + 0.2)
    with pytest.raises(Unauthorized, match="expired"):
        await verifier.verify(token)


async def test_oversized_tokens_are_refused_before_parsing() -> None:
    verifier = TokenVerifier(hs256_secret=SECRET, jwks=None)
    padded = jwt.encode(claims(pad="x" * 100_000), SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized, match="longer than"):
        await verifier.verify(padded)
    assert not verifier._cache


async def test_the_verified_token_cache_is_bounded_and_keyed_by_a_digest() -> None:
    verifier = TokenVerifier(hs256_secret=SECRET, jwks=None, cache_size=3)
    tokens = [jwt.encode(claims(pad="x" * 4000), SECRET, algorithm="HS256") for _ in range(5)]
    for token in tokens:
        await verifier.verify(token)
    assert len(verifier._cache) == 3
    assert all(len(key) <= 32 for key in verifier._cache)  # not the 5 KB token
