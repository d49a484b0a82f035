"""Supervision (催办、督办、通报批评): what `pingan tick` does, on a schedule or by hand.

For every problem still with its unit (`dispatched`), against its current deadline D:
- **remind** (催办) once D is within 2 working days: the unit's handlers get a notice and a text;
- **supervise** (督办) on the first working day after D, if still not handled: the unit gets a
  supervision notice, and it is escalated to the town's leaders and the town center;
- **criticize** (通报批评) 5 working days after that, if still overdue: the problem is listed
  for public criticism (bulletin and county report), and the town center and leaders told.

Each (problem, kind, deadline) is issued once (`ProblemAlert` is unique), so tick can run
every few minutes, twice, or concurrently and nothing is sent twice. A new deadline (an
approved extension, a 重办) starts the cycle again.
"""

import datetime as dt
import functools
import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from pingan.accounts.models import Role, User
from pingan.accounts.notifications import notify, users_with_role_over
from pingan.core import clock
from pingan.core.workdays import start_of_day, working_day_back
from pingan.ledger.deadlines import due_soon_cutoff
from pingan.ledger.models import Problem, ProblemAlert, ProblemEvent
from pingan.regions.models import Region

logger = logging.getLogger(__name__)

# Working days after the supervision day when a still-overdue problem is listed for criticism.
CRITICIZE_AFTER_WORKING_DAYS = 5

Kind = ProblemAlert.Kind


@dataclass
class TickReport:
    now: dt.datetime
    reminded: list[str] = field(default_factory=list)
    supervised: list[str] = field(default_factory=list)
    criticized: list[str] = field(default_factory=list)


def _without_alert(problems: QuerySet[Problem], kind: str) -> QuerySet[Problem]:
    issued = ProblemAlert.objects.filter(
        problem=OuterRef("pk"), kind=kind, deadline=OuterRef("deadline")
    )
    return problems.filter(~Exists(issued))


def tick_candidates(now: dt.datetime) -> dict[Kind, QuerySet[Problem]]:
    """The problems due a reminder, a supervision notice, a criticism listing at `now`."""
    today = clock.local(now).date()
    open_ = Problem.objects.filter(status=Problem.Status.DISPATCHED, deadline__isnull=False)
    # Deadline D has a working day after it by today exactly when D < the latest working day.
    supervise_before = start_of_day(working_day_back(today, 1))
    criticize_before = start_of_day(working_day_back(today, 1 + CRITICIZE_AFTER_WORKING_DAYS))
    supervised = ProblemAlert.objects.filter(
        problem=OuterRef("pk"), kind=Kind.SUPERVISE, deadline=OuterRef("deadline")
    )
    return {
        Kind.REMIND: _without_alert(
            open_.filter(deadline__gte=now, deadline__lte=due_soon_cutoff(now)), Kind.REMIND
        ),
        Kind.SUPERVISE: _without_alert(open_.filter(deadline__lt=supervise_before), Kind.SUPERVISE),
        Kind.CRITICIZE: _without_alert(
            open_.filter(Q(deadline__lt=criticize_before), Exists(supervised)), Kind.CRITICIZE
        ),
    }


def _issue(problem: Problem, kind: Kind, now: dt.datetime) -> bool:
    """Issue one alert in its own transaction; False when another tick already did."""
    assert problem.deadline is not None  # noqa: S101 - the candidates filter on it
    try:
        with transaction.atomic():
            ProblemAlert.objects.create(
                problem=problem, kind=kind, deadline=problem.deadline, at=now
            )
            _record(problem, kind, now)
    except IntegrityError:
        return False
    return True


_EVENT: dict[Kind, str] = {
    Kind.REMIND: "tick_remind",
    Kind.SUPERVISE: "supervise",
    Kind.CRITICIZE: "criticize",
}


@functools.lru_cache(maxsize=256)
def _unit_handlers(unit_id: int) -> tuple[User, ...]:
    return tuple(User.objects.filter(role=Role.UNIT_HANDLER, unit_id=unit_id, is_active=True))


@functools.lru_cache(maxsize=256)
def _town_chiefs(village: Region) -> tuple[User, ...]:
    """The leaders and the town center above `village`."""
    return tuple(
        user
        for role in (Role.LEADER, Role.TOWN_ADMIN)
        for user in users_with_role_over(role=role, region=village)
    )


def recipients_for(problem: Problem, *, escalate: bool) -> list[User]:
    """Who hears of an alert: the unit's handlers, and with `escalate` the town's leaders and
    center. Looked up once per unit and village within one tick run (see `problem_tick`)."""
    users = list(_unit_handlers(problem.unit_id or 0))
    if escalate:
        users += _town_chiefs(problem.village)
    return users


def _record(problem: Problem, kind: Kind, now: dt.datetime) -> None:
    deadline = clock.local(problem.deadline).strftime("%Y-%m-%d") if problem.deadline else ""
    unit = problem.unit.name if problem.unit else ""
    ProblemEvent.objects.create(
        problem=problem,
        action=_EVENT[kind],
        from_status=problem.status,
        to_status=problem.status,
        actor=None,
        note={
            Kind.REMIND: f"办理时限 {deadline} 将到，提醒{unit}抓紧办理",
            Kind.SUPERVISE: f"已超过办理时限 {deadline}，对{unit}发出督办并报领导小组",
            Kind.CRITICIZE: f"督办后仍超期未办结，{unit}列入通报批评",
        }[kind],
        data={"deadline": problem.deadline.isoformat() if problem.deadline else ""},
        at=now,
    )
    if kind == Kind.SUPERVISE:
        Problem.objects.filter(pk=problem.pk).update(supervised_at=now)
    elif kind == Kind.CRITICIZE:
        Problem.objects.filter(pk=problem.pk).update(criticized_at=now)
    title: str = {
        Kind.REMIND: f"【催办】{problem.code} 将于{deadline}到期，请抓紧办理",
        Kind.SUPERVISE: f"【督办】{problem.code} 已超期（时限{deadline}），{unit}请立即办理",
        Kind.CRITICIZE: f"【通报批评】{problem.code} 督办后仍超期，{unit}列入通报",
    }[kind]
    # the unit is told; a supervision notice or a criticism listing also goes up to the
    # town's leaders and its center
    recipients = recipients_for(problem, escalate=kind != Kind.REMIND)
    notify(
        users=recipients,
        kind=f"problem_{kind}",
        title=title,
        body=f"{problem.village.name}：{problem.description[:80]}",
        link=f"/ledger/{problem.pk}/",
        key=f"alert:{problem.pk}:{kind}:{deadline}",
        sms=True,
    )


def problem_tick(*, now: dt.datetime | None = None) -> TickReport:
    """Issue every reminder, supervision notice and criticism listing due at `now` (default:
    the clock's now). Idempotent: what was issued for a deadline is never issued again."""
    now = now or clock.now()
    report = TickReport(now=now)
    # recipients are looked up afresh for each run, then once per unit and village
    _unit_handlers.cache_clear()
    _town_chiefs.cache_clear()
    targets = {
        Kind.SUPERVISE: report.supervised,
        Kind.CRITICIZE: report.criticized,
        Kind.REMIND: report.reminded,
    }
    # supervision before criticism, so one late run does both steps in order
    for kind, issued in targets.items():
        ids = list(tick_candidates(now)[kind].order_by("id").values_list("pk", flat=True))
        for start in range(0, len(ids), 500):
            batch = Problem.objects.filter(pk__in=ids[start : start + 500])
            for problem in batch.select_related("unit", "village").order_by("id"):
                if _issue(problem, kind, now):
                    issued.append(problem.code)
    logger.info(
        "tick %s: %d reminded, %d supervised, %d criticized",
        now.isoformat(),
        len(report.reminded),
        len(report.supervised),
        len(report.criticized),
    )
    return report
