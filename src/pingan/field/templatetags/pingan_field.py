"""Template filters of the field pages."""

from django import template

from pingan.core.pii import mask_name

register = template.Library()


@register.filter
def masked_name(value: str) -> str:
    """张*: a resident's name as the field pages show it (docs/architecture.md)."""
    return mask_name(value or "")
