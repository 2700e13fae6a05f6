from django.urls import URLPattern

app_name = "platform"

urlpatterns: list[URLPattern] = []
