"""`pingan allocate`: split each village's households among its cadres (分片包干)."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from pingan.campaigns.selectors import campaign_current
from pingan.campaigns.services.allocation import (
    AllocationError,
    AllocationResult,
    allocation_run,
    allocation_run_town,
)
from pingan.campaigns.services.seed import seed_read
from pingan.regions.models import Region


def _find(kind: str, value: str, *, parent: Region | None = None) -> Region:
    """The one region of `kind` whose name or code is `value` (within `parent`, if given)."""
    places = Region.objects.filter(Q(name=value) | Q(code=value), kind=kind)
    if parent is not None:
        places = places.filter(parent=parent)
    found = list(places.select_related("parent")[:2])
    label = Region.Kind(kind).label
    if not found:
        where = f"{parent.name}" if parent is not None else ""
        raise CommandError(f"找不到{where}{label}“{value}”。")
    if len(found) > 1:
        raise CommandError(f"有多个{label}叫“{value}”，请改用区划代码。")
    return found[0]


class Command(BaseCommand):
    help = (
        "分片包干：把每个村的在住户按走访干部人数平均分配（每人相差不超过 1 户），"
        "每人一片、相邻成片；手工锁定的分配保持不变；重新运行时尽量少调整。"
        "默认处理种子镇（汝集镇）的所有村。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--town", help="镇的名称或区划代码（默认：种子数据中的镇）")
        parser.add_argument("--village", help="只处理这个村（名称或区划代码）")
        parser.add_argument("--dry-run", action="store_true", help="只预览，不写入数据库")

    def handle(self, *args, **options) -> None:
        town: Region | None
        if options["town"]:
            town = _find(Region.Kind.TOWN, options["town"])
        else:
            code = seed_read().town.code
            town = Region.objects.filter(code=code, kind=Region.Kind.TOWN).first()
            if town is None:
                raise CommandError(
                    "库中还没有种子镇，请先运行 pingan load_seed，或用 --town 指定镇。"
                )
        campaign = campaign_current(town=town)
        if campaign is None:
            raise CommandError(f"{town.name}尚未设立走访活动，无法分配。")

        try:
            if options["village"]:
                village = _find(Region.Kind.VILLAGE, options["village"], parent=town)
                results = [
                    allocation_run(
                        campaign=campaign, village=village, actor=None, dry_run=options["dry_run"]
                    )
                ]
            else:
                results = allocation_run_town(
                    campaign=campaign, actor=None, dry_run=options["dry_run"]
                )
        except AllocationError as exc:
            raise CommandError(exc.message) from exc

        for result in results:
            self._report(result, verbosity=options["verbosity"])
        self._total(results, dry_run=options["dry_run"])

    def _report(self, result: AllocationResult, *, verbosity: int) -> None:
        style = self.style.SUCCESS if result.changed else self.style.HTTP_INFO
        self.stdout.write(style(result.summary()))
        for warning in result.warnings():
            self.stdout.write(self.style.WARNING(f"  注意：{warning}"))
        if verbosity >= 2:
            for share in result.cadres:
                left = "" if share.active else "（已离岗或不在本村）"
                locked = f"，锁定 {share.locked} 户" if share.locked else ""
                self.stdout.write(
                    f"  {share.name}{left}：{share.before} → {share.after} 户{locked}"
                )

    def _total(self, results: list[AllocationResult], *, dry_run: bool) -> None:
        if len(results) < 2:
            return
        households = sum(r.households for r in results)
        unassigned = sum(r.unassigned_after for r in results)
        moved = sum(r.moved for r in results)
        new = sum(r.newly_assigned for r in results)
        line = (
            f"合计 {len(results)} 个村：在住 {households} 户，调整 {moved} 户，"
            f"新分配 {new} 户，仍未分配 {unassigned} 户。"
        )
        if dry_run:
            line += "（预览，未保存）"
        style = self.style.WARNING if unassigned else self.style.SUCCESS
        self.stdout.write(style(line))
