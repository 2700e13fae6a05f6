from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "careline.platform"
    label = "platform"

    def ready(self) -> None:
        from careline.platform import signals

        signals.connect()
