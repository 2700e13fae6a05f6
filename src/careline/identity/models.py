"""The master patient index: each source patient record links to one Careline patient."""

from __future__ import annotations

from django.db import models

from careline.platform.models import SourcedModel


class MatchRule(models.TextChoices):
    SOURCE_RECORD = "source_record", "Same source record"
    IDENTIFIER = "identifier", "Same identifier from another source"
    NEW_PATIENT = "new_patient", "No match: new patient"
    MANUAL = "manual", "Linked by staff"


class SourceLink(SourcedModel):
    """A source system's Patient record and the Careline patient it belongs to."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="source_links"
    )
    match_rule = models.CharField(max_length=20, choices=MatchRule.choices)
    matched_identifier = models.CharField(
        max_length=300, blank=True, help_text="system|value that linked it (identifier rule)."
    )
    linked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.source_system}/{self.source_id}"
