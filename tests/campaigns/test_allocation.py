"""The allocation algorithm (分片包干) on its own: pure functions, no database."""

import itertools
import random
import statistics
from collections import Counter

import pytest

from pingan.campaigns.allocation import Plan, allocate, household_order, natural_key


def cadre_runs(plan: Plan, households: list[int], locked: dict[int, int]) -> dict[int, list[int]]:
    """Each cadre's unlocked households as indexes into the order with locked ones taken out."""
    free = [h for h in households if h not in locked]
    runs: dict[int, list[int]] = {}
    for index, h in enumerate(free):
        runs.setdefault(plan.assignment[h], []).append(index)
    return runs


def assert_contiguous(plan: Plan, households: list[int], locked: dict[int, int]) -> None:
    for cadre, indexes in cadre_runs(plan, households, locked).items():
        assert indexes == list(range(indexes[0], indexes[-1] + 1)), f"cadre {cadre} has 2+ 片"


def assert_proportional(plan: Plan, n: int, k: int) -> None:
    assert sum(plan.totals.values()) == n
    assert set(plan.totals.values()) <= {n // k, -(-n // k)}
    assert plan.balanced


# ---------------------------------------------------------------------------------------------
# Order


def test_natural_order_of_house_numbers():
    rows = [
        (1, 3, "七营村三组10号"),
        (2, 3, "七营村三组2号"),
        (3, 3, "汝集镇七营村第三村民小组5号"),  # the long style, same group
        (4, 3, "七营村三组１号"),  # full-width digit
        (5, None, "七营村1号"),  # no group: last
        (6, 1, "七营村一组99号"),
        (7, 3, "七营村三组2号之一"),
    ]
    assert household_order(rows) == [6, 4, 2, 7, 3, 1, 5]


def test_natural_key_compares_numbers_by_value():
    assert natural_key("三组2号") < natural_key("三组10号")
    assert natural_key("3-2号") < natural_key("3-10号")
    assert natural_key("") < natural_key("1号")


def test_equal_addresses_fall_back_to_the_id():
    assert household_order([(9, 1, "1号"), (3, 1, "1号")]) == [3, 9]


# ---------------------------------------------------------------------------------------------
# Proportional and contiguous


@pytest.mark.parametrize(
    ("n", "k"), [(450, 13), (471, 13), (10, 3), (7, 7), (3, 5), (0, 2), (1, 1)]
)
def test_equal_shares_and_one_run_each(n, k):
    households, cadres = list(range(n)), list(range(1000, 1000 + k))

    plan = allocate(households=households, cadres=cadres, current={}, locked={})

    assert_proportional(plan, n, k)
    assert_contiguous(plan, households, {})
    assert plan.moved == ()
    assert set(plan.assignment) == set(households)


def test_no_cadres_assigns_nothing():
    plan = allocate(households=[1, 2, 3], cadres=[], current={1: 9}, locked={2: 9})
    assert plan.assignment == {}
    assert not plan.balanced
    assert plan.dropped_locks == (2,)


def test_cadres_must_be_distinct():
    with pytest.raises(ValueError, match="distinct"):
        allocate(households=[1], cadres=[5, 5], current={}, locked={})


# ---------------------------------------------------------------------------------------------
# Locked assignments


def test_locked_households_are_kept_and_counted():
    households, cadres = list(range(30)), [1, 2, 3]
    # Given cadre 3 holds two households at the start of the village by hand
    locked = {0: 3, 1: 3}

    plan = allocate(households=households, cadres=cadres, current={}, locked=locked)

    assert plan.assignment[0] == plan.assignment[1] == 3
    assert plan.locked == {1: 0, 2: 0, 3: 2}
    assert_proportional(plan, 30, 3)  # 10 each, cadre 3's two locked included
    assert_contiguous(plan, households, locked)


def test_locked_households_inside_another_run_do_not_break_it():
    households, cadres = list(range(12)), [1, 2]
    locked = {3: 2, 4: 2}  # cadre 2's hand-made households sit where cadre 1's 片 would be

    plan = allocate(households=households, cadres=cadres, current={}, locked=locked)

    assert plan.assignment[3] == plan.assignment[4] == 2
    assert plan.totals == {1: 6, 2: 6}
    assert_contiguous(plan, households, locked)


def test_too_many_locks_get_as_close_as_possible_and_say_so():
    households, cadres = list(range(30)), [1, 2, 3, 4]
    locked = {h: 1 for h in range(15)}  # cadre 1 holds 15 by hand: more than 30/4

    plan = allocate(households=households, cadres=cadres, current={}, locked=locked)

    assert not plan.balanced
    assert plan.over_locked == (1,)
    assert plan.totals[1] == 15
    assert sorted(plan.totals[c] for c in (2, 3, 4)) == [5, 5, 5]
    assert_contiguous(plan, households, locked)


def test_a_lock_to_someone_off_the_roster_is_dropped():
    households, cadres = list(range(6)), [1, 2]
    plan = allocate(households=households, cadres=cadres, current={0: 9}, locked={0: 9})
    assert plan.dropped_locks == (0,)
    assert plan.assignment[0] in (1, 2)
    assert plan.moved == (0,)
    assert_proportional(plan, 6, 2)


# ---------------------------------------------------------------------------------------------
# Stability


def _village(n_groups: int = 8, per_group: int = 55) -> list[tuple[int, int, str]]:
    return [
        (g * 1000 + no, g, f"七营村{g}组{no}号")
        for g in range(1, n_groups + 1)
        for no in range(1, per_group + 1)
    ]


def test_running_again_moves_nothing():
    households, cadres = household_order(_village()), list(range(1, 14))
    first = allocate(households=households, cadres=cadres, current={}, locked={})
    again = allocate(households=households, cadres=cadres, current=first.assignment, locked={})
    assert again.moved == ()
    assert again.assignment == first.assignment


def test_ten_new_households_in_different_groups_move_few_and_only_at_boundaries():
    # Given a village of 440 households split among 13 cadres
    rows = _village()
    cadres = list(range(1, 14))
    before = allocate(households=household_order(rows), cadres=cadres, current={}, locked={})
    # When 10 households are added in different groups (new house numbers between old ones)
    rows += [(90000 + g, g % 8 + 1, f"七营村{g % 8 + 1}组{5 * g + 2}号之一") for g in range(10)]
    households = household_order(rows)
    after = allocate(households=households, cadres=cadres, current=before.assignment, locked={})
    # Then shares and 片 still hold, few households move, and only next to a boundary
    assert_proportional(after, 450, 13)
    assert_contiguous(after, households, {})
    assert len(after.moved) <= 10 + len(cadres)
    boundaries = [
        index
        for index, (a, b) in enumerate(itertools.pairwise(households), start=1)
        if after.assignment[a] != after.assignment[b]
    ]
    for h in after.moved:
        position = households.index(h)
        assert min(abs(position - b) for b in boundaries) <= 10, h
    # and every cadre keeps the bulk of its 片
    kept = Counter(c for h, c in after.assignment.items() if before.assignment.get(h) == c)
    assert all(kept[c] >= before.totals[c] - 10 for c in cadres)


def test_a_leaving_cadre_hands_over_and_the_others_mostly_stay():
    households, cadres = household_order(_village()), list(range(1, 14))
    before = allocate(households=households, cadres=cadres, current={}, locked={})
    leaving = 7

    after = allocate(
        households=households,
        cadres=[c for c in cadres if c != leaving],
        current=before.assignment,
        locked={},
    )

    assert_proportional(after, 440, 12)
    assert_contiguous(after, households, {})
    assert leaving not in after.assignment.values()
    # The leaver's households must move, and closing the gap in the middle of the village
    # shifts every boundary toward it (equal shares and one 片 each leave no other way);
    # still, every other cadre keeps most of their 片.
    assert set(after.moved) >= {h for h, c in before.assignment.items() if c == leaving}
    kept = Counter(c for h, c in after.assignment.items() if before.assignment[h] == c)
    assert all(kept[c] > before.totals[c] // 2 for c in cadres if c != leaving)


def test_a_new_cadre_lands_where_households_are_unassigned():
    rows = _village(n_groups=4, per_group=30)
    cadres = [1, 2, 3, 4]
    before = allocate(households=household_order(rows), cadres=cadres, current={}, locked={})
    # A new group of 30 households at the end of the village, and a new cadre for it
    rows += [(80000 + no, 5, f"七营村5组{no}号") for no in range(1, 31)]
    households = household_order(rows)

    after = allocate(
        households=households, cadres=[*cadres, 5], current=before.assignment, locked={}
    )

    assert after.moved == ()
    assert {after.assignment[80000 + no] for no in range(1, 31)} == {5}


# ---------------------------------------------------------------------------------------------
# Optimality: no plan with the same guarantees and the same order of existing cadres moves fewer


def _brute_force(households, cadres, current, locked) -> tuple[int, list[int], dict[int, set]]:
    """The fewest moves over every plan that keeps the rules, worked out from the rules alone
    (nothing read from the plan under test), the order of today's holders it implies, and
    the totals each cadre may end with.

    The rules: locks naming a cadre on the roster are kept; the share w is the largest with
    Σ max(locked, w) ≤ n, and every cadre not locked beyond it gets w or w + 1 households in
    all; each gets one run of the unlocked households; and the cadres who hold unlocked
    households today keep their order along the village (by the median position of what they
    hold, ties in roster order)."""
    honoured = {h: c for h, c in locked.items() if c in cadres}
    locked_count = Counter(honoured.values())
    n = len(households)
    w = max(w for w in range(n + 1) if sum(max(locked_count[c], w) for c in cadres) <= n)
    flexible = [c for c in cadres if locked_count[c] <= w]
    free = [h for h in households if h not in honoured]
    base = {c: w - locked_count[c] for c in flexible}
    extra = len(free) - sum(base.values())
    held = {c: [i for i, h in enumerate(free) if current.get(h) == c] for c in flexible}
    existing = sorted(
        (c for c in flexible if held[c]),
        key=lambda c: (statistics.median(held[c]), cadres.index(c)),
    )
    best = len(households) + 1
    for order in itertools.permutations(flexible):
        if [c for c in order if c in existing] != existing:
            continue
        for plus in itertools.combinations(order, extra):
            assignment = dict(honoured)
            start = 0
            for c in order:
                size = base[c] + (c in plus)
                for h in free[start : start + size]:
                    assignment[h] = c
                start += size
            moves = sum(1 for h in households if current.get(h) not in (None, assignment[h]))
            best = min(best, moves)
    totals = {c: ({w, w + 1} if c in base else {locked_count[c]}) for c in cadres}
    return best, existing, totals


def test_the_dynamic_programme_finds_the_fewest_moves():
    rng = random.Random(2021)  # noqa: S311 - reproducible test cases, not secrets
    for _ in range(300):
        n, k = rng.randint(1, 9), rng.randint(1, 4)
        households, cadres = list(range(n)), list(range(100, 100 + k))
        earlier = cadres + ([999] if rng.random() < 0.3 else [])
        rng.shuffle(earlier)
        earlier = earlier[: rng.randint(1, len(earlier))]
        cuts = sorted(rng.randint(0, n) for _ in range(len(earlier) - 1))
        current = {
            h: c
            for c, (start, end) in zip(earlier, itertools.pairwise([0, *cuts, n]), strict=True)
            for h in range(start, end)
            if rng.random() < 0.85
        }
        locked = {h: rng.choice([*cadres, 999]) for h in households if rng.random() < 0.15}

        plan = allocate(households=households, cadres=cadres, current=current, locked=locked)

        honoured = {h: c for h, c in locked.items() if c in cadres}
        assert_contiguous(plan, households, honoured)
        assert all(plan.assignment[h] == c for h, c in honoured.items())
        if not plan.over_locked:
            assert_proportional(plan, n, k)
        fewest, holders_order, totals = _brute_force(households, cadres, current, locked)
        assert len(plan.moved) == fewest
        assert [c for c in plan.cadre_order if c in holders_order] == holders_order
        assert all(plan.totals[c] in allowed for c, allowed in totals.items()), (plan, totals)


def test_on_a_tie_the_larger_shares_fall_to_the_cadres_later_along_the_village():
    """Several plans may move equally few households; the rule that picks one: the cadres
    earlier along the village take w households and the w + 1 shares fall to those after them,
    so a village allocated afresh, or a household added at its end, is split predictably."""
    fresh = allocate(households=[1, 2, 3, 4, 5], cadres=[10, 20, 30], current={}, locked={})
    assert fresh.assignment == {1: 10, 2: 20, 3: 20, 4: 30, 5: 30}
    grown = allocate(
        households=[1, 2, 3, 4, 5], cadres=[10, 20], current={1: 10, 2: 10, 3: 20, 4: 20},
        locked={},
    )  # fmt: skip
    assert grown.assignment == {1: 10, 2: 10, 3: 20, 4: 20, 5: 20}
    assert grown.moved == ()
    # Today's cadres at both ends of a stretch nobody holds: the later one takes the extra.
    gap = allocate(households=[1, 2, 3, 4, 5], cadres=[10, 20], current={1: 10, 5: 20}, locked={})
    assert gap.assignment == {1: 10, 2: 10, 3: 20, 4: 20, 5: 20}
