"""`pingan tick [--now ISO]`: reminders, supervision notices and criticism listings now due.

The task queue runs it every few minutes (`pingan serve` starts the worker); run it by hand
to catch up, or with `--now` to see what would be issued at another moment.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingan.core import clock
from pingan.ledger.selectors import problem_list_criticized
from pingan.ledger.supervision import problem_tick


def parse_moment(value: str) -> dt.datetime:
    """An ISO date or datetime; without a zone it is Asia/Shanghai time."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--now 格式不对：{value}（示例 2021-10-25T09:00）") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.SHANGHAI)
    return moment


class Command(BaseCommand):
    help = "催办、督办、通报批评：发出此刻到期的提醒（可重复运行，不会重复发送）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", default="", help="按此时刻运行（ISO，默认当前时间）")

    def handle(self, *args, **options) -> None:
        now = parse_moment(options["now"]) if options["now"] else clock.now()
        report = problem_tick(now=now)
        shown = clock.local(now).strftime("%Y-%m-%d %H:%M")
        self.stdout.write(
            f"{shown}：催办 {len(report.reminded)} 件，督办 {len(report.supervised)} 件，"
            f"新列入通报批评 {len(report.criticized)} 件。"
        )
        for label, codes in (("催办", report.reminded), ("督办", report.supervised)):
            if codes:
                self.stdout.write(f"{label}：{'、'.join(codes)}")
        listed = list(problem_list_criticized(now=now))
        if listed:
            self.stdout.write(f"通报批评名单（督办后仍超期，共 {len(listed)} 件）：")
            for problem in listed:
                deadline = clock.local(problem.deadline).strftime("%Y-%m-%d")
                unit = problem.unit.name if problem.unit else ""
                self.stdout.write(
                    f"  {problem.code}  {problem.village.name}  {unit}  时限 {deadline}"
                )
