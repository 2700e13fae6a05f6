from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "careline.platform"
    label = "platform"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from careline.platform import lookups, signals
        from careline.platform.audit.triggers import refresh_sqlite_trigger

        lookups.register()
        signals.connect()
        post_migrate.connect(
            refresh_sqlite_trigger, sender=self, dispatch_uid="careline.audit.sqlite_trigger"
        )
