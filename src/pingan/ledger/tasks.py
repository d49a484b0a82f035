"""Scheduled ledger work for the task queue (huey; see settings.task_queue_from_env).

`tick` runs every 5 minutes by default (`PINGAN_TICK_MINUTES`); it is idempotent, so a
missed, repeated or concurrent run changes nothing that was already done.
"""

import os

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from pingan.ledger.supervision import TickReport, problem_tick

TICK_EVERY = os.environ.get("PINGAN_TICK_MINUTES", "5")


@db_periodic_task(crontab(minute=f"*/{TICK_EVERY}"), name="ledger.tick")
@lock_task("ledger.tick")
def tick_scheduled() -> TickReport:
    return problem_tick()
