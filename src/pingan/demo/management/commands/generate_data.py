"""`pingan generate_data`: realistic synthetic data at town, county or city scale (bulk)."""

import argparse
import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingan.campaigns.services.seed import SeedError
from pingan.demo.generate import (
    DEFAULT_DAY,
    SCALES,
    GenerateOptions,
    GenerateRefused,
    generate_data,
)
from pingan.regions.services import RegionError


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD：{value}") from exc


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError("应为正整数")
    return n


class Command(BaseCommand):
    help = (
        "生成逼真的合成数据（压力测试与演示用）：区划、住户（手机号、身份证号有效并加密）、"
        "走访干部与分片包干、活动与任务数、走访与问卷答案、问题台账（各种状态及流转记录）、"
        "宣传资料发放。规模：town＝汝集镇（约 1.1 万户），county＝利辛县（约 40 万户），"
        "city＝亳州市（约 200 万户、150 万条走访、15 万件问题，需 PostgreSQL）。"
        "目标范围已有数据时不生成，除非加 --replace。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=SCALES, default="town", help="规模，默认 town")
        parser.add_argument("--seed", type=int, default=2021, help="随机种子，默认 2021")
        parser.add_argument(
            "--visits-ratio", type=float, default=0.75, help="走访条数与住户数之比，默认 0.75"
        )
        parser.add_argument(
            "--problems-ratio", type=float, default=0.1, help="问题件数与走访条数之比，默认 0.1"
        )
        parser.add_argument(
            "--day", type=_day, default=DEFAULT_DAY,
            help=f"数据截至哪一天（走访、问题办理都到这天为止），默认 {DEFAULT_DAY}",
        )  # fmt: skip
        parser.add_argument(
            "--answers", choices=("rates", "all"), default="rates",
            help="问卷答案：rates＝计算各项率的 10 道题（默认），all＝整份问卷",
        )  # fmt: skip
        parser.add_argument(
            "--replace", action="store_true", help="删除目标范围内已有的合成数据后重新生成"
        )
        parser.add_argument(
            "--workers", type=int, default=None,
            help="加密住户信息的进程数（默认：大规模时 2，小规模时不另开进程）",
        )  # fmt: skip
        # For tests and quick trials: scale every roster to about N households in all.
        parser.add_argument("--households", type=_positive, default=None, help=argparse.SUPPRESS)

    def handle(self, *args, **options) -> None:
        generate_options = GenerateOptions(
            scale=options["scale"],
            seed=options["seed"],
            visits_ratio=options["visits_ratio"],
            problems_ratio=options["problems_ratio"],
            day=options["day"],
            answers=options["answers"],
            replace=options["replace"],
            households=options["households"],
            workers=options["workers"],
        )
        try:
            report = generate_data(generate_options, echo=self.stdout.write)
        except (GenerateRefused, SeedError, RegionError) as exc:
            raise CommandError(getattr(exc, "message", str(exc))) from exc
        counts = report.counts
        self.stdout.write(
            self.style.SUCCESS(
                f"完成：{report.towns} 个乡镇（街道）、{report.villages:,} 个村（社区），"
                f"住户 {counts['住户']:,}，走访干部 {counts['党员干部']:,}，"
                f"走访 {counts['走访']:,}（问卷 {counts['问卷']:,} 份，答案 {counts['答案']:,} 条），"
                f"问题 {counts['问题']:,}（流转记录 {counts['问题流转记录']:,} 条），"
                f"宣传资料发放 {counts['宣传资料发放']:,} 次。"
            )
        )
        phases = "；".join(f"{name} {seconds:.1f} 秒" for name, seconds in report.seconds.items())
        minutes, seconds = divmod(report.total_seconds, 60)
        self.stdout.write(f"用时合计 {int(minutes)} 分 {seconds:.1f} 秒（{phases}）。")
        if report.database_size:
            self.stdout.write(f"数据库大小：{report.database_size}。")
