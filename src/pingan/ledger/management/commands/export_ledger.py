"""`pingan export_ledger [--date D] [--town CODE] [--output DIR]`: the daily ledger report to
the county (台账日报): each town's problems new or changed since its previous report, up to
the end of day D, as `台账日报-<镇名>-YYYYMMDD.xlsx`.

Without `--town`, one report per town that has a campaign. Running it again for the same
date rewrites that report; a date before a town's last report is refused.
"""

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingan.campaigns.models import Campaign
from pingan.core import clock
from pingan.ledger.exports import ReportRefused, ledger_report_default_dir, ledger_report_write
from pingan.ledger.models import LedgerReport
from pingan.regions.models import Region


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--date 格式不对：{value}（示例 2021-10-25）") from exc


def _window(report: LedgerReport) -> str:
    start = f"{clock.local(report.since):%Y-%m-%d %H:%M} 之后" if report.since else "活动开始"
    return f"{start} 至 {clock.local(report.until):%Y-%m-%d %H:%M}"


class Command(BaseCommand):
    help = "台账日报：把各镇自上次报送以来新增和变化的问题导出为 Excel，报县综治中心。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", default="", help="报送日期 YYYY-MM-DD（默认今天）")
        parser.add_argument("--town", default="", help="镇的区划代码（默认：每个有走访活动的镇）")
        parser.add_argument("--output", default="", help="输出文件夹（默认 PINGAN_HOME/reports）")

    def handle(self, *args, **options) -> None:
        date = parse_date(options["date"]) if options["date"] else clock.today()
        out_dir = Path(options["output"]) if options["output"] else ledger_report_default_dir()
        if options["town"]:
            town = Region.objects.filter(kind=Region.Kind.TOWN, code=options["town"]).first()
            if town is None:
                raise CommandError(f"没有区划代码为 {options['town']} 的镇")
            towns = [town]
        else:
            towns = list(
                Region.objects.filter(
                    kind=Region.Kind.TOWN, pk__in=Campaign.objects.values("town")
                ).order_by("path")
            )
            if not towns:
                raise CommandError("还没有任何镇建立走访活动，没有台账可报送")
        refused: list[str] = []
        for town in towns:
            try:
                report = ledger_report_write(town=town, date=date, out_dir=out_dir)
            except ReportRefused as exc:
                refused.append(exc.message)
                self.stderr.write(exc.message)
                continue
            self.stdout.write(
                f"{town.name} {date:%Y-%m-%d} 台账日报：{report.path}\n"
                f"  新增及变化问题 {report.row_count} 件（{_window(report)}）"
            )
        if refused:
            raise CommandError(f"{len(refused)} 个镇的台账日报未生成：" + "；".join(refused))
