"""The patient row and what hangs off it: identifiers, contact points, the primary care
provider on the care team, the language preference and the registration event.

Everything is written in bulk for a whole bundle or batch; rows of a brand-new patient are
inserted without looking for existing ones (there can be none).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction

from careline.patients.bulk.records import (
    PatientRecord,
    PatientRef,
    ResolvedRecord,
    contact_values,
    registry_fields,
)
from careline.patients.bulk.writes import NewRow, sync_rows
from careline.patients.models import (
    CareTeamMember,
    CommunicationPreference,
    ContactPoint,
    Patient,
    PatientIdentifier,
    TimelineEvent,
    TimelineKind,
)
from careline.platform import clock
from careline.platform.actors import Actor
from careline.platform.bulk import insert_rows, insert_rows_returning
from careline.platform.rows import require_fitting_text

PRIMARY_CARE_ROLE = "Primary care provider"
_KEPT_WHEN_ABSENT = frozenset({"ssn", "mrn"})


def create_patients(
    *,
    actor: Actor,
    source_system: str,
    received_at: datetime,
    records: Sequence[PatientRecord],
) -> list[PatientRef]:
    """New patient rows filled from the records, in order (one INSERT … RETURNING, no model
    instances; a text longer than its column raises ``TextTooLong``)."""
    del actor  # the importer audits each patient it creates or changes
    if not records:
        return []
    now = clock.now()
    rows = [
        {
            **registry_fields(record, source_system=source_system, now=now),
            "public_id": uuid.uuid4(),
            "received_at": received_at,
            "created_at": now,
        }
        for record in records
    ]
    found = insert_rows_returning(Patient, rows, key="public_id")
    ids = {_as_uuid(public_id): pk for public_id, pk in found.items()}
    return [PatientRef(ids[row["public_id"]], row["public_id"]) for row in rows]


def _as_uuid(value: object) -> uuid.UUID:
    """A UUID column's value as the driver returns it (SQLite: its hex text)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def apply_patient_records(
    *,
    actor: Actor,
    source_system: str,
    received_at: datetime,
    items: Sequence[ResolvedRecord],
) -> None:
    """Fill the registry from new or changed source records (identity has resolved them)."""
    del actor
    if not items:
        return
    with transaction.atomic(savepoint=False):
        _update_patients([i for i in items if not i.is_new_patient], source_system, received_at)
        _sync_identifiers(items, source_system, received_at)
        _sync_contact_points(items, source_system, received_at)
        _sync_care_team(items, source_system, received_at)
        _fill_language_preferences(items)
        _record_registrations([i for i in items if i.is_new_patient], source_system, received_at)


def _update_patients(
    items: Sequence[ResolvedRecord], source_system: str, received_at: datetime
) -> None:
    if not items:
        return
    now = clock.now()
    patients: dict[int, Patient] = {}
    names: set[str] = set()
    for item in items:
        fields = registry_fields(item.record, source_system=source_system, now=now)
        fields["received_at"] = received_at
        names.update(fields)
        patients[item.patient.pk] = Patient(
            pk=item.patient.pk, **require_fitting_text(Patient, fields)
        )
    rows = list(patients.values())
    Patient.objects.bulk_update(rows, sorted(names - _KEPT_WHEN_ABSENT), batch_size=200)
    for name in sorted(_KEPT_WHEN_ABSENT & names):
        # a record without an SSN or MRN keeps the value the patient has
        having = [patient for patient in rows if getattr(patient, name)]
        Patient.objects.bulk_update(having, [name], batch_size=200)


def _sync_identifiers(
    items: Sequence[ResolvedRecord], source_system: str, received_at: datetime
) -> None:
    """Each record's identifiers, except those another patient already holds."""
    wanted: dict[tuple[int, str], dict[str, dict[str, Any]]] = {}
    for item in items:
        key = (item.patient.pk, item.record.identifier_source_id)
        wanted[key] = {
            f"{i.system}|{i.value}": {
                "system": i.system,
                "value": i.value,
                "type_code": i.type_code,
            }
            for i in item.record.identifiers
            if i.system and i.value
        }
    new_patients = {i.patient.pk for i in items if i.is_new_patient}
    sync_rows(
        model=PatientIdentifier,
        wanted=wanted,
        natural_key=lambda fields: f"{fields['system']}|{fields['value']}",
        key_fields=("system", "value"),
        source_system=source_system,
        received_at=received_at,
        new_patients=new_patients,
        keep_new=lambda rows: _unclaimed_identifiers(rows, new_patients),
    )


def _unclaimed_identifiers(rows: list[NewRow], new_patients: set[int]) -> list[NewRow]:
    """The identifiers no patient holds yet (system + value is unique across patients).

    A brand-new patient's identifiers are known to be free: identity found no patient with
    any of them, which is why she is new. Only the others are looked up.
    """
    lookup = {row["value"] for row in rows if row["patient_id"] not in new_patients}
    taken = set(
        PatientIdentifier.objects.filter(value__in=lookup).values_list("system", "value")
        if lookup
        else []
    )
    kept = []
    for row in rows:
        if (row["system"], row["value"]) not in taken:
            taken.add((row["system"], row["value"]))
            kept.append(row)
    return kept


def _sync_contact_points(
    items: Sequence[ResolvedRecord], source_system: str, received_at: datetime
) -> None:
    wanted: dict[tuple[int, str], dict[str, dict[str, Any]]] = {}
    for item in items:
        values = contact_values(item.record)
        wanted[(item.patient.pk, item.record.contact_prefix)] = {
            value.source_id: {
                "source_id": value.source_id,
                "system": value.system,
                "value": value.value,
                "use": value.use,
                "rank": value.rank,
                "is_active": True,
            }
            for value in values
        }
    sync_rows(
        model=ContactPoint,
        wanted=wanted,
        natural_key=lambda fields: str(fields["source_id"]),
        key_fields=("source_id",),
        source_system=source_system,
        received_at=received_at,
        new_patients={i.patient.pk for i in items if i.is_new_patient},
        by_prefix=True,
    )


def _sync_care_team(
    items: Sequence[ResolvedRecord], source_system: str, received_at: datetime
) -> None:
    wanted: dict[tuple[int, str], dict[str, dict[str, Any]]] = {}
    for item in items:
        practitioner_id = item.record.fields.get("primary_care_practitioner_id")
        source_id = item.record.care_team_source_id
        wanted[(item.patient.pk, source_id)] = (
            {source_id: {"practitioner_id": practitioner_id, "role": PRIMARY_CARE_ROLE}}
            if practitioner_id
            else {}
        )
    sync_rows(
        model=CareTeamMember,
        wanted=wanted,
        natural_key=lambda fields: "",
        key_fields=(),
        source_system=source_system,
        received_at=received_at,
        new_patients={i.patient.pk for i in items if i.is_new_patient},
    )


def _fill_language_preferences(items: Sequence[ResolvedRecord]) -> None:
    """Create a missing preference with the record's language; fill a blank language only.

    A preference staff have set is never overwritten by an import.
    """
    languages = {
        i.patient.pk: str(i.record.fields["language"])
        for i in items
        if i.record.fields.get("language")
    }
    if not languages:
        return
    known = {i.patient.pk for i in items if not i.is_new_patient} & set(languages)
    existing = {
        preference.patient_id: preference
        for preference in (
            CommunicationPreference.objects.filter(patient_id__in=known) if known else []
        )
    }
    now = clock.now()
    blank = [p for p in existing.values() if not p.language]
    for preference in blank:
        preference.language = languages[preference.patient_id][:20]
        preference.updated_at = now
    if blank:
        CommunicationPreference.objects.bulk_update(blank, ["language", "updated_at"])
    insert_rows(
        CommunicationPreference,
        [
            {"patient_id": pk, "language": language[:20], "updated_at": now}
            for pk, language in languages.items()
            if pk not in existing
        ],
    )


def _record_registrations(
    items: Sequence[ResolvedRecord], source_system: str, received_at: datetime
) -> None:
    events = [
        {
            "patient_id": item.patient.pk,
            "kind": TimelineKind.REGISTRATION,
            "occurred_at": received_at,
            "title": "Registered from an EHR import",
            "detail": source_system[:500],
            "source_system": source_system,
            "source_key": f"Patient/{item.record.source_id}"[:300],
            "received_at": received_at,
        }
        for item in items
    ]
    insert_rows(TimelineEvent, events, ignore_conflicts=True)
