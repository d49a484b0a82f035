"""The demo site writes on its clock: a database built the way `pingan demo` builds it, then
used through the pages and the API as the demo logins would, never stores a time behind the
demo clock, counts a visit synced there on the demo's day, and lets the village admin and
the town center reassign households and hand a cadre's households over."""

import datetime as dt
import io
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.models import Max
from django.test import Client
from django.utils import timezone

from pingan.accounts.models import Notification, Person, User
from pingan.campaigns.models import Assignment, Campaign, LeafletIssue
from pingan.core import clock
from pingan.demo.town import DEMO_PASSWORD
from pingan.ledger.models import ProblemEvent
from pingan.regions.models import Household, ImportBatch, Region
from pingan.reports.models import ExportJob
from pingan.visits.models import Visit

pytestmark = pytest.mark.django_db

DEMO_DAY = dt.date(2021, 10, 16)  # `--visit-days 1`: the demo clock starts that evening


@pytest.fixture
def demo(settings, tmp_path) -> Region:
    """The demo's database (one day of visits) and its clock, as `pingan demo` leaves them."""
    settings.PINGAN_HOME = tmp_path
    settings.PINGAN_DEMO_NOW = ""
    call_command(
        "demo", "--no-serve", "--visit-days", "1", stdout=io.StringIO(), stderr=io.StringIO()
    )
    assert settings.PINGAN_DEMO_NOW.startswith("2021-10-16T19:45")
    return Region.objects.get(name="七营村")


def signed_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


def check_nothing_is_dated_after_the_clock() -> None:
    now = clock.now()
    assert clock.local(now).date() == DEMO_DAY
    stored = {
        "import records": ImportBatch.objects.aggregate(at=Max("created_at"))["at"],
        "households": Household.objects.aggregate(at=Max("created_at"))["at"],
        "cadres": Person.objects.aggregate(at=Max("created_at"))["at"],
        "logins": User.objects.aggregate(at=Max("date_joined"))["at"],
        "campaign": Campaign.objects.aggregate(at=Max("created_at"))["at"],
        "assignments": Assignment.objects.aggregate(at=Max("started_at"))["at"],
        "leaflets": LeafletIssue.objects.aggregate(at=Max("issued_at"))["at"],
        "visits": Visit.objects.aggregate(at=Max("received_at"))["at"],
        "ledger events": ProblemEvent.objects.aggregate(at=Max("at"))["at"],
        "notifications": Notification.objects.aggregate(at=Max("created_at"))["at"],
    }
    assert all(at is not None for at in stored.values()), stored
    assert {what: at for what, at in stored.items() if at > now} == {}
    # The demo's own rosters were imported and split in the mobilization phase (10-10..10-15).
    demo_imports = ImportBatch.objects.filter(actor__isnull=True).values_list("created_at")
    assert {clock.local(at).date() for (at,) in demo_imports} == {dt.date(2021, 10, 12)}


def check_a_visit_synced_there_is_stored_and_counted_on_the_demo_day(demo: Region) -> None:
    cadre = signed_in("cadre")
    page = cadre.get("/field/")
    offset_ms = int(re.search(r'data-clock-offset-ms="(-?\d+)"', page.content.decode())[1])
    # What the field page's script does: the phone's clock plus the demo clock's lead.
    phone_now = timezone.now() + dt.timedelta(milliseconds=offset_ms)
    person = Person.objects.get(user__username="cadre")
    reached = Visit.objects.filter(counts=True).values("household_id")
    household = (
        Assignment.objects.filter(cadre=person, ended_at__isnull=True)
        .exclude(household__in=reached)
        .order_by("household_id")
        .first()
        .household
    )
    admin = signed_in("village_admin")
    before = admin.get(f"/api/v1/villages/{demo.pk}").json()

    response = cadre.post(
        "/api/v1/visits/sync",
        {
            "visits": [
                {
                    "uuid": str(uuid.uuid4()),
                    "household_id": household.pk,
                    "outcome": "refused",
                    "started_at": (phone_now - dt.timedelta(minutes=5)).isoformat(),
                    "ended_at": phone_now.isoformat(),
                }
            ]
        },
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    assert [r["status"] for r in response.json()["results"]] == ["created"]
    visit = Visit.objects.get(household=household)
    assert {
        clock.local(visit.started_at).date(),
        clock.local(visit.ended_at).date(),
        clock.local(visit.received_at).date(),
    } == {DEMO_DAY}
    after = admin.get(f"/api/v1/villages/{demo.pk}").json()
    assert after["reached_today"] == before["reached_today"] + 1
    assert after["reached_households"] == before["reached_households"] + 1


def check_reassigning_and_handing_over(demo: Region, username: str) -> None:
    client = signed_in(username)
    cadres = list(Person.objects.filter(visit_village=demo, active=True).order_by("pk"))
    household = (
        Assignment.objects.filter(household__village=demo, ended_at__isnull=True)
        .exclude(cadre=cadres[1])
        .order_by("household_id")
        .first()
        .household
    )
    base = f"/villages/{demo.pk}/allocation"

    assigned = client.post(
        f"{base}/assign/", {"household": household.pk, "cadre": cadres[1].pk, "note": "就近"}
    )
    leaving = cadres[2]
    theirs = Assignment.objects.filter(cadre=leaving, ended_at__isnull=True).count()
    handed = client.post(f"{base}/handover/", {"cadre": leaving.pk, "to_cadre": cadres[3].pk})

    assert assigned.status_code == handed.status_code == 302
    current = Assignment.objects.get(household=household, ended_at__isnull=True)
    assert (current.cadre, current.source, current.note) == (cadres[1], "manual", "就近")
    assert clock.local(current.started_at).date() == DEMO_DAY
    assert theirs > 0
    assert not Assignment.objects.filter(cadre=leaving, ended_at__isnull=True).exists()
    assert (
        Assignment.objects.filter(cadre=cadres[3], source="handover", ended_at__isnull=True).count()
        == theirs
    )
    page = client.get(f"{base}/")
    assert page.status_code == 200
    assert f"{leaving.name}已离岗，{theirs} 户已交接。" in page.content.decode()


def check_an_import_and_an_export_are_dated_on_the_demo_day(demo: Region, on_commit) -> None:
    admin = signed_in("village_admin")
    roster = "户主姓名,组,家庭住址\n张新来,1,七营村一组新建1号\n".encode()
    imported = admin.post(
        "/imports/households/",
        {"file": SimpleUploadedFile("新增住户.csv", roster), "village": demo.pk},
    )
    assert imported.status_code == 302, imported.content.decode()[:500]
    batch = ImportBatch.objects.order_by("-pk").first()
    assert (batch.created_count, clock.local(batch.created_at).date()) == (1, DEMO_DAY)
    center = signed_in("town_admin")
    with on_commit(execute=True):  # the job is queued once the request commits
        asked = center.post("/exports/", {"village_id": demo.pk})
    assert asked.status_code == 302
    job = ExportJob.objects.get()  # run at once: the test settings' task queue is immediate
    assert job.status == ExportJob.Status.DONE
    assert {clock.local(job.created_at).date(), clock.local(job.finished_at).date()} == {DEMO_DAY}
    assert job.created_at <= job.finished_at <= clock.now()


def test_the_demo_site_writes_on_its_clock_and_its_allocation_pages_work(
    demo, django_capture_on_commit_callbacks
):
    """One demo build (about half a minute) for every check."""
    check_nothing_is_dated_after_the_clock()
    check_a_visit_synced_there_is_stored_and_counted_on_the_demo_day(demo)
    check_reassigning_and_handing_over(demo, "village_admin")
    check_reassigning_and_handing_over(demo, "town_admin")
    check_an_import_and_an_export_are_dated_on_the_demo_day(
        demo, django_capture_on_commit_callbacks
    )
    check_nothing_is_dated_after_the_clock()
