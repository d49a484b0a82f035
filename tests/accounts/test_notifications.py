"""The in-app inbox and the pluggable text-message gateway."""

import logging

from pingan.accounts.models import Notification, Role
from pingan.accounts.notifications import (
    notification_mark_read,
    notification_unread_count,
    notify,
    user_phone,
)
from pingan.core.pii import seal_phone
from pingan.core.sms import LogSmsGateway, sms_send


class BrokenGateway:
    def send(self, *, phone: str, text: str) -> None:
        raise ConnectionError("gateway down")


def test_a_notice_with_the_same_key_is_delivered_once(world, django_capture_on_commit_callbacks):
    from pingan.core.sms import MemorySmsGateway

    MemorySmsGateway.outbox.clear()
    town = world.users[Role.TOWN_ADMIN]
    town.set_phone(seal_phone("13812345678"))
    town.save()
    with django_capture_on_commit_callbacks(execute=True):
        first = notify(users=[town], kind="t", title="标题", key="k1", sms=True)
        again = notify(users=[town], kind="t", title="标题", key="k1", sms=True)
    assert len(first) == 1
    assert again == []
    assert Notification.objects.filter(recipient=town).count() == 1
    assert MemorySmsGateway.outbox == [("13812345678", "【平安走访】标题")]
    MemorySmsGateway.outbox.clear()


def test_unread_counts_and_marking_read(world):
    leader = world.users[Role.LEADER]
    for n in range(3):
        notify(users=[leader], kind="t", title=f"第{n}条", key=f"k{n}")
    assert notification_unread_count(user=leader) == 3
    one = Notification.objects.filter(recipient=leader).first()
    assert notification_mark_read(user=leader, ids=[one.pk]) == 1
    assert notification_unread_count(user=leader) == 2
    # another user's notice is not theirs to mark
    assert notification_mark_read(user=world.users[Role.CADRE]) == 0
    assert notification_mark_read(user=leader) == 2
    assert notification_unread_count(user=leader) == 0


def test_the_default_gateway_only_logs_with_the_phone_masked(caplog):
    with caplog.at_level(logging.INFO, logger="pingan.sms"):
        LogSmsGateway().send(phone="13812345678", text="测试")
    assert "138****5678" in caplog.text
    assert "13812345678" not in caplog.text


def test_a_failing_gateway_is_logged_and_does_not_raise(settings, caplog):
    settings.PINGAN_SMS_GATEWAY = "tests.accounts.test_notifications.BrokenGateway"
    with caplog.at_level(logging.ERROR, logger="pingan.sms"):
        assert sms_send(phone="13812345678", text="测试") is False
    assert "短信发送失败" in caplog.text


def test_a_cadre_without_a_phone_of_their_own_is_texted_on_their_profile_phone(field, world):
    from pingan.accounts.models import Person

    cadre = world.users[Role.CADRE]
    person = Person.objects.get(user=cadre)
    person.set_phone(seal_phone("13700001111"))
    person.save()
    assert user_phone(cadre) == "13700001111"
    assert user_phone(world.users[Role.LEADER]) == ""
