from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "careline.portal"
    label = "portal"
    verbose_name = "Patient portal"

    def ready(self) -> None:
        # Lower apps (scheduling's booking) serve portal accounts through the portal's one
        # access rule, registered here (they may not import the portal).
        from careline.patients.access import register_self_service_rule
        from careline.portal.access import portal_patient

        register_self_service_rule(portal_patient)
