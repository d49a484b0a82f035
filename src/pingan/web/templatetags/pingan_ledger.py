"""Template helpers of the ledger pages: translated labels of colours, actions and events,
and the unread count the header shows beside 消息."""

from django import template
from django.utils.translation import gettext

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
