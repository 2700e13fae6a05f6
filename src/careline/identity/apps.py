from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "careline.identity"
    label = "identity"
