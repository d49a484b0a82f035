"""The in-app inbox (站内消息) and text messages to users.

`notify` is idempotent by `key`: a user never gets the same notice twice, however often the
caller runs (tick, a retried request). Text messages go only for notices that are new.
"""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet

from pingan.accounts.models import Notification, Person, User
from pingan.core import clock, crypto
from pingan.core.sms import sms_send
from pingan.regions.models import Region


def notify(
    *,
    users: Iterable[User],
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    key: str,
    sms: bool = False,
) -> list[Notification]:
    """Put a notice in each user's inbox (once per key) and, with `sms`, text them after the
    surrounding transaction commits. Returns the notices that are new."""
    recipients = {user.pk: user for user in users if user.is_active}
    if not recipients:
        return []
    already = set(
        Notification.objects.filter(recipient_id__in=recipients, key=key).values_list(
            "recipient_id", flat=True
        )
    )
    now = clock.now()
    new = [
        Notification(
            recipient_id=pk, kind=kind, title=title, body=body, link=link, key=key,
            created_at=now,
        )
        for pk in recipients
        if pk not in already
    ]  # fmt: skip
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    if sms and new:
        phones = [user_phone(recipients[n.recipient_id]) for n in new]
        text = f"【平安走访】{title}"
        transaction.on_commit(lambda: [sms_send(phone=p, text=text) for p in phones if p])
    return new


def user_phone(user: User) -> str:
    """The user's own phone, else their cadre profile's; "" when neither is known."""
    ciphertext = user.phone_ciphertext
    if not ciphertext:
        person = Person.objects.filter(user=user).only("phone_ciphertext").first()
        ciphertext = person.phone_ciphertext if person else ""
    return crypto.decrypt(ciphertext) if ciphertext else ""


def users_with_role_over(*, role: str, region: Region) -> QuerySet[User]:
    """Active users of `role` whose region contains `region` (the town's admins, leaders)."""
    ancestors = [code for code in region.path.strip("/").split("/") if code]
    return User.objects.filter(role=role, is_active=True, region__code__in=ancestors)


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


@transaction.atomic
def notification_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the user's notices read (all of them when `ids` is None); returns how many."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=clock.now())
