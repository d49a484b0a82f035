"""`pingan import_households FILE [--village V] [--dry-run] [--errors F] [--user U]`."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingan.accounts.models import User
from pingan.regions.importing import ImportDenied, ImportFileError, household_import
from pingan.regions.importing.results import ImportResult
from pingan.regions.models import Region

# How many rejected rows and changes the command prints before pointing to the workbook.
SHOW_MAX = 30


def find_village(value: str) -> Region:
    """A village by region code or by name (which must then be unique)."""
    villages = Region.objects.filter(kind=Region.Kind.VILLAGE)
    found = list(villages.filter(code=value)) or list(villages.filter(name=value))
    if not found:
        found = list(villages.filter(name__in=[value + "村", value + "社区"]))
    if not found:
        raise CommandError(f"找不到村“{value}”（可写村名或 12 位区划代码）")
    if len(found) > 1:
        raise CommandError(f"有 {len(found)} 个村叫“{value}”，请改用区划代码")
    return found[0]


def find_user(username: str | None) -> User | None:
    if not username:
        return None
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"找不到在用的账号“{username}”")
    return user


def run_import(command: BaseCommand, importer: Callable[..., Any], options: dict) -> Any:
    """The shared part of the import commands: the file, `--village`, `--user`, `--dry-run`
    given to `importer` (household_import, cadre_import), its result printed with the error
    rows written beside the file (or to `--errors`). Returns the importer's result."""
    path: Path = options["file"]
    if not path.is_file():
        raise CommandError(f"找不到文件 {path}")
    village = find_village(options["village"]) if options["village"] else None
    try:
        result = importer(
            actor=find_user(options["user"]),
            source=path,
            filename=path.name,
            village=village,
            dry_run=options["dry_run"],
        )
    except (ImportFileError, ImportDenied) as exc:
        raise CommandError(exc.message) from exc
    command.verbosity = options["verbosity"]  # type: ignore[attr-defined]
    print_result(command, result, options["errors"] or path.with_name(f"{path.stem}-错误行.xlsx"))
    return result


def print_result(command: BaseCommand, result: ImportResult, errors: Path) -> None:
    """The Chinese summary, some changes and rejections, and where the error rows went."""
    out, style = command.stdout, command.style
    out.write(f"表头在第 {result.header_row} 行：" + "、".join(result.columns.values()))
    if result.title_village:
        out.write(f"标题中的村：{result.title_village}")
    for outcome in result.changed()[:SHOW_MAX]:
        changes = "；".join(c.as_text() for c in outcome.changes)
        out.write(f"  第 {outcome.row} 行 更新 {outcome.subject}：{changes}")
    rejections = result.rejections()
    for outcome in rejections[:SHOW_MAX]:
        out.write(style.WARNING(f"  第 {outcome.row} 行 拒绝：{outcome.reason}"))
    if len(rejections) > SHOW_MAX:
        out.write(f"  ……另有 {len(rejections) - SHOW_MAX} 行被拒绝，见错误行工作簿")
    workbook = result.errors_workbook()
    if workbook is not None:
        errors.write_bytes(workbook)
        out.write(f"错误行已写入 {errors}（原行内容 + 错误原因，含个人信息，请妥善保管）")
    line = result.summary_lines()[0]
    out.write((style.WARNING if result.rejected else style.SUCCESS)(line))
    if result.batch_id:
        out.write(f"导入记录编号 {result.batch_id}")
    if command.verbosity >= 2 and result.timings:  # type: ignore[attr-defined]
        out.write("用时：" + "，".join(f"{k} {v:.1f} 秒" for k, v in result.timings.items()))


class Command(BaseCommand):
    help = "导入住户花名册（.xlsx、.xls 或 .csv）。每一行要么导入，要么拒绝并说明原因。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="花名册文件")
        parser.add_argument("--village", help="所属村（村名或区划代码）；表中有“村”列时以表为准")
        parser.add_argument("--dry-run", action="store_true", help="预检：只检查并报告，不写入")
        parser.add_argument(
            "--errors",
            type=Path,
            help="错误行工作簿的路径（默认：与文件同目录，名为 *-错误行.xlsx）",
        )
        parser.add_argument("--user", help="以该账号的身份和管辖范围导入（默认：不限范围）")

    def handle(self, *args, **options) -> None:
        run_import(self, household_import, options)
