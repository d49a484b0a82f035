from django.apps import AppConfig


class FieldConfig(AppConfig):
    name = "pingan.field"
    label = "field"
    verbose_name = "走访干部手机页面"
