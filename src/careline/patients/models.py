"""The patient registry: who the patient is, how to reach her, what she agreed to, who
pays, who cares for her, what she needs — and the timeline of every touch.

Rows that arrive from an external system keep ``source_system``/``source_id`` and
``received_at``; rows staff enter carry ``source_system = "careline"``.
"""

from __future__ import annotations

import uuid
from datetime import date

from django.db import models
from django.db.models import Q

from careline.platform.crypto import EncryptedTextField

CARELINE_SOURCE = "careline"


class Sex(models.TextChoices):
    """FHIR administrative gender."""

    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Patient(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    mrn = models.CharField(max_length=64, blank=True, db_index=True)
    prefix = models.CharField(max_length=40, blank=True)
    given_names = models.CharField(max_length=200, blank=True)
    family_name = models.CharField(max_length=200, blank=True)
    suffix = models.CharField(max_length=40, blank=True)
    search_name = models.CharField(
        max_length=420, blank=True, help_text="Lower-case ASCII 'family given' for search."
    )
    birth_date = models.DateField(null=True, blank=True, db_index=True)
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    is_deceased = models.BooleanField(default=False)
    deceased_at = models.DateTimeField(null=True, blank=True)
    marital_status = models.CharField(max_length=60, blank=True)
    language = models.CharField(max_length=20, blank=True, help_text="BCP-47, e.g. es.")
    interpreter_needed = models.BooleanField(default=False)
    race = models.CharField(max_length=100, blank=True)
    ethnicity = models.CharField(max_length=100, blank=True)
    address_line = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    ssn = EncryptedTextField(null=True, blank=True)
    primary_location = models.ForeignKey(
        "directory.Location", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    primary_care_practitioner = models.ForeignKey(
        "directory.Practitioner",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source_system = models.CharField(max_length=200, default=CARELINE_SOURCE)
    received_at = models.DateTimeField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ("family_name", "given_names")
        # Family-name prefix search in name order; fragments use the trigram index (0003).
        indexes = (models.Index(fields=["search_name"], name="patient_search_name"),)

    def __str__(self) -> str:
        return f"Patient {self.public_id}"

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.given_names, self.family_name) if part) or "—"

    def age_on(self, day: date) -> int | None:
        if self.birth_date is None:
            return None
        end = self.deceased_at.date() if self.deceased_at else day
        before_birthday = (end.month, end.day) < (self.birth_date.month, self.birth_date.day)
        return end.year - self.birth_date.year - before_birthday


class PatientFact(models.Model):
    """Base for a patient's registry rows: provenance and ownership."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    source_system = models.CharField(max_length=200, default=CARELINE_SOURCE)
    source_id = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        abstract = True
        constraints = (
            models.UniqueConstraint(
                fields=["patient", "source_system", "source_id"],
                condition=~Q(source_id=""),
                name="%(app_label)s_%(class)s_source",
            ),
        )


class PatientIdentifier(PatientFact):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="identifiers")
    system = models.CharField(max_length=200)
    value = models.CharField(max_length=100, db_index=True)
    type_code = models.CharField(max_length=20, blank=True, help_text="v2-0203: MR, DL, …")

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["system", "value"], name="patient_identifier_unique"),
        )

    def __str__(self) -> str:
        return f"{self.type_code or 'ID'} {self.system}"


class ContactSystem(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    FAX = "fax", "Fax"
    OTHER = "other", "Other"


class ContactUse(models.TextChoices):
    HOME = "home", "Home"
    WORK = "work", "Work"
    MOBILE = "mobile", "Mobile"
    TEMP = "temp", "Temporary"
    OLD = "old", "Old"


class ContactPoint(PatientFact):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="contact_points")
    system = models.CharField(max_length=10, choices=ContactSystem.choices)
    value = models.CharField(max_length=254, help_text="Phones in E.164, emails lower-case.")
    use = models.CharField(max_length=10, choices=ContactUse.choices, blank=True)
    rank = models.PositiveSmallIntegerField(default=1)
    is_active = models.BooleanField(default=True)

    class Meta(PatientFact.Meta):
        ordering = (
            "system",
            "rank",
        )
        indexes = (models.Index(fields=["value"], name="contact_value"),)

    def __str__(self) -> str:
        return f"{self.system} ({self.use})"


class Channel(models.TextChoices):
    SMS = "sms", "Text message"
    EMAIL = "email", "Email"
    VOICE = "voice", "Phone call"
    PORTAL = "portal", "Portal message"
    MAIL = "mail", "Letter"


class CommunicationPreference(models.Model):
    patient = models.OneToOneField(
        Patient, on_delete=models.CASCADE, related_name="communication_preference"
    )
    preferred_channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    language = models.CharField(max_length=20, blank=True)
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Preferences of {self.patient}"


class ConsentStatus(models.TextChoices):
    ACTIVE = "active", "Given"
    REJECTED = "rejected", "Refused"
    INACTIVE = "inactive", "Withdrawn"
    DRAFT = "draft", "Pending"


class ConsentPurpose(models.TextChoices):
    HIPAA_NOTICE = "hipaa-notice", "HIPAA notice of privacy practices"
    TREATMENT = "treatment", "Treatment"
    SMS = "sms", "Text messages"
    EMAIL = "email", "Email"
    VOICE = "voice", "Automated calls"
    MARKETING = "marketing", "Marketing"
    RESEARCH = "research", "Research"
    PORTAL = "portal", "Patient portal"
    DATA_SHARING = "data-sharing", "Health information exchange"
    OTHER = "other", "Other"


class Consent(PatientFact):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    status = models.CharField(max_length=10, choices=ConsentStatus.choices)
    description = models.CharField(max_length=300, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(PatientFact.Meta):
        ordering = (
            "purpose",
            "-decided_at",
        )

    def __str__(self) -> str:
        return f"{self.purpose}: {self.status}"


class Coverage(PatientFact):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="coverages")
    status = models.CharField(max_length=20, default="active")
    payer = models.CharField(max_length=200)
    plan = models.CharField(max_length=200, blank=True)
    member_id = models.CharField(max_length=100, blank=True)
    group = models.CharField(max_length=100, blank=True)
    relationship = models.CharField(max_length=40, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta(PatientFact.Meta):
        ordering = ("-start_date",)

    def __str__(self) -> str:
        return self.payer

    def is_current_on(self, day: date) -> bool:
        started = self.start_date is None or self.start_date <= day
        not_ended = self.end_date is None or self.end_date >= day
        return self.status == "active" and started and not_ended


class RelatedPerson(PatientFact):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="related_people")
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=100, blank=True)
    relationship_code = models.CharField(max_length=20, blank=True)
    is_caregiver = models.BooleanField(default=False)
    is_emergency_contact = models.BooleanField(default=False)
    is_proxy = models.BooleanField(default=False)
    phone = models.CharField(max_length=32, blank=True)
    email = models.CharField(max_length=254, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta(PatientFact.Meta):
        ordering = (
            "-is_caregiver",
            "name",
        )

    def __str__(self) -> str:
        return f"{self.relationship or 'related person'} of {self.patient}"


class CareTeamMember(PatientFact):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="care_team")
    practitioner = models.ForeignKey(
        "directory.Practitioner", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    role = models.CharField(max_length=100)

    class Meta(PatientFact.Meta):
        indexes = (models.Index(fields=["user", "patient"], name="care_team_user"),)

    def __str__(self) -> str:
        return self.role


class SocialNeedCategory(models.TextChoices):
    TRANSPORTATION = "transportation", "Transportation"
    FOOD = "food", "Food insecurity"
    HOUSING = "housing", "Housing instability"
    UTILITIES = "utilities", "Utilities"
    SAFETY = "safety", "Interpersonal safety"
    OTHER = "other", "Other"


class SocialNeed(PatientFact):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="social_needs")
    category = models.CharField(max_length=20, choices=SocialNeedCategory.choices)
    is_active = models.BooleanField(default=True)
    note = models.CharField(max_length=300, blank=True)
    identified_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.category


class TimelineKind(models.TextChoices):
    ENCOUNTER = "encounter", "Visit"
    REGISTRATION = "registration", "Registration"
    CONTACT_CHANGE = "contact_change", "Contact change"
    PREFERENCE_CHANGE = "preference_change", "Preference change"
    CONSENT_CHANGE = "consent_change", "Consent"
    CALL = "call", "Call"
    MESSAGE = "message", "Message"
    APPOINTMENT = "appointment", "Appointment"
    CAMPAIGN = "campaign", "Campaign"
    SURVEY = "survey", "Survey"
    DEVICE = "device", "Device reading"
    NOTE = "note", "Note"


class TimelineEvent(models.Model):
    """One touch with the patient, from any channel or source."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=20, choices=TimelineKind.choices)
    occurred_at = models.DateTimeField()
    title = models.CharField(max_length=300)
    detail = models.CharField(max_length=500, blank=True)
    source_system = models.CharField(max_length=200, default=CARELINE_SOURCE)
    source_key = models.CharField(
        max_length=300, blank=True, help_text="ResourceType/source id of the fact behind it."
    )
    received_at = models.DateTimeField()
    actor_label = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ("-occurred_at",)
        indexes = (
            models.Index(fields=["patient", "-occurred_at"], name="timeline_patient_time"),
            models.Index(fields=["patient", "kind", "-occurred_at"], name="timeline_patient_kind"),
        )
        constraints = (
            models.UniqueConstraint(
                fields=["patient", "source_system", "source_key"],
                condition=~Q(source_key=""),
                name="timeline_source_unique",
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind} at {self.occurred_at:%Y-%m-%d}"
