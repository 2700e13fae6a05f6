from django.urls import URLPattern, path

from careline.clinical import views

app_name = "clinical"

urlpatterns: list[URLPattern] = [
    path("patients/<uuid:patient_id>/summary/", views.patient_summary, name="patient_summary"),
]
