"""Display helpers for the back-office templates."""

from django import template

from pingan.core import pii

register = template.Library()


@register.filter
def num(value: object) -> str:
    """An integer with thousands separators (11,267), the same in every language."""
    if value is None or value == "":
        return "—"
    try:
        return f"{int(value):,}"  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return str(value)


@register.filter
def mask_name(value: str) -> str:
    """A resident's name on a list: 张*."""
    return pii.mask_name(value or "")
