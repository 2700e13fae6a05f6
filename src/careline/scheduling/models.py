"""Scheduling data: resources, availability templates, exceptions, provider rules, red-flag
lists, referrals on file, holds, appointments with their history — and the occupancy table
that makes double booking impossible.

Times: template hours are local wall-clock times of the template's location (its
``time_zone``); every instant stored (``starts_at``, exceptions, holds) is an aware datetime
(UTC in the database).

**Occupancy.** Every active appointment and unexpired hold writes one ``Occupancy`` row per
thing it occupies: the practitioner, each room or device, and the patient. On PostgreSQL an
exclusion constraint (migration 0002, ``btree_gist``) refuses two rows with the same
``resource_key`` whose ``[occupied_from, occupied_to)`` ranges overlap unless they share a
``slot_key`` (the seats of one group session) or one of them is an overbook row (an
authorised overbook, or an EHR appointment imported over time already taken). The
booking service deletes the rows of a cancelled appointment and of an expired hold in its own
transaction. On SQLite (embedded, one process) transactions are IMMEDIATE — one writer at a
time — and the service's overlap query before the insert is the guard.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q

from careline.platform.models import SourcedModel

# The provider-bump workflow's models live in ``scheduling.bumps``; importing them here
# registers them with the app.
from careline.scheduling.bumps.models import BumpNotice as BumpNotice
from careline.scheduling.bumps.models import FlaggedAppointment as FlaggedAppointment

# The waitlist's models live in their own module (``scheduling.waitlist``); importing them
# here registers them with the app.
from careline.scheduling.waitlist.models import FreedSlot as FreedSlot
from careline.scheduling.waitlist.models import WaitlistEntry as WaitlistEntry
from careline.scheduling.waitlist.models import WaitlistOffer as WaitlistOffer
from careline.scheduling.waitlist.models import WaitlistPolicy as WaitlistPolicy


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class Resource(models.Model):
    """A room or a device at a location, booked together with the practitioner."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    location = models.ForeignKey(
        "directory.Location", on_delete=models.CASCADE, related_name="scheduling_resources"
    )
    kind = models.CharField(max_length=100, help_text='"room", "CT scanner", …')
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("location", "kind", "name")
        indexes = (models.Index(fields=["location", "kind"], name="resource_location_kind"),)

    def __str__(self) -> str:
        return f"{self.kind}: {self.name}"


class AvailabilityTemplate(models.Model):
    """Recurring weekly hours of a practitioner at a location (local times).

    Slots start every ``slot_minutes`` from ``start_time``; ``visit_types`` limits the
    session to those visit types (empty: any the practitioner offers).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practitioner = models.ForeignKey(
        "directory.Practitioner", on_delete=models.CASCADE, related_name="availability_templates"
    )
    location = models.ForeignKey(
        "directory.Location", on_delete=models.CASCADE, related_name="availability_templates"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    slot_minutes = models.PositiveSmallIntegerField(default=15)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text="Last day it applies.")
    visit_types = models.ManyToManyField("directory.VisitType", blank=True, related_name="+")

    class Meta:
        ordering = ("practitioner", "weekday", "start_time")
        indexes = (
            models.Index(fields=["practitioner", "weekday"], name="template_practitioner_day"),
        )
        constraints = (
            models.CheckConstraint(
                condition=Q(start_time__lt=F("end_time")), name="template_hours_ordered"
            ),
            models.CheckConstraint(condition=Q(slot_minutes__gt=0), name="template_slot_minutes"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_from__lte=F("effective_to")),
                name="template_effective_ordered",
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="template_weekday"),
        )

    def __str__(self) -> str:
        return f"{Weekday(self.weekday).label} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class BlockKind(models.TextChoices):
    BREAK = "break", "Break"
    RESERVED = "reserved", "Reserved"


class TemplateBlock(models.Model):
    """Part of a template's session: a break (never booked) or a reserved block.

    A reserved block with a visit type takes only that type; one without is frozen (kept
    back from booking, e.g. a same-day reserve). Either opens to every visit type
    ``release_minutes_before`` its start when that is set.
    """

    template = models.ForeignKey(
        AvailabilityTemplate, on_delete=models.CASCADE, related_name="blocks"
    )
    kind = models.CharField(max_length=10, choices=BlockKind.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    visit_type = models.ForeignKey(
        "directory.VisitType", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    release_minutes_before = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ("template", "start_time")
        constraints = (
            models.CheckConstraint(
                condition=Q(start_time__lt=F("end_time")), name="block_hours_ordered"
            ),
            models.CheckConstraint(
                condition=Q(kind="reserved")
                | (Q(visit_type__isnull=True) & Q(release_minutes_before__isnull=True)),
                name="block_break_plain",
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class ExceptionKind(models.TextChoices):
    LEAVE = "leave", "Leave"
    HOLIDAY = "holiday", "Holiday"
    CLOSURE = "closure", "Closure"
    OTHER = "other", "Other"


class AvailabilityException(models.Model):
    """Time nobody books: a practitioner's leave, or (no practitioner) an organisation-wide
    holiday or closure, at one location or (no location) everywhere."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practitioner = models.ForeignKey(
        "directory.Practitioner",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="availability_exceptions",
    )
    location = models.ForeignKey(
        "directory.Location", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=ExceptionKind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("starts_at",)
        indexes = (models.Index(fields=["ends_at", "starts_at"], name="exception_period"),)
        constraints = (
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="exception_period_ordered"
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind} {self.starts_at:%Y-%m-%d}"


class PartOfDay(models.TextChoices):
    ANY = "any", "All day"
    MORNING = "am", "Morning (before noon)"
    AFTERNOON = "pm", "Afternoon (from noon)"


class RuleKind(models.TextChoices):
    """Provider rules; ``parameters`` per kind are listed in ``scheduling.rules``."""

    NO_NEW_PATIENTS = "no_new_patients", "No new patients"
    MAX_NEW_PER_SESSION = "max_new_per_session", "At most N new patients per session"
    MIN_AGE = "min_age", "Minimum age"
    MAX_AGE = "max_age", "Maximum age"
    PAYERS_ONLY = "payers_only", "Only these payers"
    REFERRAL_REQUIRED = "referral_required", "Referral required"


class ProviderRule(models.Model):
    """One practitioner's own rule on top of the visit-type criteria — data, editable.

    It applies to ``visit_type`` (or every type), on ``weekday`` (or every day) and in
    ``part_of_day`` of the slot's local start.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practitioner = models.ForeignKey(
        "directory.Practitioner", on_delete=models.CASCADE, related_name="scheduling_rules"
    )
    visit_type = models.ForeignKey(
        "directory.VisitType", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=24, choices=RuleKind.choices)
    parameters = models.JSONField(default=dict, blank=True)
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, null=True, blank=True)
    part_of_day = models.CharField(max_length=3, choices=PartOfDay.choices, default=PartOfDay.ANY)
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("practitioner", "kind", "pk")

    def __str__(self) -> str:
        return self.description or RuleKind(self.kind).label


class RedFlagList(models.Model):
    """A pre-visit safety screen as data: yes/no questions; any "yes" stops self-booking.

    ``questions``: ``[{"code": "chest_pain", "text": "…?"}, …]``; ``advice`` says what to
    do instead (call the nurse line, emergency advice). Triage reuses these lists.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    questions = models.JSONField(default=list)
    advice = models.TextField()
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    @property
    def question_codes(self) -> list[str]:
        return [str(question.get("code")) for question in self.questions]


class ReferralOnFile(models.Model):
    """A referral staff recorded for a patient (the referrals app comes later; the FHIR
    importer keeps no ServiceRequest yet): for a specialty, optionally a visit type."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    specialty = models.CharField(max_length=200, blank=True)
    visit_type = models.ForeignKey(
        "directory.VisitType", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    referring_practitioner = models.CharField(max_length=200, blank=True)
    received_on = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ("-received_on",)

    def __str__(self) -> str:
        return f"Referral for {self.specialty or 'a visit'}"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    ARRIVED = "arrived", "Arrived"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"
    CANCELLED = "cancelled", "Cancelled"
    BUMPED = "bumped", "Bumped by the provider"


ACTIVE_STATUSES = frozenset({AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED})


class CancelReason(models.TextChoices):
    PATIENT = "patient", "Patient's request"
    PROVIDER = "provider", "Provider's request"
    WEATHER = "weather", "Weather"
    OTHER = "other", "Other"


class Appointment(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="appointments"
    )
    practitioner = models.ForeignKey(
        "directory.Practitioner", on_delete=models.PROTECT, related_name="appointments"
    )
    location = models.ForeignKey(
        "directory.Location", on_delete=models.PROTECT, related_name="appointments"
    )
    visit_type = models.ForeignKey(
        "directory.VisitType", on_delete=models.PROTECT, related_name="appointments"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    is_new_patient = models.BooleanField(
        default=False, help_text="New to the visit's specialty when booked (3-year rule)."
    )
    cancel_reason = models.CharField(max_length=10, choices=CancelReason.choices, blank=True)
    cancel_note = models.CharField(max_length=300, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    is_overbook = models.BooleanField(default=False)
    overbook_reason = models.CharField(max_length=300, blank=True)
    series_id = models.UUIDField(null=True, blank=True, db_index=True)
    rescheduled_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rescheduled_to"
    )
    safety_screen = models.JSONField(
        default=dict, blank=True, help_text="The red-flag list's code and the answers given."
    )
    booked_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # An appointment imported from an EHR (blank ``source_system`` for Careline's own):
    # its provenance, the status and visit name as the EHR said them, and the overlap with
    # time already taken in Careline that staff must resolve (``interop.fhir.mapping.scheduling``).
    source_system = models.CharField(max_length=200, blank=True)
    source_id = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    raw = models.JSONField(null=True, blank=True)
    source_status = models.CharField(max_length=20, blank=True, help_text="The EHR's status.")
    visit_text = models.CharField(max_length=200, blank=True, help_text="The EHR's visit name.")
    conflict_note = models.CharField(
        max_length=300, blank=True, help_text="Overlap with Careline's time, for staff."
    )

    class Meta:
        ordering = ("starts_at",)
        indexes = (
            models.Index(fields=["patient", "starts_at"], name="appointment_patient_time"),
            models.Index(
                fields=["practitioner", "starts_at"], name="appointment_practitioner_time"
            ),
        )
        constraints = (
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="appointment_period_ordered"
            ),
            models.CheckConstraint(
                condition=Q(is_overbook=False) | ~Q(overbook_reason=""),
                name="appointment_overbook_reason",
            ),
            models.UniqueConstraint(
                fields=["source_system", "source_id"],
                condition=~Q(source_system=""),
                name="appointment_source",
            ),
        )

    def __str__(self) -> str:
        return f"Appointment {self.public_id}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_imported(self) -> bool:
        return bool(self.source_system)


class AppointmentHistory(models.Model):
    """Who did what to an appointment, and when (booked, rescheduled, cancelled, status)."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="history")
    occurred_at = models.DateTimeField()
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    actor = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("occurred_at", "pk")

    def __str__(self) -> str:
        return f"{self.action} at {self.occurred_at:%Y-%m-%d %H:%M}"


class Hold(models.Model):
    """A slot kept for a few minutes while booking (the patient answers the safety screen);
    past ``expires_at`` it blocks nothing and the next booking path clears it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practitioner = models.ForeignKey(
        "directory.Practitioner", on_delete=models.CASCADE, related_name="+"
    )
    location = models.ForeignKey("directory.Location", on_delete=models.CASCADE, related_name="+")
    visit_type = models.ForeignKey(
        "directory.VisitType", on_delete=models.CASCADE, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    held_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Hold until {self.expires_at:%H:%M:%S}"


class ImportedSchedule(SourcedModel):
    """An EHR's FHIR Schedule: whose availability it describes. Careline's own templates
    stay the source of bookable time; this row links the EHR's slots to a practitioner
    and/or location."""

    practitioner = models.ForeignKey(
        "directory.Practitioner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    location = models.ForeignKey(
        "directory.Location", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    service_text = models.CharField(max_length=200, blank=True)
    planning_from = models.DateTimeField(null=True, blank=True)
    planning_to = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta(SourcedModel.Meta):
        pass

    def __str__(self) -> str:
        return f"Schedule {self.source_id} from {self.source_system}"


class SlotStatus(models.TextChoices):
    """FHIR's slot statuses."""

    BUSY = "busy", "Busy"
    FREE = "free", "Free"
    BUSY_UNAVAILABLE = "busy-unavailable", "Busy (unavailable)"
    BUSY_TENTATIVE = "busy-tentative", "Busy (tentative)"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


BLOCKING_SLOT_STATUSES = frozenset(
    {SlotStatus.BUSY, SlotStatus.BUSY_UNAVAILABLE, SlotStatus.BUSY_TENTATIVE}
)


class ImportedSlot(SourcedModel):
    """An EHR's FHIR Slot on an imported schedule. A busy one blocks its time through the
    ``exception`` it owns (kept in step on every re-import); a free one is informational."""

    schedule = models.ForeignKey(ImportedSchedule, on_delete=models.CASCADE, related_name="slots")
    status = models.CharField(max_length=20, choices=SlotStatus.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    is_overbooked = models.BooleanField(default=False)
    comment = models.CharField(max_length=300, blank=True)
    exception = models.OneToOneField(
        AvailabilityException,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="imported_slot",
    )

    class Meta(SourcedModel.Meta):
        indexes = (models.Index(fields=["schedule", "starts_at"], name="imported_slot_time"),)

    def __str__(self) -> str:
        return f"{self.status} slot {self.starts_at:%Y-%m-%d %H:%M}"


class Occupancy(models.Model):
    """One thing (``resource_key``: ``practitioner:<pk>``, ``resource:<pk>``,
    ``patient:<pk>``) taken for ``[occupied_from, occupied_to)`` by an appointment or a hold.

    Rows of one group session share ``slot_key``; every other row has its own. The
    exclusion constraint (PostgreSQL) is described in the module docstring.
    """

    resource_key = models.CharField(max_length=40)
    slot_key = models.CharField(max_length=120)
    occupied_from = models.DateTimeField()
    occupied_to = models.DateTimeField()
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    hold = models.ForeignKey(
        Hold, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True, help_text="A hold's expiry.")
    is_overbook = models.BooleanField(default=False)

    class Meta:
        indexes = (
            models.Index(fields=["resource_key", "occupied_from"], name="occupancy_key_from"),
        )
        constraints = (
            models.CheckConstraint(
                condition=Q(occupied_from__lt=F("occupied_to")), name="occupancy_period_ordered"
            ),
            models.CheckConstraint(
                condition=(Q(appointment__isnull=False) & Q(hold__isnull=True))
                | (Q(appointment__isnull=True) & Q(hold__isnull=False)),
                name="occupancy_one_owner",
            ),
        )

    def __str__(self) -> str:
        return f"{self.resource_key} {self.occupied_from:%Y-%m-%d %H:%M}"


# --- patient self-scheduling (the portal) -----------------------------------------------------


class BookingQuestion(models.Model):
    """One step of the portal's "what visit do you need?" questionnaire — a decision tree
    kept as data, edited by staff in the admin.

    ``answers``: ``[{"label": "…", <one of>}]`` where the other key is ``"next"`` (the code of
    the next question), ``"visit_type"`` (the code of the visit type it leads to) or
    ``"advice"`` (what to do instead, e.g. call the nurse line). The tree starts at the active
    question with ``is_start``.
    """

    code = models.SlugField(max_length=64, unique=True)
    text = models.CharField(max_length=300)
    help_text = models.CharField(max_length=300, blank=True)
    answers = models.JSONField(
        default=list,
        help_text=(
            'A list of answers, each {"label": "…"} with one of "next" (a question code), '
            '"visit_type" (a visit type code) or "advice" (what to do instead).'
        ),
    )
    is_start = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("-is_start", "code")
        constraints = (
            models.UniqueConstraint(
                fields=["is_start"],
                condition=Q(is_start=True, is_active=True),
                name="booking_question_one_start",
            ),
        )

    def __str__(self) -> str:
        return self.text


class BookingTicket(models.Model):
    """Staff let a patient book one visit of a type herself within a window ("book a
    follow-up in 2 to 4 weeks"), whatever the type's portal mode. Used by the appointment it
    booked; usable again if that appointment is cancelled."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    visit_type = models.ForeignKey(
        "directory.VisitType", on_delete=models.CASCADE, related_name="+"
    )
    earliest_date = models.DateField()
    latest_date = models.DateField()
    note = models.CharField(max_length=300, blank=True)
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("latest_date", "pk")
        indexes = (models.Index(fields=["patient", "latest_date"], name="ticket_patient_latest"),)
        constraints = (
            models.CheckConstraint(
                condition=Q(earliest_date__lte=F("latest_date")), name="ticket_window_ordered"
            ),
        )

    def __str__(self) -> str:
        return f"Ticket {self.public_id}"


class BookingRequestStatus(models.TextChoices):
    OPEN = "open", "Waiting for staff"
    BOOKED = "booked", "Booked by staff"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn by the patient"


class BookingRequest(models.Model):
    """A patient asked for a visit type that staff book ("request only" on the portal)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    visit_type = models.ForeignKey(
        "directory.VisitType", on_delete=models.CASCADE, related_name="+"
    )
    preferred_times = models.CharField(max_length=300, blank=True)
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=10, choices=BookingRequestStatus.choices, default=BookingRequestStatus.OPEN
    )
    requested_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    handled_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    staff_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ("requested_at", "pk")
        indexes = (models.Index(fields=["status", "requested_at"], name="booking_request_open"),)

    def __str__(self) -> str:
        return f"Request {self.public_id}"


# --- access metrics ---------------------------------------------------------------------------


class AccessSnapshot(models.Model):
    """Third-next-available of one week, as measured then (``scheduling.metrics``): it cannot
    be recomputed later, so the weekly task records it. One row per week and visit type for
    every provider (``practitioner`` set) and one across all providers (``practitioner``
    empty). ``days`` is empty when fewer than three slots were free within the horizon."""

    week_start = models.DateField(help_text="The Monday of the week measured.")
    visit_type = models.ForeignKey(
        "directory.VisitType", on_delete=models.CASCADE, related_name="+"
    )
    practitioner = models.ForeignKey(
        "directory.Practitioner", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    request_date = models.DateField()
    days = models.PositiveIntegerField(null=True, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ("week_start", "visit_type", "practitioner")
        constraints = (
            models.UniqueConstraint(
                fields=["week_start", "visit_type", "practitioner"],
                condition=Q(practitioner__isnull=False),
                name="access_snapshot_one_per_provider_week",
            ),
            models.UniqueConstraint(
                fields=["week_start", "visit_type"],
                condition=Q(practitioner__isnull=True),
                name="access_snapshot_one_per_type_week",
            ),
        )

    def __str__(self) -> str:
        return f"Third next available, week of {self.week_start}"
