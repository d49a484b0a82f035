"""Mutation testing of the rule modules with cosmic-ray: `python3 dev.py mutate [MODULE …]`.

The modules, the tests that exercise each one and the operators applied are configured in
pyproject.toml (`[tool.pingan.mutation]`); docs/architecture.md ("Mutation testing") says
how to read the result. Not part of CI: a full run takes the better part of an hour.

How a run works:
- the tree (`src/`, `tests/`, `pyproject.toml`) is copied to `.mutation/tree/`, and every
  mutant is written into that copy, never into `src/`: an interrupted run leaves nothing
  behind but the copy, which the next run replaces;
- cosmic-ray makes the mutants of one module, one at a time (one worker), and runs only that
  module's tests for each, as a new pytest process on SQLite (`DATABASE_URL` is ignored), with
  `--reuse-db` on a test database made once per run (tools/mutation/mutation_settings.py);
- mutants outside the configured operators, mutants that are not valid Python, and "mutants"
  of a `*` or `**` that is not an arithmetic operator (a keyword-only marker, an unpacking)
  are left out before anything runs;
- a mutant is killed when its tests fail, timed out when they run past the timeout (a
  multiple of the unmutated run), and survives when they pass;
- the summary per module, and each survivor with its place and diff, is printed and written
  to `.mutation/report.md`.

Options: `--list` shows the modules, their tests and how many mutants each would run;
`--survivors` (after adding tests) keeps the previous run's kills when the module's source
did not change, and runs only its survivors and any mutant it did not run (a new operator);
`--report` prints the last results again without running anything.
"""

import argparse
import ast
import compileall
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from cosmic_ray.mutating import mutate_code
from cosmic_ray.plugins import get_operator
from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

ROOT = Path(__file__).resolve().parents[2]
TOOLS = Path(__file__).resolve().parent
WORK = ROOT / ".mutation"
TREE = WORK / "tree"
BIN = Path(sys.executable).parent


def say(message: str) -> None:
    print(f"[mutate] {message}", flush=True)


@dataclass(frozen=True)
class Module:
    name: str
    path: str  # relative to the project root, e.g. src/pingan/ledger/lifecycle.py
    tests: tuple[str, ...]


@dataclass(frozen=True)
class Settings:
    modules: dict[str, Module]
    operators: tuple[str, ...]  # regular expressions, matched in full against the names
    timeout_factor: float
    timeout_min: float


def settings_load() -> Settings:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pingan"]["mutation"]
    modules = {
        name: Module(name, spec["path"], tuple(spec["tests"]))
        for name, spec in config["modules"].items()
    }
    return Settings(
        modules,
        tuple(config["operators"]),
        float(config.get("timeout-factor", 4)),
        float(config.get("timeout-min", 30)),
    )


# ---------------------------------------------------------------------------------------------
# The copy of the tree, and the environment every test run gets


def tree_copy() -> None:
    if TREE.exists():
        shutil.rmtree(TREE)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    shutil.copytree(ROOT / "src", TREE / "src", ignore=ignore)
    shutil.copytree(ROOT / "tests", TREE / "tests", ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", TREE / "pyproject.toml")
    # The unmutated modules are compiled once; a mutated file has a newer time, so it is
    # compiled afresh (cosmic-ray runs the tests with PYTHONDONTWRITEBYTECODE).
    compileall.compile_dir(TREE / "src", quiet=1)


def test_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)  # SQLite only
    env["PYTHONPATH"] = os.pathsep.join([str(TREE / "src"), str(TOOLS)])
    env["DJANGO_SETTINGS_MODULE"] = "mutation_settings"
    env["PINGAN_MUTATION_DB_DIR"] = str(WORK / "db")
    env.setdefault("PINGAN_HOME", str(WORK / "home"))
    return env


def tree_check(env: dict[str, str]) -> None:
    """The tests must import pingan from the copy, never from src/."""
    found = subprocess.run(
        [sys.executable, "-c", "import pingan; print(pingan.__file__)"],
        env=env,
        cwd=TREE,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(found).resolve().is_relative_to(TREE.resolve()):
        sys.exit(f"[mutate] pingan is imported from {found}, not from the copy in {TREE}")


def pytest_command(tests: tuple[str, ...], *, create_db: bool = False) -> list[str]:
    return [
        sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
        "--create-db" if create_db else "--reuse-db", "--ds=mutation_settings", *tests,
    ]  # fmt: skip


def baseline(module: Module, env: dict[str, str], *, create_db: bool = False) -> float | None:
    """Run the module's tests on the unmutated copy. Returns the seconds they took, or None
    (after showing why) when they fail: no mutant of that module can be judged then."""
    started = time.monotonic()
    run = subprocess.run(pytest_command(module.tests, create_db=create_db), env=env, cwd=TREE,
                         capture_output=True, text=True)  # fmt: skip
    seconds = time.monotonic() - started
    if run.returncode != 0:
        print(run.stdout[-4000:], run.stderr[-2000:], sep="\n")
        say(f"{module.name}: its tests fail without any mutant; skipped (fix the tests first)")
        return None
    return seconds


# ---------------------------------------------------------------------------------------------
# Making the mutants, and leaving out those that are not worth a run


def session_path(module: Module) -> Path:
    return WORK / module.name / "session.sqlite"


def config_write(module: Module, timeout: float) -> Path:
    folder = WORK / module.name
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    command = " ".join(pytest_command(module.tests))
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(str(TREE / module.path))}\n"
        f"timeout = {timeout:.0f}.0\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n"
        "\n[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )
    return config


def _is_operator_star(source_lines: list[str], row: int, col: int) -> bool:
    """Whether the `*` or `**` at (row, col) (1-based row) is an arithmetic operator rather
    than a keyword-only marker or an unpacking: an operator follows an operand."""
    line = source_lines[row - 1][:col]
    while not line.strip() and row > 1:
        row -= 1
        line = source_lines[row - 1]
    before = line.rstrip()
    return bool(before) and before[-1] not in "(,[{=:" and not before.endswith("lambda")


def mutants_filter(module: Module, settings: Settings) -> dict[str, int]:
    """Mark as skipped the mutants not worth a run; returns how many for each reason."""
    source = (TREE / module.path).read_text()
    lines = source.splitlines()
    original = ast.dump(ast.parse(source))
    allowed = re.compile("|".join(f"(?:{p})" for p in settings.operators))
    reasons: dict[str, int] = {}
    with use_db(str(session_path(module)), WorkDB.Mode.open) as db:
        for item in db.pending_work_items:
            (mutation,) = item.mutations
            name = mutation.operator_name.removeprefix("core/")
            reason = ""
            if not allowed.fullmatch(name):
                reason = "operator not in the project's set"
            elif name.startswith(("ReplaceBinaryOperator_Mul", "ReplaceBinaryOperator_Pow")) and (
                not _is_operator_star(lines, *mutation.start_pos)
            ):
                reason = "a * or ** that is not an operator"
            else:
                operator = get_operator(mutation.operator_name)(**(mutation.operator_args or {}))
                mutated = mutate_code(source, operator, mutation.occurrence)
                try:
                    changed = mutated is not None and ast.dump(ast.parse(mutated)) != original
                except SyntaxError:
                    reason = "not valid Python"
                else:
                    if not changed:
                        reason = "no change to the code"
            if reason:
                reasons[reason] = reasons.get(reason, 0) + 1
                db.set_result(
                    item.job_id,
                    WorkResult(output=f"left out: {reason}", worker_outcome=WorkerOutcome.SKIPPED),
                )
    return reasons


def pending_count(module: Module) -> int:
    with use_db(str(session_path(module)), WorkDB.Mode.open) as db:
        return sum(1 for _ in db.pending_work_items)


def source_digest(module: Module) -> str:
    """The digest of the module as copied for this run (what its mutants are made from)."""
    return hashlib.sha256((TREE / module.path).read_bytes()).hexdigest()


def session_init(module: Module, config: Path) -> None:
    session = session_path(module)
    session.unlink(missing_ok=True)
    subprocess.run([BIN / "cosmic-ray", "init", config, session], cwd=TREE, check=True)
    (WORK / module.name / "source.sha256").write_text(source_digest(module))


def kills_carry_over(module: Module, previous: Path) -> int:
    """Give the new session's mutants that the previous session (of the same source) killed
    or timed out their result, so that only survivors and new mutants run again."""
    with use_db(str(previous), WorkDB.Mode.open) as db:
        kills = {
            (item.mutations[0].operator_name, item.mutations[0].occurrence): result
            for item, result in db.completed_work_items
            if result.worker_outcome == WorkerOutcome.NORMAL
            and result.test_outcome == TestOutcome.KILLED
        }
    kept = 0
    with use_db(str(session_path(module)), WorkDB.Mode.open) as db:
        for item in db.pending_work_items:
            key = (item.mutations[0].operator_name, item.mutations[0].occurrence)
            if key in kills:
                db.set_result(item.job_id, kills[key])
                kept += 1
    return kept


def session_exec(module: Module, config: Path, env: dict[str, str]) -> None:
    total = pending_count(module)
    say(f"{module.name}: {total} mutants to run")
    process = subprocess.Popen([BIN / "cosmic-ray", "exec", config, session_path(module)],
                               env=env, cwd=TREE)  # fmt: skip
    started = time.monotonic()
    while True:
        try:
            process.wait(timeout=60)
            break
        except subprocess.TimeoutExpired:
            done = total - pending_count(module)
            minutes = (time.monotonic() - started) / 60
            say(f"{module.name}: {done}/{total} done ({minutes:.0f} min)")
    if process.returncode != 0:
        sys.exit(f"[mutate] cosmic-ray exec failed for {module.name}")


# ---------------------------------------------------------------------------------------------
# The summary


@dataclass
class Summary:
    module: Module
    killed: int = 0
    timed_out: int = 0
    survived: int = 0
    errors: int = 0
    left_out: int = 0
    pending: int = 0
    survivors: list[tuple[int, str, str]] = field(default_factory=list)  # line, operator, diff

    @property
    def mutants(self) -> int:
        return self.killed + self.timed_out + self.survived + self.errors

    @property
    def rate(self) -> str:
        return f"{100 * self.survived / self.mutants:.1f}%" if self.mutants else "-"


def summarize(module: Module) -> Summary:
    summary = Summary(module)
    copied = str(TREE / module.path)
    with use_db(str(session_path(module)), WorkDB.Mode.open) as db:
        summary.pending = sum(1 for _ in db.pending_work_items)
        for item, result in db.completed_work_items:
            if result.worker_outcome in (WorkerOutcome.SKIPPED, WorkerOutcome.NO_TEST):
                summary.left_out += 1
            elif result.worker_outcome != WorkerOutcome.NORMAL:
                summary.errors += 1
            elif result.test_outcome == TestOutcome.SURVIVED:
                summary.survived += 1
                (mutation,) = item.mutations
                diff = (result.diff or "").replace(copied, module.path)
                diff = diff.removeprefix("--- mutation diff ---\n").rstrip("\n") + "\n"
                summary.survivors.append(
                    (mutation.start_pos[0], mutation.operator_name.removeprefix("core/"), diff)
                )
            elif result.test_outcome == TestOutcome.KILLED and result.output == "timeout":
                summary.timed_out += 1
            elif result.test_outcome == TestOutcome.KILLED:
                summary.killed += 1
            else:
                summary.errors += 1
    summary.survivors.sort()
    return summary


def report(summaries: list[Summary]) -> str:
    out = [
        "| module | file | mutants | killed | timed out | survived | errors | survival |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summaries:
        out.append(
            f"| {s.module.name} | {s.module.path} | {s.mutants} | {s.killed} | {s.timed_out} "
            f"| {s.survived} | {s.errors} | {s.rate} |"
        )
    total = Summary(Module("total", "", ()))
    for s in summaries:
        total.killed += s.killed
        total.timed_out += s.timed_out
        total.survived += s.survived
        total.errors += s.errors
    out.append(
        f"| **total** | | {total.mutants} | {total.killed} | {total.timed_out} "
        f"| {total.survived} | {total.errors} | {total.rate} |"
    )
    for s in summaries:
        if s.pending:
            out.append(f"\n{s.module.name}: {s.pending} mutants not run yet (interrupted?)")
        for line, operator, diff in s.survivors:
            out.append(f"\n### survivor {s.module.path}:{line} ({operator})\n\n```diff\n{diff}```")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    settings = settings_load()
    parser = argparse.ArgumentParser(prog="python3 dev.py mutate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("modules", nargs="*", metavar="MODULE",
                        help=f"default: all of {', '.join(settings.modules)}")  # fmt: skip
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--list", action="store_true", help="count the mutants, run nothing")
    group.add_argument("--survivors", action="store_true",
                       help="keep the last run's kills; run its survivors and new mutants")  # fmt: skip
    group.add_argument("--report", action="store_true", help="print the last results again")
    args = parser.parse_args(argv)
    unknown = [name for name in args.modules if name not in settings.modules]
    if unknown:
        parser.error(
            f"unknown module(s) {', '.join(unknown)}; known: {', '.join(settings.modules)}"
        )
    modules = [settings.modules[name] for name in args.modules or settings.modules]

    if args.report:
        missing = [m.name for m in modules if not session_path(m).exists()]
        if missing:
            sys.exit(f"[mutate] no results yet for {', '.join(missing)}")
        print(report([summarize(m) for m in modules]))
        return 0

    WORK.mkdir(exist_ok=True)
    (WORK / "db").mkdir(exist_ok=True)
    tree_copy()
    env = test_env()
    tree_check(env)
    if args.list:
        for module in modules:
            session_init(module, config_write(module, settings.timeout_min))
            reasons = mutants_filter(module, settings)
            say(f"{module.name} ({module.path}): {pending_count(module)} mutants "
                f"(left out: {reasons or 'none'}); tests: {' '.join(module.tests)}")  # fmt: skip
        return 0

    summaries, failed, create_db = [], [], True
    for module in modules:
        if create_db:  # the first run makes the test database that all the others reuse
            say("making the test database")
            baseline(module, env, create_db=True)
            create_db = False
        seconds = baseline(module, env)
        if seconds is None:
            failed.append(module.name)
            continue
        timeout = max(settings.timeout_min, settings.timeout_factor * seconds)
        config = config_write(module, timeout)
        digest_file = WORK / module.name / "source.sha256"
        previous = session_path(module).with_name("previous.sqlite")
        again = (
            args.survivors
            and session_path(module).exists()
            and digest_file.exists()
            and digest_file.read_text() == source_digest(module)
        )
        if again:
            session_path(module).replace(previous)
        elif args.survivors:
            say(f"{module.name}: no previous run of this source; running every mutant")
        session_init(module, config)
        reasons = mutants_filter(module, settings)
        say(f"{module.name}: left out {reasons or 'none'}")
        if again:
            say(f"{module.name}: kept {kills_carry_over(module, previous)} kills of the last run")
            previous.unlink()
        say(f"{module.name}: unmutated tests take {seconds:.1f} s; timeout {timeout:.0f} s")
        session_exec(module, config, env)
        summaries.append(summarize(module))
        print(report(summaries[-1:]), flush=True)
    text = report(summaries)
    if failed:
        text += f"\nNot run, their tests fail without any mutant: {', '.join(failed)}\n"
    (WORK / "report.md").write_text(text)
    print("\n" + text)
    say(f"written to {(WORK / 'report.md').relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
