from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "careline.messaging"
    label = "messaging"
    verbose_name = "Messaging"
