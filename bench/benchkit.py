"""What the benchmark scripts share: a child process measured for wall time and peak memory,
and a bench-only PostgreSQL database made afresh. Run the scripts as `python bench/<x>.py`
(their folder is then on the import path)."""

import os
import subprocess
import sys
import time


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
    if name in {"postgres", "test_postgres", "template0", "template1"}:
        sys.exit(f"refusing to drop database {name!r}: use a bench-only name like pingan_bench")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
