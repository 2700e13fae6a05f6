"""Flagged appointments and the notices that tell bumped patients (``scheduling.bumps``).

A ``FlaggedAppointment`` is one booked visit a set-up change left outside its provider's
availability: what was found, which change did it, and how staff resolved it. At most one
flag per appointment is open (a partial unique constraint); a flag staff resolved as *kept*
is not raised again by later reviews (staff decided the visit goes ahead).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class FlagCause(models.TextChoices):
    """The set-up change that displaced the visit."""

    EXCEPTION_ADDED = "exception_added", "Leave, holiday or closure added"
    TEMPLATE_REMOVED = "template_removed", "Weekly hours removed"
    TEMPLATE_CHANGED = "template_changed", "Weekly hours changed"


class FlagFinding(models.TextChoices):
    """Why the visit is outside availability (``availability.displacement``)."""

    EXCEPTION = "exception", "Inside leave, a holiday or a closure"
    OUTSIDE_HOURS = "outside_hours", "Outside the provider's hours"
    CLOSED_BLOCK = "closed_block", "Overlaps a break or a reserved block"


class FlagStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class FlagResolution(models.TextChoices):
    BUMPED = "bumped", "Bumped by the provider"
    KEPT = "kept", "Kept (the provider sees the patient)"
    RESCHEDULED = "rescheduled", "Rescheduled"
    CLEARED = "cleared", "Cleared (back in hours, or no longer booked)"


class BumpReason(models.TextChoices):
    """The reasons staff pick when they bump a visit (the patient is told this one)."""

    PROVIDER_LEAVE = "provider_leave", "The provider is on leave"
    PROVIDER_ILLNESS = "provider_illness", "The provider is ill"
    HOURS_CHANGED = "hours_changed", "The provider's hours changed"
    CLOSURE = "closure", "The clinic is closed"
    EMERGENCY = "emergency", "The provider is needed for an emergency"
    OTHER = "other", "Other"


class FlaggedAppointment(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    appointment = models.ForeignKey(
        "scheduling.Appointment", on_delete=models.CASCADE, related_name="flags"
    )
    detected_at = models.DateTimeField()
    cause = models.CharField(max_length=20, choices=FlagCause.choices)
    change_id = models.UUIDField(
        null=True, blank=True, help_text="The public id of the exception or template changed."
    )
    change_summary = models.CharField(max_length=200, blank=True)
    finding = models.CharField(max_length=20, choices=FlagFinding.choices)
    status = models.CharField(max_length=10, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    resolution = models.CharField(max_length=12, choices=FlagResolution.choices, blank=True)
    bump_reason = models.CharField(max_length=20, choices=BumpReason.choices, blank=True)
    resolution_note = models.CharField(max_length=300, blank=True)
    resolved_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    rescheduled_to = models.ForeignKey(
        "scheduling.Appointment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ("detected_at", "pk")
        indexes = (models.Index(fields=["status", "detected_at"], name="flag_status_detected"),)
        constraints = (
            models.UniqueConstraint(
                fields=["appointment"],
                condition=Q(status="open"),
                name="flag_one_open_per_appointment",
            ),
            models.CheckConstraint(
                condition=(Q(status="open") & Q(resolution=""))
                | (Q(status="resolved") & ~Q(resolution="")),
                name="flag_resolution_when_resolved",
            ),
        )

    def __str__(self) -> str:
        return f"Flag {self.public_id}"

    @property
    def is_open(self) -> bool:
        return self.status == FlagStatus.OPEN


class BumpNotice(models.Model):
    """That a bumped patient is to be told — the record the messaging app sends from
    (``notify``); ``sent_at`` stays empty until a channel has sent it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    flag = models.OneToOneField(FlaggedAppointment, on_delete=models.CASCADE, related_name="notice")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    appointment = models.ForeignKey(
        "scheduling.Appointment", on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(max_length=20, choices=BumpReason.choices)
    is_waitlisted = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "pk")
        indexes = (models.Index(fields=["sent_at", "created_at"], name="bump_notice_unsent"),)

    def __str__(self) -> str:
        return f"Bump notice {self.public_id}"
