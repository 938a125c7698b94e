"""The committed OpenAPI document is fit for the dashboards' TypeScript client: it lints clean with
Redocly's `recommended` rules, openapi-typescript turns it into types that `tsc` accepts, and an
openapi-fetch script built on them talks to a real server (list, detail, a 422, a 404).

The node project is tests/typescript (pinned devDependencies, package-lock.json); `npm ci` runs only
when the lock file changed since node_modules was installed."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Tenant, User

NODE_PROJECT = Path(__file__).resolve().parents[1] / "typescript"
OPENAPI = NODE_PROJECT.parents[1] / "openapi" / "openapi.json"
BIN = NODE_PROJECT / "node_modules" / ".bin"
INSTALLED_MARK = NODE_PROJECT / "node_modules" / ".foxeo-lock-sha256"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="node and npm are not installed: the TypeScript client checks need them (CI has them)",
)


def run(*command: str | Path, timeout: float = 600) -> str:
    done = subprocess.run(
        [str(c) for c in command], cwd=NODE_PROJECT, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def node_modules() -> None:
    lock = hashlib.sha256((NODE_PROJECT / "package-lock.json").read_bytes()).hexdigest()
    if not INSTALLED_MARK.exists() or INSTALLED_MARK.read_text() != lock:
        run("npm", "ci", "--no-audit", "--no-fund")
        INSTALLED_MARK.write_text(lock)


@pytest.fixture(scope="module")
def compiled_client(node_modules: None) -> Path:
    """Types generated from the committed document, the script type-checked, then emitted as JS."""
    run(BIN / "openapi-typescript", OPENAPI, "--output", "src/api.d.ts")
    run(BIN / "tsc", "--noEmit", "-p", "tsconfig.json")
    run(BIN / "tsc", "--noCheck", "-p", "tsconfig.json")  # just checked: emit without checking again
    return NODE_PROJECT / "dist" / "client.js"


def test_openapi_lints_clean_with_redocly_recommended(node_modules: None) -> None:
    report = json.loads(run(BIN / "redocly", "lint", "--config", "redocly.yaml", OPENAPI, "--format=json"))
    problems = [f"{p['ruleId']}: {p['message']} at {p['location'][0]['pointer']}" for p in report["problems"]]
    assert report["totals"]["errors"] == 0 and report["totals"]["warnings"] == 0, problems


async def test_generated_client_talks_to_a_live_server(
    compiled_client: Path, live_server: str, operator: User, tenant_a: Tenant
) -> None:
    process = await asyncio.create_subprocess_exec(
        "node",
        str(compiled_client),
        live_server,
        operator.token,
        cwd=NODE_PROJECT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    checks = {c["check"]: c for c in map(json.loads, stdout.decode().splitlines())}
    assert process.returncode == 0, (checks, stderr.decode()[-2000:])
    assert set(checks) == {"list", "detail", "invalid", "missing"}, checks
    assert all(c["ok"] for c in checks.values()), checks
    assert checks["invalid"]["details"]["content_type"] == "application/problem+json"
    assert checks["detail"]["details"]["company_name"] == "Alpha Studio"
