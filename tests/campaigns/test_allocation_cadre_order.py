"""Cadres who already hold households keep their order along the village, by the median
position of the households they hold (the middle one, or the mean of the two middle ones)."""

from pingan.campaigns.allocation import allocate

A, B = 1, 2


def test_a_cadre_whose_median_household_comes_first_keeps_the_first_run():
    """7 households, shares 3 and 4. A holds 0, 2, 3, 5, 6 (median 3); B holds 1 and 4
    (median (1 + 4) ÷ 2 = 2.5), so B's 片 comes first. B takes 0–2 and A 3–6: three
    households move (0 and 2 to B, 4 to A); B taking four would move four."""
    current = {0: A, 1: B, 2: A, 3: A, 4: B, 5: A, 6: A}

    plan = allocate(households=list(range(7)), cadres=[A, B], current=current, locked={})

    assert plan.cadre_order == (B, A)
    assert plan.assignment == {0: B, 1: B, 2: B, 3: A, 4: A, 5: A, 6: A}
    assert plan.moved == (0, 2, 4)


def test_half_a_position_decides_the_order():
    """8 households, 4 each. A holds 1 and 4 (median 2.5); B holds 0, 2 and 7 (median 2), so
    B comes first although A is first on the roster: B takes 0–3 and A 4–7, moving 1 (to B)
    and 7 (to A); 3, 5 and 6 were unassigned."""
    current = {0: B, 1: A, 2: B, 4: A, 7: B}

    plan = allocate(households=list(range(8)), cadres=[A, B], current=current, locked={})

    assert plan.cadre_order == (B, A)
    assert plan.assignment == {0: B, 1: B, 2: B, 3: B, 4: A, 5: A, 6: A, 7: A}
    assert plan.moved == (1, 7)
