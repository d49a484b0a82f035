"""Synthetic demo data (合成演示数据) for a seeded town: a roster, cadres, and demo logins.

Everything here is fiction for `pingan demo`. Names, addresses and household details are
invented from a fixed seed (`random.Random`), so the same seed always gives the same town.
Phones and ID numbers pass the same checks as real ones (phonenumbers, python-stdnum), which
means a generated mobile number may well belong to somebody: never call or text them. Every
row is marked `synthetic=True` and the pages say so.

The planning functions (`roster_plan`, `cadre_plan`) are pure: they only compute rows, so tests
can check reproducibility without a database. `synthetic_town_generate` writes them through
the ordinary services (`household_create_many`, `person_build`) in one transaction.
"""

import datetime as dt
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from stdnum.cn import ric

from pingan.accounts.importing import cadre_import
from pingan.accounts.models import Person, Role, Unit, User
from pingan.accounts.services import person_create, user_create
from pingan.campaigns.models import Campaign, LeafletIssue, VillageQuota
from pingan.campaigns.selectors import campaign_current
from pingan.campaigns.services.allocation import allocation_run_town
from pingan.campaigns.services.leaflets import leaflet_issue_record
from pingan.core import clock
from pingan.core.clock import SHANGHAI
from pingan.demo.rosters import cadre_list_xlsx, household_roster_xlsx
from pingan.regions.importing.households import household_import
from pingan.regions.models import Household, Region
from pingan.regions.services import HouseholdData

DEFAULT_SEED = 2021
# Ages and tags are computed as of the notice's year, not today, so the roster never drifts.
REFERENCE_YEAR = 2021
# A rough centre for the synthetic coordinates (north-west Anhui); not a surveyed point.
TOWN_CENTER = (33.05, 116.08)

# Surnames with rough weights for rural northern Anhui: the national top surnames, plus
# names common around 利辛/汝集 (汝、夏、秦、袁、丁、武…). A village named after a clan
# (李营村, 夏寨村, 汝集一村…) gets its namesake as a much larger share, as such villages do.
SURNAMES: dict[str, float] = {
    "王": 7.2, "李": 7.0, "张": 6.9, "刘": 5.6, "陈": 3.0, "杨": 3.0, "赵": 2.4, "孙": 1.9,
    "徐": 1.7, "周": 1.5, "吴": 1.4, "黄": 1.2, "朱": 1.4, "胡": 1.3, "高": 1.4, "马": 1.4,
    "郭": 1.3, "夏": 1.6, "汝": 1.3, "何": 1.0, "宋": 0.9, "郑": 0.9, "韩": 0.8, "丁": 0.9,
    "秦": 0.9, "袁": 0.8, "曹": 0.8, "许": 0.8, "魏": 0.7, "武": 0.7, "葛": 0.6, "任": 0.6,
    "卢": 0.6, "程": 0.6, "董": 0.6, "冯": 0.6, "于": 0.5, "吕": 0.5, "苏": 0.5, "蒋": 0.5,
    "贾": 0.5, "庄": 0.5, "杜": 0.5, "孟": 0.5, "彭": 0.4, "潘": 0.4, "姜": 0.4, "范": 0.4,
    "石": 0.4, "姚": 0.4, "常": 0.4, "牛": 0.4, "闫": 0.4, "侯": 0.3, "邵": 0.3, "崔": 0.3,
    "郝": 0.3, "孔": 0.3, "白": 0.3, "毛": 0.3, "段": 0.3, "耿": 0.3, "单": 0.3, "戴": 0.3,
    "薛": 0.3, "沈": 0.3, "方": 0.3, "谢": 0.3, "梁": 0.2, "罗": 0.2, "唐": 0.2, "邓": 0.2,
    "金": 0.2, "陆": 0.2, "钱": 0.2, "汤": 0.2, "尹": 0.2, "康": 0.2, "邱": 0.2, "雷": 0.2,
}  # fmt: skip

# Given-name characters: a generation character and a second character (3-character names),
# or one character alone (2-character names). Older-style rural names on purpose.
MALE_FIRST = "建国志永德传玉长金文学保卫红新振春海立宏家俊广守云东晓明庆兴世继光士全天"
MALE_SECOND = "国军华强民明林山生平安福胜才成荣富贵峰亮伟杰龙祥友全文武义忠良刚奎东中学春勇新彬松"
MALE_SINGLE = "军伟强磊勇杰涛明超刚平辉斌林华峰建亮东波鹏海龙雷鑫浩"
FEMALE_FIRST = "秀桂玉淑凤春丽美翠金素兰红小晓海雪彩爱月"
FEMALE_SECOND = "英兰珍梅芳华荣云霞琴莲花凤娥香平敏娟丽燕萍玲芝侠"
FEMALE_SINGLE = "英兰芳梅霞琴娟丽燕萍玲敏静红霞"

# Mobile prefixes that phonenumbers accepts as valid CN mobiles, weighted toward the big three.
PHONE_PREFIXES: dict[str, float] = {
    "138": 5, "139": 5, "137": 4, "136": 3, "135": 4, "134": 2, "150": 3, "151": 3,
    "152": 3, "157": 2, "158": 3, "159": 3, "182": 2, "183": 2, "187": 3, "188": 2,
    "198": 1, "130": 3, "131": 2, "132": 2, "155": 3, "156": 2, "185": 2, "186": 3,
    "166": 1, "176": 1, "133": 3, "153": 3, "180": 2, "181": 2, "189": 3, "177": 1,
    "199": 1,
}  # fmt: skip

# Household sizes 1..7 (a rural Anhui village: many older couples, many four- and five-person
# households), and a smaller distribution for heads aged 70 and over.
SIZE_WEIGHTS = (9, 23, 19, 22, 15, 8, 4)
OLD_SIZE_WEIGHTS = (30, 42, 10, 8, 6, 3, 1)

CN_DIGITS = "零一二三四五六七八九十"

# Village-level demo cadres: about one per HOUSEHOLDS_PER_CADRE households, at least MIN.
HOUSEHOLDS_PER_CADRE = 35
MIN_CADRES_PER_VILLAGE = 3
# Unit kinds whose staff are sent to villages as 包村干部.
CADRE_UNIT_KINDS = (Unit.Kind.GOVERNANCE, Unit.Kind.TOWN_OFFICE, Unit.Kind.JUSTICE)


def chinese_number(n: int) -> str:
    """1..99 in Chinese: 三, 十, 十二, 二十一."""
    if not 0 < n < 100:
        raise ValueError(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return CN_DIGITS[ones]
    prefix = "" if tens == 1 else CN_DIGITS[tens]
    return prefix + "十" + (CN_DIGITS[ones] if ones else "")


@dataclass(frozen=True)
class CadreData:
    """One synthetic cadre before sealing: where they live or work, and where they visit."""

    name: str
    phone: str
    visit_village: Region
    home_village: Region | None
    home_unit: Unit | None
    party_member: bool


class _People:
    """Names, phones and ID numbers from one random stream, never repeating a phone or ID."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.phones: set[str] = set()
        self.ids: set[str] = set()
        self._surnames = list(SURNAMES)
        self._surname_weights = list(SURNAMES.values())
        self._surname_total = sum(self._surname_weights)
        self._prefixes = list(PHONE_PREFIXES)
        self._prefix_weights = list(PHONE_PREFIXES.values())

    def surname(self, clan: str | None = None) -> str:
        # A clan village: about a third of the households carry the village's surname.
        if clan and self.rng.random() < 0.33:
            return clan
        return self.rng.choices(self._surnames, weights=self._surname_weights)[0]

    def given_name(self, *, male: bool) -> str:
        rng = self.rng
        if rng.random() < 0.15:
            return rng.choice(MALE_SINGLE if male else FEMALE_SINGLE)
        first, second = (MALE_FIRST, MALE_SECOND) if male else (FEMALE_FIRST, FEMALE_SECOND)
        a = rng.choice(first)
        b = rng.choice(second)
        while b == a:
            b = rng.choice(second)
        return a + b

    def full_name(self, *, male: bool, clan: str | None = None) -> str:
        return self.surname(clan) + self.given_name(male=male)

    def phone(self) -> str:
        while True:
            prefix = self.rng.choices(self._prefixes, weights=self._prefix_weights)[0]
            number = f"{prefix}{self.rng.randrange(100_000_000):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def birth_date(self, *, earliest: int, latest: int, mode: int) -> dt.date:
        year = round(self.rng.triangular(earliest, latest, mode))
        start = dt.date(year, 1, 1).toordinal()
        return dt.date.fromordinal(start + self.rng.randrange(365))

    def id_number(self, *, birth: dt.date, male: bool, area: str) -> str:
        """An 18-digit 居民身份证号码: area, birth date, serial (odd for men), check digit."""
        while True:
            serial = self.rng.randrange(100) * 10 + self.rng.randrange(int(male), 10, 2)
            body = f"{area}{birth:%Y%m%d}{serial:03d}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in self.ids:
                self.ids.add(number)
                return number


def _clan(village: Region) -> str | None:
    """The surname a village is named after (李营村 -> 李, 汝集一村 -> 汝), if any."""
    first = village.name[:1]
    return first if first in SURNAMES else None


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` split into `parts` uneven positive counts that add up exactly."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    scale = total / sum(weights)
    counts = [max(1, math.floor(w * scale)) for w in weights]
    i = 0
    while sum(counts) < total:
        counts[i % parts] += 1
        i += 1
    while sum(counts) > total:
        j = max(range(parts), key=counts.__getitem__)
        counts[j] -= 1
    return counts


def _tags(*, age: int, size: int, rng: random.Random) -> list[str]:
    tags = []
    if size == 1 and age >= 65 and rng.random() < 0.7:
        tags.append("独居老人")
    elif age >= 60 and size <= 2 and rng.random() < 0.25:
        tags.append("留守老人")
    if size >= 4 and rng.random() < 0.05:
        tags.append("留守儿童")
    if rng.random() < 0.03:
        tags.append("低保户")
    if rng.random() < 0.03:
        tags.append("困难户")
    if size == 1 and age >= 65 and rng.random() < 0.06:
        tags.append("五保户")
    if rng.random() < 0.015:
        tags.append("残疾人家庭")
    return tags


def _roster_size(quota: int | None, rng: random.Random) -> int:
    """A roster a few percent above the quota (the quota is a floor, not the roster)."""
    if not quota:
        return rng.randint(400, 900)
    return quota + math.ceil(quota * rng.uniform(0.02, 0.06))


def roster_plan(
    *,
    town_name: str,
    area_code: str,
    villages: Sequence[tuple[Region, int | None]],
    seed: int = DEFAULT_SEED,
) -> list[HouseholdData]:
    """The synthetic households of each (village, quota), in village, group and house order.

    Pure and reproducible: the same arguments always give the same rows.
    """
    rng = random.Random(f"pingan-roster:{seed}")  # noqa: S311 - reproducible fiction, not secrets
    people = _People(rng)
    rows: list[HouseholdData] = []
    for index, (village, quota) in enumerate(villages):
        total = _roster_size(quota, rng)
        groups = min(15, max(6, round(total / rng.uniform(60, 95))))
        clan = _clan(village)
        # Each village keeps its roster in its own style, with a few rows in the other one:
        # "七营村三组12号" or "汝集镇七营村第三村民小组12号".
        long_style = rng.random() < 0.4
        angle = 2 * math.pi * index / max(1, len(villages)) + rng.uniform(-0.2, 0.2)
        radius_km = rng.uniform(1.5, 6.0)
        v_lat = TOWN_CENTER[0] + radius_km * math.sin(angle) / 111.0
        v_lng = TOWN_CENTER[1] + radius_km * math.cos(angle) / 93.0
        for group_no, count in enumerate(_split(total, groups, rng), start=1):
            g_lat = v_lat + rng.uniform(-0.6, 0.6) / 111.0
            g_lng = v_lng + rng.uniform(-0.6, 0.6) / 93.0
            group = chinese_number(group_no)
            house_no = 0
            for _ in range(count):
                house_no += 1 if rng.random() < 0.9 else 2
                birth = people.birth_date(earliest=1932, latest=1998, mode=1962)
                age = REFERENCE_YEAR - birth.year
                male = rng.random() < (0.7 if age >= 75 else 0.86)
                size = rng.choices(
                    range(1, 8), weights=OLD_SIZE_WEIGHTS if age >= 70 else SIZE_WEIGHTS
                )[0]
                style_long = not long_style if rng.random() < 0.05 else long_style
                address = (
                    f"{town_name}{village.name}第{group}村民小组{house_no}号"
                    if style_long
                    else f"{village.name}{group}组{house_no}号"
                )
                has_phone = rng.random() < (0.85 if age >= 75 else 0.97)
                rows.append(
                    HouseholdData(
                        village=village,
                        head_name=people.full_name(male=male, clan=clan),
                        address=address,
                        group_no=group_no,
                        phone=people.phone() if has_phone else "",
                        id_number=people.id_number(birth=birth, male=male, area=area_code),
                        size=size,
                        tags=_tags(age=age, size=size, rng=rng),
                        lat=round(g_lat + rng.uniform(-0.08, 0.08) / 111.0, 6),
                        lng=round(g_lng + rng.uniform(-0.08, 0.08) / 93.0, 6),
                        synthetic=True,
                    )
                )
    return rows


def cadres_for(households: int) -> int:
    """How many cadres a village of `households` households gets (about 1 per 35, at least 3)."""
    return max(MIN_CADRES_PER_VILLAGE, round(households / HOUSEHOLDS_PER_CADRE))


def cadre_plan(
    *,
    villages: Sequence[tuple[Region, int]],
    units: Sequence[Unit],
    seed: int = DEFAULT_SEED,
    used_phones: set[str] | None = None,
) -> list[CadreData]:
    """Cadres for each (village, household count): mostly the village's own party members,
    plus one or two 包村 cadres from the town's units. Pure and reproducible.
    """
    rng = random.Random(f"pingan-cadres:{seed}")  # noqa: S311 - reproducible fiction, not secrets
    people = _People(rng)
    people.phones |= used_phones or set()
    sent = [u for u in units if u.kind in CADRE_UNIT_KINDS]
    rows: list[CadreData] = []
    next_unit = 0
    for village, households in villages:
        total = cadres_for(households)
        from_units = min(len(sent), 1 if households < 700 else 2, total - 1)
        for n in range(total):
            male = rng.random() < 0.72
            unit = None
            if n < from_units:
                unit = sent[next_unit % len(sent)]
                next_unit += 1
            rows.append(
                CadreData(
                    name=people.full_name(male=male, clan=None if unit else _clan(village)),
                    phone=people.phone(),
                    visit_village=village,
                    home_village=None if unit else village,
                    home_unit=unit,
                    party_member=unit is not None or rng.random() < 0.9,
                )
            )
    return rows


@dataclass(frozen=True)
class SyntheticResult:
    """What `synthetic_town_generate` found or made."""

    created: bool
    households: int
    cadres: int
    message: str


def _town_villages(town: Region) -> list[Region]:
    return list(town.children.filter(kind=Region.Kind.VILLAGE).order_by("sort_order", "code"))


@transaction.atomic
def synthetic_town_generate(*, town: Region, seed: int = DEFAULT_SEED) -> SyntheticResult:
    """Fill an empty town with a synthetic roster and cadres; do nothing if it has either.

    A town that already has households or cadres (synthetic or real) is left alone, so
    running the demo again is quick and never mixes fiction into a real roster.
    """
    villages = _town_villages(town)
    households = Household.objects.filter(village__parent=town)
    cadres = Person.objects.filter(visit_village__parent=town)
    if households.exists() or cadres.exists():
        n_households, n_cadres = households.count(), cadres.count()
        if households.filter(synthetic=False).exists() or cadres.filter(synthetic=False).exists():
            message = (
                f"{town.name}已有真实名册（{n_households} 户、{n_cadres} 名走访干部），"
                "不生成合成演示数据。"
            )
        else:
            message = (
                f"{town.name}已有合成演示数据（{n_households} 户、{n_cadres} 名走访干部），"
                "不再重复生成。"
            )
        return SyntheticResult(
            created=False, households=n_households, cadres=n_cadres, message=message
        )

    campaign: Campaign | None = campaign_current(town=town)
    quotas = dict(VillageQuota.objects.filter(campaign=campaign).values_list("village_id", "quota"))
    county = town.parent
    area_code = county.code if county is not None and len(county.code) == 6 else "341623"
    rows = roster_plan(
        town_name=town.name,
        area_code=area_code,
        villages=[(v, quotas.get(v.pk)) for v in villages],
        seed=seed,
    )
    # The roster reaches pingan the way a real one does: each village's spreadsheet goes
    # through the household import (the same checks, matching and bulk writes).
    n_households = 0
    for village in villages:
        mine = [row for row in rows if row.village.pk == village.pk]
        workbook = household_roster_xlsx(mine, title=f"{town.name}{village.name}户籍人口花名册")
        imported = household_import(
            actor=None, source=workbook, filename=f"{village.name}花名册.xlsx", synthetic=True
        )
        if imported.rejected:
            first = imported.rejections()[0]
            raise ValueError(f"合成名册导入被拒：第 {first.row} 行 {first.reason}")
        n_households += imported.created

    per_village: dict[int, int] = {}
    for row in rows:
        per_village[row.village.pk] = per_village.get(row.village.pk, 0) + 1
    units = list(Unit.objects.filter(region=town, active=True).order_by("sort_order", "name"))
    plan = cadre_plan(
        villages=[(v, per_village.get(v.pk, 0)) for v in villages],
        units=units,
        seed=seed,
        used_phones={row.phone for row in rows if row.phone},
    )
    # The cadre list goes through the cadre import too (accounts with one-time passwords).
    cadre_list = cadre_list_xlsx(
        (c.name, c.phone, c.visit_village.name, c.party_member, "走访干部",
         c.home_unit.name if c.home_unit else "")
        for c in plan
    )  # fmt: skip
    imported = cadre_import(
        actor=None, source=cadre_list, filename="党员干部名单.xlsx", synthetic=True
    )
    if imported.rejected:
        first = imported.rejections()[0]
        raise ValueError(f"合成干部名单导入被拒：第 {first.row} 行 {first.reason}")
    # 分片包干: every village's households split among its cadres, as `pingan allocate` does.
    if campaign is not None:
        allocation_run_town(campaign=campaign, actor=None)
    return SyntheticResult(
        created=True,
        households=n_households,
        cadres=imported.created,
        message=(
            f"已为{town.name}生成合成演示数据：{len(villages)} 个村共 {n_households} 户、"
            f"{imported.created} 名走访干部（随机种子 {seed}），已完成分片包干。"
        ),
    )


# ---------------------------------------------------------------------------------------------
# Demo logins: one per role


DEMO_PASSWORD = "pingan-demo"  # noqa: S105 - printed on purpose; demo logins only


@dataclass(frozen=True)
class DemoLogin:
    """One demo login as printed: username, password, role label and where it is scoped."""

    username: str
    password: str
    role: str
    role_label: str
    scope: str
    note: str = ""


def _demo_specs(town: Region) -> list[tuple[str, str, Region, Unit | None, str]]:
    """(username, role, region, unit, full name) for each role, from the seeded town."""
    villages = _town_villages(town)
    village = next((v for v in villages if v.name == "七营村"), villages[0] if villages else None)
    county = town.parent
    police = Unit.objects.filter(region=town, kind=Unit.Kind.POLICE).order_by("sort_order").first()
    if village is None or county is None or police is None:
        raise ValueError(f"{town.name}缺少村、上级县或派出所，请先运行 load_seed")
    return [
        ("town_admin", Role.TOWN_ADMIN, town, None, "镇综治中心（演示）"),
        ("leader", Role.LEADER, town, None, "领导小组（演示）"),
        ("village_admin", Role.VILLAGE_ADMIN, village, None, f"{village.name}管理员（演示）"),
        ("cadre", Role.CADRE, village, None, ""),
        ("unit_handler", Role.UNIT_HANDLER, town, police, f"{police.name}（演示）"),
        ("county_viewer", Role.COUNTY_VIEWER, county, None, f"{county.name}综治中心（演示）"),
    ]


def _link_demo_cadre(user: User, village: Region) -> None:
    """The cadre login takes over one synthetic cadre of the village, with the households
    allocated to them; the account the cadre import made for that cadre is switched off."""
    if Person.objects.filter(user=user).exists():
        return
    person = (
        Person.objects.filter(visit_village=village, home_village=village, synthetic=True,
                              active=True)
        .order_by("id")
        .first()
    )  # fmt: skip
    if person is None:
        person = person_create(
            name="演示干部", visit_village=village, home_village=village, synthetic=True
        )
    if person.user_id is not None:
        User.objects.filter(pk=person.user_id).update(is_active=False)
    person.user = user
    person.save(update_fields=["user", "updated_at"])
    if not user.full_name:
        user.full_name = person.name
        user.save(update_fields=["full_name"])


@transaction.atomic
def demo_logins_ensure(*, town: Region, password: str = DEMO_PASSWORD) -> list[DemoLogin]:
    """One login per role in `town`, created if missing; their password set to `password`.

    A user with a demo username but another role or region is not a demo login: it is left
    untouched and reported. The password is hashed once for all logins (PBKDF2 is slow on
    purpose), and not at all when they already share a hash that matches `password`.
    """
    logins: list[DemoLogin] = []
    demo_users: list[User] = []
    for username, role, region, unit, full_name in _demo_specs(town):
        user = User.objects.filter(username=username).first()
        scope = region.name + (f" · {unit.name}" if unit else "")
        if user is None:
            user = user_create(
                username=username,
                role=role,
                region=region,
                unit=unit,
                password=None,
                full_name=full_name,
            )
        elif user.role != role or user.region_id != region.pk:
            logins.append(
                DemoLogin(
                    username,
                    "（未改动）",
                    role,
                    Role(role).label,
                    scope,
                    note="已有同名账号，角色或范围不同，未改动",
                )
            )
            continue
        if role == Role.CADRE:
            _link_demo_cadre(user, region)
        demo_users.append(user)
        logins.append(DemoLogin(username, password, role, Role(role).label, scope))

    if not demo_users:
        return logins
    hashes = {u.password for u in demo_users}
    current = len(hashes) == 1 and demo_users[0].check_password(password)
    if not current or any(not u.is_active or u.must_change_password for u in demo_users):
        User.objects.filter(pk__in=[u.pk for u in demo_users]).update(
            password=make_password(password), is_active=True, must_change_password=False
        )
    return logins


# The demo's timeline, inside the notice's mobilization phase (动员部署, 10-10 to 10-15): the
# town center loads the campaign and imports the rosters and cadre lists, which are then
# split among the cadres (分片包干); later the village governance directors collect the
# leaflets at the town center. Everything the demo writes is dated on this timeline, so the
# demo site's clock (which starts in the visiting phase) never runs behind a stored time.
ROSTERS_IMPORTED = dt.datetime(2021, 10, 12, 9, 0, tzinfo=SHANGHAI)
LEAFLETS_COLLECTED = dt.datetime(2021, 10, 14, 9, 30, tzinfo=SHANGHAI)


def demo_leaflets_issue(*, campaign: Campaign) -> int:
    """宣传资料: each village's director collects one leaflet per roster household (rounded up
    to a bundle of 50) at the town center during mobilization, recorded by the demo town
    admin through the service. Does nothing once the campaign has any issue; returns how
    many issues it recorded."""
    center = User.objects.filter(role=Role.TOWN_ADMIN, region=campaign.town, is_active=True).first()
    if center is None or LeafletIssue.objects.filter(campaign=campaign).exists():
        return 0
    villages = Region.objects.filter(quotas__campaign=campaign).order_by("sort_order", "code")
    recorded = 0
    with clock.at(LEAFLETS_COLLECTED), transaction.atomic():
        for village in villages:
            roster = (
                Household.objects.filter(village=village)
                .exclude(status=Household.Status.MERGED)
                .count()
            )
            if roster:
                leaflet_issue_record(
                    actor=center, village=village, quantity=math.ceil(roster / 50) * 50,
                    collected_by=f"{village.name}综治主任", note="合成演示数据",
                )  # fmt: skip
                recorded += 1
    return recorded
