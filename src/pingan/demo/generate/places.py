"""The region tree `generate_data` fills: 亳州市, its county-level divisions, their towns and
villages, with roster sizes and quotas planned up front (pure, reproducible from the seed).

亳州市 has four county-level divisions (statistics bureau codes 341602 谯城区, 341621 涡阳县,
341622 蒙城县, 341623 利辛县; python-stdnum's code list knows exactly these four). The town
and street names below are the real ones as of 2021 to the best of our knowledge; their
codes, like the seed's, are pingan's own (county code + 3 digits: streets 0xx, towns 1xx),
not authoritative 统计用区划代码. Village names are invented (surname + 营/庄/寨/楼…, or
the auspicious names villages were given in the 1950s–60s), as are their codes (town code +
3 digits: 社区 0xx, 村 2xx, as the seed numbers 汝集镇's villages).
"""

import math
import random
from dataclasses import dataclass, field

from pingan.demo.town import SURNAMES

# (code, name, households at city scale, geographic centre (lat, lng)): about 1.95M households
# in all, from the registered population (谯城区 and 涡阳县 the largest, 利辛县 ~400k).
COUNTIES: tuple[tuple[str, str, int, tuple[float, float]], ...] = (
    ("341602", "谯城区", 520_000, (33.87, 115.78)),
    ("341621", "涡阳县", 560_000, (33.50, 116.21)),
    ("341622", "蒙城县", 470_000, (33.27, 116.56)),
    ("341623", "利辛县", 400_000, (33.14, 116.21)),
)

TOWNS: dict[str, tuple[str, ...]] = {
    "341602": (
        "花戏楼街道", "薛阁街道", "汤陵街道", "古井镇", "芦庙镇", "华佗镇", "十八里镇",
        "魏岗镇", "牛集镇", "颜集镇", "五马镇", "十九里镇", "谯东镇", "沙土镇", "观堂镇",
        "大杨镇", "城父镇", "双沟镇", "立德镇", "古城镇", "龙扬镇", "淝河镇", "张店乡",
        "赵桥乡",
    ),
    "341621": (
        "城关街道", "星园街道", "涡南镇", "楚店镇", "高炉镇", "曹市镇", "青疃镇", "石弓镇",
        "龙山镇", "义门镇", "新兴镇", "临湖镇", "丹城镇", "马店集镇", "花沟镇", "店集镇",
        "牌坊镇", "西阳镇", "高公镇", "标里镇", "陈大镇", "公吉寺镇", "单集镇",
    ),
    "341622": (
        "城关街道", "漆园街道", "庄周街道", "双涧镇", "小涧镇", "坛城镇", "许疃镇", "篱笆镇",
        "楚村镇", "板桥集镇", "马集镇", "岳坊镇", "立仓镇", "乐土镇", "三义镇", "小辛集乡",
        "王集乡",
    ),
    "341623": (
        "城关镇", "汝集镇", "阚疃镇", "张村镇", "江集镇", "孙庙乡", "孙集镇", "巩店镇",
        "王人镇", "王市镇", "程家集镇", "展沟镇", "刘家集乡", "中疃镇", "大李集镇", "马店孜镇",
        "纪王场乡", "永兴镇", "胡集镇", "望疃镇", "旧城镇", "城北镇", "西潘楼镇",
    ),
}  # fmt: skip

# The seed town (the notice's 汝集镇) keeps the seed's code, villages and quotas.
SEED_COUNTY = "341623"
SEED_TOWN = "汝集镇"

VILLAGE_SUFFIXES = "营庄寨楼集庙湖桥店圩园塘岗场台郢洼沟湾铺"
GIVEN_VILLAGES = (
    "新建", "红星", "和平", "光明", "前进", "幸福", "团结", "东风", "五里", "三里", "新华",
    "建设", "民主", "友谊", "双河", "八里", "新庄", "大桥", "长安", "振兴", "兴旺", "永安",
    "太平", "向阳", "红旗", "文化", "新民", "富民", "常营", "双楼",
)  # fmt: skip
COMMUNITY_NAMES = (
    "东城", "西城", "南街", "北街", "中心", "新城", "文昌", "人民路", "健康路", "育才",
    "朝阳", "滨河", "花园", "站前", "西关", "东关",
)  # fmt: skip
CN_ORDINALS = "一二三四五"
# Each town numbers its people from its own block of this many (see `people`).
TOWN_BLOCK = 200_000


@dataclass
class PlannedVillage:
    code: str
    name: str
    households: int  # the roster size
    quota: int
    groups: int  # 村民小组
    sort_order: int
    centre: tuple[float, float]


@dataclass
class PlannedTown:
    code: str
    name: str
    county_code: str
    county_name: str
    seed: bool  # the seed town (its villages and quotas come from the seed file)
    villages: list[PlannedVillage] = field(default_factory=list)
    # The first number of the town's block (phone numbers never repeat across towns).
    offset: int = 0
    # The town's index within its county (ID-number serial ranges, like a 派出所's).
    index_in_county: int = 0

    @property
    def households(self) -> int:
        return sum(v.households for v in self.villages)


def _town_codes(county_code: str, names: tuple[str, ...], seed_code: str | None) -> list[str]:
    """Streets 0xx, towns 1xx, in the list's order; the seed town keeps the seed's code."""
    taken = {seed_code} if seed_code else set()
    codes: list[str] = []
    street = town = 0
    for name in names:
        if seed_code and county_code == SEED_COUNTY and name == SEED_TOWN:
            codes.append(seed_code)
            continue
        if name.endswith("街道"):
            street += 1
            code = f"{county_code}{street:03d}"
        else:
            while f"{county_code}{100 + town:03d}" in taken:
                town += 1
            code = f"{county_code}{100 + town:03d}"
            town += 1
        taken.add(code)
        codes.append(code)
    return codes


def _village_names(town: str, n: int, rng: random.Random) -> list[tuple[str, bool]]:
    """`n` unique (name, is community) for a town: a street is mostly 社区; a town has one or
    two seat communities, then clan villages and a few given names."""
    surnames, weights = list(SURNAMES), list(SURNAMES.values())
    stem = town.removesuffix("街道").removesuffix("镇").removesuffix("乡")
    street = town.endswith("街道")
    names: list[tuple[str, bool]] = []
    seen: set[str] = set()

    def add(name: str, community: bool) -> None:
        if name not in seen:
            seen.add(name)
            names.append((name, community))

    communities = rng.randint(n // 2, n - 2) if street else rng.choice((1, 1, 2))
    pool = list(COMMUNITY_NAMES)
    rng.shuffle(pool)
    for k in range(communities):
        add(f"{pool[k]}社区" if k < len(pool) else f"{stem}{CN_ORDINALS[k % 5]}社区", True)
    # The town seat's villages often carry the town's name (汝集一村, 汝集二村).
    if not street and rng.random() < 0.6:
        for k in range(rng.randint(1, 2)):
            add(f"{stem}{CN_ORDINALS[k]}村", False)
    while len(names) < n:
        if rng.random() < 0.12:
            add(f"{rng.choice(GIVEN_VILLAGES)}村", False)
        else:
            surname = rng.choices(surnames, weights)[0]
            add(f"{surname}{rng.choice(VILLAGE_SUFFIXES)}村", False)
    return names[:n]


def _split(total: int, parts: int, rng: random.Random, spread: float) -> list[int]:
    """`total` split into `parts` uneven positive counts that add up exactly."""
    weights = [rng.uniform(1 - spread, 1 + spread) for _ in range(parts)]
    scale = total / sum(weights)
    counts = [max(1, math.floor(w * scale)) for w in weights]
    i = 0
    while sum(counts) < total:
        counts[i % parts] += 1
        i += 1
    while sum(counts) > total and max(counts) > 1:
        counts[counts.index(max(counts))] -= 1
    return counts


def _near(centre: tuple[float, float], km: float, rng: random.Random) -> tuple[float, float]:
    angle = rng.uniform(0, 2 * math.pi)
    radius = km * math.sqrt(rng.random())
    return (
        centre[0] + radius * math.sin(angle) / 111.0,
        centre[1] + radius * math.cos(angle) / 93.0,
    )


def plan_places(
    *,
    scale: str,
    seed: int,
    seed_town_code: str,
    seed_villages: list[tuple[str, str, int]],
    households: int | None = None,
) -> list[PlannedTown]:
    """The towns of `scale` ("town", "county", "city") with villages, roster sizes and quotas.

    `seed_villages` are the seed town's (code, name, quota) in the notice's order; the seed
    town's roster is a few percent above each quota (the quota is a floor, not the roster),
    other villages get a quota of 85–100% of their roster. `households` scales every roster
    down (or up) to about that many households in all (tests use a few hundred).
    """
    counties = [c for c in COUNTIES if scale == "city" or c[0] == SEED_COUNTY]
    towns: list[PlannedTown] = []
    for county_code, county_name, county_households, centre in counties:
        # One stream per county and one per town, so a town is the same at every scale.
        rng = random.Random(f"pingan-generate-places:{seed}:{county_code}")  # noqa: S311
        names = TOWNS[county_code]
        codes = _town_codes(county_code, names, seed_town_code)
        seed_roster = [q + math.ceil(q * rng.uniform(0.02, 0.06)) for _, _, q in seed_villages]
        others = [n for n in names if not (county_code == SEED_COUNTY and n == SEED_TOWN)]
        rest = county_households - (sum(seed_roster) if county_code == SEED_COUNTY else 0)
        sizes = iter(_split(rest, len(others), rng, 0.4))
        for index, (code, name) in enumerate(zip(codes, names, strict=True)):
            is_seed = county_code == SEED_COUNTY and name == SEED_TOWN
            if scale == "town" and not is_seed:
                continue
            town_rng = random.Random(f"pingan-generate-places:{seed}:{code}")  # noqa: S311
            town = PlannedTown(code, name, county_code, county_name, is_seed,
                               index_in_county=index)  # fmt: skip
            town_centre = _near(centre, 22, town_rng)
            if is_seed:
                for order, ((v_code, v_name, quota), roster) in enumerate(
                    zip(seed_villages, seed_roster, strict=True)
                ):
                    town.villages.append(
                        PlannedVillage(
                            v_code, v_name, roster, quota, 0, order, _near(town_centre, 6, town_rng)
                        )
                    )
            else:
                size = next(sizes)
                n_villages = town_rng.randint(15, 30)
                village_sizes = _split(size, n_villages, town_rng, 0.45)
                named = _village_names(name, n_villages, town_rng)
                community_no = village_no = 0
                for order, ((v_name, community), roster) in enumerate(
                    zip(named, village_sizes, strict=True)
                ):
                    if community:
                        community_no += 1
                        v_code = f"{code}{community_no:03d}"
                    else:
                        village_no += 1
                        v_code = f"{code}{200 + village_no:03d}"
                    quota = max(1, round(roster * town_rng.uniform(0.85, 1.0)))
                    town.villages.append(
                        PlannedVillage(
                            v_code, v_name, roster, quota, 0, order, _near(town_centre, 7, town_rng)
                        )
                    )
            towns.append(town)
    if households is not None:
        natural = sum(t.households for t in towns) or 1
        factor = households / natural
        for town in towns:
            for village in town.villages:
                village.households = max(1, round(village.households * factor))
                if not town.seed:
                    village.quota = max(1, round(village.quota * factor))
    county_index = {c[0]: n for n, c in enumerate(COUNTIES)}
    for town in towns:
        # A block of numbers of its own (phones), the same at every scale.
        town.offset = (county_index[town.county_code] * 30 + town.index_in_county) * TOWN_BLOCK
        if town.households > TOWN_BLOCK:
            raise ValueError(f"{town.name}: more than {TOWN_BLOCK} households")
        rng = random.Random(f"pingan-generate-groups:{seed}:{town.code}")  # noqa: S311
        for village in town.villages:
            village.groups = min(15, max(1, round(village.households / rng.uniform(60, 95))))
            if village.households >= 360:
                village.groups = max(6, village.groups)
    return towns
