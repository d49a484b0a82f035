from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "pingan.ledger"
    label = "ledger"
    verbose_name = "问题台账"

    def ready(self) -> None:
        # Register this app's jobs with the task queue in every process (the site enqueues,
        # the worker runs them), not only where huey's autodiscovery runs.
        from pingan.ledger import tasks  # noqa: F401
