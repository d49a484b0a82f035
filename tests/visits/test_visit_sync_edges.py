"""Visit sync at its edges: a visit of no length, which questionnaire a visit keeps, over-long
device fields, a batch of exactly the limit, the visits layer alone, a race lost by one item
of a batch, and confirming a vacancy outside any surrounding transaction."""

import datetime as dt

import pytest

from pingan.accounts.models import Role
from pingan.surveys.answers import AnswerIn
from pingan.visits import services
from pingan.visits.models import Visit
from pingan.visits.services import BATCH_LIMIT, visit_sync, visit_vacancy_confirm
from tests.factories import visit_in


def test_a_visit_that_ends_the_second_it_starts_is_stored(world, field):
    item = visit_in(field.households[0], field.questionnaire)
    item = visit_in(field.households[0], field.questionnaire, ended_at=item.started_at)

    [result] = visit_sync(actor=world.users[Role.CADRE], items=[item])

    assert (result.status, result.errors) == ("created", [])


def test_a_visit_keeps_its_questionnaire_only_when_it_carries_answers(world, field):
    """A completed visit is stored with the questionnaire it answered; a not-at-home visit
    that names one anyway (no answers) is stored without it, so it is no questionnaire."""
    completed = visit_in(field.households[0], field.questionnaire)
    not_home = visit_in(field.households[1], field.questionnaire, outcome="not_home", answers=())

    results = visit_sync(actor=world.users[Role.CADRE], items=[completed, not_home])

    assert [r.status for r in results] == ["created", "created"]
    stored = {v.uuid: v.questionnaire_id for v in Visit.objects.all()}
    assert stored == {completed.uuid: field.questionnaire.pk, not_home.uuid: None}


def test_an_over_long_device_id_and_app_version_are_cut_to_their_columns(world, field):
    item = visit_in(field.households[0], field.questionnaire, device_id="d" * 120,
                    app_version="v" * 50)  # fmt: skip

    visit_sync(actor=world.users[Role.CADRE], items=[item])

    visit = Visit.objects.get(uuid=item.uuid)
    assert (visit.device_id, visit.app_version) == ("d" * 100, "v" * 40)


def test_a_batch_of_exactly_the_limit_is_taken(world, field):
    """200 items (the same visit sent 200 times): one is stored, the rest are duplicates."""
    item = visit_in(field.households[0], field.questionnaire)

    results = visit_sync(actor=world.users[Role.CADRE], items=[item] * BATCH_LIMIT)

    assert BATCH_LIMIT == 200
    assert [r.status for r in results] == ["created"] + ["duplicate"] * 199
    with pytest.raises(ValueError, match="200"):
        visit_sync(actor=world.users[Role.CADRE], items=[item] * 201)


def test_a_replay_answers_the_original_visit_and_its_concern(world, field):
    cadre = world.users[Role.CADRE]
    item = visit_in(field.households[0], field.questionnaire,
                    answers=(AnswerIn("safety", ("不安全",)),))  # fmt: skip
    [first] = services.visit_sync(actor=cadre, items=[item])

    [again] = services.visit_sync(actor=cadre, items=[item])

    assert first.concern_id is not None
    assert (again.status, again.visit_id, again.concern_id) == (
        "duplicate", first.visit_id, first.concern_id,
    )  # fmt: skip


def test_losing_the_race_for_one_item_still_stores_the_others(world, field, monkeypatch):
    """The other request stores the first item's uuid between our lookup and our insert: the
    batch falls back to one item at a time; the first is the duplicate it now is, the second
    is stored."""
    cadre = world.users[Role.CADRE]
    raced = visit_in(field.households[0], field.questionnaire)
    other = visit_in(field.households[1], field.questionnaire)
    real_check = services._check
    done: list[str] = []

    def check_after_the_other_request(*args, **kwargs):
        if not done:
            done.append("racing")
            done[0] = visit_sync(actor=cadre, items=[raced])[0].status
        return real_check(*args, **kwargs)

    monkeypatch.setattr(services, "_check", check_after_the_other_request)
    results = visit_sync(actor=cadre, items=[raced, other])

    assert done == ["created"]
    assert [r.status for r in results] == ["duplicate", "created"]
    assert Visit.objects.filter(uuid__in=[raced.uuid, other.uuid]).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_vacancy_is_confirmed_in_a_transaction_of_its_own(world, field):
    """Outside the test's own transaction (as a page request runs in production), confirming
    locks the visit in the service's transaction and records who confirmed it."""
    item = visit_in(field.households[0], None, outcome="vacant", answers=(),
                    ended_at=dt.datetime(2021, 10, 18, 9, 30, tzinfo=dt.UTC))  # fmt: skip
    visit_sync(actor=world.users[Role.CADRE], items=[item])
    visit = Visit.objects.get(uuid=item.uuid)

    visit_vacancy_confirm(visit=visit, actor=world.users[Role.VILLAGE_ADMIN])

    visit.refresh_from_db()
    assert visit.vacancy_confirmed_by == world.users[Role.VILLAGE_ADMIN]
    assert visit.household.status == "vacant"


def _vacant_visit(world, field) -> Visit:
    item = visit_in(field.households[0], None, outcome="vacant", answers=())
    visit_sync(actor=world.users[Role.CADRE], items=[item])
    return Visit.objects.get(uuid=item.uuid)


def test_confirming_a_vacancy_twice_keeps_the_first_confirmation(world, field):
    visit = _vacant_visit(world, field)
    visit_vacancy_confirm(visit=visit, actor=world.users[Role.VILLAGE_ADMIN])
    visit.refresh_from_db()
    first = (visit.vacancy_confirmed_at, visit.vacancy_confirmed_by)

    visit_vacancy_confirm(visit=visit, actor=world.users[Role.TOWN_ADMIN])

    visit.refresh_from_db()
    assert (visit.vacancy_confirmed_at, visit.vacancy_confirmed_by) == first
    assert first[1] == world.users[Role.VILLAGE_ADMIN]


def test_only_a_vacant_visit_is_confirmed_and_only_by_the_admins(world, field):
    completed = visit_in(field.households[1], field.questionnaire)
    visit_sync(actor=world.users[Role.CADRE], items=[completed])
    with pytest.raises(ValueError, match="只有“空挂户”走访需要确认"):
        visit_vacancy_confirm(visit=Visit.objects.get(uuid=completed.uuid),
                              actor=world.users[Role.VILLAGE_ADMIN])  # fmt: skip
    vacant = _vacant_visit(world, field)
    with pytest.raises(services.VacancyConfirmDenied):
        visit_vacancy_confirm(visit=vacant, actor=world.users[Role.CADRE])
    vacant.refresh_from_db()
    assert vacant.vacancy_confirmed_at is None
