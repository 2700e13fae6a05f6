"""The portal's emails: rendered from ``templates/portal/email/``, sent by Django's mail
settings (``EMAIL_BACKEND``; SMTP in production). They carry links and codes, never PHI."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from careline.platform.errors import CarelineError


class DeliveryFailed(CarelineError):
    status = 503
    code = "delivery_failed"


def send_portal_mail(template: str, to: str, context: dict[str, Any]) -> None:
    """Render ``portal/email/<template>_subject.txt`` and ``_message.txt`` and send them."""
    subject = render_to_string(f"portal/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"portal/email/{template}_message.txt", context)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
    except OSError as error:  # smtplib.SMTPException is an OSError
        raise DeliveryFailed(
            "The email could not be sent just now. Nothing was changed; try again later."
        ) from error
