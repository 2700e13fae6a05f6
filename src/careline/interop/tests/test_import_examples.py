"""The official FHIR R4 examples in ../shared/testdata/fhir-examples, one file at a time: each
has the outcome written here, from what the FHIR spec says of it and what Careline stores.

- A type Careline does not store (Task, Communication, …) is skipped, counted, never validated.
- A supported resource is created — a clinical or registry fact once its patient is known:
  each file is imported after the examples' own patients and directory (as an EHR export
  would send them), so ``Patient/example``, ``f001``, ``xcda``, ``newborn`` … resolve.
- It is rejected, with the field named, when the patient it belongs to is none of those
  (``Patient/pat1``, ``f201``, ``5``, ``mom`` … have no example file), when it belongs to no
  patient at all (``observation-decimal`` has no subject; the Apgar scores point at a
  contained ``#newborn``, which has no identity of its own) or when it has no id to import it
  idempotently (``json-edge-cases``).
- The scheduling examples are all rejected, each for its own reason: the request is
  ``proposed`` (not booked time), the two-doctor visit names no location (and its one known
  doctor has no role at one), a participant's AppointmentResponse is not imported, and the
  schedules name actors (``Location/1``, ``Practitioner/1``) that no example defines — so
  the slots on ``Schedule/example`` have no schedule. ``test_import_scheduling`` imports the
  same shapes with their references present.

A supported resource that is wrongly skipped, or a new file without an expectation, fails.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from careline.interop.fhir.mapping import is_supported
from careline.interop.importer import ImportResult
from careline.interop.tests.test_import_support import run_import

pytestmark = [pytest.mark.shared_testdata, pytest.mark.django_db]

# What an EHR sends before the facts that point at it: the examples' patients and directory.
CONTEXT_TYPES = frozenset(
    {"Organization", "Location", "Practitioner", "PractitionerRole", "Patient"}
)


@dataclass(frozen=True)
class Expected:
    outcome: str  # "created", "skipped" or "rejected"
    path: str | None = None
    reason: str | None = None


CREATED = Expected("created")
SKIPPED = Expected("skipped")


def rejected(path: str, reason: str) -> Expected:
    return Expected("rejected", path, reason)


def unknown_reference(path: str, reference: str) -> Expected:
    return rejected(path, f"references {reference}, which is neither in this import nor known")


def unknown_patient(path: str, patient_id: str) -> Expected:
    return unknown_reference(path, f"Patient/{patient_id}")


EXPECTED: dict[str, Expected] = {
    "allergyintolerance-example.json": CREATED,
    "allergyintolerance-medication.json": CREATED,
    "allergyintolerance-nkda.json": unknown_patient("AllergyIntolerance.patient", "mom"),
    "appointment-example-request.json": rejected(
        "Appointment.status",
        "is proposed: a request for an appointment, not booked time (imported: booked, "
        "pending, arrived, checked-in, fulfilled, noshow, cancelled, entered-in-error)",
    ),
    "appointment-example2doctors.json": rejected(
        "Appointment.participant",
        "names no Location, and no practitioner it names has a role at a location",
    ),
    "appointmentresponse-example-req.json": rejected(
        "AppointmentResponse",
        "a participant's reply is not imported: it does not change the appointment, and the "
        "EHR sends the Appointment itself with its new status",
    ),
    "audit-event-example-login.json": SKIPPED,
    "audit-event-example-media.json": SKIPPED,
    "audit-event-example-search.json": SKIPPED,
    "auditevent-example-disclosure.json": SKIPPED,
    "auditevent-example.json": SKIPPED,
    "careplan-example-GPVisit.json": unknown_patient("CarePlan.subject", "100"),
    "careplan-example-f002-lung.json": CREATED,
    "careplan-example-f201-renal.json": unknown_patient("CarePlan.subject", "f201"),
    "careplan-example-f203-sepsis.json": unknown_patient("CarePlan.subject", "f201"),
    "careplan-example-obesity-narrative.json": CREATED,
    "careplan-example.json": CREATED,
    "careteam-example.json": SKIPPED,
    "communication-example-fm-attachment.json": SKIPPED,
    "communication-example.json": SKIPPED,
    "communicationrequest-example-fm-solicit-attachment.json": SKIPPED,
    "condition-example-f001-heart.json": CREATED,
    "condition-example-f003-abscess.json": CREATED,
    "condition-example-f202-malignancy.json": unknown_patient("Condition.subject", "f201"),
    "condition-example-f204-renal.json": unknown_patient("Condition.subject", "f201"),
    "condition-example-family-history.json": CREATED,
    "condition-example.json": CREATED,
    "consent-example-Emergency.json": CREATED,
    "consent-example-grantor.json": CREATED,
    "consent-example-notOrg.json": CREATED,
    "consent-example-notThis.json": CREATED,
    "consent-example-pkb.json": CREATED,
    "consent-example-smartonfhir.json": CREATED,
    "coverage-example-2.json": unknown_patient("Coverage.beneficiary", "5"),
    "coverage-example-selfpay.json": unknown_patient("Coverage.beneficiary", "5"),
    "device-example-f001-feedingtube.json": SKIPPED,
    "documentreference-example.json": SKIPPED,
    "encounter-example-emerg.json": CREATED,
    "encounter-example-f002-lung.json": CREATED,
    "encounter-example-f201-20130404.json": unknown_patient("Encounter.subject", "f201"),
    "encounter-example-f203-20130311.json": unknown_patient("Encounter.subject", "f201"),
    "encounter-example-xcda.json": CREATED,
    "endpoint-example-direct.json": SKIPPED,
    "endpoint-example-wadors.json": SKIPPED,
    "episodeofcare-example.json": SKIPPED,
    "flag-example-encounter.json": SKIPPED,
    "goal-example-stop-smoking.json": SKIPPED,
    "group-example-herd1.json": SKIPPED,
    "group-example-patientlist.json": SKIPPED,
    "healthcareservice-example.json": SKIPPED,
    "immunization-example-historical.json": CREATED,
    "immunization-example-refused.json": CREATED,
    "immunization-example.json": CREATED,
    "json-edge-cases.json": rejected(
        "Patient.id", "has no id, so it cannot be imported idempotently"
    ),
    "location-example-ambulance.json": CREATED,
    "location-example-patients-home.json": CREATED,
    "location-example-ukpharmacy.json": CREATED,
    "measure-cms146-example.json": SKIPPED,
    "measure-component-b-example.json": SKIPPED,
    "measure-exclusive-breastfeeding.json": SKIPPED,
    "measure-predecessor-example.json": SKIPPED,
    "measurereport-cms146-cat1-example.json": SKIPPED,
    "measurereport-cms146-cat3-example.json": SKIPPED,
    "medicationrequest0301.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationrequest0303.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationrequest0305.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationrequest0307.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationrequest0309.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationrequest0312.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationrequest0314.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationrequest0316.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationrequest0318.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationrequest0320.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationrequest0322.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationrequest0324.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationrequest0326.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationrequest0328.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationrequest0330.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationrequest0332.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationrequest0334.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationrequest0336.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationrequest0338.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationrequestexample1.json": unknown_patient("MedicationRequest.subject", "pat1"),
    "medicationstatementexample1.json": SKIPPED,
    "medicationstatementexample3.json": SKIPPED,
    "medicationstatementexample5.json": SKIPPED,
    "medicationstatementexample7.json": SKIPPED,
    "observation-decimal.json": rejected("Observation.subject", "has no reference to a Patient"),
    "observation-example-1minute-apgar-score.json": rejected(
        "Observation.subject", "has no reference to a Patient"
    ),
    "observation-example-2minute-apgar-score.json": rejected(
        "Observation.subject", "has no reference to a Patient"
    ),
    "observation-example-TPMT-diplotype.json": CREATED,
    "observation-example-TPMT-haplotype-two.json": CREATED,
    "observation-example-alcohol-type.json": CREATED,
    "observation-example-bloodgroup.json": unknown_patient("Observation.subject", "infant"),
    "observation-example-bloodpressure-dar.json": CREATED,
    "observation-example-bmd.json": unknown_patient("Observation.subject", "pat2"),
    "observation-example-bmi.json": CREATED,
    "observation-example-body-length.json": CREATED,
    "observation-example-clinical-gender.json": CREATED,
    "organization-example-f001-burgers.json": CREATED,
    "organization-example-f003-burgers-ENT.json": CREATED,
    "organization-example-f203-bumc.json": CREATED,
    "organization-example-good-health-care.json": CREATED,
    "organization-example-insurer.json": CREATED,
    "organization-example-mihealth.json": CREATED,
    "organization-example.json": CREATED,
    "patient-example-animal.json": CREATED,
    "patient-example-c.json": CREATED,
    "patient-example-d.json": CREATED,
    "patient-example-f001-pieter.json": CREATED,
    "patient-example-ihe-pcd.json": CREATED,
    "patient-example-infant-mom.json": CREATED,
    "patient-example-infant-twin-2.json": CREATED,
    "patient-example-newborn.json": CREATED,
    "patient-example-xcda.json": CREATED,
    "patient-example.json": CREATED,
    "patient-glossy-example.json": CREATED,
    "person-example-f002-ariadne.json": SKIPPED,
    "person-grahame.json": SKIPPED,
    "person-provider-directory.json": SKIPPED,
    "practitioner-example-f001-evdb.json": CREATED,
    "practitioner-example-f003-mv.json": CREATED,
    "practitioner-example-f005-al.json": CREATED,
    "practitioner-example-f007-sh.json": CREATED,
    "practitioner-example-f202-lm.json": CREATED,
    "practitioner-example-f204-ce.json": CREATED,
    "practitioner-example-xcda1.json": CREATED,
    "practitionerrole-example.json": CREATED,
    "provenance-consent-signature.json": SKIPPED,
    "provenance-example-cwl.json": SKIPPED,
    "provenance-example.json": SKIPPED,
    "questionnaire-cqf-example.json": SKIPPED,
    "questionnaire-example-f201-lifelines.json": SKIPPED,
    "questionnaire-example.json": SKIPPED,
    "questionnaireresponse-example-bluebook.json": SKIPPED,
    "questionnaireresponse-example-gcs.json": SKIPPED,
    "questionnaireresponse-example.json": SKIPPED,
    "relatedperson-example-f001-sarah.json": CREATED,
    "relatedperson-example-newborn-mom.json": CREATED,
    "relatedperson-example.json": CREATED,
    "schedule-example.json": unknown_reference("Schedule.actor", "Location/1"),
    "schedule-provider-location2-example.json": unknown_reference(
        "Schedule.actor", "Practitioner/1"
    ),
    "servicerequest-example-ambulation.json": SKIPPED,
    "servicerequest-example-colonoscopy-bx.json": SKIPPED,
    "servicerequest-example-di.json": SKIPPED,
    "servicerequest-example-ft4.json": SKIPPED,
    "servicerequest-example-lipid.json": SKIPPED,
    "servicerequest-example-ob.json": SKIPPED,
    "servicerequest-example-pt.json": SKIPPED,
    "servicerequest-example-ventilation.json": SKIPPED,
    "servicerequest-example2.json": SKIPPED,
    "servicerequest-example4.json": SKIPPED,
    "slot-example-busy.json": unknown_reference("Slot.schedule", "Schedule/example"),
    "slot-example-unavailable.json": unknown_reference("Slot.schedule", "Schedule/example"),
    "task-example-fm-cancel.json": SKIPPED,
    "task-example-fm-release.json": SKIPPED,
    "task-example-fm-status-resp.json": SKIPPED,
    "task-example1.json": SKIPPED,
    "task-example3.json": SKIPPED,
    "task-example5.json": SKIPPED,
}


@pytest.fixture
def examples(shared_testdata: Path) -> Path:
    return shared_testdata / "fhir-examples"


def _type_of(path: Path) -> str:
    resource_type: str = json.loads(path.read_text())["resourceType"]
    return resource_type


def _context(examples: Path) -> list[Path]:
    return [path for path in sorted(examples.glob("*.json")) if _type_of(path) in CONTEXT_TYPES]


def _counted(result: ImportResult) -> dict[str, dict[str, int]]:
    """The import's summary without its zero counts."""
    return {
        resource_type: {outcome: count for outcome, count in counts.items() if count}
        for resource_type, counts in result.summary.items()
    }


def test_every_example_file_has_an_expectation(examples: Path) -> None:
    assert sorted(path.name for path in examples.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_has_its_expected_outcome(examples: Path, name: str) -> None:
    path = examples / name
    resource_type, expected = _type_of(path), EXPECTED[name]
    if resource_type not in CONTEXT_TYPES and is_supported(resource_type):
        run_import(*_context(examples))

    result = run_import(path)

    assert _counted(result) == {resource_type: {expected.outcome: 1}}
    assert [(r.resource_type, r.path, r.reason) for r in result.rejections] == (
        [(resource_type, expected.path, expected.reason)] if expected.outcome == "rejected" else []
    )
    assert (expected.outcome == "skipped") == (not is_supported(resource_type))


def test_all_supported_examples_at_once_have_the_same_outcomes(examples: Path) -> None:
    """In one import, references resolve within it just as they do against earlier imports."""
    supported = [name for name in sorted(EXPECTED) if is_supported(_type_of(examples / name))]

    result = run_import(*(examples / name for name in supported))

    expected = Counter((_type_of(examples / name), EXPECTED[name].outcome) for name in supported)
    assert _counted(result) == {
        resource_type: {
            outcome: count for (kind, outcome), count in expected.items() if kind == resource_type
        }
        for resource_type, _ in expected
    }
    assert sorted((Path(r.file or "").name, r.path, r.reason) for r in result.rejections) == sorted(
        (name, EXPECTED[name].path, EXPECTED[name].reason)
        for name in supported
        if EXPECTED[name].outcome == "rejected"
    )
