"""/docs and /redoc work in a real browser with no network beyond this server: headless Chromium loads
Swagger UI, authorizes with a dev token, runs an operation and shows its 200; ReDoc renders the API.
Any request to another origin (a CDN, fonts) is refused and fails the test."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

from tests.conftest import Tenant, User

if TYPE_CHECKING:  # imported for real below only when installed (importorskip)
    from playwright.async_api import Page, Route

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip(
    "playwright.async_api", reason="playwright is not installed (pip install -e '.[dev]')"
)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (`apt-get install -y chromium`; .ci/run installs it)"
)

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def page(live_server: str) -> AsyncIterator[tuple[Page, list[str], list[str]]]:
    """A page that may only talk to the live server; yields it with the refused URLs and page errors."""
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            refused: list[str] = []
            errors: list[str] = []

            async def local_only(route: Route) -> None:
                if route.request.url.startswith(live_server):
                    await route.continue_()
                else:
                    refused.append(route.request.url)
                    await route.abort()

            await page.route("**/*", local_only)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            yield page, refused, errors
        finally:
            await browser.close()


async def test_swagger_ui_runs_an_operation_with_a_dev_token(
    page: tuple[Page, list[str], list[str]], live_server: str, operator: User, tenant_a: Tenant
) -> None:
    tab, refused, errors = page
    expect = playwright_api.expect
    await tab.goto(f"{live_server}/docs")
    await expect(tab.locator(".swagger-ui .info .title")).to_contain_text("Foxeo API", timeout=30_000)

    await tab.locator("button.authorize").first.click()
    await tab.locator(".modal-ux input").first.fill(operator.token)
    await tab.locator(".modal-ux .auth-btn-wrapper button.authorize").click()
    await tab.locator(".modal-ux button.btn-done").click()

    operation = tab.locator("#operations-clients-clients-list_clients")
    await operation.locator(".opblock-summary-control").click()
    await operation.locator("button.try-out__btn").click()
    await operation.locator("button.execute").click()
    response = operation.locator(".live-responses-table .response").first
    await expect(response.locator(".response-col_status")).to_have_text("200", timeout=30_000)
    await expect(response.locator(".response-col_description")).to_contain_text("Alpha Studio")

    assert refused == [], f"/docs reached outside the server: {refused}"
    assert errors == []


async def test_redoc_renders_the_api(page: tuple[Page, list[str], list[str]], live_server: str) -> None:
    tab, refused, errors = page
    expect = playwright_api.expect
    await tab.goto(f"{live_server}/redoc")
    await expect(tab.locator("h1").first).to_contain_text(
        "Foxeo API", timeout=180_000
    )  # ReDoc is slow on a busy CI machine
    # The operations are rendered, down to the problem schema of their errors.
    await expect(tab.locator("[data-section-id='tag/clients']").first).to_be_attached()
    await expect(tab.locator("text=application/problem+json").first).to_be_attached()

    assert refused == [], f"/redoc reached outside the server: {refused}"
    assert errors == []
