"""What a plan reports about its shares (w and w + 1), whether it is balanced and who is
over-locked, worked out by hand for small villages; and where group 0 goes in the order."""

from pingan.campaigns.allocation import allocate, household_order


def test_ten_households_for_three_cadres_are_shares_of_three_and_four():
    plan = allocate(households=list(range(10)), cadres=[1, 2, 3], current={}, locked={})

    assert plan.share == (3, 4)
    assert sorted(plan.totals.values()) == [3, 3, 4]
    assert (plan.balanced, plan.over_locked) == (True, ())


def test_without_cadres_the_share_is_nothing():
    plan = allocate(households=[1, 2, 3], cadres=[], current={}, locked={})
    assert (plan.share, plan.totals) == ((0, 0), {})


def test_totals_two_apart_are_not_balanced():
    """5 households, 3 cadres, cadre 1 holds 3 by hand: shares of 1 for the two others, so
    the totals are 3, 1, 1."""
    plan = allocate(households=list(range(5)), cadres=[1, 2, 3], current={},
                    locked={0: 1, 1: 1, 2: 1})  # fmt: skip

    assert plan.totals == {1: 3, 2: 1, 3: 1}
    assert (plan.share, plan.over_locked, plan.balanced) == ((1, 2), (1,), False)


def test_locks_that_leave_less_than_one_household_each():
    """6 households, 3 cadres, cadre 1 holds 5 by hand: the one household left goes to one
    of the two others (shares of 0 and 1)."""
    plan = allocate(households=list(range(6)), cadres=[1, 2, 3], current={},
                    locked={h: 1 for h in range(5)})  # fmt: skip

    assert plan.totals[1] == 5
    assert sorted([plan.totals[2], plan.totals[3]]) == [0, 1]
    assert (plan.share, plan.over_locked, plan.balanced) == ((0, 1), (1,), False)
    assert plan.assignment[5] in (2, 3)


def test_a_cadre_whose_locks_exactly_fill_a_share_is_not_over_locked():
    """6 households, 3 cadres, cadre 1 holds 2 by hand: exactly the share of 2."""
    plan = allocate(households=list(range(6)), cadres=[1, 2, 3], current={},
                    locked={0: 1, 1: 1})  # fmt: skip

    assert plan.totals == {1: 2, 2: 2, 3: 2}
    assert (plan.share, plan.over_locked, plan.balanced) == ((2, 3), (), True)


def test_group_0_comes_before_group_1():
    rows = [(1, 1, "1号"), (2, 0, "2号"), (3, None, "3号")]
    assert household_order(rows) == [2, 1, 3]
