"""Background exports (导出任务): ask for one, run it in the worker, hand out its file.

- `export_request` checks the role and the filters, records the job (scope: the requester's
  region now) and queues it once the transaction commits.
- `export_run` (the task queue's job) takes a queued job, writes the workbook in a folder
  of its own beside the final place, renames it there and records the counts. Any error leaves the
  job failed with the reason in Chinese and no file. A job that is not queued is left alone,
  so a repeated or concurrent run changes nothing.
- `export_abandoned_fail` (periodic) fails the jobs a dead worker left behind.
- `export_file_for` finds a finished file for a download.

Jobs move only along `ExportJob.TRANSITIONS`; each move is one conditional UPDATE on the
state it leaves, so two workers can never both take or finish the same job.
"""

import datetime as dt
import errno
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q

from pingan.accounts.models import User
from pingan.core import clock
from pingan.regions.models import Region
from pingan.regions.selectors import village_list
from pingan.reports.export_selectors import (
    export_job_downloadable,
    user_may_export_visits,
    visit_list_for_export,
)
from pingan.reports.exports import visit_export_write
from pingan.reports.models import ExportJob

logger = logging.getLogger(__name__)

EXPORT_DIR = "exports"
# A running job reports progress every PROGRESS_EVERY rows; one silent for longer than
# RUNNING_SILENT_AFTER lost its worker. A queued job not started within QUEUED_FOR_AT_MOST
# was lost by the queue.
PROGRESS_EVERY = 50_000
RUNNING_SILENT_AFTER = dt.timedelta(minutes=15)
QUEUED_FOR_AT_MOST = dt.timedelta(hours=6)
# The file name of each kind, before the date (走访记录-20211018.xlsx).
FILE_TITLES: dict[str, str] = {ExportJob.Kind.VISITS: "走访记录"}

Status = ExportJob.Status


class ExportParamsError(ValueError):
    """Filters that cannot be used; `message` is for the user (Chinese), `field` names the
    filter at fault (None: the request as a whole)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class _Abandoned(Exception):
    """The job was failed as abandoned while this worker was still writing it: stop."""


class ExportNotFound(LookupError):
    """No finished file the user may download under that job (shown as 404)."""


@dataclass(frozen=True)
class ExportFile:
    path: Path
    filename: str
    size: int


def _move(job_id: int, source: str, target: str, **changes: Any) -> bool:
    """Move job `job_id` from `source` to `target` if it is still in `source`."""
    if target not in ExportJob.TRANSITIONS[source]:
        raise ValueError(f"an export job does not go from {source} to {target}")
    now = clock.now()
    changes.setdefault("updated_at", now)
    if target in (Status.DONE, Status.FAILED):
        changes.setdefault("finished_at", now)
    return bool(ExportJob.objects.filter(pk=job_id, status=source).update(status=target, **changes))


# --- asking for an export ----------------------------------------------------------------


def _day(params: dict[str, Any], key: str, label: str) -> dt.date | None:
    value = params.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ExportParamsError(
            f"{label}“{value}”不是有效的日期（格式：2021-10-18）", key
        ) from None


def export_params_clean(*, user: User, kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """The filters of a `kind` export as they will be stored, checked against the user's
    scope: `village_id` (a village the user may see, or None), `village_name`, `date_from`
    and `date_to` (YYYY-MM-DD or None; not after today, the start not after the end)."""
    if kind not in ExportJob.Kind.values:
        raise ExportParamsError(f"不支持的导出类型“{kind}”")
    unknown = set(params) - {"village_id", "date_from", "date_to"}
    if unknown:
        raise ExportParamsError(f"不认识的筛选条件：{'、'.join(sorted(unknown))}")
    village: Region | None = None
    if params.get("village_id") not in (None, ""):
        try:
            village_id = int(params["village_id"])
        except (TypeError, ValueError):
            raise ExportParamsError("请选择列表中的村", "village_id") from None
        village = village_list(user=user).filter(pk=village_id).first()
        if village is None:
            raise ExportParamsError("所选的村不在您的管辖范围内", "village_id")
    date_from = _day(params, "date_from", "开始日期")
    date_to = _day(params, "date_to", "结束日期")
    today = clock.today()
    if date_from is not None and date_from > today:
        raise ExportParamsError(f"开始日期 {date_from} 晚于今天，还没有走访记录", "date_from")
    if date_from is not None and date_to is not None and date_from > date_to:
        raise ExportParamsError(
            f"开始日期 {date_from} 晚于结束日期 {date_to}，请调换或修改", "date_to"
        )
    return {
        "village_id": village.pk if village is not None else None,
        "village_name": village.name if village is not None else "",
        "date_from": date_from.isoformat() if date_from else None,
        "date_to": date_to.isoformat() if date_to else None,
    }


def export_request(*, user: User, kind: str, params: dict[str, Any]) -> ExportJob:
    """Queue an export of `kind` over the user's scope, filtered by `params` (see
    `export_params_clean`). The town center, leaders, village admins and the county center
    may export the visits of their region; a cadre or a unit handler may not. Asking again
    for the same export while the first is still queued or running returns that job."""
    if kind == ExportJob.Kind.VISITS and not user_may_export_visits(user):
        raise PermissionDenied("只有镇综治中心、领导小组、村管理员和县综治中心可以导出走访记录")
    cleaned = export_params_clean(user=user, kind=kind, params=params)
    region = user.region
    if region is None:  # user_may_export_visits checked it; this tells mypy
        raise PermissionDenied("您的账号没有管辖区划，不能导出")
    with transaction.atomic():
        # One request of a user at a time (a double click), so the check below holds.
        User.objects.select_for_update().filter(pk=user.pk).exists()
        alive = ExportJob.objects.filter(_alive(clock.now()), requested_by=user, kind=kind,
                                         region=region)  # fmt: skip
        for pending in alive:
            if pending.params == cleaned:
                return pending
        job = ExportJob.objects.create(kind=kind, requested_by=user, region=region, params=cleaned)
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _alive(now: dt.datetime) -> Q:
    """Jobs still on their way: queued recently, or running with recent progress."""
    return Q(status=Status.QUEUED, created_at__gte=now - QUEUED_FOR_AT_MOST) | Q(
        status=Status.RUNNING, updated_at__gte=now - RUNNING_SILENT_AFTER
    )


def _enqueue(job_id: int) -> None:
    from pingan.reports.tasks import export_visits_task

    try:
        export_visits_task(job_id)
    except Exception:
        logger.exception("export job %s could not be queued", job_id)
        _move(
            job_id, Status.QUEUED, Status.FAILED, error="后台任务队列暂时不可用，请稍后重新申请导出"
        )


# --- running it ---------------------------------------------------------------------------


def export_dir() -> Path:
    return Path(settings.PINGAN_HOME) / EXPORT_DIR


def export_file_name(job: ExportJob) -> str:
    """<id>-走访记录-YYYYMMDD.xlsx, dated by the day it was asked for (Asia/Shanghai)."""
    return f"{job.pk}-{FILE_TITLES[job.kind]}-{clock.local(job.created_at):%Y%m%d}.xlsx"


def _failure_message(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "导出失败：服务器磁盘空间不足，请联系管理员清理后重新申请"
    if isinstance(exc, OSError):
        return "导出失败：无法写入导出文件，请联系管理员检查导出目录"
    return f"导出失败：系统内部错误（{type(exc).__name__}），请重新申请；如仍失败请联系管理员"


def export_run(*, job_id: int) -> ExportJob:
    """Run queued job `job_id` to the end (done or failed) and return it. A job in any other
    state is returned as it is: a done job is never redone, a running one is left to its
    worker, a failed one stays failed (ask again for a new one)."""
    now = clock.now()
    if not _move(job_id, Status.QUEUED, Status.RUNNING, started_at=now, row_count=0):
        return ExportJob.objects.get(pk=job_id)
    job = ExportJob.objects.select_related("region", "requested_by").get(pk=job_id)
    if not job.requested_by.is_active:
        _move(job_id, Status.RUNNING, Status.FAILED, error="申请人的账号已停用，未导出")
        return ExportJob.objects.get(pk=job_id)

    directory = export_dir()
    final = directory / export_file_name(job)
    # This run's own folder for the workbook being written and the writer's scratch files,
    # removed at the end whatever happens (or by export_abandoned_fail if the process died).
    work = directory / f".{job.pk}-{uuid.uuid4().hex}"
    partial = work / final.name
    renamed = False
    try:
        work.mkdir(parents=True)
        rows = _write(job, partial)
        with transaction.atomic():
            os.replace(partial, final)
            renamed = True
            finished = _move(
                job_id,
                Status.RUNNING,
                Status.DONE,
                row_count=rows,
                path=str(final.relative_to(settings.PINGAN_HOME)),
                file_size=final.stat().st_size,
            )
            if not finished:
                # Failed meanwhile as abandoned (its progress went quiet for too long): the
                # job says failed, so no file may stay behind.
                final.unlink(missing_ok=True)
    except Exception as exc:
        logger.exception("export job %s failed", job_id)
        if renamed:
            final.unlink(missing_ok=True)
        try:
            _move(job_id, Status.RUNNING, Status.FAILED, error=_failure_message(exc))
        except Exception:
            # The database itself is failing: the job stays running, without progress, until
            # export_abandoned_fail fails it; there is no file either way.
            logger.exception("export job %s could not be marked failed", job_id)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return ExportJob.objects.get(pk=job_id)


def _write(job: ExportJob, out: Path) -> int:
    params = job.params
    visits = visit_list_for_export(
        region=job.region,
        village_id=params.get("village_id"),
        date_from=dt.date.fromisoformat(params["date_from"]) if params.get("date_from") else None,
        date_to=dt.date.fromisoformat(params["date_to"]) if params.get("date_to") else None,
    )

    def progress(rows: int) -> None:
        still_running = ExportJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(
            row_count=rows, updated_at=clock.now()
        )
        if not still_running:
            raise _Abandoned(job.pk)

    return visit_export_write(
        visits_queryset=visits, out_path=out, progress=progress, progress_every=PROGRESS_EVERY
    )


def export_abandoned_fail(*, now: dt.datetime | None = None) -> int:
    """Fail the jobs whose worker is gone: running without progress for RUNNING_SILENT_AFTER
    (the process stopped mid-way), or queued for longer than QUEUED_FOR_AT_MOST (the queue
    lost it). Their partial files are removed. Returns how many were failed."""
    now = now or clock.now()
    failed = 0
    silent = ExportJob.objects.filter(
        status=Status.RUNNING, updated_at__lt=now - RUNNING_SILENT_AFTER
    ).values_list("pk", flat=True)
    for job_id in list(silent):
        if _move(job_id, Status.RUNNING, Status.FAILED,
                 error="导出中断（后台进程已停止），请重新申请导出"):  # fmt: skip
            failed += 1
            for leftover in export_dir().glob(f".{job_id}-*"):
                shutil.rmtree(leftover, ignore_errors=True)
    lost = ExportJob.objects.filter(
        status=Status.QUEUED, created_at__lt=now - QUEUED_FOR_AT_MOST
    ).values_list("pk", flat=True)
    for job_id in list(lost):
        if _move(job_id, Status.QUEUED, Status.FAILED,
                 error="排队过久仍未开始，请重新申请导出"):  # fmt: skip
            failed += 1
    return failed


# --- downloading ---------------------------------------------------------------------------


def export_file_for(*, user: User, job_id: int) -> ExportFile:
    """The file of finished job `job_id`, for its requester or a town center whose town
    holds its scope. Anything else — another's job, a job not done, a missing file — is
    ExportNotFound, so a job's existence is not revealed."""
    job = export_job_downloadable(user=user).filter(pk=job_id).first()
    if job is None:
        raise ExportNotFound(job_id)
    home = Path(settings.PINGAN_HOME).resolve()
    path = (home / job.path).resolve()
    if not path.is_relative_to(home / EXPORT_DIR) or not path.is_file():
        raise ExportNotFound(job_id)
    filename = f"{job.region.name}{FILE_TITLES[job.kind]}-{clock.local(job.created_at):%Y%m%d}.xlsx"
    return ExportFile(path=path, filename=filename, size=path.stat().st_size)
