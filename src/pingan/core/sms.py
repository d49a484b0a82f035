"""Outbound text messages (短信) through a pluggable gateway.

`settings.PINGAN_SMS_GATEWAY` names a class with `send(*, phone, text)`. The default,
`LogSmsGateway`, only writes a log line with the phone masked: towns run on closed networks
and connect their own SMS platform (e.g. the government's 政务短信 gateway) by naming a class
of their own. A gateway that fails is logged and never breaks the action that notified.
"""

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from pingan.core.pii import mask_phone

logger = logging.getLogger("pingan.sms")


class SmsGateway(Protocol):
    def send(self, *, phone: str, text: str) -> None: ...


class LogSmsGateway:
    """Writes each message to the `pingan.sms` log instead of sending it."""

    def send(self, *, phone: str, text: str) -> None:
        logger.info("短信 %s：%s", mask_phone(phone), text)


class MemorySmsGateway:
    """Keeps messages in `outbox` (tests and demos that show what would have been sent)."""

    outbox: list[tuple[str, str]] = []

    def send(self, *, phone: str, text: str) -> None:
        self.outbox.append((phone, text))


def sms_gateway() -> SmsGateway:
    path = getattr(settings, "PINGAN_SMS_GATEWAY", "pingan.core.sms.LogSmsGateway")
    return import_string(path)()


def sms_send(*, phone: str, text: str) -> bool:
    """Send one message; False (and a log entry) when the gateway fails."""
    if not phone:
        return False
    try:
        sms_gateway().send(phone=phone, text=text)
    except Exception:
        logger.exception("短信发送失败：%s", mask_phone(phone))
        return False
    return True
