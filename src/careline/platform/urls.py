from django.urls import path

from careline.platform import views

app_name = "platform"

urlpatterns = [
    path("", views.home, name="home"),
    path("audit/", views.audit_log, name="audit_log"),
    path("audit/export.csv", views.audit_export_csv, name="audit_export_csv"),
    path("audit/export.ndjson", views.audit_export_fhir, name="audit_export_fhir"),
    path("audit/break-glass/", views.break_glass_review, name="break_glass_review"),
    path(
        "audit/break-glass/<uuid:access_id>/review/",
        views.break_glass_mark_reviewed,
        name="break_glass_mark_reviewed",
    ),
]
