"""Scheduled report work for the task queue (huey; see settings.task_queue_from_env)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from pingan.reports.models import Bulletin
from pingan.reports.schedule import bulletin_publish_due


@db_periodic_task(crontab(minute="*"), name="reports.bulletin_daily")
@lock_task("reports.bulletin_daily")
def bulletin_daily() -> list[Bulletin]:
    """Every minute: publish the daily bulletins that are due (idempotent)."""
    return bulletin_publish_due()
