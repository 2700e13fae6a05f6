from django.urls import path

app_name = "platform"

urlpatterns: list[path] = []
