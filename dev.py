#!/usr/bin/env python3
"""pingan's two-command quick start. Needs only Python 3.11+.

    python3 dev.py demo     set everything up, load the seed town, print logins, serve :8000
    python3 dev.py test     set everything up and run the whole test suite

Each command makes (or refreshes) the virtual environment in .venv, installing pingan and its
pinned dependency ranges only when pyproject.toml changed, so running it again is quick.
Also: `python3 dev.py check` (ruff, ruff format --check, mypy, lint-imports, makemigrations
--check),
`python3 dev.py pingan ARGS` (any pingan command inside the environment) and
`python3 dev.py mutate [MODULE ...]` (mutation testing of the rule modules, not run by CI;
`--help` says more).
"""

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("PINGAN_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".pingan-installed"


def say(message: str) -> None:
    print(f"[pingan] {message}", flush=True)


def stamp_value() -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def bootstrap() -> None:
    if sys.version_info < (3, 11):
        sys.exit("pingan 需要 Python 3.11 或更高版本 (pingan needs Python 3.11+).")
    if not (BIN / "python").exists() and not (BIN / "python.exe").exists():
        say(f"创建虚拟环境 (creating the virtual environment) {VENV}")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        STAMP.unlink(missing_ok=True)
    wanted = stamp_value()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    say("安装依赖 (installing pingan and its dependencies) …")
    python = str(BIN / "python")
    pip = [python, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(wanted)


def run(*args: str) -> int:
    return subprocess.call(list(args), cwd=ROOT)


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command not in {"demo", "test", "check", "pingan", "mutate"}:
        print(__doc__)
        return 0 if command in {"help", "-h", "--help"} else 2
    bootstrap()
    os.environ.setdefault("PINGAN_HOME", str(ROOT / "var"))
    if command == "demo":
        return run(str(BIN / "pingan"), "demo", *rest)
    if command == "pingan":
        return run(str(BIN / "pingan"), *rest)
    if command == "test":
        return run(str(BIN / "python"), "-m", "pytest", *rest)
    if command == "mutate":
        return run(str(BIN / "python"), str(ROOT / "tools" / "mutation" / "mutate.py"), *rest)
    failed = []
    steps = {
        "ruff check": [str(BIN / "ruff"), "check", "src", "tests", "bench", "tools", "dev.py"],
        "ruff format --check": [
            str(BIN / "ruff"), "format", "--check", "src", "tests", "bench", "tools", "dev.py",
        ],
        "mypy": [str(BIN / "mypy")],
        "lint-imports (layers)": [str(BIN / "lint-imports")],
        "makemigrations --check": [
            str(BIN / "pingan"), "makemigrations", "--check", "--dry-run",
            "--settings", "pingan.config.settings.test",
        ],
    }  # fmt: skip
    for name, step in steps.items():
        say(f"== {name}")
        if run(*step) != 0:
            failed.append(name)
    if failed:
        say("失败 (failed): " + ", ".join(failed))
        return 1
    say("全部通过 (all checks passed)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
