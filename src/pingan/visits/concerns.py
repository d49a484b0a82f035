"""Concerns (反映): what a visit, a phone call or a walk-in brought in (docs/ledger.md).

A visit's concern is written by the sync (`visits.services.visit_sync`), with an item for
each negative answer, each matter the resident described and the opinion (`concern_items`).
Here also: a phone or walk-in report (`concern_report`), and the visiting cadre's record of a
talk (思想工作, `thought_work_record`). Triage — what the town center decides about a concern —
is the ledger's (`ledger.triage`).

Which items are feelings (感受) and which are matters (事项): a negative answer to a
single-choice question (不太安全, 变差了, 不满意…) is a feeling, with nothing concrete to fix;
a checked option of a multiple-choice question (赌博, 盗窃抢劫…), a described matter and an
opinion are matters.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from django.db import transaction

from pingan.accounts.models import Person, Role, User
from pingan.accounts.selectors import region_list
from pingan.campaigns.models import Assignment, ProblemCategory
from pingan.campaigns.selectors import campaign_current, household_list
from pingan.core import clock, crypto, pii
from pingan.regions.models import Region
from pingan.surveys.models import Option, Question
from pingan.visits.models import Concern, ConcernItem, ThoughtWork

OPINION_KEY = "opinion"  # the questionnaire's free-text question (意见建议)
TEXT_MAX = 2000


class Matter(Protocol):
    """A matter the resident described (`visits.services.ProblemIn`)."""

    @property
    def text(self) -> str: ...

    @property
    def category(self) -> str: ...


class ConcernError(ValueError):
    """A concern or talk that cannot be recorded; `message` is for the user, in Chinese, and
    `field` names the input it is about."""

    status = 422

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ConcernForbidden(ConcernError):
    status = 403


def concern_items(
    *, negative: Sequence[tuple[Question, Option]], matters: Iterable[Matter], opinion: str
) -> list[ConcernItem]:
    """The items of one visit's concern, unsaved, in order: negative answers, described
    matters, the opinion. Empty when the visit brought in nothing."""
    items: list[ConcernItem] = []
    for question, option in negative:
        items.append(
            ConcernItem(
                kind=ConcernItem.Kind.ANSWER,
                question=question,
                option=option,
                text=f"{question.text}　回答：{option.label}",
                category=option.category or question.category,
                feeling=question.kind == Question.Kind.SINGLE,
            )
        )
    for matter in matters:
        text = matter.text.strip()
        if text:
            items.append(
                ConcernItem(
                    kind=ConcernItem.Kind.MATTER, text=text[:TEXT_MAX], category=matter.category
                )
            )
    if opinion.strip():
        items.append(ConcernItem(kind=ConcernItem.Kind.OPINION, text=opinion.strip()[:TEXT_MAX]))
    for position, item in enumerate(items):
        item.position = position
    return items


def concern_category(items: Sequence[ConcernItem]) -> str:
    """The concern's category: its first matter's, else its first item's."""
    for item in items:
        if not item.feeling and item.category:
            return item.category[:40]
    return next((item.category[:40] for item in items if item.category), "")


def item_words(item: ConcernItem) -> str:
    """What an item says, for matching and routing: a checked option's label (赌博), or the
    resident's words."""
    if item.kind == ConcernItem.Kind.ANSWER and item.option is not None:
        return item.option.label
    return item.text


# ---------------------------------------------------------------------------------------------
# Phone and walk-in reports (来电来访)

REPORTER_ROLES = frozenset({Role.TOWN_ADMIN, Role.VILLAGE_ADMIN, Role.CADRE})


def category_names(*, town: Region) -> list[str]:
    """The town's active categories, in its order."""
    return list(
        ProblemCategory.objects.filter(town=town, active=True)
        .order_by("sort_order", "name")
        .values_list("name", flat=True)
    )


@transaction.atomic
def concern_report(
    *,
    actor: User,
    text: str,
    village_id: int | None = None,
    household_id: int | None = None,
    source: str = Concern.Source.PHONE,
    category: str = "",
    caller_name: str = "",
    callback_phone: str = "",
) -> Concern:
    """Record a phone call or a walk-in (来电来访) as a concern, waiting for triage.

    The town center and village admins report for any household or village they see; a
    cadre for a household assigned to them. The caller's name and callback number are sealed
    (encrypted, masked); the household's visiting cadre is who will take the answer back."""
    if actor.role not in REPORTER_ROLES:
        raise ConcernForbidden("您的角色无权登记群众反映")
    if source not in (Concern.Source.PHONE, Concern.Source.WALK_IN):
        raise ConcernError("来源只能是来电或来访", field="source")
    text = text.strip()
    if not text:
        raise ConcernError("请填写反映的内容", field="text")
    if len(text) > TEXT_MAX:
        raise ConcernError(f"反映内容不能超过 {TEXT_MAX} 字", field="text")
    household = None
    if household_id is not None:
        household = (
            household_list(user=actor)
            .select_related("village__parent")
            .filter(pk=household_id)
            .first()
        )
        if household is None:
            raise ConcernError("住户不存在或不在您的管辖范围内", field="household_id")
        village = household.village
        if village_id is not None and village_id != village.pk:
            raise ConcernError("住户不属于所选村", field="village_id")
    else:
        if actor.role == Role.CADRE:
            raise ConcernError("请选择反映问题的住户", field="household_id")
        found = (
            region_list(user=actor)
            .select_related("parent")
            .filter(pk=village_id or 0, kind=Region.Kind.VILLAGE)
            .first()
        )
        if found is None:
            raise ConcernError("请选择村（社区）", field="village_id")
        village = found
    town = village.parent
    campaign = campaign_current(town=town) if town is not None else None
    if campaign is None or town is None:
        raise ConcernError("本镇尚无走访活动，不能登记群众反映", field="village_id")
    category = category.strip()
    if category and category not in category_names(town=town):
        raise ConcernError(f"类别“{category}”不在本镇的类别表中", field="category")
    caller_name = caller_name.strip()
    if len(caller_name) > 32:
        raise ConcernError("来电来访人姓名不能超过 32 字", field="caller_name")
    sealed_phone = None
    if callback_phone.strip():
        try:
            sealed_phone = pii.seal_phone(callback_phone)
        except pii.PersonalDataError as exc:
            raise ConcernError(exc.message, field="callback_phone") from exc
    cadre = None
    if household is not None:
        current = (
            Assignment.objects.filter(campaign=campaign, household=household, ended_at__isnull=True)
            .select_related("cadre")
            .first()
        )
        cadre = current.cadre if current else None
    if actor.role == Role.CADRE:
        cadre = Person.objects.filter(user=actor).first() or cadre
    now = clock.now()
    concern = Concern(
        campaign=campaign,
        village=village,
        household=household,
        cadre=cadre,
        source=source,
        category=category,
        text=text,
        caller_name_ciphertext=crypto.encrypt(caller_name) if caller_name else "",
        caller_name_masked=pii.mask_name(caller_name),
        reported_by=actor,
        reported_at=now,
    )
    concern.set_phone(sealed_phone)
    concern.save()
    ConcernItem.objects.create(
        concern=concern, kind=ConcernItem.Kind.MATTER, text=text, category=category
    )
    return concern


# ---------------------------------------------------------------------------------------------
# 思想工作: the visiting cadre's talk with a resident


def user_may_record_talk(*, user: User, work: ThoughtWork) -> bool:
    """The visiting cadre; the village admin when the case has no cadre with a login."""
    if user.role == Role.CADRE:
        return work.cadre is not None and work.cadre.user_id == user.pk
    if user.role == Role.VILLAGE_ADMIN and user.region_id == work.village_id:
        return work.cadre is None or work.cadre.user_id is None or not work.cadre.active
    return False


@transaction.atomic
def thought_work_record(
    *, actor: User, thought_work_id: int, talked_on: dt.date | None, notes: str, view: str
) -> ThoughtWork:
    """Record a talk: its date (not in the future), what was said, and whether the resident's
    view changed. Recording again corrects the record."""
    work = (
        ThoughtWork.objects.select_for_update(of=("self",))
        .select_related("cadre")
        .filter(pk=thought_work_id)
        .first()
    )
    if work is None or not user_may_record_talk(user=actor, work=work):
        raise ConcernForbidden("只有走访该户的干部可以记录思想工作")
    errors: dict[str, Any] = {}
    notes = notes.strip()
    if talked_on is None:
        errors["talked_on"] = "请填写谈话日期"
    elif talked_on > clock.today():
        errors["talked_on"] = "谈话日期不能晚于今天"
    if not notes:
        errors["notes"] = "请简要记录谈话内容"
    elif len(notes) > TEXT_MAX:
        errors["notes"] = f"谈话内容不能超过 {TEXT_MAX} 字"
    if view not in ThoughtWork.View.values:
        errors["view"] = "请选择群众的看法是否转变"
    if errors:
        field, message = next(iter(errors.items()))
        raise ConcernError(message, field=field)
    work.talked_on = talked_on
    work.notes = notes
    work.view = view
    work.recorded_by = actor
    work.recorded_at = clock.now()
    work.save()
    return work
