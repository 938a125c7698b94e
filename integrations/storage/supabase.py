"""Supabase Storage through the `supabase` SDK's async client (`storage.from_(bucket)`), with the
project's server key on our own httpx client.

Signing, uploading and removing go through the SDK. Two reads stay direct httpx calls on the same client
and headers, because the SDK cannot do them: `stream` (the SDK's `download()` buffers the whole object in
memory) and `info` (the SDK's `info()` requires a JSON body, older servers answer with headers only).

Wire shapes (integrations-reference.md §7.4, checked against supabase/storage src/http/routes/object/*):
- `POST /object/upload/sign/{bucket}/{path}` → `{"url": "/object/upload/sign/…?token=<jwt>",
  "token": "<jwt>"}`;
  the browser then `PUT`s the bytes to that URL. Its lifetime is the server's
  `uploadSignedUrlExpirationTime` (2 h by default), not ours: we read it from the token's `exp`.
- `POST /object/sign/{bucket}/{path}` `{"expiresIn": "n"}` (a string from the SDK; storage coerces it) →
  `{"signedURL": "/object/sign/…?token=…"}`,
  relative to /storage/v1; `&download=<name>` makes it an attachment.
- `GET /object/info/{bucket}/{path}` → `{id, name, version, bucket_id, size, content_type, cache_control,
  etag, metadata, last_modified, created_at}` (storage's InfoRenderer). Older storage versions answer
  this route with headers only, hence the Content-Length/Content-Type fallback.
- `GET /object/authenticated/{bucket}/{path}` → the bytes.
- `POST /object/{bucket}/{path}` (multipart `file` part with its content type, `x-upsert: false`) →
  `{"Id", "Key"}`.
- `DELETE /object/{bucket}` `{"prefixes": [names]}` → the deleted objects (exact names, not prefixes).
Storage renders its own errors as HTTP 400 (older) or the real status (newer) with a body
`{"statusCode": "404", "error": "not_found", "message": "Object not found"}`: both are handled.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
import orjson
from storage3.types import CreateSignedUploadUrlOptions, FileOptions

from integrations._http import RetryPolicy, Sleep, VendorHTTP
from integrations._supabase import SdkCalls, refusal, sdk_client, server_key_headers
from integrations.errors import IntegrationError, RequestError, TransientError
from integrations.storage.base import (
    DEFAULT_CHUNK,
    InvalidObjectPath,
    ObjectExists,
    ObjectInfo,
    ObjectNotFound,
    SignedDownload,
    SignedUpload,
    check_bucket,
    check_path,
)

VENDOR = "supabase_storage"
DELETE_BATCH = 1000  # storage refuses more names per request
DEFAULT_UPLOAD_LIFETIME = 7200


def _storage_status(response: httpx.Response) -> int:
    """The status storage meant: its error body's `statusCode` wins over a generic HTTP 400."""
    if response.status_code == 400:
        try:
            body = response.json()
        except ValueError:
            return 400
        if isinstance(body, dict) and str(body.get("statusCode", "")).isdigit():
            return int(body["statusCode"])
    return response.status_code


def _jwt_exp(token: str) -> int | None:
    """The `exp` of a JWT we only need to read, not verify (storage signed it for itself)."""
    try:
        payload = token.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, binascii.Error, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return exp if isinstance(exp, int) else None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            return parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None


class SupabaseStorage:
    kind = "supabase"

    def __init__(
        self,
        supabase_url: str,
        secret_key: str,
        bucket: str,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bucket = check_bucket(bucket)
        self.base_url = supabase_url.rstrip("/") + "/storage/v1"
        self._clock = clock
        retry = RetryPolicy(max_attempts=3)
        # One httpx client (explicit timeouts) for the SDK and for the two direct reads.
        self._http = VendorHTTP(
            VENDOR,
            self.base_url,
            headers=server_key_headers(secret_key),
            timeout=httpx.Timeout(timeout, connect=5.0),
            retry=retry,
            transport=transport,
            sleep=sleep,
        )
        self._files = sdk_client(supabase_url, secret_key, self._http.client).storage.from_(self.bucket)
        self._call = SdkCalls(VENDOR, retry=retry, sleep=sleep, status_of=_storage_status)

    async def aclose(self) -> None:
        await self._http.aclose()

    def _key(self, path: str) -> str:
        check_path(VENDOR, path)
        if "%" in path:
            # The SDK percent-decodes keys before sending them, so `a%20b` would name another object.
            raise InvalidObjectPath(VENDOR, path, "holds '%', which the Supabase SDK decodes")
        return path

    def _name(self, path: str) -> str:
        return f"{self.bucket}/{quote(self._key(path), safe='/')}"

    async def create_signed_upload(
        self, path: str, *, content_type: str, max_bytes: int, expires_in: int
    ) -> SignedUpload:
        # Signing has no side effect, so it is safe to retry. `max_bytes` and `expires_in` cannot be
        # set per URL here: the bucket's file_size_limit and the server's lifetime apply, and the
        # confirm step checks the size that actually arrived.
        key = self._key(path)
        options = CreateSignedUploadUrlOptions(upsert="false")  # never overwrite: sent as `x-upsert: false`
        signed = await self._call(
            f"sign upload {key}", lambda: self._files.create_signed_upload_url(key, options), idempotent=True
        )
        exp = _jwt_exp(signed["token"])
        expires = exp if exp is not None else int(self._clock()) + DEFAULT_UPLOAD_LIFETIME
        return SignedUpload(
            url=signed["signed_url"],
            method="PUT",
            headers={"Content-Type": content_type},
            token=signed["token"],
            expires_at=datetime.fromtimestamp(expires, UTC),
        )

    async def create_signed_download(
        self, path: str, *, expires_in: int, download_name: str | None = None
    ) -> SignedDownload:
        key = self._key(path)
        signed = await self._call(
            f"sign download {key}", lambda: self._files.create_signed_url(key, expires_in), idempotent=True
        )
        url = signed["signedURL"]
        if not url:
            raise IntegrationError(VENDOR, f"signing {key} answered no signedURL")
        if download_name is not None:
            # Appended here rather than through the SDK's `download` option, which writes spaces as `+`.
            url += ("&" if "?" in url else "?") + "download=" + quote(download_name, safe="")
        expires_at = datetime.fromtimestamp(int(self._clock()) + expires_in, UTC)
        return SignedDownload(url=url, expires_at=expires_at)

    async def info(self, path: str) -> ObjectInfo | None:
        # Direct call (see the module docstring): older servers answer this route with headers only.
        response = await self._http.request("GET", f"/object/info/{self._name(path)}", expected=(400, 404))
        if response.status_code in (400, 404):
            status = _storage_status(response)
            if status == 404:
                return None
            raise refusal(VENDOR, status, response)
        body: Any = response.json() if response.content else {}
        if not isinstance(body, dict):
            body = {}
        size = body.get("size")
        if size is None:
            size = int(response.headers.get("content-length", "0"))
        return ObjectInfo(
            path=path,
            size=int(size),
            content_type=body.get("content_type") or response.headers.get("content-type"),
            etag=body.get("etag") or response.headers.get("etag"),
            last_modified=_parse_time(body.get("last_modified") or response.headers.get("last-modified")),
        )

    async def stream(self, path: str, *, chunk_size: int = DEFAULT_CHUNK) -> AsyncGenerator[bytes, None]:
        # Direct call (see the module docstring): the SDK's download() would hold the whole object in memory.
        url = f"/object/authenticated/{self._name(path)}"
        try:
            async with self._http.client.stream("GET", url) as response:
                if not response.is_success:
                    await response.aread()
                    status = _storage_status(response)
                    if status == 404:
                        raise ObjectNotFound(VENDOR, path)
                    if status >= 500 or status == 429:
                        raise TransientError(VENDOR, f"HTTP {status} on GET {url}", status_code=status)
                    raise refusal(VENDOR, status, response)
                async for chunk in response.aiter_bytes(chunk_size):
                    yield chunk
        except httpx.TransportError as exc:
            raise TransientError(VENDOR, f"reading {path} failed: {exc!r}") from None

    async def put(self, path: str, data: bytes, *, content_type: str) -> ObjectInfo:
        key = self._key(path)
        options: FileOptions = {"content-type": content_type, "upsert": "false", "cache-control": "3600"}
        try:
            # Not retried after an ambiguous failure: a first attempt that landed would answer 409 next.
            await self._call(f"upload {key}", lambda: self._files.upload(key, data, options), idempotent=False)
        except RequestError as exc:
            if exc.status_code == 409:
                raise ObjectExists(VENDOR, path) from exc
            raise
        return ObjectInfo(path=path, size=len(data), content_type=content_type)

    async def delete(self, paths: Sequence[str]) -> None:
        keys = [self._key(p) for p in paths]
        for start in range(0, len(keys), DELETE_BATCH):
            # Deleting is idempotent (a missing name is simply not in the answer): safe to retry.
            await self._remove(keys[start : start + DELETE_BATCH])

    async def _remove(self, keys: list[str]) -> None:
        await self._call(f"remove {len(keys)} objects", lambda: self._files.remove(keys), idempotent=True)
