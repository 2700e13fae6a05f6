from django.urls import URLPattern, path

from careline.directory import views

app_name = "directory"

urlpatterns: list[URLPattern] = [
    path("locations/", views.nearest, name="nearest"),
    path("locations/results/", views.nearest_results, name="nearest_results"),
]
