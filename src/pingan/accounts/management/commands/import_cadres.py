"""`pingan import_cadres FILE [--village V] [--dry-run] [--errors F] [--passwords F] [--user U]`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from pingan.accounts.importing import cadre_import, password_sheet_workbook
from pingan.regions.management.commands.import_households import run_import
from pingan.regions.models import Region


class Command(BaseCommand):
    help = (
        "导入党员干部名单（姓名、手机号、村、是否党员、角色、单位），为新干部创建账号和"
        "一次性初始密码（首次登录须修改）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="干部名单文件（.xlsx、.xls 或 .csv）")
        parser.add_argument("--village", help="走访村（村名或区划代码）；表中有“村”列时以表为准")
        parser.add_argument("--dry-run", action="store_true", help="预检：只检查并报告，不写入")
        parser.add_argument("--errors", type=Path, help="错误行工作簿的路径")
        parser.add_argument(
            "--passwords",
            type=Path,
            help="把新账号的初始密码另存为此 .xlsx（明文！发放后请删除）；"
            "不写时只加密保存，由村管理员在网页下载",
        )
        parser.add_argument("--user", help="以该账号的身份和管辖范围导入（默认：不限范围）")

    def handle(self, *args, **options) -> None:
        result = run_import(self, cadre_import, options)
        accounts = sum(len(rows) for rows in result.credentials.values())
        if not accounts:
            return
        self.stdout.write(
            f"新建账号 {accounts} 个：初始密码已加密保存，各村村管理员可在网页“导入记录”中下载；"
            "首次登录须修改密码。"
        )
        if options["passwords"]:
            target: Path = options["passwords"]
            villages = Region.objects.in_bulk(list(result.credentials))
            for village_id, rows in result.credentials.items():
                name = villages[village_id].name
                out = (
                    target
                    if len(result.credentials) == 1
                    else target.with_name(f"{target.stem}-{name}{target.suffix or '.xlsx'}")
                )
                out.write_bytes(password_sheet_workbook(rows, villages[village_id]))
                self.stdout.write(
                    self.style.WARNING(f"初始密码（明文）已写入 {out}，发放后请删除。")
                )
