from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "careline.clinical"
    label = "clinical"
