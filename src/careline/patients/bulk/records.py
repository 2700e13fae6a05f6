"""What an import hands to the registry, and how it is normalised before it is stored."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models

from careline.patients.models import (
    ContactPoint,
    ContactSystem,
    ContactUse,
    Patient,
    PatientIdentifier,
)
from careline.patients.normalize import normalize_email, phone_to_e164, search_name

SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"
MRN_TYPE = "MR"
_PHONE_SYSTEMS = {ContactSystem.PHONE, ContactSystem.SMS, ContactSystem.FAX}
# Where a record's parts are stored: for checking text against its columns before writing.
RECORD_MODELS: dict[str, type[models.Model]] = {
    "Patient": Patient,
    "Identifier": PatientIdentifier,
    "ContactPoint": ContactPoint,
}


@dataclass(frozen=True, slots=True)
class PatientRef:
    """A Careline patient: primary key for writes, public id for the audit trail."""

    pk: int
    public_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Identifier:
    system: str
    value: str
    type_code: str = ""


@dataclass(frozen=True, slots=True)
class Telecom:
    system: str
    value: str
    use: str = ""
    rank: int | None = None


@dataclass(slots=True)
class PatientRecord:
    """One source system's record of a patient.

    ``fields`` are registry columns (names, birth date, sex, address, language, …, and the
    ``primary_location_id`` / ``primary_care_practitioner_id`` foreign keys); ``identifiers``
    never holds the SSN, which travels alone in ``ssn`` and is stored encrypted.
    """

    source_id: str
    fields: dict[str, Any]
    identifiers: list[Identifier] = field(default_factory=list)
    telecoms: list[Telecom] = field(default_factory=list)
    ssn: str = ""

    @property
    def identifier_source_id(self) -> str:
        return f"Patient/{self.source_id}"

    @property
    def care_team_source_id(self) -> str:
        return f"Patient/{self.source_id}#generalPractitioner"

    @property
    def contact_prefix(self) -> str:
        return f"Patient/{self.source_id}#telecom:"


@dataclass(frozen=True, slots=True)
class ResolvedRecord:
    """A record and the Careline patient identity resolved it to."""

    record: PatientRecord
    patient: PatientRef
    is_new_patient: bool


def registry_fields(record: PatientRecord, *, source_system: str, now: datetime) -> dict[str, Any]:
    """The columns of the patient row a record fills (search name and MRN derived)."""
    fields = dict(record.fields)
    fields["search_name"] = search_name(
        fields.get("given_names", ""), fields.get("family_name", "")
    )
    mrn = next((i.value for i in record.identifiers if i.type_code == MRN_TYPE), "")
    if mrn:
        fields["mrn"] = mrn
    if record.ssn:
        fields["ssn"] = record.ssn
    fields.update(source_system=source_system, received_at=now, updated_at=now)
    return fields


@dataclass(frozen=True, slots=True)
class ContactValue:
    source_id: str
    system: str
    value: str
    use: str
    rank: int


def contact_values(record: PatientRecord) -> list[ContactValue]:
    """The record's contact points as stored: phones E.164, emails lower-case, no duplicates."""
    found: dict[str, ContactValue] = {}
    for position, telecom in enumerate(record.telecoms, start=1):
        system = telecom.system if telecom.system in ContactSystem.values else ContactSystem.OTHER
        value = normalize_contact(system, telecom.value)
        if not value:
            continue
        digest = hashlib.sha256(f"{system}|{value}".encode()).hexdigest()[:16]
        source_id = record.contact_prefix + digest
        use = telecom.use if telecom.use in ContactUse.values else ""
        rank = telecom.rank if telecom.rank and telecom.rank > 0 else position
        found.setdefault(source_id, ContactValue(source_id, system, value, use, min(rank, 32767)))
    return list(found.values())


def normalize_contact(system: str, value: str) -> str:
    """Phones in E.164 (kept as given when not a number), emails stripped and lower-case."""
    value = value.strip()
    if not value:
        return ""
    if system in _PHONE_SYSTEMS:
        return phone_to_e164(value) or value
    if system == ContactSystem.EMAIL:
        return normalize_email(value)
    return value
