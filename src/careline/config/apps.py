from django.apps import AppConfig


class ConfigConfig(AppConfig):
    name = "careline.config"
    label = "config"
    verbose_name = "Careline configuration"

    def ready(self) -> None:
        from careline.config import checks  # noqa: F401  (registers the deploy checks)
