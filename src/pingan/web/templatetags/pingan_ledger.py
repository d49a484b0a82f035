"""Template helpers of the ledger pages: translated labels of colours, actions and events,
and the unread count the header shows beside 消息."""

from django import template
from django.utils.translation import gettext

from pingan.accounts.notifications import notification_unread_count
from pingan.ledger.deadlines import Colour
from pingan.ledger.lifecycle import EVENT_LABELS
from pingan.ledger.models import Problem

register = template.Library()


@register.filter
def colour_label(colour: str) -> str:
    """临期 / 超期 / …, in the page's language."""
    return gettext(Colour.LABELS.get(colour, "")) if colour in Colour.LABELS else ""


@register.filter
def event_label(action: str) -> str:
    """What a history step was (登记, 交办, 督办 …), in the page's language."""
    return gettext(EVENT_LABELS[action]) if action in EVENT_LABELS else action


@register.filter
def status_label(status: str) -> str:
    """A problem state (待受理, 已交办 …) from its code, in the page's language."""
    labels = dict(Problem.Status.choices)
    return gettext(labels[status]) if status in labels else status


@register.simple_tag
def unread_notifications(user) -> int:
    """How many of the user's notices are unread (one COUNT query)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return notification_unread_count(user=user)
