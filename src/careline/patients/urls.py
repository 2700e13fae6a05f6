from django.urls import URLPattern, path

from careline.patients import views

app_name = "patients"

urlpatterns: list[URLPattern] = [
    path("", views.search, name="search"),
    path("search/results/", views.search_results, name="search_results"),
    path("audit-picker/", views.audit_patient_picker, name="audit_patient_picker"),
    path("<uuid:patient_id>/", views.detail, name="detail"),
    path("<uuid:patient_id>/break-glass/", views.break_glass, name="break_glass"),
    path("<uuid:patient_id>/timeline/", views.timeline, name="timeline"),
    path("<uuid:patient_id>/contacts/", views.add_contact, name="add_contact"),
    path(
        "<uuid:patient_id>/contacts/<uuid:contact_id>/",
        views.update_contact,
        name="update_contact",
    ),
    path(
        "<uuid:patient_id>/contacts/<uuid:contact_id>/remove/",
        views.remove_contact,
        name="remove_contact",
    ),
    path("<uuid:patient_id>/preferences/", views.update_preferences, name="update_preferences"),
    path("<uuid:patient_id>/consents/", views.record_consent, name="record_consent"),
]
