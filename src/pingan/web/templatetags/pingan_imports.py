"""Template helpers for the import pages and the links to them."""

from django import template

from pingan.regions.importing.villages import user_can_import

register = template.Library()


@register.filter
def can_import(user) -> bool:
    """Whether the user may open the import pages (town center, village admins)."""
    return bool(getattr(user, "is_authenticated", False)) and user_can_import(user)
