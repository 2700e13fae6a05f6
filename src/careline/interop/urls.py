from django.urls import URLPattern

app_name = "interop"

urlpatterns: list[URLPattern] = []
