"""分片包干: splitting one village's households among its cadres. Pure functions, no database.

The notice asks each village to split its households among its cadres "in proportion to their
number, by area" (按比例划分, 分片包干). Here that means:

- **proportional**: every cadre's total (locked households included) is ⌊N/K⌋ or ⌈N/K⌉, for N
  active households and K active cadres ("equal shares, ±1");
- **contiguous**: the households are put in one stable geographic order (村民小组, then house
  number in natural order, then id: `household_order`), and each cadre's *unlocked* households
  form one run of that order with the locked households taken out, so each cadre has one 片;
- **locked assignments are kept** (made by hand and protected from re-allocation) and count
  toward their cadre's total;
- **stable**: among all plans with those properties that keep the cadres who already hold
  households in their present geographic order, `allocate` returns one that changes the cadre
  of the fewest households. Re-running with nothing changed moves nothing; after a roster
  change only households near the boundaries between 片 move. Where several plans move
  equally few, the cadres earlier along the village take w households and the w + 1 shares
  fall to those after them (the dynamic programme keeps the first cheapest path it finds).

When locks make equal shares impossible (one cadre holds more locked households than a share),
the plan is as balanced as the locks allow ("water filling": the smallest possible largest
share among the cadres who are not over-locked), and `Plan.balanced` is False.

## How

1. Shares. Find the largest w with Σ max(locked_c, w) ≤ N. A cadre with more than w locked
   households keeps exactly those (an empty run); every other cadre gets w or w+1 in total, and
   exactly N − Σ max(locked_c, w) of them get w+1. Without over-locked cadres w = ⌊N/K⌋, and the
   number of w+1 shares is what makes the totals add up to N.
2. Order of the cadres along the village. A cadre who currently holds unlocked households sits
   at the median position of those households; such cadres keep that order. Cadres holding none
   (new cadres, or cadres whose households are all locked) may be placed anywhere between them;
   they keep their given order among themselves.
3. Boundaries, by dynamic programming over (existing cadres placed i, new cadres placed j,
   w+1 shares used e). The position along the unlocked order is determined by the state, so
   each state has at most four successors (next existing or next new cadre, share w or w+1).
   The cost of a run is the number of its households now assigned to someone else: for an
   existing cadre, assigned-in-run minus own-in-run; for a new cadre, assigned-in-run (so new
   cadres land where households are still unassigned). Both are O(1) with prefix sums.
   Households that are unassigned today never count as moves: every plan must assign them.

Complexity, for N households and K = a + b cadres (a existing, b new): O(N log N) to order the
households, O(N·a) for the prefix sums, O(a·b·K) states with O(1) work each. A 2,000-household
village with 60 cadres takes a few milliseconds in the usual cases (all new, or all existing
with a few new) and well under a second in the worst mix (see `bench/allocate.py`).
"""

import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

HouseholdId = int
CadreId = int

_DIGIT_RUNS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple:
    """A sort key that orders the digit runs of `text` by value: "三组2号" before "三组10号".

    Full-width digits count as digits (NFKC). Digit runs and text alternate at fixed positions
    of the tuple, so two keys always compare element by element without a type error.
    """
    parts = _DIGIT_RUNS.split(unicodedata.normalize("NFKC", text or ""))
    return tuple(int(part) if index % 2 else part for index, part in enumerate(parts))


def _local_address(address: str) -> str:
    """The part of an address after its group (…组): the house number and what follows.

    Villages write the same place as "七营村三组12号" and "汝集镇七营村第三村民小组12号"; the
    group is already in `group_no`, so households of one group are ordered by what follows it.
    """
    normalized = unicodedata.normalize("NFKC", address or "")
    _, marker, rest = normalized.rpartition("组")
    return rest if marker else normalized


def household_order_key(household_id: int, group_no: int | None, address: str) -> tuple:
    """Village order: group (households without a group last), house number, address, id."""
    return (
        group_no is None,
        group_no or 0,
        natural_key(_local_address(address)),
        natural_key(address),
        household_id,
    )


def household_order(rows: Iterable[tuple[int, int | None, str]]) -> list[HouseholdId]:
    """Household ids of `(id, group_no, address)` rows in the stable geographic order."""
    return [row[0] for row in sorted(rows, key=lambda row: household_order_key(*row))]


@dataclass(frozen=True)
class Plan:
    """What `allocate` decided for one village."""

    assignment: dict[HouseholdId, CadreId]  # every household, or none without cadres
    totals: dict[CadreId, int]  # households per cadre, locked included (0 for none)
    locked: dict[CadreId, int]  # locked households per cadre that were honoured
    share: tuple[int, int]  # (w, w+1): the totals of the cadres who are not over-locked
    balanced: bool  # every total within one of every other ("equal shares, ±1")
    over_locked: tuple[CadreId, ...]  # cadres whose locked households alone exceed a share
    dropped_locks: tuple[HouseholdId, ...]  # locks naming a cadre who is not on the roster
    moved: tuple[HouseholdId, ...]  # households assigned today whose cadre changes
    cadre_order: tuple[CadreId, ...]  # the cadres' runs along the village, first to last


def _shares(n: int, locked: Mapping[CadreId, int], cadres: Sequence[CadreId]) -> tuple[int, int]:
    """(w, extra): the largest w with Σ max(locked, w) ≤ n, and how many get w+1."""
    w = n // len(cadres)
    while w > 0 and sum(max(locked.get(c, 0), w) for c in cadres) > n:
        w -= 1
    return w, n - sum(max(locked.get(c, 0), w) for c in cadres)


def _median(positions: list[int]) -> float:
    middle = len(positions) // 2
    if len(positions) % 2:
        return positions[middle]
    return (positions[middle - 1] + positions[middle]) / 2


def allocate(
    *,
    households: Sequence[HouseholdId],
    cadres: Sequence[CadreId],
    current: Mapping[HouseholdId, CadreId],
    locked: Mapping[HouseholdId, CadreId],
) -> Plan:
    """Split `households` (in geographic order, see `household_order`) among `cadres`.

    `current` is today's assignment (household -> cadre, any cadre, on the roster or not);
    `locked` the households held by hand. A lock naming a cadre who is not in `cadres` (left,
    or moved to another village) cannot be honoured: that household is allocated like the
    others and listed in `dropped_locks`.
    """
    on_roster = set(cadres)
    if len(on_roster) != len(cadres):
        raise ValueError("cadres must be distinct")
    in_village = set(households)
    honoured = {h: c for h, c in locked.items() if h in in_village and c in on_roster}
    dropped = tuple(h for h in households if h in locked and h not in honoured)
    if not cadres:
        return Plan(
            assignment={},
            totals={},
            locked={},
            share=(0, 0),
            balanced=not households,
            over_locked=(),
            dropped_locks=dropped,
            moved=(),
            cadre_order=(),
        )

    locked_count = Counter(honoured.values())
    w, extra = _shares(len(households), locked_count, cadres)
    flexible = [c for c in cadres if locked_count[c] <= w]
    over_locked = tuple(c for c in cadres if locked_count[c] > w)
    base = {c: w - locked_count[c] for c in flexible}

    # The unlocked households, and who holds each of them today.
    free = [h for h in households if h not in honoured]
    holder = [current.get(h) for h in free]
    assigned_prefix = list(itertools.accumulate((c is not None for c in holder), initial=0))
    positions: dict[CadreId, list[int]] = {}
    for index, cadre in enumerate(holder):
        if cadre in base:
            positions.setdefault(cadre, []).append(index)
    existing = sorted(positions, key=lambda c: (_median(positions[c]), cadres.index(c)))
    new = [c for c in flexible if c not in positions]
    own_prefix = {
        c: list(itertools.accumulate((h == c for h in holder), initial=0)) for c in existing
    }

    runs = _boundaries(
        existing=existing,
        new=new,
        base=base,
        extra=extra,
        assigned_prefix=assigned_prefix,
        own_prefix=own_prefix,
    )

    assignment: dict[HouseholdId, CadreId] = dict(honoured)
    start = 0
    for cadre, size in runs:
        for h in free[start : start + size]:
            assignment[h] = cadre
        start += size
    if start != len(free):  # pragma: no cover - the shares add up by construction
        raise AssertionError("allocation runs do not cover the households")
    assignment = {h: assignment[h] for h in households}

    totals = Counter(assignment.values())
    all_totals = [totals[c] for c in cadres]
    return Plan(
        assignment=assignment,
        totals={c: totals[c] for c in cadres},
        locked={c: locked_count[c] for c in cadres},
        share=(w, w + 1),
        balanced=max(all_totals) - min(all_totals) <= 1,
        over_locked=over_locked,
        dropped_locks=dropped,
        moved=tuple(
            h for h in households if current.get(h) is not None and current[h] != assignment[h]
        ),
        cadre_order=tuple(c for c, _ in runs) + over_locked,
    )


def _boundaries(
    *,
    existing: list[CadreId],
    new: list[CadreId],
    base: Mapping[CadreId, int],
    extra: int,
    assigned_prefix: list[int],
    own_prefix: Mapping[CadreId, list[int]],
) -> list[tuple[CadreId, int]]:
    """(cadre, run length) in village order, with the fewest moves (see the module docstring).

    State (i, j, e): the first i existing and j new cadres are placed, e of them with w+1.
    Its position along the unlocked households is base_existing[i] + base_new[j] + e.
    """
    a, b = len(existing), len(new)
    base_a = list(itertools.accumulate((base[c] for c in existing), initial=0))
    base_b = list(itertools.accumulate((base[c] for c in new), initial=0))
    total = a + b
    inf = float("inf")
    # cost[i][j][e] and the step that reached it: (came_from_existing, plus_one).
    cost = [[[inf] * (extra + 1) for _ in range(b + 1)] for _ in range(a + 1)]
    step: dict[tuple[int, int, int], tuple[bool, int]] = {}
    cost[0][0][0] = 0
    for i in range(a + 1):
        for j in range(b + 1):
            placed = i + j
            low = max(0, extra - (total - placed))
            for e in range(low, min(extra, placed) + 1):
                here = cost[i][j][e]
                if here == inf:
                    continue
                start = base_a[i] + base_b[j] + e
                for plus in (0, 1) if e < extra else (0,):
                    if i < a:
                        cadre = existing[i]
                        end = start + base[cadre] + plus
                        moves = (assigned_prefix[end] - assigned_prefix[start]) - (
                            own_prefix[cadre][end] - own_prefix[cadre][start]
                        )
                        if here + moves < cost[i + 1][j][e + plus]:
                            cost[i + 1][j][e + plus] = here + moves
                            step[(i + 1, j, e + plus)] = (True, plus)
                    if j < b:
                        cadre = new[j]
                        end = start + base[cadre] + plus
                        moves = assigned_prefix[end] - assigned_prefix[start]
                        if here + moves < cost[i][j + 1][e + plus]:
                            cost[i][j + 1][e + plus] = here + moves
                            step[(i, j + 1, e + plus)] = (False, plus)
    if cost[a][b][extra] == inf:  # pragma: no cover - the shares add up by construction
        raise AssertionError("no allocation reaches the end of the village")
    runs: list[tuple[CadreId, int]] = []
    i, j, e = a, b, extra
    while i or j:
        from_existing, plus = step[(i, j, e)]
        if from_existing:
            i -= 1
            cadre = existing[i]
        else:
            j -= 1
            cadre = new[j]
        e -= plus
        runs.append((cadre, base[cadre] + plus))
    runs.reverse()
    return runs
