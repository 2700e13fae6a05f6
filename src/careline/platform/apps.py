from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "careline.platform"
    label = "platform"
