"""Supabase Storage (the SDK's async client plus two direct reads) over respx, with the request and
response shapes of supabase/storage (integrations-reference.md §7.4; object info from storage's
InfoRenderer) and of the requests storage3 sends."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP

import httpx
import jwt
import pytest
import respx

from integrations.errors import IntegrationError, RequestError, TransientError
from integrations.storage import (
    InvalidObjectPath,
    ObjectExists,
    ObjectNotFound,
    StorageBackend,
    SupabaseStorage,
)

BASE = "https://proj.supabase.co/storage/v1"
SECRET = "sb_secret_0123456789abcdef"
LEGACY = jwt.encode({"role": "service_role", "iss": "supabase"}, "legacy-" + "x" * 32, algorithm="HS256")
PATH = "clients/c1/documents/d1/v1/Brief_initial.pdf"
NOW = 1_800_000_000
ETAG = '"9b2cf535f27731c974343645a3985328"'
# What storage answers for a missing object: HTTP 400 (older servers) or 404, statusCode in the body.
NOT_FOUND = {"statusCode": "404", "error": "not_found", "message": "Object not found"}


async def _no_sleep(_: float) -> None:
    return None


def make(secret: str = SECRET) -> SupabaseStorage:
    return SupabaseStorage("https://proj.supabase.co/", secret, "foxeo", sleep=_no_sleep, clock=lambda: NOW)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        yield router


@pytest.fixture
async def storage() -> AsyncIterator[SupabaseStorage]:
    backend = make()
    yield backend
    await backend.aclose()


def form_parts(request: httpx.Request) -> dict[str, tuple[str, bytes]]:
    """A multipart/form-data body as {field name: (content type, bytes)}."""
    head = b"Content-Type: " + request.headers["content-type"].encode() + b"\r\n\r\n"
    message = BytesParser(policy=HTTP).parsebytes(head + request.content)
    parts: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        # The email API is typed for every kind of message; a form-data part has a str name and bytes.
        name, payload = part.get_param("name", header="content-disposition"), part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(payload, bytes)
        parts[name] = (part.get_content_type(), payload)
    return parts


def upload_token(exp: int) -> str:
    return jwt.encode(
        {"url": f"foxeo/{PATH}", "owner": None, "upsert": False, "iat": NOW, "exp": exp},
        "storage-jwt-secret-" + "y" * 32,
        algorithm="HS256",
    )


async def test_is_a_storage_backend(storage: SupabaseStorage) -> None:
    assert isinstance(storage, StorageBackend)


async def test_secret_key_goes_in_apikey_only_and_a_legacy_key_also_as_bearer(mock: respx.MockRouter) -> None:
    route = mock.post(f"/object/sign/foxeo/{PATH}").respond(
        200, json={"signedURL": f"/object/sign/foxeo/{PATH}?token=abc"}
    )
    for key, bearer in ((SECRET, None), (LEGACY, f"Bearer {LEGACY}")):
        backend = make(key)
        await backend.create_signed_download(PATH, expires_in=60)
        await backend.aclose()
        request = route.calls.last.request
        assert request.headers["apikey"] == key
        assert request.headers.get("authorization") == bearer


async def test_signed_upload_url(mock: respx.MockRouter, storage: SupabaseStorage) -> None:
    token = upload_token(NOW + 7200)
    route = mock.post(f"/object/upload/sign/foxeo/{PATH}").respond(
        200, json={"url": f"/object/upload/sign/foxeo/{PATH}?token={token}", "token": token}
    )
    signed = await storage.create_signed_upload(PATH, content_type="application/pdf", max_bytes=123, expires_in=300)
    assert route.calls.last.request.headers["x-upsert"] == "false"
    assert signed.url == f"{BASE}/object/upload/sign/foxeo/{PATH}?token={token}"
    assert signed.method == "PUT" and signed.headers == {"Content-Type": "application/pdf"}
    assert signed.token == token
    # The server decides the lifetime (2 h by default): we report the token's own expiry.
    assert signed.expires_at == datetime.fromtimestamp(NOW + 7200, UTC)


async def test_signed_upload_url_of_an_older_server_without_token_field(
    mock: respx.MockRouter, storage: SupabaseStorage
) -> None:
    token = upload_token(NOW + 600)
    mock.post(f"/object/upload/sign/foxeo/{PATH}").respond(
        200, json={"url": f"/object/upload/sign/foxeo/{PATH}?token={token}"}
    )
    signed = await storage.create_signed_upload(PATH, content_type="application/pdf", max_bytes=1, expires_in=60)
    assert signed.token == token and signed.expires_at == datetime.fromtimestamp(NOW + 600, UTC)


async def test_signed_download_url_is_absolute_and_names_the_attachment(
    mock: respx.MockRouter, storage: SupabaseStorage
) -> None:
    # storage3 sends expiresIn as a string; storage coerces it to the integer its schema names.
    route = mock.post(f"/object/sign/foxeo/{PATH}", json={"expiresIn": "300"}).respond(
        200, json={"signedURL": f"/object/sign/foxeo/{PATH}?token=eyJhbGciOi.abc.def"}
    )
    link = await storage.create_signed_download(PATH, expires_in=300, download_name="Brief initial é.pdf")
    assert route.called
    assert link.url == (
        f"{BASE}/object/sign/foxeo/{PATH}?token=eyJhbGciOi.abc.def&download=Brief%20initial%20%C3%A9.pdf"
    )
    assert link.expires_at == datetime.fromtimestamp(NOW + 300, UTC)


async def test_object_info(mock: respx.MockRouter, storage: SupabaseStorage) -> None:
    mock.get(f"/object/info/foxeo/{PATH}").respond(
        200,
        json={
            "id": "2f0a1c2e-6b7d-4a4c-9b5a-1e0d2c3b4a59",
            "name": PATH,
            "version": "c0e4b6d2-1111-4b4b-8a8a-0123456789ab",
            "bucket_id": "foxeo",
            "size": 1234,
            "content_type": "application/pdf",
            "cache_control": "max-age=3600",
            "etag": ETAG,
            "metadata": None,
            "last_modified": "2026-01-25T10:00:00.000Z",
            "created_at": "2026-01-25T10:00:00.000Z",
        },
    )
    info = await storage.info(PATH)
    assert info is not None
    assert (info.size, info.content_type, info.etag) == (1234, "application/pdf", ETAG)
    assert info.last_modified == datetime(2026, 1, 25, 10, tzinfo=UTC)


async def test_object_info_from_headers_on_older_servers(mock: respx.MockRouter, storage: SupabaseStorage) -> None:
    mock.get(f"/object/info/foxeo/{PATH}").respond(
        200, headers={"content-type": "image/png", "content-length": "77", "etag": '"e"'}
    )
    info = await storage.info(PATH)
    assert info is not None and (info.size, info.content_type) == (77, "image/png")


@pytest.mark.parametrize("status", [400, 404])
async def test_missing_object_info_is_none(mock: respx.MockRouter, storage: SupabaseStorage, status: int) -> None:
    mock.get(f"/object/info/foxeo/{PATH}").respond(status, json=NOT_FOUND)
    assert await storage.info(PATH) is None


async def test_other_refusals_are_request_errors(mock: respx.MockRouter, storage: SupabaseStorage) -> None:
    mock.get(f"/object/info/foxeo/{PATH}").respond(
        400,
        json={"statusCode": "403", "error": "Unauthorized", "message": "new row violates row-level security policy"},
    )
    with pytest.raises(RequestError):
        await storage.info(PATH)


async def test_stream_reads_the_object(mock: respx.MockRouter, storage: SupabaseStorage) -> None:
    body = b"%PDF-1.7\n" + b"z" * 100_000
    mock.get(f"/object/authenticated/foxeo/{PATH}").respond(
        200, content=body, headers={"content-type": "application/pdf"}
    )
    assert b"".join([c async for c in storage.stream(PATH, chunk_size=4096)]) == body


async def test_stream_of_a_missing_object(mock: respx.MockRouter, storage: SupabaseStorage) -> None:
    mock.get(f"/object/authenticated/foxeo/{PATH}").respond(400, json=NOT_FOUND)
    with pytest.raises(ObjectNotFound):
        _ = [c async for c in storage.stream(PATH)]


async def test_put_creates_without_overwriting(mock: respx.MockRouter, storage: SupabaseStorage) -> None:
    route = mock.post(f"/object/foxeo/{PATH}").respond(
        200, json={"Id": "0d0b3a34-6f55-4a2b-9e1c-6c9f7f0a1b2c", "Key": f"foxeo/{PATH}"}
    )
    info = await storage.put(PATH, b"%PDF-1.7", content_type="application/pdf")
    request = route.calls.last.request
    # storage3 uploads a multipart form: the bytes in the `file` part, with their own content type.
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    parts = form_parts(request)
    assert parts["file"] == ("application/pdf", b"%PDF-1.7")
    assert parts["cacheControl"] == ("text/plain", b"3600")
    assert request.headers["x-upsert"] == "false"
    assert info.size == 8


async def test_put_on_an_existing_object(mock: respx.MockRouter, storage: SupabaseStorage) -> None:
    mock.post(f"/object/foxeo/{PATH}").respond(
        400, json={"statusCode": "409", "error": "Duplicate", "message": "The resource already exists"}
    )
    with pytest.raises(ObjectExists):
        await storage.put(PATH, b"%PDF-1.7", content_type="application/pdf")


async def test_delete_sends_exact_names_in_batches(mock: respx.MockRouter, storage: SupabaseStorage) -> None:
    names = [f"clients/c1/documents/d1/v{i}/f.pdf" for i in range(1, 1502)]
    route = mock.delete("/object/foxeo").respond(
        200,
        json=[
            {
                "name": names[0],
                "bucket_id": "foxeo",
                "owner": None,
                "id": "eaa8bdb5-2e00-4767-b5a9-d2502efe2196",
                "updated_at": "2026-01-25T10:00:00+00:00",
                "created_at": "2026-01-25T10:00:00+00:00",
                "last_accessed_at": "2026-01-25T10:00:00+00:00",
                "metadata": {"size": 1234},
            }
        ],
    )
    await storage.delete(names)
    sent = [json.loads(call.request.content)["prefixes"] for call in route.calls]
    assert [len(batch) for batch in sent] == [1000, 501] and [*sent[0], *sent[1]] == names


async def test_signing_is_retried_on_503_and_gives_up_as_transient(
    mock: respx.MockRouter, storage: SupabaseStorage
) -> None:
    route = mock.post(f"/object/sign/foxeo/{PATH}")
    signed = {"signedURL": f"/object/sign/foxeo/{PATH}?token=t"}
    route.side_effect = [httpx.Response(503), httpx.Response(200, json=signed)]
    assert (await storage.create_signed_download(PATH, expires_in=60)).url.endswith("token=t")
    route.side_effect = None
    route.return_value = httpx.Response(503)
    with pytest.raises(TransientError):
        await storage.create_signed_download(PATH, expires_in=60)


async def test_names_are_url_encoded_and_paths_checked(mock: respx.MockRouter, storage: SupabaseStorage) -> None:
    route = mock.post("/object/sign/foxeo/clients/c1/a%20b.pdf").respond(
        200, json={"signedURL": "/object/sign/foxeo/clients/c1/a%20b.pdf?token=t"}
    )
    await storage.create_signed_download("clients/c1/a b.pdf", expires_in=60)
    assert route.called
    with pytest.raises(InvalidObjectPath):
        await storage.info("../other-bucket/x")


async def test_paths_the_sdk_would_decode_are_refused_before_sending(
    mock: respx.MockRouter, storage: SupabaseStorage
) -> None:
    with pytest.raises(InvalidObjectPath):
        await storage.create_signed_download("clients/c1/a%20b.pdf", expires_in=60)
    with pytest.raises(InvalidObjectPath):
        await storage.delete(["clients/c1/ok.pdf", "clients/c1/100%.pdf"])
    assert not mock.calls


async def test_signing_answers_without_a_usable_url_are_errors_not_links(
    mock: respx.MockRouter, storage: SupabaseStorage
) -> None:
    mock.post(f"/object/sign/foxeo/{PATH}").respond(200, json={"signedURL": None})
    mock.post(f"/object/upload/sign/foxeo/{PATH}").respond(200, json={"url": f"/object/upload/sign/foxeo/{PATH}"})
    with pytest.raises(IntegrationError) as download:
        await storage.create_signed_download(PATH, expires_in=60)
    with pytest.raises(IntegrationError) as upload:
        await storage.create_signed_upload(PATH, content_type="application/pdf", max_bytes=1, expires_in=60)
    for caught in (download, upload):
        assert not isinstance(caught.value, TransientError | RequestError)


async def test_an_upload_is_not_resent_after_an_ambiguous_failure_or_a_refusal(
    mock: respx.MockRouter, storage: SupabaseStorage
) -> None:
    route = mock.post(f"/object/foxeo/{PATH}")
    route.return_value = httpx.Response(
        400, json={"statusCode": "413", "error": "Payload too large", "message": "The object exceeded the maximum"}
    )
    with pytest.raises(RequestError) as refused:
        await storage.put(PATH, b"%PDF-1.7", content_type="application/pdf")
    assert (refused.value.status_code, refused.value.vendor_message) == (413, "The object exceeded the maximum")
    route.return_value = httpx.Response(503)
    with pytest.raises(TransientError):
        await storage.put(PATH, b"%PDF-1.7", content_type="application/pdf")
    assert route.call_count == 2


async def test_a_rate_limited_upload_waits_as_told_and_is_sent_again() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    backend = SupabaseStorage("https://proj.supabase.co", SECRET, "foxeo", sleep=sleep, clock=lambda: NOW)
    with respx.mock(base_url=BASE, assert_all_called=True) as mock:
        route = mock.post(f"/object/foxeo/{PATH}")
        route.side_effect = [
            httpx.Response(429, headers={"Retry-After": "2"}, json={"statusCode": "429", "error": "x", "message": "y"}),
            httpx.Response(200, json={"Id": "0d0b3a34-6f55-4a2b-9e1c-6c9f7f0a1b2c", "Key": f"foxeo/{PATH}"}),
        ]
        await backend.put(PATH, b"%PDF-1.7", content_type="application/pdf")
    await backend.aclose()
    assert waits == [2.0] and route.call_count == 2


async def test_removal_is_retried_after_a_timeout(mock: respx.MockRouter, storage: SupabaseStorage) -> None:
    route = mock.delete("/object/foxeo")
    route.side_effect = [httpx.ReadTimeout("slow"), httpx.Response(200, json=[])]
    await storage.delete([PATH])
    assert route.call_count == 2
    assert [json.loads(call.request.content) for call in route.calls] == [{"prefixes": [PATH]}] * 2
