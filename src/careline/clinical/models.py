"""The read-only mirror of EHR facts. The EHR stays the source of truth: rows here are only
written by imports, each keeping its source, source id and raw resource.

``effective_at`` is the one date each fact sorts by (onset, authored, period start, …).
"""

from __future__ import annotations

from django.db import models

from careline.platform.models import SourcedModel

# FHIR R4 status value sets (required bindings). The EHR stays the source of truth: a value
# outside these is stored as sent (no database constraint) and shown as it came.


class ConditionClinicalStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RECURRENCE = "recurrence", "Recurrence"
    RELAPSE = "relapse", "Relapse"
    INACTIVE = "inactive", "Inactive"
    REMISSION = "remission", "Remission"
    RESOLVED = "resolved", "Resolved"


class ConditionVerificationStatus(models.TextChoices):
    UNCONFIRMED = "unconfirmed", "Unconfirmed"
    PROVISIONAL = "provisional", "Provisional"
    DIFFERENTIAL = "differential", "Differential"
    CONFIRMED = "confirmed", "Confirmed"
    REFUTED = "refuted", "Refuted"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


class AllergyClinicalStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    RESOLVED = "resolved", "Resolved"


class AllergyVerificationStatus(models.TextChoices):
    UNCONFIRMED = "unconfirmed", "Unconfirmed"
    CONFIRMED = "confirmed", "Confirmed"
    REFUTED = "refuted", "Refuted"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


class AllergyCriticality(models.TextChoices):
    LOW = "low", "Low"
    HIGH = "high", "High"
    UNABLE_TO_ASSESS = "unable-to-assess", "Unable to assess"


class MedicationRequestStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ON_HOLD = "on-hold", "On hold"
    CANCELLED = "cancelled", "Cancelled"
    COMPLETED = "completed", "Completed"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"
    STOPPED = "stopped", "Stopped"
    DRAFT = "draft", "Draft"
    UNKNOWN = "unknown", "Unknown"


class EncounterStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ARRIVED = "arrived", "Arrived"
    TRIAGED = "triaged", "Triaged"
    IN_PROGRESS = "in-progress", "In progress"
    ON_LEAVE = "onleave", "On leave"
    FINISHED = "finished", "Finished"
    CANCELLED = "cancelled", "Cancelled"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"
    UNKNOWN = "unknown", "Unknown"


class ObservationStatus(models.TextChoices):
    REGISTERED = "registered", "Registered"
    PRELIMINARY = "preliminary", "Preliminary"
    FINAL = "final", "Final"
    AMENDED = "amended", "Amended"
    CORRECTED = "corrected", "Corrected"
    CANCELLED = "cancelled", "Cancelled"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"
    UNKNOWN = "unknown", "Unknown"


class ImmunizationStatus(models.TextChoices):
    COMPLETED = "completed", "Completed"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"
    NOT_DONE = "not-done", "Not done"


class ProcedureStatus(models.TextChoices):
    PREPARATION = "preparation", "Preparation"
    IN_PROGRESS = "in-progress", "In progress"
    NOT_DONE = "not-done", "Not done"
    ON_HOLD = "on-hold", "On hold"
    STOPPED = "stopped", "Stopped"
    COMPLETED = "completed", "Completed"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"
    UNKNOWN = "unknown", "Unknown"


class CarePlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    ON_HOLD = "on-hold", "On hold"
    REVOKED = "revoked", "Revoked"
    COMPLETED = "completed", "Completed"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"
    UNKNOWN = "unknown", "Unknown"


def _status(choices: type[models.TextChoices]) -> models.CharField[str, str]:
    return models.CharField(max_length=40, blank=True, choices=choices.choices)


ACTIVE_CONDITION_STATUSES = frozenset(
    {
        ConditionClinicalStatus.ACTIVE,
        ConditionClinicalStatus.RECURRENCE,
        ConditionClinicalStatus.RELAPSE,
    }
)


class ClinicalFact(SourcedModel):
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=100, blank=True)
    code_system = models.CharField(max_length=200, blank=True)
    display = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=40, blank=True)
    effective_at = models.DateTimeField(null=True, blank=True)
    encounter_source_id = models.CharField(max_length=200, blank=True)

    class Meta(SourcedModel.Meta):
        abstract = True
        ordering = ("-effective_at",)

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.code}"


class Condition(ClinicalFact):
    status = _status(ConditionClinicalStatus)
    verification_status = _status(ConditionVerificationStatus)
    category = models.CharField(max_length=60, blank=True)
    abated_at = models.DateTimeField(null=True, blank=True)

    class Meta(ClinicalFact.Meta):
        indexes = (models.Index(fields=["patient", "-effective_at"], name="condition_patient"),)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_CONDITION_STATUSES


class AllergyIntolerance(ClinicalFact):
    status = _status(AllergyClinicalStatus)
    category = models.CharField(max_length=60, blank=True)
    criticality = models.CharField(max_length=20, blank=True, choices=AllergyCriticality.choices)
    reactions = models.CharField(max_length=500, blank=True)
    verification_status = _status(AllergyVerificationStatus)

    class Meta(ClinicalFact.Meta):
        indexes = (models.Index(fields=["patient", "-effective_at"], name="allergy_patient"),)


class MedicationRequest(ClinicalFact):
    status = _status(MedicationRequestStatus)
    intent = models.CharField(max_length=40, blank=True)
    dosage = models.CharField(max_length=500, blank=True)
    requester = models.CharField(max_length=300, blank=True)

    class Meta(ClinicalFact.Meta):
        indexes = (models.Index(fields=["patient", "-effective_at"], name="medication_patient"),)


class Encounter(ClinicalFact):
    status = _status(EncounterStatus)
    encounter_class = models.CharField(max_length=20, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    practitioner = models.ForeignKey(
        "directory.Practitioner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    location = models.ForeignKey(
        "directory.Location", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    service_provider = models.ForeignKey(
        "directory.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(ClinicalFact.Meta):
        indexes = (models.Index(fields=["patient", "-effective_at"], name="encounter_patient"),)


class Observation(ClinicalFact):
    status = _status(ObservationStatus)
    category = models.CharField(max_length=60, blank=True)
    value_number = models.FloatField(null=True, blank=True)
    value_unit = models.CharField(max_length=40, blank=True)
    value_text = models.CharField(max_length=500, blank=True)
    interpretation = models.CharField(max_length=40, blank=True)
    components = models.JSONField(default=list, blank=True)

    class Meta(ClinicalFact.Meta):
        indexes = (
            models.Index(
                fields=["patient", "category", "code", "-effective_at"], name="observation_latest"
            ),
        )

    @property
    def value_display(self) -> str:
        if self.components:
            parts = [_readable(c.get("value", "")) for c in self.components]
            unit = self.components[0].get("unit", "")
            return "/".join(parts) + (f" {unit}" if unit else "")
        if self.value_number is not None:
            return f"{_readable(self.value_number)} {self.value_unit}".strip()
        return self.value_text


def _readable(value: object) -> str:
    """A measured number as people read it: one decimal at most (116.5455 → 116.5, 7.0 → 7)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{round(float(value), 1):g}"
    return str(value)


class Immunization(ClinicalFact):
    status = _status(ImmunizationStatus)

    class Meta(ClinicalFact.Meta):
        indexes = (models.Index(fields=["patient", "-effective_at"], name="immunization_patient"),)


class Procedure(ClinicalFact):
    status = _status(ProcedureStatus)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta(ClinicalFact.Meta):
        indexes = (models.Index(fields=["patient", "-effective_at"], name="procedure_patient"),)


class CarePlan(ClinicalFact):
    status = _status(CarePlanStatus)
    intent = models.CharField(max_length=40, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    activities = models.JSONField(default=list, blank=True)

    class Meta(ClinicalFact.Meta):
        indexes = (models.Index(fields=["patient", "-effective_at"], name="careplan_patient"),)
