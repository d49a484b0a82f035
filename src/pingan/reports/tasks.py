"""Scheduled report work for the task queue (huey; see settings.task_queue_from_env)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from pingan.reports.export_services import export_abandoned_fail, export_run
from pingan.reports.models import Bulletin
from pingan.reports.schedule import bulletin_publish_due


@db_periodic_task(crontab(minute="*"), name="reports.bulletin_daily")
@lock_task("reports.bulletin_daily")
def bulletin_daily() -> list[Bulletin]:
    """Every minute: publish the daily bulletins that are due (idempotent)."""
    return bulletin_publish_due()


# --- Background exports (导出任务) ---------------------------------------------------------


@db_task(name="reports.export_visits")
def export_visits_task(job_id: int) -> None:
    """Write the workbook of a queued visits export (idempotent: a job that is not queued
    any more is left as it is)."""
    export_run(job_id=job_id)


@db_periodic_task(crontab(minute="*/5"), name="reports.export_abandoned")
@lock_task("reports.export_abandoned")
def export_abandoned() -> int:
    """Every 5 minutes: fail the exports a stopped worker or a lost queue entry left behind."""
    return export_abandoned_fail()
