from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "careline.patients"
    label = "patients"
