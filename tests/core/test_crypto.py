"""Encryption at rest: the raw database columns hold no plaintext phone or ID number."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from pingan.core import crypto, pii
from pingan.regions.models import Household
from tests.factories import make_household, make_person, valid_id_number


def _raw_row(table: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return " ".join(str(value) for value in cursor.fetchone())


def test_household_row_holds_no_plaintext_phone_or_id(world):
    id_number = valid_id_number(77, birth="19800214")
    household = make_household(world.qiying, phone="13987654321", id_number=id_number)
    row = _raw_row(Household._meta.db_table, household.pk)
    assert "13987654321" not in row
    assert id_number not in row
    assert id_number[6:14] not in row  # not even the birth date
    assert "139****4321" in row  # the masked form is stored for screens
    stored = Household.objects.get(pk=household.pk)
    assert crypto.decrypt(stored.phone_ciphertext) == "13987654321"
    assert crypto.decrypt(stored.id_number_ciphertext) == id_number


def test_exact_lookup_by_keyed_hash(world):
    household = make_household(world.qiying, phone="13987654321")
    found = Household.objects.filter(phone_digest=pii.phone_digest("139-8765-4321"))
    assert list(found) == [household]


def test_cadre_phone_is_encrypted_too(world):
    person = make_person(world.qiying, phone="13711112222")
    row = _raw_row("accounts_person", person.pk)
    assert "13711112222" not in row
    assert person.phone_masked == "137****2222"


def test_wrong_key_cannot_decrypt(settings):
    ciphertext = crypto.encrypt("13812345678")
    settings.PINGAN_DATA_KEY = crypto.generate_master_key()
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(ciphertext)


@pytest.mark.parametrize("bad", ["short", "!!!not base64!!!", "YWJj"])
def test_bad_master_key_is_refused_clearly(bad):
    with pytest.raises(ImproperlyConfigured, match="PINGAN_DATA_KEY"):
        crypto.check_master_key(bad)


def test_missing_key_is_refused_clearly(settings):
    settings.PINGAN_DATA_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="PINGAN_DATA_KEY"):
        crypto.encrypt("x")
