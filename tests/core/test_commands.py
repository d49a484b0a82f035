"""`pingan serve` and `pingan generate_data_key`, run as a user would run them."""

import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest
from django.core.management import call_command

from pingan.core.crypto import check_master_key


def test_generate_data_key_prints_a_usable_key_alone_on_stdout():
    out, err = io.StringIO(), io.StringIO()
    call_command("generate_data_key", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert check_master_key(key) == key
    assert "PINGAN_DATA_KEY" in err.getvalue()
    assert "妥善保管" in err.getvalue()


def _free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(tmp_path, port: int) -> subprocess.Popen:
    env = {**os.environ, "PINGAN_HOME": str(tmp_path), "PINGAN_DEBUG": "0"}
    env["DJANGO_SETTINGS_MODULE"] = "pingan.config.settings.dev"
    env.pop("DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "pingan", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
        return response.status, response.read().decode("utf-8")


@pytest.fixture
def served(tmp_path):
    port = _free_port()
    process = _serve(tmp_path, port)
    deadline = time.monotonic() + 60
    while True:
        try:
            _get(f"http://127.0.0.1:{port}/login/")
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"serve did not answer: {process.communicate()}")
            time.sleep(0.3)
    yield port
    process.terminate()
    process.wait(timeout=10)


def test_serve_answers_the_login_page_and_local_static_files(served):
    status, body = _get(f"http://127.0.0.1:{served}/login/")
    assert status == 200
    assert "登录" in body
    assert "/static/web/pingan.css" in body
    assert "http://" not in body.replace(f"http://127.0.0.1:{served}", "")
    assert "https://" not in body  # nothing is fetched from outside
    status, css = _get(f"http://127.0.0.1:{served}/static/web/pingan.css")
    assert status == 200
    assert "{" in css


def test_serve_on_a_taken_port_says_so_in_chinese(served, tmp_path):
    process = _serve(tmp_path, served)
    _, err = process.communicate(timeout=60)
    assert process.returncode != 0
    assert f"端口 {served} 已被占用" in err


def _worker_of(pid: int) -> int:
    """The task worker started by the serve process `pid` (Linux /proc)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for child in children:
            if "run_huey" in Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace"):
                return int(child)
        time.sleep(0.2)
    pytest.fail("serve started no task worker")


def _gone(pid: int, within: float = 15) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("stop", ["terminate", "kill"])
def test_the_task_worker_never_outlives_the_site(tmp_path, stop):
    port = _free_port()
    process = _serve(tmp_path, port)
    worker = _worker_of(process.pid)
    getattr(process, stop)()  # a polite stop (SIGTERM), or the process killed outright
    process.communicate(timeout=20)
    assert _gone(worker), f"worker {worker} still running after serve got {stop}"
