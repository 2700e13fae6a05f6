"""Messaging's data: templates, the outbox (every message in or out), suppressions and the
express consent given for one address.

The ``Message`` row is the outbox: it is written in the transaction of the event that caused
it, carries the policy decision that let it out (or held it), and moves through
``queued → sending → sent → delivered`` (or ``deferred``, ``blocked``, ``in_doubt``,
``failed``, ``cancelled``) as the dispatcher works on it. Nothing here touches other rows.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from careline.messaging.channels.base import ChannelKind


class Channel(models.TextChoices):
    EMAIL = ChannelKind.EMAIL.value, "Email"
    SMS = ChannelKind.SMS.value, "Text message"
    VOICE = ChannelKind.VOICE.value, "Voice call"
    FAX = ChannelKind.FAX.value, "Fax"
    PORTAL = ChannelKind.PORTAL.value, "Portal message"
    CHAT = ChannelKind.CHAT.value, "Web chat"


class Purpose(models.TextChoices):
    APPOINTMENT_REMINDER = "appointment_reminder", "Appointment reminder"
    APPOINTMENT_CONFIRMATION = "appointment_confirmation", "Appointment confirmation"
    APPOINTMENT_CANCELLATION = "appointment_cancellation", "Appointment cancellation"
    WAITLIST_OFFER = "waitlist_offer", "Waitlist offer"
    CARE_ADVICE = "care_advice", "Care advice"
    EDUCATION = "education", "Education"
    CAMPAIGN = "campaign", "Campaign"
    SURVEY_INVITATION = "survey_invitation", "Survey invitation"
    PROGRAM_OPT_IN = "program_opt_in", "Opt-in confirmation"
    PROGRAM_HELP = "program_help", "HELP reply"
    PROGRAM_STOP = "program_stop", "STOP confirmation"
    REPLY = "reply", "Reply"


class Category(models.TextChoices):
    TRANSACTIONAL = "transactional", "Transactional"
    CARE = "care", "Care"
    MARKETING = "marketing", "Marketing"


class Direction(models.TextChoices):
    OUTBOUND = "outbound", "Outbound"
    INBOUND = "inbound", "Inbound"


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    DEFERRED = "deferred", "Deferred"
    BLOCKED = "blocked", "Blocked"
    SENDING = "sending", "Sending"
    IN_DOUBT = "in_doubt", "In doubt"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    READ = "read", "Read"
    CANCELLED = "cancelled", "Cancelled"
    RECEIVED = "received", "Received"


# Statuses the dispatcher may still pick up (a due queued/deferred row, an in-doubt one).
PENDING_STATUSES = (Status.QUEUED, Status.DEFERRED)
FINAL_STATUSES = (
    Status.BLOCKED,
    Status.SENT,
    Status.DELIVERED,
    Status.FAILED,
    Status.READ,
    Status.CANCELLED,
    Status.RECEIVED,
)


class Decision(models.TextChoices):
    SEND = "send", "Send"
    DEFER = "defer", "Defer"
    BLOCK = "block", "Block"


class MessageTemplate(models.Model):
    """The text of one purpose on one channel in one language. ``body`` (and ``subject``)
    name variables as ``{name}``; only the channel's whitelisted variables may appear
    (``messaging.templates_text``). One active version per purpose, channel and language."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    language = models.CharField(max_length=20, default="en")
    category = models.CharField(max_length=16, choices=Category.choices)
    version = models.PositiveIntegerField(default=1)
    is_active = models.BooleanField(default=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("purpose", "channel", "language", "-version")
        constraints = (
            models.UniqueConstraint(
                fields=["purpose", "channel", "language"],
                condition=Q(is_active=True),
                name="messaging_template_one_active",
            ),
            models.UniqueConstraint(
                fields=["purpose", "channel", "language", "version"],
                name="messaging_template_version_unique",
            ),
        )

    def __str__(self) -> str:
        return f"{self.purpose}/{self.channel}/{self.language} v{self.version}"


class Message(models.Model):
    """One message in or out. ``public_id`` is the client reference given to the provider
    (and the email Message-ID); ``body`` holds only what the policy allows on the channel
    (clinical content travels as a portal link)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.OUTBOUND
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    category = models.CharField(max_length=16, choices=Category.choices)
    template = models.ForeignKey(
        MessageTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    language = models.CharField(max_length=20, blank=True)
    to_address = models.CharField(max_length=254, blank=True)
    from_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    decision = models.CharField(max_length=8, choices=Decision.choices, blank=True)
    decision_rule = models.CharField(max_length=40, blank=True)
    decision_reason = models.CharField(max_length=300, blank=True)
    has_phi = models.BooleanField(
        default=True, help_text="The text says something about the patient (BAA rule)."
    )
    is_reply = models.BooleanField(
        default=False,
        help_text="Answers the patient's own message or action: no quiet hours, no caps.",
    )
    due_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    adapter = models.CharField(max_length=60, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_kind = models.CharField(max_length=20, blank=True)
    error_reason = models.CharField(max_length=300, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    subject_ref = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("-created_at",)
        indexes = (
            # The dispatcher's claim: due rows of the pending statuses, oldest first.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["queued", "deferred"]),
                name="messaging_message_due",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=Q(status="sending"),
                name="messaging_message_sending",
            ),
            models.Index(fields=["patient", "-created_at"], name="messaging_message_patient"),
            models.Index(fields=["subject_ref"], name="messaging_message_subject"),
            models.Index(fields=["status", "-created_at"], name="messaging_message_status"),
            models.Index(fields=["provider_message_id"], name="messaging_message_provider"),
        )

    def __str__(self) -> str:
        return f"{self.channel} {self.purpose} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_STATUSES


class SuppressionReason(models.TextChoices):
    STOP = "stop", "Replied STOP"
    BOUNCE = "bounce", "Hard bounce"
    COMPLAINT = "complaint", "Spam complaint"
    CARRIER = "carrier", "Opted out at the carrier"
    LANDLINE = "landline", "Landline (cannot receive texts)"
    STAFF = "staff", "Asked staff"


class Suppression(models.Model):
    """An address that must not be contacted on a channel. Lifted (``lifted_at``) by START;
    the row stays as history."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=254)
    reason = models.CharField(max_length=12, choices=SuppressionReason.choices)
    created_at = models.DateTimeField()
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = (
            models.UniqueConstraint(
                fields=["channel", "address"],
                condition=Q(lifted_at__isnull=True),
                name="messaging_suppression_one_active",
            ),
        )

    def __str__(self) -> str:
        return f"{self.channel} suppressed ({self.reason})"


class ConsentMethod(models.TextChoices):
    WRITTEN = "written", "Signed form"
    VERBAL = "verbal", "Told staff"
    PORTAL = "portal", "Portal"
    KEYWORD = "keyword", "Texted a keyword"
    IMPORTED = "imported", "Imported"


class ChannelConsent(models.Model):
    """Express consent to be contacted at one address on one channel, with its provenance
    (how, when, from whom, which number). It belongs to the address, not only the patient:
    the TCPA asks who agreed for *that number* (a number may be shared by a family)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=254)
    method = models.CharField(max_length=10, choices=ConsentMethod.choices)
    given_by = models.CharField(max_length=150, help_text="Who agreed: the patient or a proxy.")
    given_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-given_at",)
        indexes = (models.Index(fields=["patient", "channel"], name="messaging_consent_patient"),)

    def __str__(self) -> str:
        return f"{self.channel} consent ({self.method})"


class SendPacer(models.Model):
    """The next free departure instant of one channel and sender: dispatchers on any machine
    reserve departures here (under a row lock), so together they keep the configured rate."""

    channel = models.CharField(max_length=10, choices=Channel.choices)
    sender = models.CharField(max_length=254, blank=True)
    next_free_at = models.DateTimeField()

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["channel", "sender"], name="messaging_pacer_unique"),
        )

    def __str__(self) -> str:
        return f"{self.channel} pacer"


class SinkRecord(models.Model):
    """What a demo sink adapter (SMS, voice, fax in demo mode) would have sent, readable by
    staff on the message page. Unique per reference: a sink never stores a send twice."""

    reference = models.UUIDField(unique=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    to_address = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    attempts = models.PositiveIntegerField(default=1, help_text="Sends of this reference.")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.channel} sink record"
