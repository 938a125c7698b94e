"""/docs and /redoc load every asset from this server (the browser test in tests/live proves they
render; this one runs even where no browser is installed)."""

from __future__ import annotations

import re

import httpx
import pytest


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_reference_only_local_assets(client: httpx.AsyncClient, page: str) -> None:
    r = await client.get(page)
    assert r.status_code == 200
    assert "default-src 'self'" in r.headers["content-security-policy"]
    urls = re.findall(r"""(?:src|href|url|spec-url)\s*[=:]\s*['"]([^'"]+)['"]""", r.text)
    assert urls, r.text
    assert [u for u in urls if re.match(r"(https?:)?//", u)] == []
    for url in urls:
        if url.startswith("/docs-assets/"):
            asset = await client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 1000, url
