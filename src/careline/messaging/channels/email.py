"""Email over Django's SMTP backend (``EMAIL_HOST``, ``EMAIL_PORT``, ``EMAIL_HOST_USER``, …).

SMTP keeps no log we can search, so ``reconciles = False``: a message in doubt after a crash
is sent again, with the same deterministic ``Message-ID: <reference@domain>`` so the repeat
is recognisable (and dropped by most receiving systems). One connection is reused for a
dispatcher batch (``open_batch``/``close_batch``)."""

from __future__ import annotations

import smtplib
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend

from careline.messaging.channels.base import (
    ChannelKind,
    FailureKind,
    OutgoingMessage,
    PermanentFailure,
    SendResult,
    TransientFailure,
)
from careline.platform import clock


def message_id(reference: str) -> str:
    return f"<{reference}@{settings.CARELINE_MESSAGING_MESSAGE_ID_DOMAIN}>"


class SmtpEmailAdapter:
    name = "smtp-email"
    channel = ChannelKind.EMAIL
    covered_by_baa = False
    reconciles = False

    def __init__(self) -> None:
        self._connection: EmailBackend | None = None

    def open_batch(self) -> None:
        self._connection = EmailBackend(fail_silently=False)
        self._connection.open()

    def close_batch(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None

    def send(self, message: OutgoingMessage) -> SendResult:
        connection = self._connection or EmailBackend(fail_silently=False)
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=message.sender or settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            headers={"Message-ID": message_id(message.reference), **dict(message.headers)},
            connection=connection,
        )
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            code = str(codes[0]) if codes else ""
            if code.startswith("4"):
                raise TransientFailure(
                    FailureKind.UNAVAILABLE, "The mail server deferred the recipient.", code=code
                ) from error
            raise PermanentFailure(
                FailureKind.BOUNCED, "The mail server refused the recipient.", code=code
            ) from error
        except smtplib.SMTPResponseException as error:
            code = str(error.smtp_code)
            kind = TransientFailure if code.startswith("4") else PermanentFailure
            raise kind(
                FailureKind.REJECTED if code.startswith("5") else FailureKind.UNAVAILABLE,
                "The mail server refused the message.",
                code=code,
            ) from error
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            self.close_batch()
            raise TransientFailure(
                FailureKind.UNAVAILABLE, "The mail server could not be reached."
            ) from error
        return SendResult(provider_message_id=message_id(message.reference), sent_at=clock.now())

    def find_sent(self, message: OutgoingMessage, *, since: datetime) -> SendResult | None:
        del message, since
        return None
