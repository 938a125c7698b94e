"""What sending a chat message costs the database, one message at a time (no concurrency, no HTTP).

    python bench/send_cost.py [--messages 2000]

On a throw-away embedded PostgreSQL seeded with bench/seed.py's dataset, one connection sends as the
operator, the way a request does (claims, role, user check; the statement; commit), and prints the
backend's CPU per message for:

- the bare insert PostgREST does (`POST /chat_messages`);
- `private.send_chat_message`, the API's send: checks, message, notifications, audit;
- a floor: one statement writing only the message, one notification per member and one audit row,
  with no check at all (run without `role authenticated`: audit_log is not writable by users).

`synchronous_commit` is off, so the figures are CPU, not waits for the disk. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import orjson
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load import embedded_database
from bench.seed import Dataset, seed
from services.core.db import sql_literal

TEXT = "A benchmark message, about as long as a real one."
INSERT = "insert into public.chat_messages (conversation_id, author_id, body) values ($1, $2, $3) returning *"
SEND = "select private.send_chat_message($1, $2, null, null, 'bench')"
FLOOR = """
with m as (insert into public.chat_messages (conversation_id, author_id, body) values ($1, $2, $3) returning *),
n as (
  insert into public.notifications (user_id, client_id, actor_id, source, priority, title, body, link,
                                    entity_type, entity_id, sound, badge)
  select cm.user_id, m.client_id, $2, 'chat', 'normal', 'Nouveau message', $3, '/chat/' || m.conversation_id,
         'chat_message', m.id::text, true, true
  from m join public.client_members cm on cm.client_id = m.client_id
  returning id
)
insert into public.audit_log (actor_id, actor_role, client_id, action, entity_type, entity_id, after, request_id)
select $2, 'operator', m.client_id, 'chat.message_sent', 'chat_message', m.id::text,
       to_jsonb(m) - 'body' || jsonb_build_object('notified', (select array_agg(id) from n)), 'bench'
from m
"""


async def measure(dsn: str, d: Dataset, messages: int) -> None:
    conn = await asyncpg.connect(dsn)
    backend = psutil.Process(await conn.fetchval("select pg_backend_pid()"))
    await conn.execute("set synchronous_commit = off")
    claims = sql_literal(orjson.dumps({"sub": str(d.operator_id), "role": "authenticated",
                                       "app_metadata": {"role": "operator"}}).decode())  # fmt: skip
    as_user = (
        f"begin read write; select set_config('request.jwt.claims', {claims}, true); set local role authenticated;"
        " select private.require_current_user();"
    )
    as_owner = f"begin read write; select set_config('request.jwt.claims', {claims}, true);"

    def sending(setup: str, statement: str, *args: object) -> Callable[[str], Awaitable[None]]:
        async def send(conversation: str) -> None:
            await conn.execute(setup)
            await conn.fetch(statement, conversation, *args)
            await conn.execute("commit")

        return send

    cases = {
        "setup + commit, nothing sent": sending(as_user, "select $1::uuid"),
        "bare insert (PostgREST)": sending(as_user, INSERT, d.operator_id, TEXT),
        "private.send_chat_message (API)": sending(as_user, SEND, TEXT),
        "floor: message + notification + audit": sending(as_owner, FLOOR, d.operator_id, TEXT),
    }
    for _ in range(2):  # the first round warms the caches
        for label, send in cases.items():
            cpu, began = sum(backend.cpu_times()[:2]), time.perf_counter()
            for i in range(messages):
                await send(d.conversation_ids[i % len(d.conversation_ids)])
            wall = (time.perf_counter() - began) / messages * 1e6
            print(f"{label:40} backend CPU {(sum(backend.cpu_times()[:2]) - cpu) / messages * 1e6:6.0f} µs/message"
                  f"   wall {wall:6.0f} µs")  # fmt: skip
        print()
    await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    with embedded_database() as dsn:
        dataset = asyncio.run(seed(dsn))
        asyncio.run(measure(dsn, dataset, args.messages))


if __name__ == "__main__":
    main()
