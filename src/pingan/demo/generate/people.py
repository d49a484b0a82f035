"""The people of one planned town: households (户) and cadres (党员干部), with every phone and
ID number valid and sealed (`pingan.core.pii.seal_phone` / `seal_id_number`: normalized and
validated by phonenumbers and python-stdnum, encrypted, keyed-hashed, masked).

`town_people` is a pure function of the plan and the seed, so the roster of a town is the
same whichever process builds it: `generate_data` runs it in a process pool, because sealing
(validation, Fernet encryption, HMAC) is most of the time a large roster costs.

Numbers never repeat, by construction rather than by a set of the ones already drawn:
- a mobile number is a weighted prefix and an 8-digit suffix that is a bijection of the
  household's (or cadre's) global index, so no two people share one;
- an ID number's 3-digit serial (digits 15–17, odd for men) lies in its town's own range
  (as real serials are handed out by the local police station), counted per birth date.
"""

import datetime as dt
import json
import math
import random
from collections import defaultdict
from dataclasses import dataclass

from stdnum.cn import ric

from pingan.core.pii import seal_id_number, seal_phone
from pingan.demo.generate.places import PlannedTown
from pingan.demo.town import (
    FEMALE_FIRST,
    FEMALE_SECOND,
    FEMALE_SINGLE,
    MALE_FIRST,
    MALE_SECOND,
    MALE_SINGLE,
    OLD_SIZE_WEIGHTS,
    PHONE_PREFIXES,
    REFERENCE_YEAR,
    SIZE_WEIGHTS,
    SURNAMES,
    _tags,
    chinese_number,
)

# About one cadre per this many households (at least MIN_CADRES a village).
HOUSEHOLDS_PER_CADRE = 25
MIN_CADRES = 2
# Serials per birth date and sex a town may use (25 towns × 40 = the 1,000 serials).
SERIALS_PER_TOWN = 40
# Suffix bijection: n -> (n * MULTIPLIER + SHIFT) mod 10^8 (MULTIPLIER is prime to 10).
MULTIPLIER, SHIFT = 48_271_263, 19_283_747
CADRE_INDEX_BASE = 60_000_000


@dataclass(frozen=True)
class HouseholdRow:
    village: int  # index into the town's villages
    group_no: int
    address: str
    head_name: str
    size: int
    tags: str  # JSON
    lat: str
    lng: str
    phone: tuple[str, str, str]  # ciphertext, digest, masked ("" × 3 without a phone)
    id_number: tuple[str, str, str]


@dataclass(frozen=True)
class CadreRow:
    village: int
    name: str
    party_member: bool
    unit_slot: int | None  # the n-th cadre-sending unit of the town, or a village cadre
    phone: tuple[str, str, str]
    username: str  # the normalized phone, as the cadre import names accounts


@dataclass(frozen=True)
class TownPeople:
    code: str
    households: list[HouseholdRow]
    cadres: list[CadreRow]


class _Names:
    """Names, phones and birth dates from one random stream (pure, reproducible)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.surnames = list(SURNAMES)
        self.surname_cum = _cumulative(SURNAMES.values())
        self.prefixes = list(PHONE_PREFIXES)
        self.prefix_cum = _cumulative(PHONE_PREFIXES.values())

    def full_name(self, *, male: bool, clan: str | None) -> str:
        rng = self.rng
        if clan and rng.random() < 0.33:
            surname = clan
        else:
            surname = self.surnames[_pick(self.surname_cum, rng.random())]
        if rng.random() < 0.15:
            return surname + rng.choice(MALE_SINGLE if male else FEMALE_SINGLE)
        first, second = (MALE_FIRST, MALE_SECOND) if male else (FEMALE_FIRST, FEMALE_SECOND)
        a, b = rng.choice(first), rng.choice(second)
        return surname + a + (b if b != a else rng.choice(second))

    def phone(self, index: int) -> str:
        prefix = self.prefixes[_pick(self.prefix_cum, self.rng.random())]
        return f"{prefix}{(index * MULTIPLIER + SHIFT) % 100_000_000:08d}"


def _cumulative(weights) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return [x / total for x in out]


def _pick(cumulative: list[float], u: float) -> int:
    """The index whose cumulative share first exceeds u (a short linear scan is fastest)."""
    for i, edge in enumerate(cumulative):
        if u < edge:
            return i
    return len(cumulative) - 1


def _clan(name: str) -> str | None:
    first = name[:1]
    return first if first in SURNAMES else None


def cadres_for(households: int) -> int:
    return max(MIN_CADRES, round(households / HOUSEHOLDS_PER_CADRE))


def town_people(town: PlannedTown, seed: int, seal: bool = True) -> TownPeople:
    """Households and cadres of `town`, in village, group and house order. With `seal`
    False the phone and ID slots hold (plaintext, "", "") (tests of the plan only)."""
    rng = random.Random(f"pingan-generate-people:{seed}:{town.code}")  # noqa: S311 - fiction
    names = _Names(rng)
    serials: dict[tuple[int, bool], int] = defaultdict(int)
    base_serial = (town.index_in_county % 25) * SERIALS_PER_TOWN
    area = town.county_code
    year_start = {y: _ordinal(y) for y in range(1930, 2001)}

    def id_number(male: bool) -> tuple[str, int]:
        while True:
            year = round(rng.triangular(1932, 1998, 1962))
            ordinal = year_start[year] + rng.randrange(365)
            k = serials[(ordinal, male)]
            if k < SERIALS_PER_TOWN // 2:
                serials[(ordinal, male)] = k + 1
                break
        serial = base_serial + 2 * k + (1 if male else 0)
        birth = _date(ordinal)
        body = f"{area}{birth}{serial:03d}"
        return body + ric.calc_check_digit(body + "0"), year

    def sealed_phone(number: str) -> tuple[str, str, str]:
        if not seal:
            return (number, "", "")
        s = seal_phone(number)
        return (s.ciphertext, s.digest, s.masked)

    households: list[HouseholdRow] = []
    index = town.offset
    for v_index, village in enumerate(town.villages):
        clan = _clan(village.name)
        long_style = rng.random() < 0.4
        groups = _split_groups(village.households, village.groups, rng)
        for group_no, count in enumerate(groups, start=1):
            g_lat = village.centre[0] + rng.uniform(-0.6, 0.6) / 111.0
            g_lng = village.centre[1] + rng.uniform(-0.6, 0.6) / 93.0
            group = chinese_number(group_no) if group_no < 100 else str(group_no)
            house_no = 0
            for _ in range(count):
                house_no += 1 if rng.random() < 0.9 else 2
                male = rng.random() < 0.8
                id_plain, year = id_number(male)
                age = REFERENCE_YEAR - year
                size = rng.choices(
                    range(1, 8), weights=OLD_SIZE_WEIGHTS if age >= 70 else SIZE_WEIGHTS
                )[0]
                address = (
                    f"{town.name}{village.name}第{group}村民小组{house_no}号"
                    if long_style
                    else f"{village.name}{group}组{house_no}号"
                )
                has_phone = rng.random() < (0.85 if age >= 75 else 0.97)
                phone = sealed_phone(names.phone(index)) if has_phone else ("", "", "")
                index += 1
                if seal:
                    s = seal_id_number(id_plain)
                    id_sealed = (s.ciphertext, s.digest, s.masked)
                else:
                    id_sealed = (id_plain, "", "")
                households.append(
                    HouseholdRow(
                        village=v_index,
                        group_no=group_no,
                        address=address,
                        head_name=names.full_name(male=male, clan=clan),
                        size=size,
                        tags=json.dumps(_tags(age=age, size=size, rng=rng), ensure_ascii=False),
                        lat=f"{g_lat + rng.uniform(-0.08, 0.08) / 111.0:.6f}",
                        lng=f"{g_lng + rng.uniform(-0.08, 0.08) / 93.0:.6f}",
                        phone=phone,
                        id_number=id_sealed,
                    )
                )

    cadres: list[CadreRow] = []
    cadre_index = CADRE_INDEX_BASE + town.offset
    next_unit = 0
    for v_index, village in enumerate(town.villages):
        total = cadres_for(village.households)
        from_units = min(1 if village.households < 700 else 2, total - 1)
        for n in range(total):
            male = rng.random() < 0.72
            unit_slot = None
            if n < from_units:
                unit_slot = next_unit
                next_unit += 1
            number = names.phone(cadre_index)
            cadre_index += 1
            cadres.append(
                CadreRow(
                    village=v_index,
                    name=names.full_name(
                        male=male, clan=None if unit_slot is not None else _clan(village.name)
                    ),
                    party_member=unit_slot is not None or rng.random() < 0.9,
                    unit_slot=unit_slot,
                    phone=sealed_phone(number),
                    username=number,
                )
            )
    return TownPeople(town.code, households, cadres)


def _split_groups(total: int, groups: int, rng: random.Random) -> list[int]:
    groups = max(1, min(groups, total))
    weights = [rng.uniform(0.6, 1.4) for _ in range(groups)]
    scale = total / sum(weights)
    counts = [max(1, math.floor(w * scale)) for w in weights]
    i = 0
    while sum(counts) < total:
        counts[i % groups] += 1
        i += 1
    while sum(counts) > total:
        counts[counts.index(max(counts))] -= 1
    return counts


def _ordinal(year: int) -> int:
    return dt.date(year, 1, 1).toordinal()


def _date(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).strftime("%Y%m%d")
