from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "pingan.demo"
    label = "demo"
    verbose_name = "合成演示数据"
