"""`pingan demo`: migrate, load the seed town, fill it with synthetic data, print logins, serve."""

import time
import unicodedata

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingan.campaigns.services import seed_read
from pingan.regions.models import Region
from pingan.regions.synthetic import (
    DEFAULT_SEED,
    DemoLogin,
    demo_logins_ensure,
    synthetic_town_generate,
)


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
        "创建每个角色的演示账号，然后启动网站。可重复运行。"
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

    def handle(self, *args, **options) -> None:
        out = self.stdout
        started = time.monotonic()

        out.write(self.style.MIGRATE_HEADING("[1/4] 数据库迁移"))
        call_command("migrate", interactive=False, verbosity=0, stdout=out, stderr=self.stderr)
        out.write("数据库结构已就绪。")

        out.write(self.style.MIGRATE_HEADING("[2/4] 载入种子数据"))
        call_command("load_seed", stdout=out, stderr=self.stderr)
        town = Region.objects.get(code=seed_read().town.code)

        out.write(self.style.MIGRATE_HEADING("[3/4] 合成演示数据"))
        step = time.monotonic()
        result = synthetic_town_generate(town=town, seed=options["seed"])
        elapsed = f"（用时 {time.monotonic() - step:.1f} 秒）" if result.created else ""
        out.write(
            (self.style.SUCCESS if result.created else self.style.HTTP_INFO)(
                result.message + elapsed
            )
        )

        out.write(self.style.MIGRATE_HEADING("[4/4] 演示账号"))
        try:
            logins = demo_logins_ensure(town=town)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for line in login_table(logins):
            out.write("  " + line)

        out.write("")
        out.write(
            self.style.WARNING(
                "注意：本库中的住户和走访干部均为合成演示数据（虚构），不是真实群众信息；"
                "演示账号的密码是公开的，切勿用于真实数据。"
            )
        )
        out.write(f"准备完成，用时 {time.monotonic() - started:.1f} 秒。")

        if not options["no_serve"]:
            call_command(
                "serve", host=options["host"], port=options["port"], stdout=out, stderr=self.stderr
            )
