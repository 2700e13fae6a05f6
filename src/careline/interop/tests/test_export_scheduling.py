"""Scheduling as FHIR R4 (what the REST facade will serve), and what the EHR's schedules do to
Careline's own bookable time: an appointment round-trips (import → export → the same
essentials), Careline's own appointments, schedules and free slots export valid resources,
and an EHR slot that is busy takes its time out of the slot search."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine

from careline.directory.models import Location, Practitioner
from careline.interop.fhir.export.scheduling import (
    appointment_resource,
    schedule_id,
    schedule_resource,
    slot_resource,
)
from careline.interop.fhir.validation import validate_resource
from careline.interop.tests.test_import_scheduling import (
    appointment,
    location,
    practitioner,
    run,
    slot,
)
from careline.interop.tests.test_import_support import SOURCE, patient
from careline.patients.models import Patient
from careline.platform.actors import Actor
from careline.platform.models import AuditChannel
from careline.platform.permissions import Role
from careline.scheduling.models import Appointment
from careline.scheduling.selectors import get_appointment, list_schedules, search_slots
from careline.scheduling.services import book_appointment
from careline.testing.factories import UserFactory
from careline.testing.scheduling import NOW, TUESDAY, Clinic, at, make_clinic, make_visit_type

pytestmark = pytest.mark.django_db

CANCELLED = {
    "status": "cancelled",
    "cancelationReason": {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason",
                "code": "prov-pers",
            }
        ],
        "text": "Doctor is away",
    },
}


def administrator() -> Actor:
    return Actor(
        user=UserFactory.create(role=Role.ADMIN), channel=AuditChannel.API, remote_addr="::1"
    )


def public_id_of(source_id: str) -> uuid.UUID:
    return Appointment.objects.get(source_id=source_id).public_id


def essentials(resource: dict[str, Any]) -> dict[str, Any]:
    """What an appointment says, whichever system wrote it."""
    return {
        "status": resource["status"],
        "start": resource["start"],
        "end": resource["end"],
        "visit": [
            (coding.get("code", "").casefold(), service.get("text"))
            for service in resource.get("serviceType", [])
            for coding in service.get("coding", [{}])
        ],
        "cancel": [
            coding["code"][:4] for coding in resource.get("cancelationReason", {}).get("coding", [])
        ],
        "actors": sorted(p["actor"]["reference"].split("/")[0] for p in resource["participant"]),
    }


@pytest.mark.parametrize("changes", [{}, CANCELLED], ids=["booked", "cancelled"])
def test_imported_appointment_exports_the_same_essentials(
    tmp_path: Path, changes: dict[str, Any]
) -> None:
    visit_type = make_visit_type(code="follow-up")
    sent = appointment(**changes)
    run(tmp_path, practitioner(), location(), patient(), sent)
    stored = public_id_of("a1")

    exported = appointment_resource(get_appointment(actor=administrator(), appointment_id=stored))

    assert validate_resource(exported) is None
    assert essentials(exported) == essentials(sent)
    assert exported["serviceType"][0]["coding"][0]["code"] == visit_type.code
    assert exported["id"] == str(stored)
    assert exported["identifier"] == [{"system": SOURCE, "value": "a1"}]
    assert [p["actor"]["reference"] for p in exported["participant"]] == [
        f"Patient/{Patient.objects.get().public_id}",
        f"Practitioner/{Practitioner.objects.get().public_id}",
        f"Location/{Location.objects.get().public_id}",
    ]
    if changes:
        assert exported["cancelationReason"]["coding"][0]["code"] == "prov"
        assert exported["cancelationReason"]["text"] == "Doctor is away"


def test_unmatched_visit_exports_the_ehr_text_only(tmp_path: Path) -> None:
    unknown = [{"coding": [{"code": "ZZZ"}], "text": "Wound check"}]
    run(tmp_path, practitioner(), location(), patient(), appointment(serviceType=unknown))

    exported = appointment_resource(
        get_appointment(actor=administrator(), appointment_id=public_id_of("a1"))
    )

    assert exported["serviceType"] == [{"text": "Wound check"}]
    assert validate_resource(exported) is None


# --- Careline's own appointments, schedules and slots ----------------------------------------


@pytest.fixture
def clinic(db: None) -> Iterator[Clinic]:
    with time_machine.travel(NOW, tick=False):
        yield make_clinic()


def test_careline_appointment_exports_a_valid_booked_appointment(clinic: Clinic) -> None:
    (booked,) = book_appointment(**clinic.booking(at(TUESDAY, 9)))

    exported = appointment_resource(
        get_appointment(actor=clinic.actor, appointment_id=booked.public_id)
    )

    assert validate_resource(exported) is None
    assert (exported["status"], exported["start"], exported["minutesDuration"]) == (
        "booked",
        "2026-06-02T13:00:00Z",
        30,
    )
    assert exported["serviceType"][0]["coding"][0]["code"] == clinic.visit_type.code
    assert "identifier" not in exported


def test_schedules_and_free_slots_export_valid_resources(clinic: Clinic) -> None:
    (schedule,) = list_schedules(actor=clinic.actor)
    options = search_slots(
        actor=clinic.actor,
        visit_type_id=clinic.visit_type.public_id,
        date_from=TUESDAY,
        date_to=TUESDAY,
        limit=2,
    )

    exported = schedule_resource(schedule)
    slots = [slot_resource(option, visit_type_code=clinic.visit_type.code) for option in options]

    expected_id = schedule_id(clinic.practitioner.public_id, clinic.location.public_id)
    assert exported["id"] == expected_id
    assert [actor["reference"] for actor in exported["actor"]] == [
        f"Practitioner/{clinic.practitioner.public_id}",
        f"Location/{clinic.location.public_id}",
    ]
    assert exported["planningHorizon"] == {"start": "2026-01-01T00:00:00Z"}
    assert [(s["status"], s["start"], s["schedule"]["reference"]) for s in slots] == [
        ("free", "2026-06-02T13:00:00Z", f"Schedule/{expected_id}"),
        ("free", "2026-06-02T13:15:00Z", f"Schedule/{expected_id}"),
    ]
    assert len({s["id"] for s in slots}) == 2
    assert slot_resource(options[0])["id"] == slots[0]["id"]
    assert all(validate_resource(r) is None for r in [exported, *slots])


def test_busy_ehr_slot_takes_its_time_out_of_the_slot_search(
    clinic: Clinic, tmp_path: Path
) -> None:
    def first_free() -> dt.datetime:
        return search_slots(
            actor=clinic.actor,
            visit_type_id=clinic.visit_type.public_id,
            date_from=TUESDAY,
            date_to=TUESDAY,
            limit=1,
        )[0].starts_at

    schedule = {
        "resourceType": "Schedule",
        "id": "ehr-schedule",
        "actor": [{"reference": f"Practitioner/{clinic.practitioner.source_id}"}],
    }
    away = slot("away", "busy-unavailable", 13, on="Schedule/ehr-schedule")
    away["end"] = "2026-06-02T14:00:00Z"  # 9:00 to 10:00 in New York
    assert first_free() == at(TUESDAY, 9)

    run(tmp_path, schedule, away)

    assert first_free() == at(TUESDAY, 10)
