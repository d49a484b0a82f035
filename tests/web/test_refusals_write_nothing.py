"""The check every test runs (tests/conftest.py): a POST answered with a 4xx must leave every
table as it was. Here it is shown to catch a refused request that wrote, and to let through a
refusal that wrote nothing."""

import pytest
from django.core.exceptions import PermissionDenied

from pingan.accounts.models import Role
from pingan.regions.models import Region
from pingan.web import allocation


def test_a_refused_request_that_wrote_fails_the_test(world, login, monkeypatch):
    def writes_then_refuses(request, village_id):
        Region.objects.filter(pk=village_id).update(name="改过名的村")
        raise PermissionDenied

    monkeypatch.setattr(allocation, "_village", writes_then_refuses)
    client = login(world.users[Role.VILLAGE_ADMIN])
    with pytest.raises(AssertionError, match=r"refused \(403\) but wrote to \['regions_region'\]"):
        client.post(f"/villages/{world.qiying.pk}/allocation/apply/")


def test_a_refusal_that_wrote_nothing_passes(world, login):
    client = login(world.users[Role.LEADER])  # may see the village, may not allocate
    response = client.post(f"/villages/{world.qiying.pk}/allocation/apply/")
    assert response.status_code == 403
