from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "pingan.reports"
    verbose_name = "通报与报表"

    def ready(self) -> None:
        # Register this app's jobs with the task queue in every process (the site enqueues,
        # the worker runs them), not only where huey's autodiscovery runs.
        from pingan.reports import tasks  # noqa: F401
