"""The synthetic roster and cadres: reproducible, realistic in form, valid, proportional."""

import re

from pingan.accounts.models import Unit
from pingan.core import pii
from pingan.demo.town import (
    SURNAMES,
    cadre_plan,
    cadres_for,
    chinese_number,
    roster_plan,
)
from pingan.regions.models import Region


def village(code: str, name: str) -> Region:
    return Region(code=code, name=name, kind=Region.Kind.VILLAGE)


QIYING = village("341623101202", "七营村")
LIYING = village("341623101211", "李营村")


def plan(seed: int = 2021) -> list:
    return roster_plan(
        town_name="汝集镇", area_code="341623", villages=[(QIYING, 120), (LIYING, 200)], seed=seed
    )


def summary(rows: list) -> list[tuple]:
    return [
        (r.village.code, r.head_name, r.address, r.group_no, r.phone, r.id_number, r.size, r.tags)
        for r in rows
    ]


def test_same_seed_same_roster_other_seed_other_roster():
    assert summary(plan()) == summary(plan())
    assert summary(plan(seed=7)) != summary(plan())


def test_every_village_gets_at_least_its_quota_a_few_percent_over():
    rows = plan()

    counts = {
        code: sum(r.village.code == code for r in rows) for code in (QIYING.code, LIYING.code)
    }
    assert 120 < counts[QIYING.code] <= 120 * 1.07
    assert 200 < counts[LIYING.code] <= 200 * 1.07


def test_households_look_like_a_village_roster():
    rows = plan()

    for row in rows:
        assert 2 <= len(row.head_name) <= 3
        assert row.head_name[0] in SURNAMES
        assert 1 <= row.size <= 7
        assert row.synthetic is True
        group = chinese_number(row.group_no)
        assert re.fullmatch(
            rf"(汝集镇{row.village.name}第{group}村民小组|{row.village.name}{group}组)\d+号",
            row.address,
        ), row.address
    for code in (QIYING.code, LIYING.code):
        groups = {r.group_no for r in rows if r.village.code == code}
        assert 6 <= len(groups) <= 15
        assert groups == set(range(1, len(groups) + 1))
    # A clan village carries its namesake surname far more often than elsewhere.
    li = [r.head_name[0] == "李" for r in rows if r.village.code == LIYING.code]
    assert sum(li) / len(li) > 0.25
    # Some, not all, households carry care tags.
    tagged = [r for r in rows if r.tags]
    assert 0 < len(tagged) < len(rows) / 2
    assert {t for r in tagged for t in r.tags} <= {
        "独居老人",
        "留守老人",
        "留守儿童",
        "低保户",
        "困难户",
        "五保户",
        "残疾人家庭",
    }
    assert all(r.tags != ["独居老人"] or r.size == 1 for r in rows)


def test_phones_and_id_numbers_are_valid_and_unique():
    rows = plan()

    phones = [r.phone for r in rows if r.phone]
    assert len(phones) > 0.9 * len(rows)
    assert len(set(phones)) == len(phones)
    assert all(pii.normalize_phone(p) == p for p in phones)
    ids = [r.id_number for r in rows]
    assert len(set(ids)) == len(ids)
    for number in ids:
        assert pii.normalize_id_number(number) == number
        assert number.startswith("341623")
        assert 1930 <= int(number[6:10]) <= 2000


def test_chinese_group_numbers():
    assert [chinese_number(n) for n in (1, 3, 10, 12, 15, 20, 21)] == [
        "一",
        "三",
        "十",
        "十二",
        "十五",
        "二十",
        "二十一",
    ]


def test_cadres_are_proportional_mostly_local_with_a_few_unit_cadres():
    small = village("341623101206", "后路村")
    units = [
        Unit(name="镇综治中心", kind=Unit.Kind.GOVERNANCE),
        Unit(name="汝集派出所", kind=Unit.Kind.POLICE),
        Unit(name="财政所", kind=Unit.Kind.TOWN_OFFICE),
    ]
    villages = [(QIYING, 470), (LIYING, 1110), (small, 20)]

    cadres = cadre_plan(villages=villages, units=units)

    per_village = {v.code: [c for c in cadres if c.visit_village is v] for v, _ in villages}
    assert [len(per_village[v.code]) for v, _ in villages] == [13, 32, 3]
    assert cadres_for(470) == 13
    for v, _ in villages:
        local = [c for c in per_village[v.code] if c.home_village is v]
        from_units = [c for c in per_village[v.code] if c.home_unit is not None]
        assert len(local) + len(from_units) == len(per_village[v.code])
        assert 1 <= len(from_units) <= 2
        assert len(local) > len(from_units)
        # 包村 cadres come from town offices and the center, not from the police station.
        assert all(c.home_unit.kind != Unit.Kind.POLICE for c in from_units)
    assert all(pii.normalize_phone(c.phone) == c.phone for c in cadres)
    assert cadre_plan(villages=villages, units=units) == cadres
