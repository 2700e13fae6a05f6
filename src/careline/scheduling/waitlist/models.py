"""Waitlist data: entries (who waits for what), freed slots (what came free, and whether it
was rebooked before it started — the fill rate), offers (one per patient per freed slot) and
the per-visit-type policy (minimum lead, how many at once, how long an offer lasts).

Imported by ``scheduling.models`` so the app's migrations see them; other apps reach them
only through ``scheduling.waitlist.services`` and ``selectors``.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q


class WaitlistStatus(models.TextChoices):
    ACTIVE = "active", "Waiting"
    OFFERED = "offered", "Offered a slot"
    BOOKED = "booked", "Booked"
    REMOVED = "removed", "Removed"


class RemovedReason(models.TextChoices):
    PATIENT_REQUEST = "patient_request", "The patient asked"
    BOOKED_ELSEWHERE = "booked_elsewhere", "Booked another way"
    NO_LONGER_NEEDED = "no_longer_needed", "No longer needed"
    UNREACHABLE = "unreachable", "Could not be reached"
    OTHER = "other", "Other"


class WaitlistPriority(models.IntegerChoices):
    URGENT = 1, "Urgent"
    HIGH = 2, "High"
    ROUTINE = 3, "Routine"


class WaitlistEntry(models.Model):
    """A patient waiting for a visit type (at a practitioner and/or location, if given), in a
    window of local dates and times of day. With ``appointment`` the patient already has that
    visit booked and wants it earlier ("move up"): an accepted offer reschedules it.

    Entries are offered in order of ``priority``, then ``created_at``.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    visit_type = models.ForeignKey(
        "directory.VisitType", on_delete=models.PROTECT, related_name="+"
    )
    practitioner = models.ForeignKey(
        "directory.Practitioner", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    location = models.ForeignKey(
        "directory.Location", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    earliest_date = models.DateField()
    latest_date = models.DateField()
    earliest_time = models.TimeField(null=True, blank=True, help_text="Local; blank: any.")
    latest_time = models.TimeField(null=True, blank=True, help_text="Local; the visit ends by it.")
    priority = models.PositiveSmallIntegerField(
        choices=WaitlistPriority.choices, default=WaitlistPriority.ROUTINE
    )
    status = models.CharField(
        max_length=10, choices=WaitlistStatus.choices, default=WaitlistStatus.ACTIVE
    )
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Move up: the booked visit the patient wants earlier.",
    )
    booked_appointment = models.ForeignKey(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    removed_reason = models.CharField(max_length=20, choices=RemovedReason.choices, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ("priority", "created_at", "pk")
        indexes = (
            models.Index(
                fields=["visit_type", "status", "priority", "created_at"],
                name="waitlist_queue",
            ),
            models.Index(fields=["patient", "status"], name="waitlist_patient_status"),
        )
        constraints = (
            models.CheckConstraint(
                condition=Q(earliest_date__lte=F("latest_date")), name="waitlist_dates_ordered"
            ),
            models.CheckConstraint(
                condition=Q(earliest_time__isnull=True)
                | Q(latest_time__isnull=True)
                | Q(earliest_time__lt=F("latest_time")),
                name="waitlist_times_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(status="removed") | ~Q(removed_reason=""),
                name="waitlist_removed_reason",
            ),
        )

    def __str__(self) -> str:
        return f"Waitlist entry {self.public_id}"

    @property
    def is_move_up(self) -> bool:
        return self.appointment_id is not None


class FreedSlotCause(models.TextChoices):
    CANCELLATION = "cancellation", "Cancellation"
    RESCHEDULE = "reschedule", "Rescheduled away"
    NEW_AVAILABILITY = "new_availability", "New availability"


class FreedSlotStatus(models.TextChoices):
    OPEN = "open", "Offering"
    FILLED = "filled", "Rebooked"
    CLOSED = "closed", "Closed unfilled"


class FreedSlot(models.Model):
    """A slot that came free (or newly opened) for a visit type, and what became of it.

    ``rebooked_at`` is set by any booking of the practitioner's time in the slot (from the
    waitlist or not); the fill rate is freed slots rebooked before they start ÷ freed slots
    (``selectors.fill_rate``). ``hold`` keeps the slot while offers are out; ``round`` counts
    the offer rounds; ``next_round_at`` defers a round past quiet hours; ``skipped`` lists the
    entries a rule refused (their rule names) for the staff page.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practitioner = models.ForeignKey(
        "directory.Practitioner", on_delete=models.CASCADE, related_name="+"
    )
    location = models.ForeignKey("directory.Location", on_delete=models.CASCADE, related_name="+")
    visit_type = models.ForeignKey(
        "directory.VisitType", on_delete=models.CASCADE, related_name="+"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    cause = models.CharField(max_length=20, choices=FreedSlotCause.choices)
    source_appointment = models.ForeignKey(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    freed_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=FreedSlotStatus.choices, default=FreedSlotStatus.OPEN
    )
    closed_reason = models.CharField(max_length=200, blank=True)
    hold = models.ForeignKey(
        "scheduling.Hold", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    round = models.PositiveSmallIntegerField(default=0)
    next_round_at = models.DateTimeField(null=True, blank=True)
    skipped = models.JSONField(default=list, blank=True)
    rebooked_appointment = models.ForeignKey(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rebooked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("starts_at", "pk")
        indexes = (
            models.Index(fields=["practitioner", "starts_at"], name="freed_slot_practitioner"),
            models.Index(fields=["status", "starts_at"], name="freed_slot_status"),
        )
        constraints = (
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="freed_slot_period_ordered"
            ),
            models.UniqueConstraint(
                fields=["practitioner", "visit_type", "starts_at"],
                condition=Q(status="open"),
                name="freed_slot_one_open",
            ),
        )

    def __str__(self) -> str:
        return f"Freed slot {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_rebooked_before_start(self) -> bool:
        return self.rebooked_at is not None and self.rebooked_at < self.starts_at


class OfferStatus(models.TextChoices):
    PENDING = "pending", "Waiting for an answer"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    TAKEN = "taken", "Taken by another patient"
    WITHDRAWN = "withdrawn", "Withdrawn"


class WaitlistOffer(models.Model):
    """One freed slot offered to one waitlisted patient until ``expires_at``."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    freed_slot = models.ForeignKey(FreedSlot, on_delete=models.CASCADE, related_name="offers")
    round = models.PositiveSmallIntegerField()
    status = models.CharField(
        max_length=10, choices=OfferStatus.choices, default=OfferStatus.PENDING
    )
    offered_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.CharField(max_length=150, blank=True)
    appointment = models.ForeignKey(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("offered_at", "pk")
        indexes = (models.Index(fields=["status", "expires_at"], name="offer_status_expiry"),)
        constraints = (
            models.UniqueConstraint(fields=["entry", "freed_slot"], name="offer_once_per_slot"),
        )

    def __str__(self) -> str:
        return f"Offer {self.public_id}"


class WaitlistPolicy(models.Model):
    """Per visit type: no offer for a slot starting sooner than ``minimum_lead_minutes``
    (prep, travel); how many patients get one slot at once and for how long (blank: the
    ``CARELINE_WAITLIST_*`` settings)."""

    visit_type = models.OneToOneField(
        "directory.VisitType", on_delete=models.CASCADE, related_name="+"
    )
    minimum_lead_minutes = models.PositiveIntegerField(default=0)
    offers_at_once = models.PositiveSmallIntegerField(null=True, blank=True)
    offer_minutes = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "waitlist policies"

    def __str__(self) -> str:
        return f"Waitlist policy of visit type {self.visit_type_id}"
