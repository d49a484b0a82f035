"""Writes owned by core: the personal-data access log."""

from django.db import transaction

from pingan.core import crypto
from pingan.core.models import PersonalDataAccess


@transaction.atomic
def pii_access_log(
    *,
    actor,
    subject_type: str,
    subject_id: int,
    field: str,
    ciphertext: str,
    purpose: str = "",
    ip_address: str | None = None,
) -> str:
    """Decrypt one value for `actor` and record that they saw it. Callers check the right first."""
    PersonalDataAccess.objects.create(
        actor=actor,
        subject_type=subject_type,
        subject_id=subject_id,
        field=field,
        purpose=purpose[:200],
        ip_address=ip_address,
    )
    return crypto.decrypt(ciphertext) if ciphertext else ""
