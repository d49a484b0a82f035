from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "pingan.regions"
    label = "regions"
    verbose_name = "区划与住户"
