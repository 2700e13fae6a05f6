from django.urls import URLPattern, path

from careline.portal import staff_views

app_name = "portal_access"

urlpatterns: list[URLPattern] = [
    path("booking-requests/", staff_views.booking_requests, name="booking_requests"),
    path(
        "booking-requests/<uuid:request_id>/close/",
        staff_views.close_booking_request,
        name="close_booking_request",
    ),
    path("patients/<uuid:patient_id>/", staff_views.patient_card, name="patient_card"),
    path("patients/<uuid:patient_id>/invite/", staff_views.invite, name="invite"),
    path(
        "patients/<uuid:patient_id>/links/<uuid:link_id>/revoke/",
        staff_views.revoke,
        name="revoke",
    ),
]
