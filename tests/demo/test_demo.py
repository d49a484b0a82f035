"""`pingan demo --no-serve`: the seed town with a full synthetic roster, cadres and logins."""

import datetime as dt
import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Count, Max, Sum

from pingan.accounts.models import Person, Role, User
from pingan.campaigns.models import Assignment, LeafletIssue, VillageQuota
from pingan.core import clock, crypto, pii
from pingan.demo.town import DEMO_PASSWORD, cadres_for, demo_logins_ensure
from pingan.regions.models import Household, Region
from pingan.visits.models import ConcernItem, Visit
from tests.factories import make_user

pytestmark = pytest.mark.django_db

ROLE_SCOPES = {
    "town_admin": (Role.TOWN_ADMIN, "汝集镇"),
    "leader": (Role.LEADER, "汝集镇"),
    "village_admin": (Role.VILLAGE_ADMIN, "七营村"),
    "cadre": (Role.CADRE, "七营村"),
    "unit_handler": (Role.UNIT_HANDLER, "汝集镇"),
    "county_viewer": (Role.COUNTY_VIEWER, "利辛县"),
}


def demo() -> str:
    out = io.StringIO()
    call_command("demo", "--no-serve", "--visit-days", "2", stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture(autouse=True)
def _demo_home(settings, tmp_path):
    """The demo writes its clock file under PINGAN_HOME and sets PINGAN_DEMO_NOW in-process;
    both are undone when the test ends (pytest-django restores the settings)."""
    settings.PINGAN_HOME = tmp_path
    settings.PINGAN_DEMO_NOW = ""


def printed_logins(output: str) -> dict[str, str]:
    """username -> password, read from the table the demo prints."""
    logins = {}
    for line in output.splitlines():
        cells = line.split()
        if cells and cells[0] in ROLE_SCOPES:
            logins[cells[0]] = cells[1]
    return logins


def state() -> dict[str, object]:
    return {
        "households": Household.objects.count(),
        "people": Person.objects.count(),
        "users": list(User.objects.order_by("pk").values_list("pk", "password")),
        "regions": Region.objects.count(),
        "household_updated": Household.objects.aggregate(m=Max("updated_at"))["m"],
        "people_updated": Person.objects.aggregate(m=Max("updated_at"))["m"],
        "visits": Visit.objects.count(),
        "assignments": Assignment.objects.count(),
    }


def test_demo_builds_a_synthetic_town_once_and_its_logins_work(tmp_path):
    # First run: migrate (a no-op here), load_seed, the roster, cadres and logins.
    first = demo()

    town = Region.objects.get(kind=Region.Kind.TOWN, name="汝集镇")
    quotas = dict(
        VillageQuota.objects.filter(campaign__town=town).values_list("village__name", "quota")
    )
    households = dict(
        Household.objects.values_list("village__name").annotate(n=Count("pk")).order_by()
    )
    assert len(quotas) == 16
    assert all(households[name] >= quota for name, quota in quotas.items())
    assert sum(households.values()) < sum(quotas.values()) * 1.07
    assert not Household.objects.filter(synthetic=False).exists()
    assert "合成演示数据" in first

    # Every stored phone and ID number decrypts to the value its keyed digest was made from;
    # the digests were made from values pii had validated, and a sample is validated again
    # here (all of them would add seconds; test_synthetic validates every generated value).
    rows = Household.objects.order_by("pk").values_list(
        "phone_ciphertext", "phone_digest", "id_number_ciphertext", "id_number_digest"
    )
    for n, (phone_ct, phone_digest, id_ct, id_digest) in enumerate(rows.iterator(2000)):
        id_number = crypto.decrypt(id_ct)
        assert crypto.lookup_hash(pii.ID_NUMBER, id_number) == id_digest
        phone = crypto.decrypt(phone_ct) if phone_ct else ""
        if phone:
            assert crypto.lookup_hash(pii.PHONE, phone) == phone_digest
        else:
            assert phone_digest == ""
        if n % 10 == 0:
            assert pii.normalize_id_number(id_number) == id_number
            assert not phone or pii.normalize_phone(phone) == phone

    # Cadres in proportion to each village's roster, mostly the village's own people.
    cadres = dict(
        Person.objects.filter(active=True)
        .values_list("visit_village__name")
        .annotate(n=Count("pk"))
        .order_by()
    )
    assert cadres == {name: cadres_for(n) for name, n in households.items()}
    assert Person.objects.filter(home_unit__isnull=False).count() < Person.objects.count() / 5
    assert not Person.objects.filter(synthetic=False).exists()

    # One login per role, each scoped as printed, each signing in with the printed password.
    logins = printed_logins(first)
    assert set(logins) == set(ROLE_SCOPES)
    for username, password in logins.items():
        user = authenticate(username=username, password=password)
        assert user is not None, username
        role, scope = ROLE_SCOPES[username]
        assert (user.role, user.region.name) == (role, scope)
    assert User.objects.get(username="unit_handler").unit.name == "汝集派出所"
    assert Person.objects.get(user__username="cadre").visit_village.name == "七营村"

    # 分片包干 done through the same service as `pingan allocate`: nobody left unassigned.
    assert (
        not Household.objects.filter(status="active")
        .exclude(assignments__ended_at__isnull=True)
        .exists()
    )
    assert Assignment.objects.filter(cadre__user__username="cadre", ended_at__isnull=True).exists()
    # Two days of visits through visit_sync: reached households, revisits, concerns.
    outcomes = dict(Visit.objects.values_list("outcome").annotate(n=Count("pk")).order_by())
    assert outcomes["completed"] > 5 * outcomes["not_home"] > 0
    assert ConcernItem.objects.filter(kind="answer", concern__visit__isnull=False).exists()
    assert {d.date() for d in Visit.objects.values_list("ended_at", flat=True)} <= {
        dt.date(2021, 10, 16), dt.date(2021, 10, 17)
    }  # fmt: skip
    # Every village collected one leaflet per roster household, in bundles of 50, on 10-14.
    issued = dict(
        LeafletIssue.objects.values_list("village__name").annotate(n=Sum("quantity")).order_by()
    )
    assert issued == {name: -(-n // 50) * 50 for name, n in households.items()}
    pinned = (tmp_path / "demo-clock").read_text()
    assert pinned.startswith("2021-10-17T19:45:00+08:00@")  # pinned to the real moment
    assert clock.today() == dt.date(2021, 10, 17)  # the demo server's clock

    # Second run: nothing new, nothing rewritten, the same logins still work.
    before = state()
    second = demo()

    assert state() == before
    assert (tmp_path / "demo-clock").read_text() == pinned  # the clock runs on, never back
    assert "无变化" in second
    assert "不再重复生成" in second
    assert printed_logins(second) == logins


def test_demo_logins_are_created_once_and_a_changed_password_is_reset():
    call_command("load_seed", stdout=io.StringIO())
    town = Region.objects.get(kind=Region.Kind.TOWN, name="汝集镇")
    first = demo_logins_ensure(town=town)
    user = User.objects.get(username="leader")
    user.set_password("something-else-123")
    user.save()

    again = demo_logins_ensure(town=town)

    assert again == first
    assert User.objects.filter(username__in=ROLE_SCOPES).count() == len(ROLE_SCOPES)
    assert authenticate(username="leader", password=DEMO_PASSWORD) is not None
    # Without a synthetic roster the cadre login still gets its own cadre profile, once.
    assert Person.objects.filter(user__username="cadre", synthetic=True).count() == 1


def test_a_user_with_a_demo_username_but_another_role_is_left_alone(world):
    # Given a real user called "leader" with another role, and the seed town loaded.
    User.objects.filter(username="leader").update(username="old-leader")
    real = make_user(Role.VILLAGE_ADMIN, world.xinqiao, username="leader", password="real-pass-1")
    call_command("load_seed", stdout=io.StringIO())

    logins = {x.username: x for x in demo_logins_ensure(town=world.town)}

    assert logins["leader"].note
    assert authenticate(username="leader", password="real-pass-1") == real
    assert authenticate(username="town_admin", password=DEMO_PASSWORD) is not None
