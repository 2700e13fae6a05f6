"""Mounted at /fhir/R4/ by ``careline.config.urls``."""

from django.urls import path, re_path

from careline.interop.fhir.rest import views

_TYPE = r"(?P<resource_type>[A-Z][A-Za-z]{1,63})"
_ID = r"(?P<resource_id>[A-Za-z0-9\-.]{1,64})"

urlpatterns = [
    path("metadata", views.metadata, name="fhir_metadata"),
    re_path(rf"^{_TYPE}/_search/?$", views.search_post, name="fhir_search_post"),
    re_path(rf"^{_TYPE}/{_ID}/?$", views.read, name="fhir_read"),
    re_path(rf"^{_TYPE}/?$", views.search, name="fhir_search"),
    re_path(r"^", views.not_supported, name="fhir_not_supported"),
]
