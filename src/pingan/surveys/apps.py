from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "pingan.surveys"
    label = "surveys"
    verbose_name = "问卷"
