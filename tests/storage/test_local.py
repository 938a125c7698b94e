"""The local storage backend on a real folder: signed links (valid, expired, tampered), limits, no
overwrite, path safety, erasure."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from integrations.storage import (
    InvalidObjectPath,
    LocalStorage,
    ObjectExists,
    ObjectNotFound,
    ObjectTooLarge,
    SignedLinkError,
    StorageBackend,
)

PATH = "clients/c1/documents/d1/v1/brief.pdf"
PDF = b"%PDF-1.7\n" + b"x" * 200_000
PDF_TYPE = "application/pdf"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def storage(tmp_path: Path, clock: Clock) -> LocalStorage:
    return LocalStorage(
        tmp_path / "store",
        bucket="foxeo",
        signing_key=b"k" * 32,
        public_url="http://api.test/api/v1/storage/",
        clock=clock,
    )


async def chunks(data: bytes, size: int = 65536) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


async def read_all(storage: LocalStorage, path: str) -> bytes:
    return b"".join([chunk async for chunk in storage.stream(path)])


async def test_signed_upload_then_download_round_trip(storage: LocalStorage, tmp_path: Path) -> None:
    assert isinstance(storage, StorageBackend)
    upload = await storage.create_signed_upload(
        PATH, content_type="application/pdf", max_bytes=len(PDF), expires_in=300
    )
    assert upload.url.startswith("http://api.test/api/v1/storage/object/upload/sign/foxeo/clients/c1/")
    assert upload.method == "PUT" and upload.headers == {"Content-Type": "application/pdf"}
    assert upload.expires_at.timestamp() == 1_800_000_300

    info = await storage.receive_upload(PATH, token_of(upload.url), chunks(PDF), content_type=PDF_TYPE)
    assert info.size == len(PDF) and info.content_type == "application/pdf"
    assert (tmp_path / "store" / "objects" / "foxeo" / PATH).read_bytes() == PDF
    assert not list((tmp_path / "store").rglob("*.part"))

    stored = await storage.info(PATH)
    assert stored is not None and stored.size == len(PDF) and stored.content_type == "application/pdf"
    assert await read_all(storage, PATH) == PDF

    link = await storage.create_signed_download(PATH, expires_in=60, download_name="Brief initial.pdf")
    assert "/object/sign/foxeo/clients/c1/" in link.url
    found = await storage.open_download(PATH, token_of(link.url))
    assert found.file.read_bytes() == PDF and found.download_name == "Brief initial.pdf"
    assert found.content_type == "application/pdf"


async def test_expired_links_are_refused(storage: LocalStorage, clock: Clock) -> None:
    upload = await storage.create_signed_upload(PATH, content_type="application/pdf", max_bytes=10, expires_in=300)
    download = await storage.create_signed_download(PATH, expires_in=60)
    clock.now += 301
    with pytest.raises(SignedLinkError) as refused:
        await storage.receive_upload(PATH, token_of(upload.url), chunks(b"%PDF-"), content_type=PDF_TYPE)
    assert refused.value.reason == "expired"
    with pytest.raises(SignedLinkError) as refused:
        await storage.open_download(PATH, token_of(download.url))
    assert refused.value.reason == "expired"
    assert await storage.info(PATH) is None


async def test_tampered_tokens_are_refused(storage: LocalStorage) -> None:
    link = await storage.create_signed_download(PATH, expires_in=60)
    token = token_of(link.url)
    payload, mac = token.split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    encoded = base64.urlsafe_b64encode(orjson.dumps({**claims, "exp": claims["exp"] + 10**6}))
    longer = encoded.decode().rstrip("=")
    forged_mac = mac[:-2] + ("AA" if mac[-2:] != "AA" else "BB")
    other = await storage.create_signed_download("clients/c2/documents/d9/v1/x.pdf", expires_in=60)
    upload_token = token_of(
        (await storage.create_signed_upload(PATH, content_type="application/pdf", max_bytes=10, expires_in=60)).url
    )
    for bad in (
        f"{longer}.{mac}",
        f"{payload}.{forged_mac}",
        payload,
        "",
        "not.a.token",
        token_of(other.url),
        upload_token,
    ):
        with pytest.raises(SignedLinkError) as refused:
            await storage.open_download(PATH, bad)
        assert refused.value.reason in ("invalid", "missing")
    with pytest.raises(SignedLinkError) as refused:
        await storage.open_download(PATH, None)
    assert refused.value.reason == "missing"


async def test_a_key_change_invalidates_links(storage: LocalStorage, tmp_path: Path, clock: Clock) -> None:
    link = await storage.create_signed_download(PATH, expires_in=60)
    rotated = LocalStorage(
        tmp_path / "store",
        bucket="foxeo",
        signing_key=b"z" * 32,
        public_url="http://api.test/api/v1/storage",
        clock=clock,
    )
    with pytest.raises(SignedLinkError):
        await rotated.open_download(PATH, token_of(link.url))


async def test_upload_past_the_signed_limit_leaves_nothing(storage: LocalStorage, tmp_path: Path) -> None:
    upload = await storage.create_signed_upload(PATH, content_type="application/pdf", max_bytes=1000, expires_in=60)
    with pytest.raises(ObjectTooLarge):
        await storage.receive_upload(PATH, token_of(upload.url), chunks(PDF, 512), content_type=PDF_TYPE)
    assert await storage.info(PATH) is None
    assert [p for p in (tmp_path / "store").rglob("*") if p.is_file()] == []


async def test_objects_are_never_overwritten(storage: LocalStorage) -> None:
    await storage.put(PATH, PDF, content_type="application/pdf")
    upload = await storage.create_signed_upload(PATH, content_type="application/pdf", max_bytes=10**6, expires_in=60)
    with pytest.raises(ObjectExists):
        await storage.receive_upload(PATH, token_of(upload.url), chunks(b"%PDF-other"), content_type="application/pdf")
    with pytest.raises(ObjectExists):
        await storage.put(PATH, b"%PDF-other", content_type="application/pdf")
    assert await read_all(storage, PATH) == PDF


@pytest.mark.parametrize(
    "bad", ["../escape.pdf", "clients/../../x", "/etc/passwd", "a//b", "a/./b", "a\\b", "a/b\x00c", "", "a/\nb"]
)
async def test_paths_cannot_escape_the_bucket(storage: LocalStorage, bad: str) -> None:
    with pytest.raises(InvalidObjectPath):
        await storage.put(bad, b"x", content_type="text/plain")
    with pytest.raises(InvalidObjectPath):
        await storage.create_signed_upload(bad, content_type="text/plain", max_bytes=1, expires_in=60)
    with pytest.raises(InvalidObjectPath):
        await storage.delete([bad])


async def test_delete_removes_objects_metadata_and_empty_folders(storage: LocalStorage, tmp_path: Path) -> None:
    other = "clients/c1/documents/d1/v2/brief.pdf"
    await storage.put(PATH, PDF, content_type="application/pdf")
    await storage.put(other, PDF, content_type="application/pdf")
    await storage.delete([PATH, other, "clients/c1/documents/d1/v3/never-uploaded.pdf"])
    assert await storage.info(PATH) is None and await storage.info(other) is None
    assert [p for p in (tmp_path / "store").rglob("*") if p.is_file()] == []
    assert not (tmp_path / "store" / "objects" / "foxeo" / "clients").exists()
    with pytest.raises(ObjectNotFound):
        await read_all(storage, PATH)


async def test_folders_are_not_objects(storage: LocalStorage) -> None:
    await storage.put(PATH, PDF, content_type="application/pdf")
    assert await storage.info("clients/c1") is None
    assert await storage.info(f"{PATH}/deeper") is None
    with pytest.raises(ObjectNotFound):
        await read_all(storage, "clients/c1")
    with pytest.raises(ObjectNotFound):
        await storage.open_download("clients/c1", storage.sign("download", "clients/c1", 60))


def test_configuration_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        LocalStorage(tmp_path, bucket="foxeo", signing_key=b"short", public_url="http://x")
    with pytest.raises(ValueError):
        LocalStorage(tmp_path, bucket="../up", signing_key=b"k" * 32, public_url="http://x")
