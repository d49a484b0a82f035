"""Display helpers for the progress (走访进度) figures and rates on the back-office pages."""

from decimal import Decimal

from django import template

from pingan.visits.selectors import Progress, progress_ratio

register = template.Library()


@register.filter
def percent(value: Decimal | str | None) -> str:
    """A percentage figure as computed (two places): 37.33%; — when there is none (None, or
    the empty string a template gives for a figure that is missing)."""
    return "—" if value is None or value == "" else f"{value}%"


@register.filter
def score(value: Decimal | str | None) -> str:
    """A 100-point score as computed (two places); — when there is none."""
    return "—" if value is None or value == "" else f"{value}"


@register.filter
def ratio_of(part: int | None, whole: int | None) -> Decimal | None:
    """part ÷ whole in % (`visits.selectors.progress_ratio`); None when whole is 0."""
    return progress_ratio(part, whole)


@register.filter
def progress(village: object) -> Progress:
    """The `Progress` of a village row annotated by `village_list_with_visit_progress`."""
    return Progress.of(village)


@register.filter
def lookup(mapping: dict | None, key: object) -> object:
    """mapping[key], or None (templates cannot index by a variable)."""
    return (mapping or {}).get(key)
