from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "careline.directory"
    label = "directory"
