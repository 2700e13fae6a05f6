from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "careline.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"
