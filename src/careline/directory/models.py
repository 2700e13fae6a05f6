"""The directory: organizations, locations, practitioners and their roles, and the catalog of
visit types (what can be booked, with its criteria; ``directory.visit_types`` reads it)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q

from careline.platform.models import SourcedModel


class Organization(SourcedModel):
    name = models.CharField(max_length=300)
    kind = models.CharField(max_length=100, blank=True)
    npi = models.CharField(max_length=10, blank=True, db_index=True)
    phone = models.CharField(max_length=32, blank=True)
    address = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta(SourcedModel.Meta):
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Location(SourcedModel):
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="locations"
    )
    name = models.CharField(max_length=300)
    line = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    hours = models.JSONField(default=list, blank=True)
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        help_text="IANA name, e.g. America/Chicago; blank: the organisation's CARELINE_TIME_ZONE.",
    )
    is_active = models.BooleanField(default=True)

    class Meta(SourcedModel.Meta):
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Practitioner(SourcedModel):
    npi = models.CharField(max_length=10, blank=True, db_index=True)
    prefix = models.CharField(max_length=20, blank=True)
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    gender = models.CharField(max_length=10, blank=True)
    specialties = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    email = models.CharField(max_length=254, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta(SourcedModel.Meta):
        ordering = (
            "family_name",
            "given_name",
        )

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = " ".join(part for part in (self.given_name, self.family_name) if part)
        return f"{self.prefix} {name}".strip() if self.prefix else name


class PractitionerRole(SourcedModel):
    practitioner = models.ForeignKey(
        Practitioner, null=True, blank=True, on_delete=models.CASCADE, related_name="roles"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="roles"
    )
    specialty = models.CharField(max_length=200, blank=True)
    specialty_code = models.CharField(max_length=50, blank=True)
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.practitioner} — {self.specialty}"


class Modality(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    VIDEO = "video", "Video"
    PHONE = "phone", "Phone"


class PatientStatus(models.TextChoices):
    """Who may book: any patient, only new ones, or only established ones (3-year rule)."""

    ANY = "any", "Any patient"
    NEW = "new", "New patients only"
    ESTABLISHED = "established", "Established patients only"


class PortalBooking(models.TextChoices):
    SELF_SCHEDULABLE = "self", "Patients book it themselves"
    REQUEST_ONLY = "request", "Patients request it; staff book"
    NOT_ON_PORTAL = "none", "Not offered on the portal"


class VisitType(models.Model):
    """A bookable kind of visit and its criteria — one row of the scheduling catalog.

    Empty lists mean "no limit" (``allowed_sexes``, ``accepted_payers``,
    ``required_resource_kinds``); null ages likewise. ``specialty`` names the specialty whose
    practitioners offer the visit (matched against their roles and qualifications, case
    folded) and decides "established" (a visit in that specialty in the last 3 years); blank
    means any practitioner and any earlier visit. Booking windows are measured from the moment
    of booking: ``minimum_notice_minutes`` ahead at least, nothing past
    ``maximum_horizon_days``, and no same-day booking once the location's clock has passed
    ``same_day_cutoff``.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    specialty = models.CharField(max_length=200, blank=True)
    duration_minutes = models.PositiveSmallIntegerField()
    modality = models.CharField(max_length=10, choices=Modality.choices, default=Modality.IN_PERSON)
    min_age_years = models.PositiveSmallIntegerField(null=True, blank=True)
    max_age_years = models.PositiveSmallIntegerField(null=True, blank=True)
    allowed_sexes = models.JSONField(default=list, blank=True, help_text='e.g. ["female"]')
    patient_status = models.CharField(
        max_length=12, choices=PatientStatus.choices, default=PatientStatus.ANY
    )
    referral_required = models.BooleanField(default=False)
    accepted_payers = models.JSONField(default=list, blank=True)
    preparation_instructions = models.TextField(blank=True)
    requires_safety_screen = models.BooleanField(default=False)
    safety_screen_code = models.SlugField(
        max_length=64, blank=True, help_text="The code of the red-flag list asked before booking."
    )
    portal_booking = models.CharField(
        max_length=8, choices=PortalBooking.choices, default=PortalBooking.NOT_ON_PORTAL
    )
    portal_change_notice_hours = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=(
            "Patients may reschedule or cancel it on the portal up to this many hours before "
            "it starts; empty: CARELINE_PORTAL_CHANGE_NOTICE_HOURS."
        ),
    )
    minimum_notice_minutes = models.PositiveIntegerField(default=0)
    same_day_cutoff = models.TimeField(null=True, blank=True)
    maximum_horizon_days = models.PositiveSmallIntegerField(default=180)
    buffer_before_minutes = models.PositiveSmallIntegerField(default=0)
    buffer_after_minutes = models.PositiveSmallIntegerField(default=0)
    capacity = models.PositiveSmallIntegerField(default=1, help_text="Above 1: a group visit.")
    required_resource_kinds = models.JSONField(
        default=list, blank=True, help_text='Resource kinds booked with it, e.g. ["CT scanner"].'
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("name",)
        constraints = (
            models.CheckConstraint(
                condition=Q(duration_minutes__gt=0), name="visit_type_duration_positive"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="visit_type_capacity"),
            models.CheckConstraint(
                condition=Q(min_age_years__isnull=True)
                | Q(max_age_years__isnull=True)
                | Q(min_age_years__lte=F("max_age_years")),
                name="visit_type_age_range",
            ),
            models.CheckConstraint(
                condition=Q(requires_safety_screen=False) | ~Q(safety_screen_code=""),
                name="visit_type_screen_named",
            ),
        )

    def __str__(self) -> str:
        return self.name

    @property
    def is_group(self) -> bool:
        return self.capacity > 1
