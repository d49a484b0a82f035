"""Scheduled ledger work for the task queue (huey; see settings.task_queue_from_env).

`tick` runs every 5 minutes by default (`PINGAN_TICK_MINUTES`); it is idempotent, so a
missed, repeated or concurrent run changes nothing that was already done.
"""

import os

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from pingan.ledger.attachments import attachment_orphans_delete
from pingan.ledger.supervision import TickReport, problem_tick

TICK_EVERY = os.environ.get("PINGAN_TICK_MINUTES", "5")


@db_periodic_task(crontab(minute=f"*/{TICK_EVERY}"), name="ledger.tick")
@lock_task("ledger.tick")
def tick_scheduled() -> TickReport:
    return problem_tick()


# 03:17 in Shanghai (huey keeps UTC): the quietest hour
@db_periodic_task(crontab(minute="17", hour="19"), name="ledger.attachment_orphans")
@lock_task("ledger.attachment_orphans")
def attachment_orphans_scheduled() -> int:
    """Every night: stored files no attachment row names (a caller's transaction rolled back
    after the file was written) and older than a day are deleted."""
    return attachment_orphans_delete()
