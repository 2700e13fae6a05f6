from django.urls import URLPattern, path

from careline.scheduling.waitlist import views

app_name = "waitlist"

urlpatterns: list[URLPattern] = [
    path("", views.waitlist, name="list"),
    path("add/", views.join, name="join"),
    path("entries/<uuid:entry_id>/remove/", views.remove, name="remove"),
    path("offers/<uuid:offer_id>/accept/", views.accept, name="accept"),
    path("offers/<uuid:offer_id>/decline/", views.decline, name="decline"),
]
