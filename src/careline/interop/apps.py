from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "careline.interop"
    label = "interop"
