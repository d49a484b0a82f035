"""factory_boy factories. Personal data goes through the same sealing services as production."""

import datetime as dt
import hashlib
import itertools
import json
import uuid

import factory
from stdnum.cn import ric

from pingan.accounts import services as account_services
from pingan.accounts.models import Person, Role, Unit, User
from pingan.campaigns.models import Assignment, Campaign, Phase, VillageQuota
from pingan.regions.models import Household, Region
from pingan.regions.services import HouseholdData, household_build, region_path
from pingan.surveys.answers import AnswerIn
from pingan.surveys.models import Questionnaire
from pingan.visits.services import VisitIn

_ids = itertools.count(1)

# The notice's 16 villages of 汝集镇 and their quotas, in the notice's order, typed in from
# seed/notice.txt (not read from the seed file, so the seed is checked against the notice).
NOTICE_QUOTAS = {
    "秦四庙村": 550,
    "七营村": 450,
    "新桥村": 577,
    "汝集一村": 769,
    "汝园村": 1063,
    "后路村": 453,
    "庄营村": 548,
    "袁堂村": 1072,
    "刘店村": 472,
    "胜利村": 956,
    "李营村": 687,
    "朱集村": 862,
    "夏寨村": 597,
    "中华村": 808,
    "汝集二村": 890,
    "街南村": 513,
}


def valid_id_number(serial: int, birth: str = "19700101", area: str = "341623") -> str:
    body = f"{area}{birth}{serial % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def valid_phone(serial: int) -> str:
    return f"138{serial % 100_000_000:08d}"


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    kind = Region.Kind.VILLAGE
    name = factory.Sequence(lambda n: f"测试村{n}")
    code = factory.Sequence(lambda n: f"{900000000000 + n}")
    parent = None
    path = factory.LazyAttribute(lambda o: region_path(parent=o.parent, code=o.code))


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    name = factory.Sequence(lambda n: f"测试单位{n}")
    kind = Unit.Kind.TOWN_OFFICE


def make_household(village: Region, **overrides) -> Household:
    n = next(_ids)
    data = HouseholdData(
        village=village,
        head_name=overrides.pop("head_name", f"王{'一二三四五六七八九十'[n % 10]}"),
        address=overrides.pop("address", f"{village.name}{n}号"),
        group_no=overrides.pop("group_no", 1 + n % 5),
        phone=overrides.pop("phone", valid_phone(n)),
        id_number=overrides.pop("id_number", valid_id_number(n)),
        size=overrides.pop("size", 3),
        synthetic=overrides.pop("synthetic", False),
    )
    household = household_build(data)
    for key, value in overrides.items():
        setattr(household, key, value)
    household.save()
    return household


def make_user(role: str, region: Region, *, unit: Unit | None = None, **kw) -> User:
    return account_services.user_create(
        username=kw.pop("username", f"{role}-{next(_ids)}"),
        role=role,
        region=region,
        unit=unit,
        password=kw.pop("password", "pass-word-123"),
        full_name=kw.pop("full_name", "测试用户"),
        **kw,
    )


def make_person(village: Region, **kw) -> Person:
    return account_services.person_create(
        name=kw.pop("name", "李四"),
        visit_village=village,
        phone=kw.pop("phone", valid_phone(next(_ids))),
        **kw,
    )


def make_campaign(town: Region, quotas: dict[Region, int], **kw) -> Campaign:
    import datetime as dt

    campaign = Campaign.objects.create(
        town=town,
        name=kw.pop("name", f"{town.name}千家万户访平安"),
        start_date=kw.pop("start_date", dt.date(2021, 10, 10)),
        end_date=kw.pop("end_date", dt.date(2021, 11, 20)),
        **kw,
    )
    Phase.objects.create(
        campaign=campaign,
        kind=Phase.Kind.VISITING,
        start_date=dt.date(2021, 10, 16),
        end_date=dt.date(2021, 11, 15),
    )
    for village, quota in quotas.items():
        VillageQuota.objects.create(campaign=campaign, village=village, quota=quota)
    return campaign


def make_assignment(campaign: Campaign, household: Household, cadre: Person, **kw) -> Assignment:
    """A current assignment written directly (tests of scope and coverage); services make
    the real ones."""
    return Assignment.objects.create(
        campaign=campaign,
        household=household,
        cadre=cadre,
        source=kw.pop("source", Assignment.Source.MANUAL),
        **kw,
    )


START = dt.datetime(2021, 10, 18, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai


def visit_in(household: Household, questionnaire: Questionnaire | None, **overrides) -> VisitIn:
    """A completed visit with a full, positive questionnaire unless overridden."""
    answers = overrides.pop(
        "answers",
        (
            AnswerIn("safety", ("安全",)),
            AnswerIn("police", ("满意",)),
            AnswerIn("aware", ("知道",)),
        ),
    )
    base = {
        "uuid": overrides.pop("uuid", uuid.uuid4()),
        "household_id": household.pk,
        "outcome": overrides.pop("outcome", "completed"),
        "started_at": START,
        "ended_at": START + dt.timedelta(minutes=11),
        "questionnaire_id": questionnaire.pk if questionnaire else None,
        "answers": tuple(answers),
        "leaflet_handed": True,
        **overrides,
    }
    canonical = json.dumps({k: repr(v) for k, v in base.items()}, sort_keys=True)
    return VisitIn(digest=hashlib.sha256(canonical.encode()).hexdigest(), **base)


__all__ = [
    "NOTICE_QUOTAS",
    "RegionFactory",
    "Role",
    "UnitFactory",
    "make_assignment",
    "make_campaign",
    "make_household",
    "make_person",
    "make_user",
    "valid_id_number",
    "valid_phone",
    "visit_in",
]
