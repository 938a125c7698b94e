"""File acceptance rules: names, sizes, the MIME allow-list and magic bytes."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from services.core.settings import Settings
from services.documents.errors import FileRefused, FileTooLarge

HEAD_BYTES = 8192
_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
_DROP_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}  # controls, bidi/format tricks, surrogates, private


@dataclass(frozen=True, slots=True)
class FileRules:
    max_bytes: int
    direct_max_bytes: int
    allowed_mime_types: frozenset[str]
    link_ttl_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> FileRules:
        return cls(
            max_bytes=settings.documents_max_bytes,
            direct_max_bytes=min(settings.documents_direct_upload_max_bytes, settings.documents_max_bytes),
            allowed_mime_types=frozenset(m.strip().lower() for m in settings.documents_allowed_mime_types),
            link_ttl_seconds=settings.signed_url_ttl_seconds,
        )


# ---------------------------------------------------------------- names


def display_name(raw: str, *, field: str = "file_name") -> str:
    """The name people see: the last path component, NFC, without control or invisible characters."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if unicodedata.category(c) in ("Zl", "Zp") else c
        for c in name
        if unicodedata.category(c) not in _DROP_CATEGORIES
    )
    name = re.sub(r"\s+", " ", name).strip().rstrip(". ")
    if name in ("", ".", ".."):
        raise FileRefused("the file name has no usable characters", field=field)
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 255 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 16 else name[:255]
    return name


def storage_name(name: str) -> str:
    """An ASCII name safe in any object store and URL: `Épreuve finale (2).PDF` → `Epreuve_finale_2.pdf`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    stem, dot, ext = ascii_name.rpartition(".")
    if not dot:
        stem, ext = ascii_name, ""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")[:100] or "file"
    ext = re.sub(r"[^A-Za-z0-9]+", "", ext).lower()[:16]
    return f"{stem}.{ext}" if ext else stem


# ---------------------------------------------------------------- types and sizes


def normalize_mime(value: str, *, field: str = "mime_type") -> str:
    mime = value.split(";", 1)[0].strip().lower()
    if not _MIME.match(mime):
        raise FileRefused(f"{value[:100]!r} is not a MIME type", field=field)
    return mime


def check_allowed(mime: str, rules: FileRules, *, field: str = "mime_type") -> None:
    if mime not in rules.allowed_mime_types:
        raise FileRefused(
            f"files of type {mime} are not accepted; accepted types: {', '.join(sorted(rules.allowed_mime_types))}",
            field=field,
        )


def check_size(size: int, limit: int, *, field: str = "size_bytes") -> None:
    if size > limit:
        raise FileTooLarge(f"the file is {size} bytes; the limit is {limit} bytes", field=field, limit=limit)
    if size <= 0:
        raise FileRefused("the file is empty", field=field)


# ---------------------------------------------------------------- magic bytes


def _mp3(h: bytes) -> bool:
    return h[:3] == b"ID3" or (len(h) > 1 and h[0] == 0xFF and h[1] & 0xE0 == 0xE0 and h[1] != 0xFE)


# First match wins: JPEG before the MP3 frame sync it would also satisfy.
_SIGNATURES: list[tuple[str, Callable[[bytes], bool]]] = [
    ("pdf", lambda h: h.startswith(b"%PDF-")),
    ("png", lambda h: h.startswith(b"\x89PNG\r\n\x1a\n")),
    ("jpeg", lambda h: h.startswith(b"\xff\xd8\xff")),
    ("gif", lambda h: h[:6] in (b"GIF87a", b"GIF89a")),
    ("webp", lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP"),
    ("wav", lambda h: h[:4] == b"RIFF" and h[8:12] == b"WAVE"),
    ("zip", lambda h: h[:4] in (b"PK\x03\x04", b"PK\x05\x06")),
    ("mp4", lambda h: h[4:8] == b"ftyp"),
    ("ole", lambda h: h.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")),
    (
        "executable",
        lambda h: (
            h[:2] == b"MZ" or h[:4] in (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe")
        ),
    ),
    ("mp3", _mp3),
]
_ZIP_BASED = ("application/vnd.openxmlformats-officedocument.", "application/vnd.oasis.opendocument.")
_EXPECTED: dict[str, str] = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
    "audio/mp4": "mp4",
    "video/mp4": "mp4",
    "audio/x-m4a": "mp4",
    "video/quicktime": "mp4",
    "audio/mpeg": "mp3",
    "application/msword": "ole",
    "application/vnd.ms-excel": "ole",
    "application/vnd.ms-powerpoint": "ole",
}
_TEXT_TYPES = ("application/json", "application/csv", "application/xml")


def sniff(head: bytes) -> str | None:
    return next((name for name, test in _SIGNATURES if test(head)), None)


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    controls = sum(1 for b in head if (b < 32 and b not in (9, 10, 12, 13, 27)) or b == 127)
    return controls <= len(head) // 100


def check_magic(mime: str, head: bytes, *, field: str = "mime_type") -> None:
    """Refuse content whose first bytes contradict the declared type (text must look like text)."""
    found = sniff(head)
    expected = _EXPECTED.get(mime) or ("zip" if mime.startswith(_ZIP_BASED) else None)
    if mime.startswith("text/") or mime in _TEXT_TYPES:
        # Two-byte signatures (MZ, MP3 sync) also start ordinary text: the text test decides those.
        if not _looks_like_text(head) or found not in (None, "mp3", "executable"):
            raise FileRefused(f"the file's content is {found or 'binary'}, not {mime}", field=field)
        return
    if expected is not None:
        if found != expected:
            raise FileRefused(f"the file's content is {found or 'not recognised'}, not {mime}", field=field)
        return
    # A type we hold no signature for: refuse only content we recognise as something else.
    if found is not None:
        raise FileRefused(f"the file's content is {found}, not {mime}", field=field)
