"""Which villages an actor may import into, and village names as rosters write them.

A town_admin imports into any village of their town, a village_admin into their own village
only; the command line (no actor) may import anywhere. Names are matched within that scope:
the full name (七营村), with its town (汝集镇七营村), the region code, or a unique short form
(七营). A name that belongs to a village of the same town outside the scope is reported as
such (村“新桥村”不在您的管辖范围内), any other as unknown.
"""

from dataclasses import dataclass, field

from pingan.accounts.models import Role, User
from pingan.accounts.selectors import user_scope_path
from pingan.regions.importing.cells import clean
from pingan.regions.importing.results import ImportDenied
from pingan.regions.models import Region

IMPORT_ROLES = (Role.TOWN_ADMIN, Role.VILLAGE_ADMIN)
_SUFFIXES = ("村民委员会", "村委会", "社区居委会", "居委会", "社区", "村")


def user_can_import(user: User) -> bool:
    """Roster importers: the town center and village admins (and superusers)."""
    return bool(user.is_superuser or user.role in IMPORT_ROLES)


def _forms(name: str, town: str) -> set[str]:
    forms = {name, town + name}
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            short = name[: -len(suffix)]
            forms |= {short, town + short}
            break
    return {f for f in forms if f}


@dataclass
class VillageResolver:
    """Village names to villages, within an actor's import scope."""

    actor: User | None
    scope_path: str
    villages: dict[int, Region] = field(default_factory=dict)
    _index: dict[str, set[int]] = field(default_factory=dict)
    _outside: dict[str, str] = field(default_factory=dict)  # form -> name, same town(s)
    _cache: dict[str, tuple[Region | None, str]] = field(default_factory=dict)

    def load(self) -> "VillageResolver":
        scoped = Region.objects.filter(
            kind=Region.Kind.VILLAGE, path__startswith=self.scope_path
        ).select_related("parent")
        towns: set[int] = set()
        for village in scoped:
            self.villages[village.pk] = village
            town = village.parent.name if village.parent else ""
            towns.add(village.parent_id or 0)
            for form in (*_forms(village.name, town), village.code):
                self._index.setdefault(form, set()).add(village.pk)
        neighbours = (
            Region.objects.filter(kind=Region.Kind.VILLAGE, parent__in=towns)
            .exclude(pk__in=self.villages)
            .select_related("parent")
        )
        for village in neighbours:
            town = village.parent.name if village.parent else ""
            for form in (*_forms(village.name, town), village.code):
                self._outside.setdefault(form, village.name)
        return self

    def contains(self, village: Region) -> bool:
        return village.pk in self.villages

    def resolve(self, value: object) -> tuple[Region | None, str]:
        """(village, "") or (None, reason). A blank value gives (None, "")."""
        name = clean(value)
        if not name:
            return None, ""
        if name not in self._cache:
            self._cache[name] = self._resolve(name)
        return self._cache[name]

    def _resolve(self, name: str) -> tuple[Region | None, str]:
        found = self._index.get(name, set())
        if len(found) == 1:
            return self.villages[next(iter(found))], ""
        if len(found) > 1:
            return None, f"村名“{name}”对应多个村，请写全称或区划代码"
        if name in self._outside:
            return None, f"村“{self._outside[name]}”不在您的管辖范围内"
        return None, f"找不到村“{name}”（请核对村名，须为本镇的村）"

    def in_title(self, title: str) -> tuple[Region | None, str]:
        """The one village a title row names ("汝集镇七营村户籍人口花名册"), if any."""
        if not title:
            return None, ""
        full = {v.name: pk for pk, v in self.villages.items()}
        hits = {pk for name, pk in full.items() if name in title}
        # 汝集一村 also contains 一村: keep only the longest names found.
        if len(hits) > 1:
            longest = max(len(self.villages[pk].name) for pk in hits)
            hits = {pk for pk in hits if len(self.villages[pk].name) == longest}
        if len(hits) == 1:
            return self.villages[hits.pop()], ""
        if not hits:
            outside = sorted({n for f, n in self._outside.items() if f == n and n in title})
            if outside:
                return None, f"标题中的村“{outside[0]}”不在您的管辖范围内"
        return None, ""


def village_resolver(*, actor: User | None) -> VillageResolver:
    """The villages `actor` may import into; ImportDenied for roles that may not import."""
    if actor is None:
        return VillageResolver(actor=None, scope_path="/").load()
    if not user_can_import(actor):
        raise ImportDenied("您的角色不能导入名册")
    path = user_scope_path(actor)
    if path is None:
        raise ImportDenied("您的账号没有管辖范围，不能导入名册")
    return VillageResolver(actor=actor, scope_path=path).load()
