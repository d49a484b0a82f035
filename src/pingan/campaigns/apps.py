from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "pingan.campaigns"
    label = "campaigns"
    verbose_name = "活动"
