from django.urls import URLPattern

app_name = "clinical"

urlpatterns: list[URLPattern] = []
