from django.urls import URLPattern, path

from careline.messaging import views

app_name = "messaging"

urlpatterns: list[URLPattern] = [
    path("outbox/", views.outbox, name="outbox"),
    path("messages/<uuid:message_id>/", views.message_detail, name="message"),
]
