"""What the benchmark scripts share: the "what was run" header every script prints, a child
process measured for wall time and peak memory, and a bench-only PostgreSQL database made
afresh. Run the scripts as `python bench/<x>.py` (their folder is then on the import path)."""

import datetime as dt
import os
import platform
import shlex
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

SHARED_DATABASES = {"postgres", "test_postgres", "template0", "template1"}


def describe(
    *,
    database: str,
    mode: str,
    cache: str,
    shape: str | dict[str, object],
    target: str | None = None,
) -> None:
    """Print what was run, before the figures: the command, the database (engine, version,
    name), in-process or over HTTP, warm or cold, the data shape, the target and the machine.

    `mode` is "in-process" (the code called in Python, or Django's test client: no server, no
    socket), "child process" (a `pingan` command or a script child, as the task worker or an
    operator runs it) or "HTTP" (a real server over a socket)."""
    if isinstance(shape, dict):
        shape = ", ".join(f"{key} {_number(value)}" for key, value in shape.items())
    try:
        import django

        framework = f", Django {django.get_version()}"
    except ImportError:  # pragma: no cover - the project's environment has it
        framework = ""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    script = Path(sys.argv[0])
    command = " ".join(
        [".venv/bin/python", f"bench/{script.name}", *(shlex.quote(a) for a in sys.argv[1:])]
    )
    lines = [
        ("command", command),
        ("database", database),
        ("mode", mode),
        ("cache", cache),
        ("shape", shape),
        *([("target", target)] if target else []),
        (
            "machine",
            f"{os.cpu_count()} cores, load average {load} (1/5/15 min) before the timings, "
            f"Python {platform.python_version()}{framework}, "
            f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        ),
    ]
    print("== what was run " + "=" * 60)
    for key, value in lines:
        print(f"{key + ':':<10}{value}")
    print("=" * 76)


def _number(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def django_database() -> str:
    """Engine, version and name of Django's default database (Django must be set up)."""
    from django.db import connection

    connection.ensure_connection()
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0].split()[0]
        where = f"{settings.get('HOST') or 'local socket'}:{settings.get('PORT') or 5432}"
        return f"PostgreSQL {version}, database {settings['NAME']} on {where}"
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0].upper()
        return f"SQLite {sqlite3.sqlite_version} ({journal}), file {settings['NAME']}"
    return f"{connection.vendor}, database {settings['NAME']}"  # pragma: no cover


def database_of(postgres_url: str | None, sqlite_file: Path) -> str:
    """The same without Django, for scripts whose Django runs in child processes: the
    PostgreSQL server of `postgres_url`, else the SQLite file (after the children made it)."""
    if postgres_url:
        import psycopg

        name = postgres_url.rsplit("/", 1)[1].split("?")[0]
        host = postgres_url.split("://", 1)[-1].split("@")[-1].rsplit("/", 1)[0]
        with psycopg.connect(postgres_url) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0].split()[0]
        return f"PostgreSQL {version}, database {name} on {host}"
    journal = "?"
    if sqlite_file.exists():
        with sqlite3.connect(sqlite_file) as conn:
            journal = conn.execute("PRAGMA journal_mode").fetchone()[0].upper()
    return f"SQLite {sqlite3.sqlite_version} ({journal}), file {sqlite_file}"


def run_child(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in MB, output) of one child process; stops on its failure."""
    started = time.perf_counter()
    child = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code:
        sys.exit(f"{' '.join(args)} failed ({code}):\n{output}")
    return wall, usage.ru_maxrss // 1024, output


def recreate_postgres(url: str) -> None:
    """Drop and create the database of `url`; never one of the shared ones."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    if name in SHARED_DATABASES:
        sys.exit(f"refusing to drop database {name!r}: use a bench-only name like pingan_bench")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
