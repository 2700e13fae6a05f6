from django.urls import URLPattern, path

from careline.portal import account_views, booking_views, message_views, views, waitlist_views

app_name = "portal"

urlpatterns: list[URLPattern] = [
    path("", views.home, name="home"),
    path("signup/", account_views.signup, name="signup"),
    path("login/", account_views.login, name="login"),
    path("logout/", account_views.logout, name="logout"),
    path("verify-email/", account_views.verify_email_sent, name="verify_email_sent"),
    path("verify-email/<str:key>/", account_views.verify_email, name="verify_email"),
    path("security/", account_views.security, name="security"),
    path("link/", views.link, name="link"),
    path("link/<uuid:challenge_id>/", views.link_code, name="link_code"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("patients/<uuid:patient_id>/", views.patient_home, name="patient_home"),
    path("patients/<uuid:patient_id>/proxies/", views.proxies, name="proxies"),
    path("patients/<uuid:patient_id>/messages/", message_views.messages, name="messages"),
    path(
        "patients/<uuid:patient_id>/messages/<uuid:message_id>/",
        message_views.message,
        name="message",
    ),
    path("patients/<uuid:patient_id>/book/", booking_views.choose_visit, name="choose_visit"),
    path(
        "patients/<uuid:patient_id>/book/<uuid:visit_type_id>/",
        booking_views.choose_slot,
        name="choose_slot",
    ),
    path(
        "patients/<uuid:patient_id>/book/<uuid:visit_type_id>/hold/",
        booking_views.hold,
        name="hold",
    ),
    path(
        "patients/<uuid:patient_id>/book/<uuid:visit_type_id>/request/",
        booking_views.request_visit,
        name="request_visit",
    ),
    path(
        "patients/<uuid:patient_id>/holds/<uuid:hold_id>/",
        booking_views.confirm,
        name="confirm",
    ),
    path(
        "patients/<uuid:patient_id>/appointments/<uuid:appointment_id>/",
        booking_views.appointment,
        name="appointment",
    ),
    path(
        "patients/<uuid:patient_id>/appointments/<uuid:appointment_id>/cancel/",
        booking_views.cancel,
        name="cancel_appointment",
    ),
    path(
        "patients/<uuid:patient_id>/appointments/<uuid:appointment_id>/calendar.ics",
        booking_views.calendar_file,
        name="appointment_ics",
    ),
    path("patients/<uuid:patient_id>/waitlist/", waitlist_views.join, name="waitlist_join"),
    path(
        "patients/<uuid:patient_id>/waitlist/<uuid:entry_id>/leave/",
        waitlist_views.leave,
        name="waitlist_leave",
    ),
    path(
        "patients/<uuid:patient_id>/waitlist/offers/<uuid:offer_id>/",
        waitlist_views.offer,
        name="waitlist_offer",
    ),
    path(
        "patients/<uuid:patient_id>/proxies/<uuid:link_id>/revoke/",
        views.revoke_proxy,
        name="revoke_proxy",
    ),
]
