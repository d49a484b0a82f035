"""Production settings refuse to start without their keys; the demo warns about its key."""

import io
import os
import subprocess
import sys

from pingan.core.crypto import generate_master_key
from pingan.core.devkey import development_data_key


def _import_production(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PINGAN_", "DJANGO_"))}
    clean.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", "import pingan.config.settings.production"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_data_key():
    result = _import_production({"DJANGO_SECRET_KEY": "x" * 50})
    assert result.returncode != 0
    assert "缺少环境变量 PINGAN_DATA_KEY" in result.stderr


def test_production_refuses_a_malformed_data_key():
    result = _import_production({"DJANGO_SECRET_KEY": "x" * 50, "PINGAN_DATA_KEY": "abc"})
    assert result.returncode != 0
    assert "PINGAN_DATA_KEY" in result.stderr


def test_production_starts_with_every_key():
    result = _import_production(
        {
            "DJANGO_SECRET_KEY": "x" * 50,
            "PINGAN_DATA_KEY": generate_master_key(),
            "DATABASE_URL": "postgres://u@127.0.0.1:5432/pingan",
            "PINGAN_ALLOWED_HOSTS": "pingan.example.org",
        }
    )
    assert result.returncode == 0, result.stderr


def test_development_key_is_generated_once_and_warned_about(tmp_path, monkeypatch):
    monkeypatch.delenv("PINGAN_DEV_KEY_WARNED", raising=False)
    out = io.StringIO()
    first = development_data_key(tmp_path, warn=out)
    assert "开发用数据密钥" in out.getvalue()
    assert "DEVELOPMENT data key" in out.getvalue()
    assert development_data_key(tmp_path, warn=None) == first
    assert (tmp_path / "dev-data-key").stat().st_mode & 0o077 == 0


def test_the_task_queue_is_embedded_by_default_and_redis_or_postgres_on_request(
    monkeypatch, tmp_path
):
    from pingan.config.settings.base import task_queue_from_env

    monkeypatch.delenv("PINGAN_TASKS_URL", raising=False)
    embedded = task_queue_from_env(tmp_path)
    assert embedded["huey_class"] == "huey.SqliteHuey"
    assert embedded["filename"] == str(tmp_path / "tasks.sqlite3")
    assert embedded["consumer"]["periodic"] is True
    monkeypatch.setenv("PINGAN_TASKS_URL", "redis://127.0.0.1:6379/3")
    assert task_queue_from_env(tmp_path)["huey_class"] == "huey.RedisHuey"
    monkeypatch.setenv("PINGAN_TASKS_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    queue = task_queue_from_env(tmp_path)
    assert (queue["huey_class"], queue["dsn"]) == (
        "huey.PostgresHuey",
        "postgres://postgres@127.0.0.1:5432/postgres",
    )


def test_production_keeps_its_task_queue_on_postgres_unless_told_otherwise():
    env = {
        "DJANGO_SECRET_KEY": "x" * 50,
        "PINGAN_DATA_KEY": generate_master_key(),
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
        "PINGAN_ALLOWED_HOSTS": "pingan.example",
    }
    script = "import pingan.config.settings.production as s; print(s.HUEY['huey_class'])"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PINGAN_", "DJANGO_"))}
    result = subprocess.run(
        [sys.executable, "-c", script], env={**clean, **env}, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert result.stdout.strip() == "huey.PostgresHuey", result.stderr


def test_serve_starts_the_task_worker_with_the_same_interpreter():
    from pingan.core.management.commands.serve import worker_command

    command = worker_command()
    assert command[0] == sys.executable
    assert command[-2:] == ["run_huey", "--quiet"]
