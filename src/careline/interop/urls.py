from django.urls import path

from careline.interop import views

app_name = "interop"

urlpatterns = [
    path("", views.imports, name="imports"),
]
