"""`pingan demo`: migrate, load the seed town, fill it with synthetic data, print logins, serve."""

import datetime as dt
import time
import unicodedata
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingan.accounts.models import Person, Role, User
from pingan.campaigns.selectors import campaign_current
from pingan.campaigns.services.seed import seed_read
from pingan.core import clock
from pingan.core.clock import SHANGHAI
from pingan.demo.ledger import demo_ledger_progress, demo_ledger_summary
from pingan.demo.town import (
    DEFAULT_SEED,
    ROSTERS_IMPORTED,
    DemoLogin,
    demo_leaflets_issue,
    demo_logins_ensure,
    synthetic_town_generate,
)
from pingan.demo.visits import demo_visits_generate
from pingan.regions.models import Region

# The first day of the notice's visiting phase (走访整改阶段, 10-16 to 11-15).
VISITING_STARTS = dt.date(2021, 10, 16)


def _width(text: str) -> int:
    """Columns `text` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def login_table(logins: list[DemoLogin]) -> list[str]:
    """The demo logins as aligned lines: 用户名, 密码, 角色, 范围."""
    header = ("用户名", "密码", "角色", "范围")
    rows = [header, *((x.username, x.password, x.role_label, x.scope) for x in logins)]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += [f"注意：{x.username} {x.note}" for x in logins if x.note]
    return lines


class Command(BaseCommand):
    help = (
        "演示：迁移数据库、载入汝集镇种子数据、生成合成演示名册和走访干部、"
        "创建每个角色的演示账号、生成合成走访并推进问题台账，然后启动网站。可重复运行。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"合成名册的随机种子（默认 {DEFAULT_SEED}；只在首次生成时起作用）",
        )
        parser.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
        parser.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
        parser.add_argument("--no-serve", action="store_true", help="准备好数据后不启动网站")
        parser.add_argument(
            "--visit-days",
            type=int,
            default=7,
            help="生成走访整改阶段前几天的合成走访（默认 7，演示时钟停在最后一天晚上）",
        )

    @staticmethod
    def _featured(logins: list[DemoLogin]) -> tuple[User | None, Person | None]:
        """The demo's unit handler login and the cadre login's profile, when the demo owns
        them: the ledger step fills that inbox and that 反馈群众 list."""
        ours = {x.username for x in logins if not x.note}
        handler = User.objects.filter(username="unit_handler", role=Role.UNIT_HANDLER).first()
        cadre = Person.objects.filter(user__username="cadre", user__role=Role.CADRE).first()
        return (
            handler if "unit_handler" in ours else None,
            cadre if "cadre" in ours else None,
        )

    def handle(self, *args, **options) -> None:
        out = self.stdout
        started = time.monotonic()

        out.write(self.style.MIGRATE_HEADING("[1/6] 数据库迁移"))
        call_command("migrate", interactive=False, verbosity=0, stdout=out, stderr=self.stderr)
        out.write("数据库结构已就绪。")

        # The seed, the rosters, the allocation and the logins are written on the demo's
        # timeline (the mobilization phase), like the visits and the ledger after them.
        with clock.at(ROSTERS_IMPORTED):
            out.write(self.style.MIGRATE_HEADING("[2/6] 载入种子数据"))
            call_command("load_seed", stdout=out, stderr=self.stderr)
            town = Region.objects.get(code=seed_read().town.code)

            out.write(self.style.MIGRATE_HEADING("[3/6] 合成名册、干部与分片包干"))
            step = time.monotonic()
            result = synthetic_town_generate(town=town, seed=options["seed"])
            elapsed = f"（用时 {time.monotonic() - step:.1f} 秒）" if result.created else ""
            out.write(
                (self.style.SUCCESS if result.created else self.style.HTTP_INFO)(
                    result.message + elapsed
                )
            )

            out.write(self.style.MIGRATE_HEADING("[4/6] 演示账号"))
            try:
                logins = demo_logins_ensure(town=town)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            for line in login_table(logins):
                out.write("  " + line)

        out.write(self.style.MIGRATE_HEADING("[5/6] 合成走访记录"))
        step = time.monotonic()
        campaign = campaign_current(town=town)
        until = VISITING_STARTS + dt.timedelta(days=max(1, options["visit_days"]) - 1)
        if campaign is not None:
            issued = demo_leaflets_issue(campaign=campaign)
            if issued:
                out.write(f"已登记 {issued} 个村领取宣传资料（10月14日，动员部署阶段）。")
            visits = demo_visits_generate(campaign=campaign, until=until, seed=options["seed"])
            elapsed = f"（用时 {time.monotonic() - step:.1f} 秒）" if visits.created else ""
            out.write(visits.message + elapsed)
        # The demo runs as of that evening, so the 2021 campaign shows "in progress" (today's
        # visits, expected pace); real deployments never set this.
        demo_now = dt.datetime.combine(until, dt.time(19, 45), tzinfo=SHANGHAI)

        out.write(self.style.MIGRATE_HEADING("[6/6] 问题台账办理进展"))
        if campaign is not None:
            step = time.monotonic()
            handler, cadre = self._featured(logins)
            ledger = demo_ledger_progress(
                campaign=campaign,
                until=demo_now,
                seed=options["seed"],
                unit_handler=handler,
                cadre=cadre,
            )
            elapsed = f"（用时 {time.monotonic() - step:.1f} 秒）" if ledger.created else ""
            out.write(ledger.message + elapsed)
            out.write(demo_ledger_summary(campaign=campaign, now=demo_now))
        # One demo clock for every process (the site, its task worker, a shell): the demo
        # moment is pinned to the real moment the data was built, and a re-run on the same
        # data keeps the pin, so the clock never runs back behind what was written on it.
        clock_file = Path(settings.PINGAN_HOME) / "demo-clock"
        kept = clock_file.read_text().strip() if clock_file.exists() else ""
        fresh = result.created or (campaign is not None and visits.created)
        if fresh or "@" not in kept or clock.demo_clock_moment(kept) != demo_now:
            kept = clock.demo_clock_value(demo_now)
        clock_file.write_text(kept)
        settings.PINGAN_DEMO_NOW = kept
        out.write(
            f"演示时钟：从 {demo_now:%Y-%m-%d %H:%M}（北京时间）起照常流逝，"
            f"网站现在是 {clock.local():%Y-%m-%d %H:%M}；删除 var 文件夹可重新开始。"
        )

        out.write("")
        out.write(
            self.style.WARNING(
                "注意：本库中的住户、走访干部、走访记录和问题台账均为合成演示数据（虚构），"
                "不是真实群众信息；"
                "演示账号的密码是公开的，切勿用于真实数据。"
            )
        )
        out.write(f"准备完成，用时 {time.monotonic() - started:.1f} 秒。")

        if not options["no_serve"]:
            call_command(
                "serve", host=options["host"], port=options["port"], stdout=out, stderr=self.stderr
            )
