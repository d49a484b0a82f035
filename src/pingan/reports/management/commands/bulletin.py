"""`pingan bulletin [--date D] [--town CODE] [--format json|html|xlsx|docx] [--output F]
[--publish]`: one town's daily bulletin (每日通报) as a document.

Without `--publish` it renders the latest published version of that date, or the live
figures while the date has none (stderr says which). With `--publish` it publishes first
(a new version, as the scheduled job does) and renders the frozen figures. JSON and HTML may
go to stdout; Excel and Word need `--output`.
"""

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingan.campaigns.models import Campaign
from pingan.core import clock
from pingan.regions.models import Region
from pingan.reports.render import RENDERERS
from pingan.reports.selectors import BulletinView, bulletin_current
from pingan.reports.services import BulletinRefused, bulletin_publish

FORMATS = tuple(RENDERERS)


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--date 格式不对：{value}（示例 2021-10-22）") from exc


def town_for(code: str) -> Region:
    """The town of `code`, or the only town with a campaign when no code is given."""
    if code:
        town = Region.objects.filter(kind=Region.Kind.TOWN, code=code).first()
        if town is None:
            raise CommandError(f"没有区划代码为 {code} 的镇")
        return town
    towns = list(
        Region.objects.filter(kind=Region.Kind.TOWN, pk__in=Campaign.objects.values("town"))
        .order_by("path")
    )  # fmt: skip
    if not towns:
        raise CommandError("还没有任何镇建立走访活动，没有通报可出")
    if len(towns) > 1:
        choices = "、".join(f"{town.code}（{town.name}）" for town in towns)
        raise CommandError(f"有 {len(towns)} 个镇建立了走访活动，请用 --town 指定其一：{choices}")
    return towns[0]


class Command(BaseCommand):
    help = "每日通报：输出一个镇某一天各村走访进度的通报（JSON、网页、Excel 或 Word），可同时发布。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", default="", help="通报日期 YYYY-MM-DD（默认今天）")
        parser.add_argument(
            "--town", default="", help="镇的区划代码（默认：唯一建立了走访活动的镇）"
        )
        parser.add_argument(
            "--format", default="json", help=f"输出格式：{' / '.join(FORMATS)}（默认 json）"
        )
        parser.add_argument(
            "--output", default="", help="输出文件（json、html 默认输出到屏幕；xlsx、docx 必填）"
        )
        parser.add_argument(
            "--publish", action="store_true", help="先发布（生成新版本并冻结数据），再输出"
        )

    def handle(self, *args, **options) -> None:
        fmt = options["format"].lower()
        if fmt not in RENDERERS:
            raise CommandError(f"不支持的格式：{options['format']}（可选 {'、'.join(FORMATS)}）")
        render, binary = RENDERERS[fmt]
        output = Path(options["output"]) if options["output"] else None
        if binary and output is None:
            raise CommandError(f"{fmt} 格式需要用 --output 指定输出文件")
        if output is not None and not output.parent.is_dir():
            raise CommandError(f"输出文件夹不存在：{output.parent}")
        today = clock.today()
        day = parse_date(options["date"]) if options["date"] else today
        if day > today:
            raise CommandError(f"--date {day:%Y-%m-%d} 晚于今天（{today:%Y-%m-%d}），还没有通报")
        town = town_for(options["town"])

        if options["publish"]:
            try:
                bulletin = bulletin_publish(town=town, day=day)
            except BulletinRefused as exc:
                raise CommandError(str(exc)) from exc
            view = BulletinView(figures=bulletin.figures, number=bulletin.number, bulletin=bulletin)
            self.stderr.write(
                f"已发布：{bulletin.number}（{day:%Y-%m-%d}，第{bulletin.version}版）"
            )
        else:
            view = bulletin_current(town=town, day=day)
            self.stderr.write(self._which(view, day))

        document = render(
            view.figures, number=view.number, version=view.version, published=view.published
        )
        if output is None:
            assert isinstance(document, str)  # noqa: S101 - binary formats need --output
            self.stdout.write(document, ending="")
            return
        if isinstance(document, bytes):
            output.write_bytes(document)
        else:
            output.write_text(document, encoding="utf-8")
        self.stderr.write(f"已写出：{output}")

    @staticmethod
    def _which(view: BulletinView, day: dt.date) -> str:
        if view.bulletin is not None:
            published_at = clock.local(view.bulletin.published_at)
            return (
                f"输出已发布的通报：{view.number}（{day:%Y-%m-%d}，第{view.version}版，"
                f"发布于 {published_at:%Y-%m-%d %H:%M}）"
            )
        return f"{day:%Y-%m-%d} 的通报尚未发布，输出实时数据（{view.number} 为预计文号）"
