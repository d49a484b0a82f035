"""`pingan load_seed`: load the notice's town, villages, quotas, campaign, phases and units."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingan.campaigns.services.seed import SEED_FILE, SeedError, seed_load


class Command(BaseCommand):
    help = (
        "载入种子数据：汝集镇及其 16 个村（含走访任务数）、活动及三个阶段、办理时限、责任单位。"
        "可重复运行；已在库的数据不变。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--update",
            action="store_true",
            help="库中数据（如任务数、阶段日期）与种子不一致时，以种子数据为准覆盖。",
        )
        parser.add_argument(
            "--file",
            type=Path,
            default=SEED_FILE,
            help=f"种子文件（TOML），默认 {SEED_FILE.name}",
        )

    def handle(self, *args, **options) -> None:
        try:
            result = seed_load(update=options["update"], path=options["file"])
        except SeedError as exc:
            raise CommandError(exc.message) from exc
        style = self.style.SUCCESS if result.changed else self.style.HTTP_INFO
        for line in result.summary():
            self.stdout.write(style(line))
