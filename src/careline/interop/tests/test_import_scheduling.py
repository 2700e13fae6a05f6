"""Importing Appointment, Schedule and Slot: what is stored, the time it takes, conflicts with
Careline's own bookings, re-imports, and the reasoned rejections (shapes of our own, not the
official examples: missing optional elements, extensions, unknown codes, contained actors)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careline.directory.models import Location, Practitioner, PractitionerRole
from careline.interop.importer import ImportResult
from careline.interop.tests.test_import_support import (
    SOURCE,
    bundle,
    counts,
    patient,
    run_import,
    write_json,
)
from careline.patients.models import Patient, TimelineEvent
from careline.platform.actors import Actor
from careline.platform.errors import PermissionDenied
from careline.platform.models import AuditAction, AuditChannel, AuditEvent
from careline.platform.permissions import Role
from careline.scheduling import occupancy
from careline.scheduling.models import (
    Appointment,
    AppointmentHistory,
    AvailabilityException,
    ImportedSchedule,
    ImportedSlot,
    Occupancy,
)
from careline.scheduling.selectors import list_import_conflicts
from careline.testing.factories import PatientFactory, UserFactory
from careline.testing.scheduling import make_visit_type

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 6, 2, 13, 0, tzinfo=dt.UTC)
END = dt.datetime(2026, 6, 2, 13, 30, tzinfo=dt.UTC)


def practitioner(resource_id: str = "dr1", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": resource_id,
        "name": [{"family": "Careful", "given": ["Adam"], "prefix": ["Dr"]}],
        **extra,
    }


def location(resource_id: str = "loc1") -> dict[str, Any]:
    return {"resourceType": "Location", "id": resource_id, "name": "South Wing"}


def participant(reference: str, status: str = "accepted") -> dict[str, Any]:
    return {"actor": {"reference": reference}, "status": status}


def appointment(resource_id: str = "a1", status: str = "booked", **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": resource_id,
        "status": status,
        "serviceType": [
            {"coding": [{"system": "urn:ehr:visit", "code": "FOLLOW-UP"}], "text": "Follow-up"}
        ],
        "start": "2026-06-02T13:00:00Z",
        "end": "2026-06-02T13:30:00Z",
        "participant": [
            participant("Patient/p1"),
            participant("Practitioner/dr1"),
            participant("Location/loc1"),
        ],
    }
    resource.update(extra)
    return {key: value for key, value in resource.items() if value is not None}


def run(tmp_path: Path, *resources: dict[str, Any], name: str = "b.json") -> ImportResult:
    return run_import(write_json(tmp_path, name, bundle(*resources)))


def with_context(*resources: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    return (practitioner(), location(), patient(), *resources)


def rejections(result: ImportResult) -> list[tuple[str | None, str | None, str]]:
    return [(r.resource_type, r.path, r.reason) for r in result.rejections]


def occupied(appointment: Appointment) -> list[tuple[str, bool]]:
    rows = Occupancy.objects.filter(appointment=appointment).order_by("resource_key")
    return [(row.resource_key, row.is_overbook) for row in rows]


def test_booked_appointment_is_stored_with_its_time_taken(tmp_path: Path) -> None:
    visit_type = make_visit_type(code="follow-up", name="Follow-up visit")

    result = run(tmp_path, *with_context(appointment()))

    assert counts(result, "Appointment") == (1, 0, 0, 0, 0)
    stored = Appointment.objects.get()
    doctor, place = Practitioner.objects.get(), Location.objects.get()
    person = Patient.objects.get()
    assert (stored.patient_id, stored.practitioner_id, stored.location_id) == (
        person.pk,
        doctor.pk,
        place.pk,
    )
    assert (stored.visit_type_id, stored.visit_text) == (visit_type.pk, "Follow-up")
    assert (stored.starts_at, stored.ends_at, stored.status) == (START, END, "booked")
    assert (stored.source_system, stored.source_id, stored.source_status) == (
        SOURCE,
        "a1",
        "booked",
    )
    assert stored.raw is not None and stored.raw["id"] == "a1"
    assert stored.conflict_note == ""
    assert occupied(stored) == [
        (occupancy.patient_key(person.pk), False),
        (occupancy.practitioner_key(doctor.pk), False),
    ]
    history = AppointmentHistory.objects.get()
    assert (history.action, history.from_status, history.to_status) == ("imported", "", "booked")
    event = TimelineEvent.objects.get(kind="appointment")
    assert (event.source_key, event.title, event.occurred_at) == (
        "Appointment/a1",
        "Appointment (booked in the EHR)",
        START,
    )
    assert AuditEvent.objects.filter(
        action=AuditAction.IMPORT, patient_id=person.public_id
    ).exists()


def test_reimport_of_the_same_appointment_changes_nothing(tmp_path: Path) -> None:
    run(tmp_path, *with_context(appointment()))
    before = Appointment.objects.values().get()
    rows = list(Occupancy.objects.values_list("pk", flat=True).order_by("pk"))

    result = run(tmp_path, *with_context(appointment()), name="again.json")

    assert counts(result, "Appointment") == (0, 0, 1, 0, 0)
    assert Appointment.objects.values().get() == before
    assert list(Occupancy.objects.values_list("pk", flat=True).order_by("pk")) == rows
    assert AppointmentHistory.objects.count() == 1
    assert TimelineEvent.objects.filter(kind="appointment").count() == 1


def test_cancellation_in_the_ehr_frees_the_time_and_keeps_the_reason(tmp_path: Path) -> None:
    run(tmp_path, *with_context(appointment()))
    reason = {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason",
                "code": "pat-crs",
            }
        ],
        "text": "Patient is sick",
    }

    result = run(
        tmp_path,
        *with_context(appointment(status="cancelled", cancelationReason=reason)),
        name="cancel.json",
    )

    assert counts(result, "Appointment") == (0, 1, 0, 0, 0)
    stored = Appointment.objects.get()
    assert (stored.status, stored.cancel_reason, stored.cancel_note) == (
        "cancelled",
        "patient",
        "Patient is sick",
    )
    assert occupied(stored) == []
    assert list(AppointmentHistory.objects.values_list("action", "from_status", "to_status")) == [
        ("imported", "", "booked"),
        ("updated_from_ehr", "booked", "cancelled"),
    ]
    assert TimelineEvent.objects.get(kind="appointment").title == (
        "Appointment (cancelled in the EHR)"
    )


@pytest.mark.parametrize(
    ("fhir_status", "status", "takes_time"),
    [
        ("booked", "booked", True),
        ("pending", "booked", True),
        ("arrived", "arrived", True),
        ("checked-in", "arrived", True),
        ("fulfilled", "completed", False),
        ("noshow", "no_show", False),
        ("cancelled", "cancelled", False),
        ("entered-in-error", "cancelled", False),
    ],
)
def test_fhir_status_maps_to_careline_status(
    tmp_path: Path, fhir_status: str, status: str, takes_time: bool
) -> None:
    run(tmp_path, *with_context(appointment(status=fhir_status)))

    stored = Appointment.objects.get()
    assert (stored.status, stored.source_status) == (status, fhir_status)
    assert Occupancy.objects.filter(appointment=stored).count() == (2 if takes_time else 0)
    if fhir_status == "entered-in-error":
        assert (stored.cancel_reason, stored.cancel_note) == (
            "other",
            "Entered in error in the EHR",
        )


def test_unmatched_visit_keeps_the_ehr_text_on_an_inactive_catalog_row(tmp_path: Path) -> None:
    make_visit_type(code="flu-shot")
    unknown_code = [
        {"coding": [{"system": "urn:ehr:visit", "code": "XYZ-999"}], "text": "Wound check"}
    ]

    run(tmp_path, *with_context(appointment(serviceType=unknown_code)))

    stored = Appointment.objects.select_related("visit_type").get()
    assert (stored.visit_type.code, stored.visit_type.is_active) == ("ehr-visit", False)
    assert stored.visit_text == "Wound check"


def test_appointment_type_code_and_minutes_duration_are_enough(tmp_path: Path) -> None:
    visit_type = make_visit_type(code="walkin")
    walk_in = {"coding": [{"code": "WALKIN", "display": "A walk-in visit"}]}

    run(
        tmp_path,
        *with_context(
            appointment(serviceType=None, appointmentType=walk_in, end=None, minutesDuration=20)
        ),
    )

    stored = Appointment.objects.get()
    assert (stored.visit_type_id, stored.visit_text) == (visit_type.pk, "A walk-in visit")
    assert stored.ends_at == START + dt.timedelta(minutes=20)


def test_every_known_practitioner_is_taken_and_a_declined_one_is_not(tmp_path: Path) -> None:
    three = [
        participant("Patient/p1"),
        participant("Practitioner/ghost"),
        participant("Practitioner/dr1"),
        participant("Practitioner/dr2"),
        participant("Practitioner/dr3", status="declined"),
        participant("Location/loc1"),
        {"actor": {"display": "Phone call"}, "status": "accepted"},
    ]
    resources = (practitioner("dr2"), practitioner("dr3"), appointment(participant=three))

    run(tmp_path, *with_context(*resources))

    doctors = dict(Practitioner.objects.values_list("source_id", "pk"))
    stored = Appointment.objects.get()
    assert stored.practitioner_id == doctors["dr1"]
    assert sorted(key for key, _ in occupied(stored)) == sorted(
        [
            occupancy.patient_key(stored.patient_id),
            occupancy.practitioner_key(doctors["dr1"]),
            occupancy.practitioner_key(doctors["dr2"]),
        ]
    )


def test_without_a_location_the_practitioners_role_location_is_used(tmp_path: Path) -> None:
    role = {
        "resourceType": "PractitionerRole",
        "id": "role1",
        "practitioner": {"reference": "Practitioner/dr1"},
        "location": [{"reference": "Location/loc1"}],
    }
    no_place = [participant("Patient/p1"), participant("Practitioner/dr1")]

    run(tmp_path, *with_context(role, appointment(participant=no_place)))

    assert Appointment.objects.get().location_id == Location.objects.get().pk
    assert PractitionerRole.objects.count() == 1


def test_extensions_and_missing_optional_elements_are_accepted(tmp_path: Path) -> None:
    extension = [{"url": "https://ehr.example/fhir/ext/room", "valueString": "12B"}]
    bare = appointment(serviceType=None, extension=extension)

    result = run(tmp_path, *with_context(bare))

    assert counts(result, "Appointment") == (1, 0, 0, 0, 0)
    stored = Appointment.objects.get()
    assert (stored.visit_text, stored.cancel_reason) == ("", "")
    assert stored.raw is not None and stored.raw["extension"] == extension


CONTAINED_DOCTOR = {
    "contained": [{"resourceType": "Practitioner", "id": "doc", "name": [{"family": "Who"}]}],
    "participant": [participant("Patient/p1"), participant("#doc"), participant("Location/loc1")],
}


@pytest.mark.parametrize(
    ("changes", "path", "reason"),
    [
        (
            {"status": "waitlist"},
            "Appointment.status",
            "is waitlist: a request for an appointment, not booked time (imported: booked, "
            "pending, arrived, checked-in, fulfilled, noshow, cancelled, entered-in-error)",
        ),
        ({"start": None}, "Appointment.start", "is missing: a booked appointment has a time"),
        (
            {"end": None},
            "Appointment.end",
            "is missing and there is no minutesDuration",
        ),
        ({"end": "2026-06-02T12:00:00Z"}, "Appointment.end", "is not after the start"),
        (
            {"participant": [participant("Patient/p1"), participant("Location/loc1")]},
            "Appointment.participant",
            "names no Practitioner; Careline keeps an appointment on its practitioner's calendar",
        ),
        (
            CONTAINED_DOCTOR,
            "Appointment.participant",
            "names no Practitioner; Careline keeps an appointment on its practitioner's calendar",
        ),
        (
            {"participant": [participant("Patient/p1"), participant("Practitioner/nobody")]},
            "Appointment.participant.actor",
            "references Practitioner/nobody, which is neither in this import nor known",
        ),
        (
            {"participant": [participant("Practitioner/dr1"), participant("Location/loc1")]},
            "Appointment.participant.actor",
            "has no reference to a Patient",
        ),
        (
            {
                "participant": [
                    participant("Patient/stranger"),
                    participant("Practitioner/dr1"),
                    participant("Location/loc1"),
                ]
            },
            "Appointment.participant.actor",
            "references Patient/stranger, which is neither in this import nor known",
        ),
        (
            {
                "participant": [
                    participant("Patient/p1"),
                    participant("Practitioner/dr1"),
                    participant("Location/elsewhere"),
                ]
            },
            "Appointment.participant.actor",
            "references Location/elsewhere, which is neither in this import nor known",
        ),
        (
            {"participant": [participant("Patient/p1"), participant("Practitioner/dr1")]},
            "Appointment.participant",
            "names no Location, and no practitioner it names has a role at a location",
        ),
    ],
)
def test_appointment_that_cannot_be_kept_is_rejected_with_the_reason(
    tmp_path: Path, changes: dict[str, Any], path: str, reason: str
) -> None:
    result = run(tmp_path, *with_context(appointment(**changes)))

    assert counts(result, "Appointment") == (0, 0, 0, 0, 1)
    assert rejections(result) == [("Appointment", path, reason)]
    assert not Appointment.objects.exists()
    assert not Occupancy.objects.exists()
    assert Patient.objects.count() == 1  # the rest of the bundle is imported


# --- conflicts with Careline's own bookings ---------------------------------------------------


def careline_booking(doctor: Practitioner, place: Location, person: Patient) -> Appointment:
    """An appointment Careline booked, with the occupancy row its booking service writes."""
    booked = Appointment.objects.create(
        patient=person,
        practitioner=doctor,
        location=place,
        visit_type=make_visit_type(code="physical"),
        starts_at=START + dt.timedelta(minutes=15),
        ends_at=END + dt.timedelta(minutes=15),
        created_at=START - dt.timedelta(days=3),
        updated_at=START - dt.timedelta(days=3),
    )
    Occupancy.objects.create(
        resource_key=occupancy.practitioner_key(doctor.pk),
        slot_key=occupancy.own_slot_key("appointment", booked.public_id),
        occupied_from=booked.starts_at,
        occupied_to=booked.ends_at,
        appointment=booked,
    )
    return booked


def test_ehr_appointment_over_careline_time_is_kept_and_flagged(tmp_path: Path) -> None:
    run(tmp_path, practitioner(), location(), name="context.json")
    doctor, place = Practitioner.objects.get(), Location.objects.get()
    ours = careline_booking(doctor, place, PatientFactory.create())
    ours_before = Appointment.objects.filter(pk=ours.pk).values().get()

    result = run(tmp_path, *with_context(appointment()))

    assert counts(result, "Appointment") == (1, 0, 0, 0, 0)
    theirs = Appointment.objects.select_related("patient").get(source_id="a1")
    assert theirs.conflict_note == (
        f"The EHR's time overlaps appointment {ours.public_id} (practitioner) in Careline."
    )
    assert occupied(theirs) == [
        (occupancy.patient_key(theirs.patient_id), False),
        (occupancy.practitioner_key(doctor.pk), True),
    ]
    assert Appointment.objects.filter(pk=ours.pk).values().get() == ours_before
    assert occupancy.find_overlap(
        [occupancy.practitioner_key(doctor.pk)], START, END, START
    ) == occupancy.practitioner_key(doctor.pk)
    assert AppointmentHistory.objects.get(appointment=theirs).details["conflict"] == (
        theirs.conflict_note
    )


def test_two_overlapping_ehr_appointments_are_both_kept(tmp_path: Path) -> None:
    result = run(tmp_path, *with_context(appointment("a1"), appointment("a2")))

    assert counts(result, "Appointment") == (2, 0, 0, 0, 0)
    first, second = Appointment.objects.order_by("source_id")
    assert first.conflict_note == ""
    assert second.conflict_note == (
        f"The EHR's time overlaps appointment {first.public_id} (practitioner and patient) "
        "in Careline."
    )
    assert [overbook for _, overbook in occupied(second)] == [True, True]


def test_conflict_list_needs_the_permission_and_is_audited(tmp_path: Path) -> None:
    run(tmp_path, *with_context(appointment("a1"), appointment("a2")))
    manager = UserFactory.create(role=Role.ADMIN)
    scheduler = UserFactory.create(role=Role.SCHEDULER)
    as_manager = Actor(user=manager, channel=AuditChannel.UI, remote_addr="127.0.0.1")
    as_scheduler = Actor(user=scheduler, channel=AuditChannel.UI, remote_addr="127.0.0.1")

    listed = list_import_conflicts(actor=as_manager)
    with pytest.raises(PermissionDenied):
        list_import_conflicts(actor=as_scheduler)

    assert [row.source_id for row in listed] == ["a2"]
    search = AuditEvent.objects.get(actor=manager, action=AuditAction.SEARCH)
    assert search.details == {
        "criteria": ["import_conflict"],
        "results": 1,
        "patients": [str(listed[0].patient.public_id)],
    }
    assert AuditEvent.objects.filter(actor=scheduler, action=AuditAction.ACCESS_DENIED).exists()


# --- schedules and slots ------------------------------------------------------------------------


def schedule(
    resource_id: str = "s1", actors: tuple[str, ...] = ("Practitioner/dr1", "Location/loc1")
) -> dict[str, Any]:
    return {
        "resourceType": "Schedule",
        "id": resource_id,
        "active": True,
        "serviceType": [{"coding": [{"code": "57", "display": "Immunization"}]}],
        "actor": [{"reference": actor} for actor in actors],
        "planningHorizon": {"start": "2026-06-01T00:00:00Z", "end": "2026-06-30T00:00:00Z"},
    }


def slot(
    resource_id: str, status: str, hour: int, on: str = "Schedule/s1", **extra: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Slot",
        "id": resource_id,
        "schedule": {"reference": on},
        "status": status,
        "start": f"2026-06-02T{hour:02d}:00:00Z",
        "end": f"2026-06-02T{hour:02d}:30:00Z",
        **extra,
    }


def blocked() -> list[tuple[str, int | None, int | None, str]]:
    return [
        (
            slot.source_id,
            slot.exception.practitioner_id,
            slot.exception.location_id,
            slot.exception.reason,
        )
        for slot in ImportedSlot.objects.select_related("exception").order_by("source_id")
        if slot.exception is not None
    ]


def test_schedule_links_its_actors_and_busy_slots_block_their_time(tmp_path: Path) -> None:
    slots = (
        slot("busy", "busy", 13),
        slot("away", "busy-unavailable", 14, comment="Dr Careful is out of the office"),
        slot("held", "busy-tentative", 15),
        slot("open", "free", 16),
    )

    result = run(tmp_path, practitioner(), location(), schedule(), *slots)

    assert counts(result, "Schedule") == (1, 0, 0, 0, 0)
    assert counts(result, "Slot") == (4, 0, 0, 0, 0)
    doctor, place = Practitioner.objects.get(), Location.objects.get()
    stored = ImportedSchedule.objects.get()
    assert (stored.practitioner_id, stored.location_id, stored.service_text) == (
        doctor.pk,
        place.pk,
        "Immunization",
    )
    assert blocked() == [
        ("away", doctor.pk, place.pk, "Unavailable in the EHR: Dr Careful is out of the office"),
        ("busy", doctor.pk, place.pk, "Busy in the EHR"),
        ("held", doctor.pk, place.pk, "Held (tentative) in the EHR"),
    ]
    away = AvailabilityException.objects.get(imported_slot__source_id="away")
    assert (away.kind, away.starts_at, away.ends_at) == (
        "other",
        dt.datetime(2026, 6, 2, 14, tzinfo=dt.UTC),
        dt.datetime(2026, 6, 2, 14, 30, tzinfo=dt.UTC),
    )


def test_slots_reimported_keep_their_blocks_in_step(tmp_path: Path) -> None:
    run(
        tmp_path,
        practitioner(),
        location(),
        schedule(),
        slot("x", "busy", 13),
        slot("y", "free", 14),
    )
    kept = AvailabilityException.objects.get().pk

    same = run(
        tmp_path,
        practitioner(),
        location(),
        schedule(),
        slot("x", "busy", 13),
        slot("y", "free", 14),
        name="same.json",
    )
    changed = run(
        tmp_path,
        schedule(),
        slot("x", "free", 13),
        slot("y", "busy-unavailable", 14),
        name="changed.json",
    )

    assert (counts(same, "Schedule"), counts(same, "Slot")) == ((0, 0, 1, 0, 0), (0, 0, 2, 0, 0))
    assert counts(changed, "Slot") == (0, 2, 0, 0, 0)
    assert not AvailabilityException.objects.filter(pk=kept).exists()
    assert [row[0] for row in blocked()] == ["y"]
    assert AvailabilityException.objects.count() == 1


def test_schedule_of_a_location_alone_blocks_the_location(tmp_path: Path) -> None:
    run(tmp_path, location(), schedule(actors=("Location/loc1",)), slot("x", "busy-unavailable", 9))

    assert blocked() == [("x", None, Location.objects.get().pk, "Unavailable in the EHR")]


@pytest.mark.parametrize(
    ("resources", "rejection"),
    [
        (
            (schedule(actors=("HealthcareService/h1", "Device/d1")),),
            (
                "Schedule",
                "Schedule.actor",
                "names no Practitioner or Location; Careline keeps the schedules of those only",
            ),
        ),
        (
            (schedule(actors=("Practitioner/nobody",)),),
            (
                "Schedule",
                "Schedule.actor",
                "references Practitioner/nobody, which is neither in this import nor known",
            ),
        ),
        (
            (slot("x", "busy", 9, on="Schedule/missing"),),
            (
                "Slot",
                "Slot.schedule",
                "references Schedule/missing, which is neither in this import nor known",
            ),
        ),
        (
            (slot("x", "busy", 9, on="#inside"),),
            ("Slot", "Slot.schedule", "does not name a Schedule"),
        ),
        (
            (slot("x", "busy", 9, end="2026-06-02T08:00:00Z"),),
            ("Slot", "Slot.end", "is not after the start"),
        ),
    ],
)
def test_schedule_or_slot_that_cannot_be_kept_is_rejected(
    tmp_path: Path,
    resources: tuple[dict[str, Any], ...],
    rejection: tuple[str, str, str],
) -> None:
    result = run(tmp_path, practitioner(), location(), *resources)

    assert rejections(result) == [rejection]
    assert not AvailabilityException.objects.exists()
    assert Practitioner.objects.count() == 1


def test_appointments_of_a_bundle_are_written_in_a_fixed_number_of_queries(
    tmp_path: Path,
) -> None:
    """The first import of a bundle's appointments costs the same queries for 2 as for 8."""

    def spread(count: int, prefix: str, first_day: int) -> list[dict[str, Any]]:
        return [
            appointment(
                f"{prefix}{n}",
                start=f"2026-06-{first_day + n:02d}T13:00:00Z",
                end=f"2026-06-{first_day + n:02d}T13:30:00Z",
            )
            for n in range(count)
        ]

    run(tmp_path, *with_context(appointment("warm-up")), name="context.json")
    queries = []
    for count, prefix, first_day in ((2, "small", 3), (8, "large", 10)):
        bundle = with_context(*spread(count, prefix, first_day))
        with CaptureQueriesContext(connection) as captured:
            result = run(tmp_path, *bundle, name=f"{prefix}.json")
        assert counts(result, "Appointment") == (count, 0, 0, 0, 0)
        queries.append(len(captured.captured_queries))
    assert queries[0] == queries[1]
    assert Occupancy.objects.filter(is_overbook=True).count() == 0
