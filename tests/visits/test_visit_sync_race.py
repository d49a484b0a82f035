"""Two requests with the same uuid at the same moment leave exactly one visit."""

import threading

import pytest
from django.db import connection

from pingan.accounts.models import Role
from pingan.visits.models import Visit
from pingan.visits.services import visit_sync
from tests.factories import visit_in


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_threads_submitting_the_same_uuid_leave_one_visit(world, field, attempt):
    item = visit_in(field.households[0], field.questionnaire)
    cadre = world.users[Role.CADRE]
    barrier = threading.Barrier(2)
    statuses: list[str] = []
    failures: list[BaseException] = []

    def submit() -> None:
        try:
            barrier.wait(timeout=10)
            [result] = visit_sync(actor=cadre, items=[item])
            statuses.append(result.status)
        except BaseException as exc:  # reported to the test thread below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert sorted(statuses) == ["created", "duplicate"]
    assert Visit.objects.filter(uuid=item.uuid).count() == 1


def test_losing_the_uuid_race_answers_as_a_replay(world, field, monkeypatch):
    """The other request stores the uuid between our lookup and our insert: the unique
    constraint refuses ours, and the item is reported as the duplicate it is."""
    from pingan.visits import services

    item = visit_in(field.households[0], field.questionnaire)
    cadre = world.users[Role.CADRE]
    real_check = services._check
    raced: list[str] = []

    def check_after_the_other_request(*args, **kwargs):
        if not raced:
            raced.append("racing")
            raced[0] = visit_sync(actor=cadre, items=[item])[0].status
        return real_check(*args, **kwargs)

    monkeypatch.setattr(services, "_check", check_after_the_other_request)
    [result] = visit_sync(actor=cadre, items=[item])
    assert raced == ["created"]
    assert result.status == "duplicate"
    assert Visit.objects.filter(uuid=item.uuid).count() == 1
