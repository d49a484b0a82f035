"""Benchmark: import a generated 100,000-row household roster (.xlsx) into a fresh database.

    .venv/bin/python bench/import_households.py [--rows 100000] [--keep DIR] [--postgres URL]

Steps: (1) write the roster with openpyxl's write-only mode (a title row, then 村, 组, 户主姓名,
身份证号码, 联系电话, 家庭住址, 人口, 标签; the ID column formatted as text; valid synthetic phones
and ID numbers spread over the seed town's 16 villages); (2) set up a fresh database in a
temporary PINGAN_HOME (`migrate`, `load_seed`); (3) run `pingan import_households FILE` as
a child process, timing it and reading the child's peak RSS from `os.wait4`; (4) import the
same file again (everything unchanged: the re-import path). Prints rows/s, wall time, peak RSS.

With `--postgres postgresql://USER:PASS@HOST/pingan_bench` the database is PostgreSQL: the
named database is dropped and created by this script, so never point it at a database you use
(not `postgres`, not `test_postgres`).
"""

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from benchkit import database_of, describe, recreate_postgres, run_child
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from stdnum.cn import ric

ROOT = Path(__file__).resolve().parent.parent
PINGAN = str(Path(sys.executable).parent / "pingan")
VILLAGES = ["秦四庙村", "七营村", "新桥村", "汝集一村", "汝园村", "后路村", "庄营村", "袁堂村",
            "刘店村", "胜利村", "李营村", "朱集村", "夏寨村", "中华村", "汝集二村", "街南村"]  # fmt: skip
SURNAMES = "王李张刘陈杨赵孙徐周吴黄朱胡高马郭夏汝何宋郑韩丁秦袁"
GIVEN = "建国志永德传玉长金文学保卫红新振春海立宏家俊广守云东晓明庆兴世继光秀桂淑凤兰英"
PHONE_PREFIXES = ["130", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
                  "158", "159", "180", "181", "182", "186", "187", "188", "189"]  # fmt: skip
TAGS = ["", "", "", "", "", "留守老人", "低保户", "困难户", "独居老人、五保户"]


def generate(path: Path, rows: int, seed: int = 2021) -> None:
    rng = random.Random(seed)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("花名册")
    sheet.append(["汝集镇户籍人口花名册（基准测试，合成数据）"])
    sheet.append(["村", "组", "户主姓名", "身份证号码", "联系电话", "家庭住址", "人口", "标签"])
    ids: set[str] = set()
    phones: set[str] = set()
    per_village = -(-rows // len(VILLAGES))
    for n in range(rows):
        village = VILLAGES[n // per_village]
        group = 1 + (n % per_village) * 15 // per_village
        while True:
            birth = dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(65 * 365))
            body = f"341623{birth:%Y%m%d}{rng.randrange(1000):03d}"
            id_number = body + ric.calc_check_digit(body + "0")
            if id_number not in ids:
                ids.add(id_number)
                break
        while True:
            phone = f"{rng.choice(PHONE_PREFIXES)}{rng.randrange(10**8):08d}"
            if phone not in phones:
                phones.add(phone)
                break
        id_cell = WriteOnlyCell(sheet, value=id_number)
        id_cell.number_format = "@"
        sheet.append(
            [
                village,
                f"{group}组",
                rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                id_cell,
                phone if rng.random() < 0.95 else None,
                f"{village}{group}组{n % per_village + 1}号",
                rng.randint(1, 7),
                rng.choice(TAGS),
            ]
        )
    workbook.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--postgres", help="postgresql://…/pingan_bench (dropped and recreated)")
    options = parser.parse_args()

    work = options.keep or Path(tempfile.mkdtemp(prefix="pingan-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    roster = work / f"roster-{options.rows}.xlsx"
    env = {**os.environ, "PINGAN_HOME": str(work / "home")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["DJANGO_SETTINGS_MODULE"] = "pingan.config.settings.dev"
    env["PINGAN_DEBUG"] = "0"
    env["DJANGO_SECRET_KEY"] = "bench-only"  # noqa: S105 - a throwaway bench database
    if options.postgres:
        recreate_postgres(options.postgres)
        env["DATABASE_URL"] = options.postgres
    else:
        env.pop("DATABASE_URL", None)
        for leftover in (work / "home").glob("pingan.sqlite3*"):
            leftover.unlink()

    if not roster.exists():
        started = time.perf_counter()
        generate(roster, options.rows)
        print(
            f"generated {roster.name}: {options.rows} rows, "
            f"{roster.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s"
        )

    run_child([PINGAN, "migrate", "-v0"], env)
    run_child([PINGAN, "load_seed", "-v0"], env)
    describe(
        database=database_of(options.postgres, work / "home" / "pingan.sqlite3")
        + " (fresh: migrate, load_seed)",
        mode="child process: `pingan import_households FILE -v2`, a new process per import",
        cache="cold process each time; the database freshly made (in the OS page cache)",
        shape={
            "roster rows": options.rows,
            "villages": len(VILLAGES),
            "file MB": f"{roster.stat().st_size / 1e6:.1f}",
            "imports": "first (every row created), then the same file again (all unchanged)",
        },
        target="under 60 s and under 500 MB peak RSS (issue 3)",
    )
    for label in ("first import", "re-import"):
        wall, rss, output = run_child(
            [
                PINGAN,
                "import_households",
                str(roster),
                "--errors",
                str(work / "errors.xlsx"),
                "-v2",
            ],
            env,
        )
        summary = [line for line in output.splitlines() if "导入完成" in line]
        timings = [line for line in output.splitlines() if line.startswith("用时")]
        verdict = "target met" if wall < 60 and rss < 500 else "OVER TARGET"
        print(
            f"{label}: {wall:.1f} s wall, {options.rows / wall:,.0f} rows/s, "
            f"peak RSS {rss} MB ({verdict})  | {summary[-1] if summary else output[-500:]}"
            + (f"\n    {timings[-1]}" if timings else "")
        )
    if not options.keep:
        print(f"(work folder {work} left for inspection; delete it when done)")


if __name__ == "__main__":
    main()
