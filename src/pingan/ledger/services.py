"""Writes to the ledger: reporting problems (each with a unique, never-reused code) and every
lifecycle action, one service call each, driven by the table in `ledger.lifecycle`."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404

from pingan.accounts.models import Person, Role, Unit, User
from pingan.accounts.notifications import notify, users_with_role_over
from pingan.accounts.selectors import region_list, unit_list
from pingan.campaigns.models import Assignment, Campaign
from pingan.campaigns.selectors import campaign_current, household_list
from pingan.core import clock
from pingan.ledger.deadlines import Deadline, deadline_for
from pingan.ledger.lifecycle import (
    ACTION_LABELS,
    Action,
    ActionForbidden,
    ActionInvalid,
    StaleVersion,
    Transition,
    action_guard,
    roles_for,
    transition_find,
)
from pingan.ledger.models import Problem, ProblemEvent, ProblemReporter, ProblemSerial
from pingan.ledger.selectors import problem_list
from pingan.regions.models import Household, Region
from pingan.surveys.models import Option, Question
from pingan.visits.models import Concern, Visit

Status = Problem.Status


def problem_codes_reserve(*, town: Region, year: int, count: int) -> list[str]:
    """`count` consecutive codes `<town code>-<year>-<serial>`; the counter row is locked, so
    concurrent reporters never share a serial, and a rolled-back serial is simply skipped."""
    if count <= 0:
        return []
    serial, _ = ProblemSerial.objects.get_or_create(town=town, year=year)
    serial = ProblemSerial.objects.select_for_update().get(pk=serial.pk)
    first = serial.last + 1
    serial.last += count
    serial.save(update_fields=["last"])
    return [f"{town.code}-{year}-{n:06d}" for n in range(first, first + count)]


@dataclass(frozen=True)
class ProblemDraft:
    """A problem about to be reported, before it has a code."""

    campaign: Campaign
    village: Region
    source: str
    description: str
    category: str = ""
    household: Household | None = None
    cadre: Person | None = None
    visit: Visit | None = None
    question: Question | None = None
    option: Option | None = None
    concern: Concern | None = None


@transaction.atomic
def problem_report_many(
    *,
    actor: User | None,
    drafts: list[ProblemDraft],
    status: str = Problem.Status.REPORTED,
    note: str = "",
) -> list[Problem]:
    """Record problems, each with its first ProblemEvent; codes are reserved per town in one
    locked step for the whole list. Triage files them as `accepted` (立案, event `file`); a
    problem recorded in `reported` waits for the town center to accept it."""
    if not drafts:
        return []
    now = clock.now()
    year = clock.local(now).year
    by_town: dict[int, tuple[Region, list[int]]] = {}
    for position, draft in enumerate(drafts):
        town = draft.village.parent
        if town is None:
            raise ValueError(f"village {draft.village.pk} has no town")
        by_town.setdefault(town.pk, (town, []))[1].append(position)
    codes: list[str] = [""] * len(drafts)
    for town, positions in by_town.values():
        reserved = problem_codes_reserve(town=town, year=year, count=len(positions))
        for position, code in zip(positions, reserved, strict=True):
            codes[position] = code
    problems = Problem.objects.bulk_create(
        Problem(
            code=code,
            campaign=draft.campaign,
            village=draft.village,
            household=draft.household,
            cadre=draft.cadre,
            visit=draft.visit,
            source=draft.source,
            category=draft.category,
            description=draft.description,
            question=draft.question,
            option=draft.option,
            status=status,
            reported_at=now,
            reporters_waiting=1,
        )
        for code, draft in zip(codes, drafts, strict=True)
    )
    # Each problem's reporting household: the one whose concern (or visit, or call) it is.
    ProblemReporter.objects.bulk_create(
        ProblemReporter(
            problem=problem,
            village=draft.village,
            household=draft.household,
            concern=draft.concern,
            cadre=draft.cadre,
            added_at=now,
        )
        for problem, draft in zip(problems, drafts, strict=True)
    )
    ProblemEvent.objects.bulk_create(
        ProblemEvent(
            problem=problem,
            action="report" if status == Problem.Status.REPORTED else "file",
            from_status="",
            to_status=status,
            actor=actor,
            note=note or problem.get_source_display(),
            at=now,
        )
        for problem in problems
    )
    return problems


# --- The lifecycle: one service call per action (docs/ledger.md, `ledger.lifecycle`) ----------


@dataclass(frozen=True)
class ActionInput:
    """What an action may carry; `lifecycle.Transition.needs` says which fields it requires."""

    reason: str = ""
    unit_id: int | None = None
    severity: str = ""
    days: int | None = None
    result: str = ""
    verdict: str = ""
    reporter_id: int | None = None  # feedback, contact_failed, confirm_unreachable


MAX_EXTENSION_DAYS = 60


def _need(transition: Transition, data: ActionInput) -> None:
    missing = {
        "reason": "请填写理由"
        if transition.verdict != "dissatisfied"
        else "请填写群众不满意的原因",
        "unit_id": "请选择交办单位",
        "severity": "请选择问题类型（一般或复杂）",
        "days": "请填写延期天数（工作日）",
        "result": "请填写办理结果",
        "verdict": "请选择群众评价",
    }
    values = {
        "reason": data.reason.strip(),
        "unit_id": data.unit_id,
        "severity": data.severity,
        "days": data.days,
        "result": data.result.strip(),
        "verdict": data.verdict,
    }
    for field in transition.needs:
        if not values[field]:
            raise ActionInvalid(missing[field], field=field)


def _dispatch_to(problem: Problem, *, unit: Unit, severity: str, now: dt.datetime) -> Deadline:
    deadline = deadline_for(campaign=problem.campaign, severity=severity, start=now)
    problem.unit = unit
    problem.severity = severity
    problem.dispatched_at = now
    problem.deadline = deadline.at
    problem.deadline_warning = deadline.warning
    problem.supervised_at = None
    problem.criticized_at = None
    problem.extension_days = None
    problem.extension_reason = ""
    return deadline


def _apply(
    problem: Problem,
    transition: Transition,
    data: ActionInput,
    *,
    actor: User,
    now: dt.datetime,
    reporter: ProblemReporter | None = None,
) -> dict[str, Any]:
    """Carry out `transition` on the locked `problem`; returns the event's data. Sets
    `problem.status` where the outcome depends on more than the table (a household's verdict
    that is not the last one keeps the problem handled)."""
    action = transition.action
    if action == Action.DISPATCH:
        if data.severity not in Problem.Severity.values:
            raise ActionInvalid("问题类型只能是一般问题或复杂问题", field="severity")
        unit = unit_list(user=actor).filter(pk=data.unit_id or 0, active=True).first()
        if unit is None:
            raise ActionInvalid("交办单位不存在或不在本镇", field="unit_id")
        deadline = _dispatch_to(problem, unit=unit, severity=data.severity, now=now)
        return {"unit_id": unit.pk, "unit": unit.name, "severity": data.severity,
                "deadline": deadline.at.isoformat(), "warning": deadline.warning}  # fmt: skip
    if action == Action.RETURN:
        returned = {"unit_id": problem.unit_id, "unit": problem.unit.name if problem.unit else ""}
        problem.unit = None
        problem.severity = ""
        problem.dispatched_at = None
        problem.deadline = None
        problem.deadline_warning = ""
        problem.extension_days = None
        problem.extension_reason = ""
        return returned
    if action == Action.EXTEND_REQUEST:
        if not 1 <= (data.days or 0) <= MAX_EXTENSION_DAYS:
            raise ActionInvalid(f"延期天数应在 1 到 {MAX_EXTENSION_DAYS} 个工作日之间",
                                field="days")  # fmt: skip
        problem.extension_days = data.days
        problem.extension_reason = data.reason.strip()[:500]
        return {"days": data.days}
    if action in (Action.EXTEND_APPROVE, Action.EXTEND_DENY):
        requested = problem.extension_days or 0
        problem.extension_days = None
        problem.extension_reason = ""
        if action == Action.EXTEND_DENY:
            return {"days": requested}
        days = data.days or requested
        if not 1 <= days <= MAX_EXTENSION_DAYS:
            raise ActionInvalid(f"延期天数应在 1 到 {MAX_EXTENSION_DAYS} 个工作日之间",
                                field="days")  # fmt: skip
        old = problem.deadline or now
        deadline = deadline_for(
            campaign=problem.campaign, severity=problem.severity, start=old, days=days
        )
        problem.deadline = deadline.at
        problem.deadline_warning = deadline.warning
        problem.supervised_at = None
        problem.criticized_at = None
        return {"days": days, "old_deadline": old.isoformat(),
                "deadline": deadline.at.isoformat(), "warning": deadline.warning}  # fmt: skip
    if action == Action.HANDLE:
        problem.result = data.result.strip()
        problem.handled_at = now
        problem.extension_days = None
        problem.extension_reason = ""
        return {"unit_id": problem.unit_id, "unit": problem.unit.name if problem.unit else ""}
    if action in (Action.FEEDBACK, Action.CONTACT_FAILED, Action.CONFIRM_UNREACHABLE):
        return _household_step(problem, transition, data, actor=actor, now=now, reporter=reporter)
    return {}  # accept, reject, remind: the event's note says it all


@transaction.atomic
def problem_act(
    *, actor: User, problem_id: int, action: str, version: int, data: ActionInput
) -> Problem:
    """Take one lifecycle action. Checks, in order: the problem is in the actor's scope (404),
    the role may take the action (403), nobody changed the problem since `version` (409),
    the action is allowed from the current state and its input is complete (422). Writes the
    ProblemEvent, raises `version`, and notifies the people concerned after commit."""
    if not problem_list(user=actor).filter(pk=problem_id).exists():
        raise Http404("problem not found")  # outside the scope, as if it did not exist
    if actor.role not in roles_for(action):
        if action not in Action.__members__.values():
            raise ActionInvalid(f"未知的操作：{action}", field="action")
        raise ActionForbidden(f"您的角色无权执行「{ACTION_LABELS[action]}」")
    problem = (
        Problem.objects.select_for_update(of=("self",))
        .select_related("campaign", "village__parent", "unit", "cadre")
        .get(pk=problem_id)
    )
    if problem.version != version:
        raise StaleVersion(
            f"问题 {problem.code} 已被他人修改（当前状态「{problem.get_status_display()}」），"
            "请刷新后重试"
        )
    now = clock.now()
    reporter = _reporter_of(problem, action, data)
    transition = transition_find(
        user=actor, problem=problem, action=action, verdict=data.verdict, reporter=reporter
    )
    refusal = action_guard(problem=problem, action=action, now=now)
    if refusal is not None:
        raise refusal
    _need(transition, data)
    from_status = problem.status
    problem.status = transition.target
    event_data = _apply(problem, transition, data, actor=actor, now=now, reporter=reporter)
    problem.version += 1
    problem.updated_at = now
    problem.save()
    note = (data.reason or data.result).strip()
    ProblemEvent.objects.create(
        problem=problem,
        action=action,
        from_status=from_status,
        to_status=problem.status,
        actor=actor,
        note=note,
        data=event_data,
        at=now,
    )
    _notify_after(problem, transition, actor=actor, note=note, data=event_data)
    return problem


HOUSEHOLD_ACTIONS = (Action.FEEDBACK, Action.CONTACT_FAILED, Action.CONFIRM_UNREACHABLE)


def _reporter_of(problem: Problem, action: str, data: ActionInput) -> ProblemReporter | None:
    """The reporting household an action is about: the one named, or the only one waiting."""
    if action not in HOUSEHOLD_ACTIONS:
        return None
    waiting = (
        problem.reporters.select_for_update(of=("self",))
        .select_related("cadre", "household")
        .filter(verdict="", unreachable_confirmed_at__isnull=True)
        .order_by("id")
    )
    if data.reporter_id is not None:
        reporter = waiting.filter(pk=data.reporter_id).first()
        if reporter is None:
            raise ActionInvalid("该反映户不在等待反馈之列", field="reporter_id")
        return reporter
    found = list(waiting[:2])
    return found[0] if len(found) == 1 else None


def _household_step(
    problem: Problem,
    transition: Transition,
    data: ActionInput,
    *,
    actor: User,
    now: dt.datetime,
    reporter: ProblemReporter | None,
) -> dict[str, Any]:
    """A reporting household's verdict, a failed try to reach it, or the leader's confirmation
    that it cannot be reached; closes the problem when no household waits any more."""
    if reporter is None:
        raise ActionInvalid("请选择反映户", field="reporter_id")
    action = transition.action
    done: dict[str, Any] = {"reporter_id": reporter.pk, "household_id": reporter.household_id}
    if action == Action.CONTACT_FAILED:
        reporter.tries += 1
        reporter.save(update_fields=["tries"])
        problem.status = Status.HANDLED
        return done | {"tries": reporter.tries}
    if action == Action.CONFIRM_UNREACHABLE:
        if reporter.tries < ProblemReporter.UNREACHABLE_TRIES:
            raise ActionInvalid(
                f"该户联系未果 {reporter.tries} 次，满 3 次才能确认无法联系", field="reporter_id"
            )
        reporter.unreachable_confirmed_at = now
        reporter.unreachable_confirmed_by = actor
        reporter.save(update_fields=["unreachable_confirmed_at", "unreachable_confirmed_by"])
    else:
        reporter.verdict = transition.verdict
        reporter.verdict_note = data.reason.strip()[:500]
        reporter.feedback_at = now
        reporter.feedback_by = actor
        reporter.save(update_fields=["verdict", "verdict_note", "feedback_at", "feedback_by"])
        problem.verdict = transition.verdict
        problem.verdict_note = reporter.verdict_note
        problem.feedback_at = now
        if transition.verdict == Problem.Verdict.DISSATISFIED:
            # 重办: back to the same unit, with a new deadline counted from today; every
            # reporting household waits for the next result.
            unit = problem.unit
            if unit is None:  # the table only leads here from handled, which had a unit
                raise ActionInvalid("该问题没有办理单位，无法重新交办", field="verdict")
            problem.redo_count += 1
            deadline = _dispatch_to(problem, unit=unit, severity=problem.severity, now=now)
            waiting = problem.reporters.update(
                verdict="", verdict_note="", feedback_at=None, feedback_by=None, tries=0,
                unreachable_confirmed_at=None, unreachable_confirmed_by=None,
            )  # fmt: skip
            problem.reporters_waiting = waiting
            problem.status = Status.DISPATCHED
            return done | {"verdict": transition.verdict, "redo_count": problem.redo_count,
                           "deadline": deadline.at.isoformat(), "warning": deadline.warning}  # fmt: skip
    problem.reporters_waiting = max(0, problem.reporters_waiting - 1)
    if problem.reporters_waiting == 0:
        satisfied = problem.reporters.filter(verdict=Problem.Verdict.SATISFIED).exists()
        problem.verdict = Problem.Verdict.SATISFIED if satisfied else Problem.Verdict.UNREACHABLE
        problem.closed_at = now
        problem.status = Status.CLOSED
    else:
        problem.status = Status.HANDLED
    return done | {"verdict": reporter.verdict, "waiting": problem.reporters_waiting}


def problem_link(problem: Problem) -> str:
    return f"/ledger/{problem.pk}/"


def _unit_handlers(problem: Problem) -> QuerySet[User]:
    return User.objects.filter(role=Role.UNIT_HANDLER, unit=problem.unit, is_active=True)


def _town_users(problem: Problem, role: str) -> QuerySet[User]:
    return users_with_role_over(role=role, region=problem.village)


def _notify_after(
    problem: Problem, transition: Transition, *, actor: User, note: str, data: dict | None = None
) -> None:
    """Who hears of each action: the unit of a dispatch, the leaders of an extension request
    and of a household that could not be reached three times, the visiting cadre of each
    waiting household of a handling result, the town center of a return or a verdict."""
    key = f"problem:{problem.pk}:v{problem.version}"
    title = f"{problem.code} {transition.label}"
    body = f"{problem.village.name}：{problem.description[:80]}" + (f"\n{note}" if note else "")
    link = problem_link(problem)
    action = transition.action
    recipients: list[QuerySet[User] | list[User]] = []
    sms = False
    if action == Action.DISPATCH or (
        action == Action.FEEDBACK and transition.verdict == Problem.Verdict.DISSATISFIED
    ):
        recipients.append(_unit_handlers(problem))
        sms = True
        deadline = clock.local(problem.deadline).strftime("%m月%d日") if problem.deadline else ""
        title = f"{problem.code} {transition.label}，请于{deadline}前办结"
    elif action in (Action.EXTEND_APPROVE, Action.EXTEND_DENY, Action.REMIND):
        recipients.append(_unit_handlers(problem))
        sms = action == Action.REMIND
    elif action == Action.EXTEND_REQUEST:
        recipients.append(_town_users(problem, Role.LEADER))
    elif action == Action.HANDLE:
        # each waiting household's visiting cadre; the village admin stands in for a
        # household whose cadre has no active login (a problem kept before reporting
        # households existed: its own cadre)
        waiting = list(
            problem.reporters.filter(verdict="", unreachable_confirmed_at__isnull=True)
            .select_related("cadre__user")
            .order_by("id")
        )
        visitors = [(r.cadre, r.village) for r in waiting] or [(problem.cadre, problem.village)]

        def signs_in(cadre: Person | None) -> bool:
            return bool(cadre and cadre.active and cadre.user and cadre.user.is_active)

        cadres = [c.user_id for c, _ in visitors if c is not None and signs_in(c)]
        villages = {v.pk: v for c, v in visitors if not signs_in(c)}
        if cadres:
            recipients.append(User.objects.filter(pk__in=cadres))
            sms = True
            title = f"{problem.code} 已办结，请向群众反馈并记录评价"
        for village in villages.values():
            recipients.append(users_with_role_over(role=Role.VILLAGE_ADMIN, region=village))
    elif action == Action.CONTACT_FAILED:
        if (data or {}).get("tries") == ProblemReporter.UNREACHABLE_TRIES:
            recipients.append(_town_users(problem, Role.LEADER))
            title = f"{problem.code} 有一户联系三次未果，请确认"
    elif action in (Action.RETURN, Action.FEEDBACK):
        recipients.append(_town_users(problem, Role.TOWN_ADMIN))
        if action == Action.FEEDBACK and problem.status == Status.HANDLED:
            title = f"{problem.code} 一户群众满意，尚有 {problem.reporters_waiting} 户待反馈"
    elif action == Action.REJECT and problem.cadre is not None and problem.cadre.user_id:
        recipients.append(User.objects.filter(pk=problem.cadre.user_id))
    users = list({u.pk: u for group in recipients for u in group if u.pk != actor.pk}.values())
    if users:
        notify(users=users, kind=f"problem_{action}", title=title, body=body, link=link,
               key=key, sms=sms)  # fmt: skip


# --- Problems raised by hand (来电来访) or by a cadre outside a visit --------------------

REPORTER_ROLES = frozenset({Role.TOWN_ADMIN, Role.VILLAGE_ADMIN, Role.CADRE})


@transaction.atomic
def problem_report(
    *,
    actor: User,
    village_id: int | None,
    household_id: int | None,
    description: str,
    category: str = "",
    source: str = "",
) -> Problem:
    """Record one problem by hand. A cadre reports for a household assigned to them (source
    `visit`); the town center and village admins for any household or village they see
    (default source `manual`). The household's visiting cadre is who takes the result back."""
    if actor.role not in REPORTER_ROLES:
        raise ActionForbidden("您的角色无权登记问题")
    description = description.strip()
    if not description:
        raise ActionInvalid("请填写问题描述", field="description")
    if len(description) > 2000:
        raise ActionInvalid("问题描述不能超过 2000 字", field="description")
    source = source or (Problem.Source.VISIT if actor.role == Role.CADRE else Problem.Source.MANUAL)
    if source not in Problem.Source.values or source == Problem.Source.SURVEY:
        raise ActionInvalid("来源只能是走访反映或来电来访", field="source")
    household = None
    if household_id is not None:
        household = (
            household_list(user=actor).select_related("village__parent").filter(pk=household_id)
        ).first()
        if household is None:
            raise ActionInvalid("住户不存在或不在您的管辖范围内", field="household_id")
        village = household.village
        if village_id is not None and village_id != village.pk:
            raise ActionInvalid("住户不属于所选村", field="village_id")
    else:
        if actor.role == Role.CADRE:
            raise ActionInvalid("请选择反映问题的住户", field="household_id")
        found = (
            region_list(user=actor)
            .select_related("parent")
            .filter(pk=village_id or 0, kind=Region.Kind.VILLAGE)
            .first()
        )
        if found is None:
            raise ActionInvalid("村不存在或不在您的管辖范围内", field="village_id")
        village = found
    campaign = campaign_current(town=village.parent) if village.parent else None
    if campaign is None:
        raise ActionInvalid("本镇尚无走访活动，不能登记问题", field="village_id")
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
    [problem] = problem_report_many(
        actor=actor,
        drafts=[
            ProblemDraft(
                campaign=campaign,
                village=village,
                source=source,
                description=description,
                category=category.strip()[:40],
                household=household,
                cadre=cadre,
            )
        ],
    )
    notify(
        users=_town_users(problem, Role.TOWN_ADMIN).exclude(pk=actor.pk),
        kind="problem_report",
        title=f"{problem.code} 新登记问题待受理",
        body=f"{village.name}：{description[:80]}",
        link=problem_link(problem),
        key=f"problem:{problem.pk}:v1",
    )
    return problem
