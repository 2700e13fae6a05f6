from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "careline.portal"
    label = "portal"
    verbose_name = "Patient portal"
