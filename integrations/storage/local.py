"""Object storage in a local folder, for the embedded default.

Signed URLs are HMAC-signed, expiring links served by the API itself (see api/routers/storage.py):
`PUT {public_url}/object/upload/sign/{bucket}/{path}?token=…` and
`GET {public_url}/object/sign/{bucket}/{path}?token=…`, the same shapes as Supabase Storage, so the
SPA treats both backends alike. A token is `base64url(json claims).base64url(hmac-sha256)`; its claims
bind the operation, the object, the expiry and (uploads) the byte limit or (downloads) the file name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG
from typing import Any, Literal
from urllib.parse import quote

import anyio
import anyio.to_thread
import orjson

from integrations.storage.base import (
    DEFAULT_CHUNK,
    ObjectExists,
    ObjectInfo,
    ObjectNotFound,
    ObjectTooLarge,
    SignedDownload,
    SignedLinkError,
    SignedUpload,
    check_bucket,
    check_path,
)

VENDOR = "local_storage"
Operation = Literal["upload", "download"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class LocalDownload:
    """What the download endpoint serves."""

    file: Path
    size: int
    content_type: str
    download_name: str | None


class LocalStorage:
    kind = "local"

    def __init__(
        self, root: Path, *, bucket: str, signing_key: bytes, public_url: str, clock: Callable[[], float] = time.time
    ) -> None:
        if len(signing_key) < 16:
            raise ValueError("the signing key must be at least 16 bytes")
        self.bucket = check_bucket(bucket)
        self.root = root
        self._objects = root / "objects" / bucket
        self._meta = root / "meta" / bucket
        self._key = signing_key
        self.public_url = public_url.rstrip("/")
        self._clock = clock

    async def aclose(self) -> None:
        return None

    # ------------------------------------------------------------ signed links

    def sign(self, op: Operation, path: str, expires_in: int, **claims: Any) -> str:
        payload = _b64(
            orjson.dumps({"op": op, "obj": f"{self.bucket}/{path}", "exp": int(self._clock()) + expires_in, **claims})
        )
        return f"{payload}.{self._mac(payload)}"

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def verify(self, token: str | None, *, op: Operation, path: str) -> dict[str, Any]:
        """The token's claims if it was signed by us, for this operation on this object, and is live."""
        if not token:
            raise SignedLinkError(VENDOR, "missing", "this link has no token")
        payload, _, mac = token.partition(".")
        if not mac or not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            raise SignedLinkError(VENDOR, "invalid", "the link's signature is not valid")
        try:
            claims = orjson.loads(_unb64(payload))
        except (binascii.Error, ValueError):
            raise SignedLinkError(VENDOR, "invalid", "the link's token is malformed") from None
        if not isinstance(claims, dict) or claims.get("op") != op or claims.get("obj") != f"{self.bucket}/{path}":
            raise SignedLinkError(VENDOR, "invalid", "the link was signed for another object or operation")
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= self._clock():
            raise SignedLinkError(VENDOR, "expired", "the link has expired")
        return claims

    def _url(self, kind: str, path: str, token: str) -> str:
        return f"{self.public_url}/object/{kind}/{self.bucket}/{quote(path)}?token={token}"

    async def create_signed_upload(
        self, path: str, *, content_type: str, max_bytes: int, expires_in: int
    ) -> SignedUpload:
        check_path(VENDOR, path)
        token = self.sign("upload", path, expires_in, max=max_bytes)
        return SignedUpload(
            url=self._url("upload/sign", path, token),
            method="PUT",
            headers={"Content-Type": content_type},
            token=token,
            expires_at=datetime.fromtimestamp(int(self._clock()) + expires_in, UTC),
        )

    async def create_signed_download(
        self, path: str, *, expires_in: int, download_name: str | None = None
    ) -> SignedDownload:
        check_path(VENDOR, path)
        token = self.sign("download", path, expires_in, **({"dl": download_name} if download_name else {}))
        return SignedDownload(
            url=self._url("sign", path, token), expires_at=datetime.fromtimestamp(int(self._clock()) + expires_in, UTC)
        )

    # ------------------------------------------------------------ files

    def _files(self, path: str) -> tuple[Path, Path]:
        check_path(VENDOR, path)
        target = self._objects / path
        # check_path already refuses '..'; this also catches symlinks planted inside the tree.
        if not target.resolve().is_relative_to(self._objects.resolve()):
            raise ObjectNotFound(VENDOR, path)
        return target, self._meta / f"{path}.json"

    async def receive_upload(
        self, path: str, token: str | None, chunks: AsyncIterator[bytes], *, content_type: str | None
    ) -> ObjectInfo:
        """Store the body of a signed upload, refusing it past the link's byte limit."""
        claims = self.verify(token, op="upload", path=path)
        return await self._write(path, chunks, content_type, limit=int(claims.get("max", 0)))

    async def put(self, path: str, data: bytes, *, content_type: str) -> ObjectInfo:
        async def one() -> AsyncIterator[bytes]:
            yield data

        return await self._write(path, one(), content_type, limit=None)

    async def _write(
        self, path: str, chunks: AsyncIterator[bytes], content_type: str | None, limit: int | None
    ) -> ObjectInfo:
        target, meta = self._files(path)
        if await anyio.Path(target).exists():
            raise ObjectExists(VENDOR, path)
        await anyio.Path(target.parent).mkdir(parents=True, exist_ok=True)
        partial = target.parent / f".{target.name}.{uuid.uuid4().hex}.part"
        digest, size = hashlib.sha256(), 0
        try:
            async with await anyio.open_file(partial, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise ObjectTooLarge(VENDOR, limit)
                    digest.update(chunk)
                    await out.write(chunk)
            await anyio.to_thread.run_sync(_publish, partial, target, path)
        finally:
            await anyio.Path(partial).unlink(missing_ok=True)
        content_type = (content_type or "application/octet-stream").strip().lower()
        await anyio.Path(meta.parent).mkdir(parents=True, exist_ok=True)
        await anyio.Path(meta).write_bytes(
            orjson.dumps({"content_type": content_type, "size": size, "sha256": digest.hexdigest()})
        )
        return ObjectInfo(path=path, size=size, content_type=content_type, etag=digest.hexdigest())

    async def info(self, path: str) -> ObjectInfo | None:
        target, meta = self._files(path)
        try:
            stat = await anyio.Path(target).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not S_ISREG(stat.st_mode):  # a folder of objects is not an object
            return None
        recorded = await self._read_meta(meta)
        return ObjectInfo(
            path=path,
            size=stat.st_size,
            content_type=recorded.get("content_type", "application/octet-stream"),
            etag=recorded.get("sha256"),
            last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
        )

    @staticmethod
    async def _read_meta(meta: Path) -> dict[str, Any]:
        try:
            value = orjson.loads(await anyio.Path(meta).read_bytes())
        except (FileNotFoundError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    async def stream(self, path: str, *, chunk_size: int = DEFAULT_CHUNK) -> AsyncGenerator[bytes, None]:
        target, _ = self._files(path)
        try:
            handle = await anyio.open_file(target, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(VENDOR, path) from None
        async with handle:
            while chunk := await handle.read(chunk_size):
                yield chunk

    async def open_download(self, path: str, token: str | None) -> LocalDownload:
        """The file a signed download link points at (the link is verified first)."""
        claims = self.verify(token, op="download", path=path)
        info = await self.info(path)
        if info is None:
            raise ObjectNotFound(VENDOR, path)
        return LocalDownload(
            file=self._files(path)[0],
            size=info.size,
            content_type=info.content_type or "application/octet-stream",
            download_name=claims.get("dl"),
        )

    async def delete(self, paths: Sequence[str]) -> None:
        files = [self._files(p) for p in paths]
        await anyio.to_thread.run_sync(self._delete_sync, files)

    def _delete_sync(self, files: list[tuple[Path, Path]]) -> None:
        for target, meta in files:
            target.unlink(missing_ok=True)
            meta.unlink(missing_ok=True)
            _prune(target.parent, self._objects)
            _prune(meta.parent, self._meta)


def _publish(partial: Path, target: Path, path: str) -> None:
    """Move the finished upload into place without ever replacing an existing object."""
    try:
        os.link(partial, target)
    except FileExistsError:
        raise ObjectExists(VENDOR, path) from None
    except OSError:
        # Filesystems without hard links: claim the name exclusively, then swap the content in.
        try:
            fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            raise ObjectExists(VENDOR, path) from None
        os.close(fd)
        os.replace(partial, target)


def _prune(directory: Path, stop: Path) -> None:
    """Remove now-empty folders up to (not including) `stop`."""
    while directory != stop and stop in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent
