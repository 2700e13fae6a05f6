"""Deterministic patient resolution: same source record, same identifier, else a new patient."""

from __future__ import annotations

import datetime as dt

import pytest

from careline.identity.models import MatchRule, SourceLink
from careline.identity.services import (
    Outcome,
    SourcePatient,
    find_linked_patients,
    resolve_patient,
    resolve_patients,
)
from careline.patients.bulk import Identifier, PatientRecord
from careline.patients.models import Patient
from careline.platform.actors import Actor

pytestmark = pytest.mark.django_db

RECEIVED = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
ACTOR = Actor.system("identity tests")
MRN = Identifier("urn:mrn:hospital", "M-1001", "MR")
SSN = Identifier("http://hl7.org/fhir/sid/us-ssn", "999-12-3456", "SS")


def _source(source_id: str, *identifiers: Identifier, digest: str = "h1") -> SourcePatient:
    record = PatientRecord(
        source_id, {"given_names": "Ana", "family_name": "Lima"}, list(identifiers)
    )
    return SourcePatient(record, digest, {"resourceType": "Patient", "id": source_id})


def _store_identifiers(source_system: str, source: SourcePatient, patient_pk: int) -> None:
    """What the registry does after resolution: keep the record's identifiers."""
    from careline.patients.bulk import PatientRef, ResolvedRecord, apply_patient_records

    patient = Patient.objects.get(pk=patient_pk)
    apply_patient_records(
        actor=ACTOR,
        source_system=source_system,
        received_at=RECEIVED,
        items=[ResolvedRecord(source.record, PatientRef(patient.pk, patient.public_id), True)],
    )


def test_a_new_record_makes_a_new_patient() -> None:
    resolution = resolve_patient(
        actor=ACTOR, source_system="ehr-a", received_at=RECEIVED, source=_source("a1", MRN)
    )

    assert (resolution.rule, resolution.outcome, resolution.is_new_patient) == (
        MatchRule.NEW_PATIENT,
        Outcome.CREATED,
        True,
    )
    patient = Patient.objects.get()
    assert (patient.pk, patient.public_id) == (resolution.patient.pk, resolution.patient.public_id)
    assert (patient.given_names, patient.mrn, patient.search_name) == ("Ana", "M-1001", "lima ana")
    link = SourceLink.objects.get()
    assert (link.source_system, link.source_id, link.match_rule, link.patient_id) == (
        "ehr-a",
        "a1",
        MatchRule.NEW_PATIENT,
        patient.pk,
    )


def test_the_same_source_record_gives_the_same_patient() -> None:
    first = resolve_patient(
        actor=ACTOR, source_system="ehr-a", received_at=RECEIVED, source=_source("a1", MRN)
    )
    again = resolve_patient(
        actor=ACTOR, source_system="ehr-a", received_at=RECEIVED, source=_source("a1", MRN)
    )
    changed = resolve_patient(
        actor=ACTOR,
        source_system="ehr-a",
        received_at=RECEIVED,
        source=_source("a1", MRN, digest="h2"),
    )

    assert again.patient == first.patient == changed.patient
    assert (again.rule, again.outcome) == (MatchRule.SOURCE_RECORD, Outcome.UNCHANGED)
    assert (changed.rule, changed.outcome) == (MatchRule.SOURCE_RECORD, Outcome.UPDATED)
    assert Patient.objects.count() == 1
    assert SourceLink.objects.get().content_hash == "h2"


def test_the_same_mrn_from_another_source_links_to_the_same_patient() -> None:
    first_source = _source("a1", MRN)
    first = resolve_patient(
        actor=ACTOR, source_system="ehr-a", received_at=RECEIVED, source=first_source
    )
    _store_identifiers("ehr-a", first_source, first.patient.pk)

    other = resolve_patient(
        actor=ACTOR, source_system="lab-b", received_at=RECEIVED, source=_source("b7", MRN)
    )

    assert other.patient == first.patient
    assert (other.rule, other.matched_identifier, other.is_new_patient) == (
        MatchRule.IDENTIFIER,
        "urn:mrn:hospital|M-1001",
        False,
    )
    assert Patient.objects.count() == 1
    assert sorted(
        SourceLink.objects.filter(patient_id=first.patient.pk).values_list(
            "source_system", "source_id", "match_rule"
        )
    ) == [("ehr-a", "a1", MatchRule.NEW_PATIENT), ("lab-b", "b7", MatchRule.IDENTIFIER)]


def test_an_ssn_alone_never_links() -> None:
    first_source = _source("a1", SSN)
    first = resolve_patient(
        actor=ACTOR, source_system="ehr-a", received_at=RECEIVED, source=first_source
    )
    _store_identifiers("ehr-a", first_source, first.patient.pk)

    other = resolve_patient(
        actor=ACTOR, source_system="lab-b", received_at=RECEIVED, source=_source("b7", SSN)
    )

    assert other.patient != first.patient
    assert other.rule == MatchRule.NEW_PATIENT
    assert Patient.objects.count() == 2


def test_different_identifiers_make_different_patients() -> None:
    resolutions = resolve_patients(
        actor=ACTOR,
        source_system="ehr-a",
        received_at=RECEIVED,
        sources=[_source("a1", MRN), _source("a2", Identifier("urn:mrn:hospital", "M-2002", "MR"))],
    )

    assert resolutions[0].patient != resolutions[1].patient
    assert Patient.objects.count() == 2


def test_records_of_one_batch_see_each_other() -> None:
    resolutions = resolve_patients(
        actor=ACTOR,
        source_system="ehr-a",
        received_at=RECEIVED,
        sources=[_source("a1", MRN), _source("a2", MRN), _source("a1", MRN, digest="h2")],
    )

    assert [r.patient for r in resolutions] == [resolutions[0].patient] * 3
    assert [(r.rule, r.outcome) for r in resolutions] == [
        (MatchRule.NEW_PATIENT, Outcome.CREATED),
        (MatchRule.IDENTIFIER, Outcome.CREATED),
        (MatchRule.NEW_PATIENT, Outcome.UPDATED),
    ]
    assert Patient.objects.count() == 1
    assert dict(SourceLink.objects.values_list("source_id", "content_hash")) == {
        "a1": "h2",
        "a2": "h1",
    }


def test_find_linked_patients() -> None:
    resolution = resolve_patient(
        actor=ACTOR, source_system="ehr-a", received_at=RECEIVED, source=_source("a1")
    )

    assert find_linked_patients(source_system="ehr-a", source_ids=["a1", "zz"]) == {
        "a1": resolution.patient
    }
    assert find_linked_patients(source_system="other", source_ids=["a1"]) == {}
