"""File acceptance rules without a database: names, MIME types and magic bytes."""

from __future__ import annotations

import pytest

from services.documents.errors import FileRefused, FileTooLarge
from services.documents.files import check_magic, check_size, display_name, normalize_mime, storage_name

OOXML = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.mark.parametrize(
    ("raw", "shown", "stored"),
    [
        ("Brief initial.pdf", "Brief initial.pdf", "Brief_initial.pdf"),
        ("C:\\Users\\mikl\\Devis n°12.PDF", "Devis n°12.PDF", "Devis_n12.pdf"),
        ("../../etc/passwd", "passwd", "passwd"),
        ("rapport\u202efdp.exe", "rapportfdp.exe", "rapportfdp.exe"),
        ("  .htaccess  ", ".htaccess", "file.htaccess"),
        ("résumé..", "résumé", "resume"),
        ("日本語.txt", "日本語.txt", "file.txt"),
        ("a" * 300 + ".pdf", "a" * 251 + ".pdf", "a" * 100 + ".pdf"),
    ],
)
def test_names(raw: str, shown: str, stored: str) -> None:
    assert display_name(raw) == shown
    assert storage_name(display_name(raw)) == stored


@pytest.mark.parametrize("raw", ["", "..", ".", " / ", "\x00\x01", "dir/"])
def test_names_with_nothing_usable(raw: str) -> None:
    with pytest.raises(FileRefused):
        display_name(raw)


def test_mime_types_and_sizes() -> None:
    assert normalize_mime("Text/Plain; charset=UTF-8") == "text/plain"
    with pytest.raises(FileRefused):
        normalize_mime("pdf")
    with pytest.raises(FileTooLarge):
        check_size(11, 10)
    with pytest.raises(FileRefused):
        check_size(0, 10)


@pytest.mark.parametrize(
    ("mime", "head"),
    [
        ("application/pdf", b"%PDF-1.7\n"),
        ("image/png", b"\x89PNG\r\n\x1a\n...."),
        ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF"),
        ("image/gif", b"GIF89a...."),
        ("image/webp", b"RIFF\x00\x00\x00\x00WEBPVP8 "),
        ("audio/wav", b"RIFF\x00\x00\x00\x00WAVEfmt "),
        ("application/zip", b"PK\x03\x04...."),
        (OOXML, b"PK\x03\x04...."),
        ("video/mp4", b"\x00\x00\x00\x18ftypmp42"),
        ("audio/mpeg", b"ID3\x04\x00"),
        ("audio/mpeg", b"\xff\xfb\x90\x64"),
        ("text/plain", "Bonjour, voici mes réponses.\n".encode()),
        ("text/csv", "nom;ville\nMZ Conseil;Lyon\n".encode("cp1252")),
        ("text/plain", "\ufeffBOM text".encode("utf-16")),
        ("application/x-custom", b"whatever format"),
    ],
)
def test_magic_bytes_that_match(mime: str, head: bytes) -> None:
    check_magic(mime, head)


@pytest.mark.parametrize(
    ("mime", "head"),
    [
        ("application/pdf", b"\x89PNG\r\n\x1a\n"),
        ("application/pdf", b"MZ\x90\x00\x03\x00"),
        ("image/png", b"%PDF-1.4"),
        ("image/jpeg", b"GIF89a"),
        (OOXML, b"%PDF-1.4"),
        ("text/plain", b"%PDF-1.4\n%\xe2\xe3"),
        ("text/plain", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 20),
        ("text/csv", b"PK\x03\x04\x14\x00"),
        ("application/x-custom", b"MZ\x90\x00"),
        ("video/mp4", b"not a video"),
    ],
)
def test_magic_bytes_that_contradict_the_type(mime: str, head: bytes) -> None:
    with pytest.raises(FileRefused):
        check_magic(mime, head)
