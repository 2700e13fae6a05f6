from django.urls import URLPattern, path

from careline.scheduling.bumps import views as bumps
from careline.scheduling.views import (
    appointments,
    booking,
    configuration,
    metrics,
    patient_card,
    tickets,
)

app_name = "scheduling"

urlpatterns: list[URLPattern] = [
    path("", booking.schedule, name="schedule"),
    path("patients/", booking.patient_picker, name="patient_picker"),
    path("hold/", booking.hold, name="hold"),
    path("holds/<uuid:hold_id>/release/", booking.release, name="release"),
    path("book/", booking.book, name="book"),
    path("overbook/", booking.overbook, name="overbook"),
    path("tickets/", tickets.issue, name="ticket_issue"),
    path("tickets/<uuid:ticket_id>/revoke/", tickets.revoke, name="ticket_revoke"),
    path("day/", appointments.day_list, name="day"),
    path(
        "patients/<uuid:patient_id>/appointments/",
        patient_card.patient_appointments,
        name="patient_appointments",
    ),
    path("appointments/<uuid:appointment_id>/", appointments.appointment, name="appointment"),
    path("appointments/<uuid:appointment_id>/cancel/", appointments.cancel, name="cancel"),
    path(
        "appointments/<uuid:appointment_id>/reschedule/",
        appointments.reschedule,
        name="reschedule",
    ),
    path(
        "appointments/<uuid:appointment_id>/<slug:action>/",
        appointments.change_status,
        name="change_status",
    ),
    path("flagged/", bumps.flagged, name="flagged"),
    path("flagged/<uuid:flag_id>/bump/", bumps.bump, name="flag_bump"),
    path("flagged/<uuid:flag_id>/keep/", bumps.keep, name="flag_keep"),
    path("flagged/<uuid:flag_id>/reschedule/", bumps.reschedule, name="flag_reschedule"),
    path("metrics/", metrics.access_metrics, name="metrics"),
    path("setup/", configuration.setup, name="setup"),
    path("setup/visit-types/new/", configuration.visit_type_form, name="visit_type_new"),
    path(
        "setup/visit-types/<uuid:visit_type_id>/",
        configuration.visit_type_form,
        name="visit_type_edit",
    ),
    path("setup/templates/new/", configuration.template_form, name="template_new"),
    path(
        "setup/templates/<uuid:template_id>/",
        configuration.template_edit,
        name="template_edit",
    ),
    path(
        "setup/templates/<uuid:template_id>/remove/",
        configuration.remove_template,
        name="template_remove",
    ),
    path("setup/exceptions/new/", configuration.exception_form, name="exception_new"),
    path(
        "setup/exceptions/<uuid:exception_id>/remove/",
        configuration.remove_exception,
        name="exception_remove",
    ),
    path("setup/rules/new/", configuration.rule_form, name="rule_new"),
    path("setup/rules/<uuid:rule_id>/", configuration.rule_form, name="rule_edit"),
    path("setup/red-flags/new/", configuration.red_flag_form, name="red_flag_new"),
    path("setup/red-flags/<slug:code>/", configuration.red_flag_form, name="red_flag_edit"),
]
