from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "pingan.visits"
    label = "visits"
    verbose_name = "走访"
