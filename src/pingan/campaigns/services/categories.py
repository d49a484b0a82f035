"""The town's categories (问题类别) and routing rules (派单规则), kept by the town center.

A category is a name on the town's list. Concerns and problems record the name itself (a
string, not a key), so:

- renaming changes the list and the town's routing rules; concerns and problems already
  recorded keep the name they were recorded with (their history is not rewritten);
- a category in use — named by a routing rule, or recorded on a concern or a problem — is
  never deleted, only deactivated (停用): it leaves the 登记 and triage choices and stays on
  the records that have it. Concerns and problems live in layers above this one, so the
  caller passes the read that counts them (`RecordedUses`);
- an active routing rule always names an active category: a category with active rules is
  not deactivated until its rules are changed or deactivated.

A routing rule: keywords (separated by commas, 、 or spaces), the category and unit they
suggest, a priority (lower is tried first) and whether it is active. `ledger.routing` reads
the active rules.

Every service checks that the actor is the town center (镇综治中心, role town_admin) and works
on the actor's own town only: another town's category or rule is "not found" (404).
"""

import re
from typing import Protocol

from django.db import transaction
from django.db.models import Max
from django.http import Http404

from pingan.accounts.models import Role, Unit, User
from pingan.accounts.selectors import unit_list
from pingan.campaigns.models import ProblemCategory, RoutingRule
from pingan.regions.models import Region

NAME_MAX = 40
KEYWORD_MAX = 20
KEYWORDS_MAX = 500  # RoutingRule.keywords
PRIORITY_MIN, PRIORITY_MAX = 1, 999
KEYWORD_SEPARATORS = re.compile(r"[,，、;；\s]+")


class CategoryError(ValueError):
    """A change to the categories or routing rules that is refused; `message` is for the
    user, in Chinese, and `field` names the input it is about ("" for the whole form)."""

    status = 422

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class CategoryForbidden(CategoryError):
    status = 403


class RecordedUses(Protocol):
    """How many concerns and problems of `town` record the category `name`."""

    def __call__(self, *, town: Region, name: str) -> int: ...


def _town_of(actor: User) -> Region:
    """The actor's town; only the town center keeps its lists."""
    region = actor.region if actor.region_id is not None else None
    if actor.role != Role.TOWN_ADMIN or region is None or region.kind != Region.Kind.TOWN:
        raise CategoryForbidden("只有镇综治中心可以维护问题类别和派单规则")
    return region


def _name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise CategoryError("请填写类别名称", field="name")
    if len(name) > NAME_MAX:
        raise CategoryError(f"类别名称不能超过 {NAME_MAX} 字", field="name")
    return name


def _category(town: Region, category_id: int) -> ProblemCategory:
    found = (
        ProblemCategory.objects.select_for_update(of=("self",))
        .filter(town=town, pk=category_id)
        .first()
    )
    if found is None:
        raise Http404("category not found")
    return found


# ---------------------------------------------------------------------------------------------
# Categories


@transaction.atomic
def category_create(*, actor: User, name: str) -> ProblemCategory:
    """Add a category at the end of the town's list."""
    town = _town_of(actor)
    name = _name(name)
    if ProblemCategory.objects.filter(town=town, name=name).exists():
        raise CategoryError(f"本镇已有类别“{name}”", field="name")
    last = ProblemCategory.objects.filter(town=town).aggregate(last=Max("sort_order"))["last"]
    return ProblemCategory.objects.create(town=town, name=name, sort_order=(last or 0) + 1)


@transaction.atomic
def category_rename(*, actor: User, category_id: int, name: str) -> ProblemCategory:
    """Rename a category; the town's routing rules follow, recorded concerns and problems
    keep the old name."""
    town = _town_of(actor)
    category = _category(town, category_id)
    name = _name(name)
    if name == category.name:
        return category
    if ProblemCategory.objects.filter(town=town, name=name).exists():
        raise CategoryError(f"本镇已有类别“{name}”", field="name")
    RoutingRule.objects.filter(town=town, category=category.name).update(category=name)
    category.name = name
    category.save(update_fields=["name", "updated_at"])
    return category


@transaction.atomic
def category_move(*, actor: User, category_id: int, offset: int) -> ProblemCategory:
    """Move a category `offset` places up (negative) or down the list; at either end it stays.
    The list is renumbered 1, 2, 3 … in its new order."""
    town = _town_of(actor)
    category = _category(town, category_id)
    ordered = list(
        ProblemCategory.objects.select_for_update(of=("self",))
        .filter(town=town)
        .order_by("sort_order", "name", "id")
    )
    position = next(i for i, c in enumerate(ordered) if c.pk == category.pk)
    target = min(max(position + offset, 0), len(ordered) - 1)
    ordered.insert(target, ordered.pop(position))
    for number, each in enumerate(ordered, start=1):
        if each.sort_order != number:
            each.sort_order = number
            each.save(update_fields=["sort_order", "updated_at"])
    return next(c for c in ordered if c.pk == category.pk)


@transaction.atomic
def category_set_active(*, actor: User, category_id: int, active: bool) -> ProblemCategory:
    """Deactivate (停用) or reactivate a category. A category that active routing rules name
    stays active until those rules are changed or deactivated."""
    town = _town_of(actor)
    category = _category(town, category_id)
    if category.active == active:
        return category
    if not active:
        rules = RoutingRule.objects.filter(town=town, category=category.name, active=True).count()
        if rules:
            raise CategoryError(
                f"有 {rules} 条在用的派单规则指向类别“{category.name}”，"
                "请先修改或停用这些规则，再停用该类别"
            )
    category.active = active
    category.save(update_fields=["active", "updated_at"])
    return category


@transaction.atomic
def category_delete(*, actor: User, category_id: int, recorded_uses: RecordedUses) -> str:
    """Delete a category nothing uses (no routing rule names it, no concern or problem
    records it); returns its name. One in use can only be deactivated."""
    town = _town_of(actor)
    category = _category(town, category_id)
    rules = RoutingRule.objects.filter(town=town, category=category.name).count()
    if rules:
        raise CategoryError(
            f"有 {rules} 条派单规则指向类别“{category.name}”，不能删除；"
            "可以先修改这些规则，或停用该类别"
        )
    if recorded_uses(town=town, name=category.name):
        raise CategoryError(f"类别“{category.name}”已有群众反映或问题在用，不能删除，只能停用")
    name = category.name
    category.delete()
    return name


# ---------------------------------------------------------------------------------------------
# Routing rules


def keywords_parse(text: str) -> list[str]:
    """The keywords of `text` separated by commas (, ，), 、, semicolons or spaces, each once,
    in order."""
    return list(dict.fromkeys(word for word in KEYWORD_SEPARATORS.split(text) if word))


def _keywords(text: str) -> str:
    words = keywords_parse(text)
    if not words:
        raise CategoryError("请填写至少一个关键词", field="keywords")
    for word in words:
        if len(word) > KEYWORD_MAX:
            raise CategoryError(
                f"关键词“{word[:KEYWORD_MAX]}…”太长，每个关键词不超过 {KEYWORD_MAX} 字；"
                "多个关键词请用逗号或顿号分开",
                field="keywords",
            )
    joined = "、".join(words)
    if len(joined) > KEYWORDS_MAX:
        raise CategoryError(f"关键词合计不能超过 {KEYWORDS_MAX} 字", field="keywords")
    return joined


def _rule_category(town: Region, name: str, *, active: bool) -> str:
    name = name.strip()
    if not name:
        raise CategoryError("请选择类别", field="category")
    found = ProblemCategory.objects.filter(town=town, name=name).first()
    if found is None:
        raise CategoryError(f"类别“{name}”不在本镇的类别表中", field="category")
    if active and not found.active:
        raise CategoryError(
            f"类别“{name}”已停用，在用的规则不能指向它；请换一个类别，或先启用该类别",
            field="category",
        )
    return name


def _rule_unit(actor: User, unit_id: int | None) -> Unit | None:
    if unit_id is None:
        return None
    unit = unit_list(user=actor).filter(pk=unit_id, active=True).first()
    if unit is None:
        raise CategoryError("责任单位不存在、已停用或不在本镇", field="unit")
    return unit


def _priority(value: int | None) -> int:
    if value is None or isinstance(value, bool) or not PRIORITY_MIN <= value <= PRIORITY_MAX:
        raise CategoryError(
            f"优先级应为 {PRIORITY_MIN} 到 {PRIORITY_MAX} 的整数（数字小的规则先匹配）",
            field="priority",
        )
    return value


@transaction.atomic
def routing_rule_save(
    *,
    actor: User,
    keywords: str,
    category: str,
    unit_id: int | None,
    priority: int | None,
    active: bool = True,
    rule_id: int | None = None,
) -> RoutingRule:
    """Add a routing rule, or change the rule `rule_id`: its keywords, the category (one of
    the town's; an active rule needs an active one) and the unit (an active unit the town
    center may dispatch to, or none) they suggest, its priority and whether it is active."""
    town = _town_of(actor)
    rule = None
    if rule_id is not None:
        rule = RoutingRule.objects.select_for_update().filter(town=town, pk=rule_id).first()
        if rule is None:
            raise Http404("routing rule not found")
    values = {
        "keywords": _keywords(keywords),
        "category": _rule_category(town, category, active=active),
        "unit": _rule_unit(actor, unit_id),
        "priority": _priority(priority),
        "active": bool(active),
    }
    if rule is None:
        return RoutingRule.objects.create(town=town, **values)
    for name, value in values.items():
        setattr(rule, name, value)
    rule.save()
    return rule


@transaction.atomic
def routing_rule_delete(*, actor: User, rule_id: int) -> None:
    town = _town_of(actor)
    deleted, _ = RoutingRule.objects.filter(town=town, pk=rule_id).delete()
    if not deleted:
        raise Http404("routing rule not found")
