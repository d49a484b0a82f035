from pingan.regions.selectors import village_list_with_progress, village_totals
from tests.factories import make_campaign, make_household, make_person


def test_world_and_progress(world, django_assert_max_num_queries):
    make_household(world.qiying)
    make_household(world.qiying)
    make_person(world.qiying)
    make_campaign(world.town, {world.qiying: 450, world.xinqiao: 577})
    from pingan.campaigns.selectors import campaign_current

    campaign = campaign_current(town=world.town)
    with django_assert_max_num_queries(1):
        rows = list(
            village_list_with_progress(user=world.users["town_admin"], campaign=campaign)
            .values("name", "quota", "roster_households", "cadre_count")
        )
    assert rows == [
        {"name": "七营村", "quota": 450, "roster_households": 2, "cadre_count": 1},
        {"name": "新桥村", "quota": 577, "roster_households": 0, "cadre_count": 0},
    ]
    totals = village_totals(
        villages=village_list_with_progress(user=world.users["town_admin"], campaign=campaign),
        campaign=campaign,
    )
    assert totals["quota"] == 1027
