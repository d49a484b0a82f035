"""`pingan serve`: the site (pages, API and static files) on waitress."""

import ctypes
import errno
import os
import signal
import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.wsgi import get_wsgi_application

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def site_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


class Command(BaseCommand):
    help = "用 waitress 启动网站（页面、接口和静态文件），默认 http://127.0.0.1:8000/。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
        parser.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
        parser.add_argument("--threads", type=int, default=8, help="工作线程数（默认 8）")
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="不启动后台任务进程（定时督办、每日通报）；生产环境另行运行 `pingan run_huey` 时使用",
        )

    def handle(self, *args, **options) -> None:
        from waitress import create_server  # type: ignore[import-untyped]

        host, port = options["host"], options["port"]
        # Static files: collected into STATIC_ROOT for WhiteNoise, which also finds them in
        # the apps directly (WHITENOISE_USE_FINDERS), so a failed collect is not fatal.
        try:
            call_command("collectstatic", interactive=False, verbosity=0)
        except (OSError, CommandError) as exc:
            self.stderr.write(f"收集静态文件失败（将直接从程序目录提供）：{exc}")
        application = get_wsgi_application()
        try:  # bind first: a taken port is said at once, before any worker starts
            server = create_server(
                application, host=host, port=port, threads=options["threads"], ident="pingan"
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CommandError(
                    f"端口 {port} 已被占用：请关闭占用它的程序，或用 --port 换一个端口。"
                ) from exc
            raise CommandError(f"无法在 {host}:{port} 启动：{exc}") from exc
        # A `kill` (SIGTERM) stops the site like Ctrl+C does, so the worker is stopped too.
        signal.signal(signal.SIGTERM, _interrupt)
        worker = None if options["no_worker"] else start_worker()
        if worker is not None:
            self.stdout.write("后台任务进程已启动（定时催办督办、每日通报）。")
        self.stdout.write(
            self.style.SUCCESS(f"pingan 已启动：{site_url(host, port)}  （按 Ctrl+C 停止）")
        )
        try:
            server.run()
        except KeyboardInterrupt:
            self.stdout.write("已停止。")
        finally:
            server.close()
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _die_with_parent() -> None:
    """In the worker, before it starts (Linux): be sent SIGTERM when the site's process dies,
    however it dies, so no worker is ever left running on its own."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except OSError:
            pass


def worker_command() -> list[str]:
    """The task queue's worker (huey's consumer, with its scheduler for periodic jobs), run by
    the same interpreter and settings as the site."""
    return [sys.executable, "-m", "pingan.cli", "run_huey", "--quiet"]


def start_worker() -> subprocess.Popen:
    return subprocess.Popen(worker_command(), env=os.environ.copy(), preexec_fn=_die_with_parent)
