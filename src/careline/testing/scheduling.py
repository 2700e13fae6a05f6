"""Scheduling fixtures for tests: a clinic with a practitioner's weekly hours, visit types, and
a scheduler with a patient in her scope. Rows are written directly (the services that create
them are tested on their own)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from careline.directory.models import Location, Practitioner, PractitionerRole, VisitType
from careline.patients.models import Patient
from careline.platform.actors import Actor
from careline.platform.models import AuditChannel, User
from careline.platform.permissions import Role
from careline.scheduling import services as booking_services
from careline.scheduling.models import AvailabilityTemplate, TemplateBlock
from careline.scheduling.waitlist import engine
from careline.scheduling.waitlist import services as waitlist_services
from careline.scheduling.waitlist.models import FreedSlot, WaitlistEntry
from careline.testing.factories import (
    RECEIVED,
    LocationFactory,
    PatientFactory,
    PractitionerFactory,
    UserFactory,
)

NEW_YORK = ZoneInfo("America/New_York")
# "Now" in the scheduling tests: Monday 1 June 2026, 08:00 in New York.
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
TUESDAY = dt.date(2026, 6, 2)
SPECIALTY = "Family medicine"


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A New York wall time as an aware datetime (``minute`` may run past 59)."""
    return dt.datetime.combine(day, dt.time(hour + minute // 60, minute % 60), tzinfo=NEW_YORK)


_codes = itertools.count(1)


def make_visit_type(**fields: Any) -> VisitType:
    values: dict[str, Any] = {
        "code": f"visit-{next(_codes)}",
        "name": "Follow-up visit",
        "specialty": SPECIALTY,
        "duration_minutes": 30,
    }
    values.update(fields)
    return VisitType.objects.create(**values)


def make_practitioner(*, specialty: str = SPECIALTY, **fields: Any) -> Practitioner:
    practitioner: Practitioner = PractitionerFactory.create(**fields)
    PractitionerRole.objects.create(
        practitioner=practitioner,
        specialty=specialty,
        source_system="urn:test:ehr",
        source_id=f"role-{practitioner.pk}",
        received_at=RECEIVED,
        content_hash="0" * 64,
        raw={},
    )
    return practitioner


def make_template(
    practitioner: Practitioner,
    location: Location,
    *,
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4),
    start: dt.time = dt.time(9),
    end: dt.time = dt.time(12),
    slot_minutes: int = 15,
    visit_types: tuple[VisitType, ...] = (),
    blocks: tuple[dict[str, Any], ...] = (),
) -> list[AvailabilityTemplate]:
    templates = []
    for weekday in weekdays:
        template = AvailabilityTemplate.objects.create(
            practitioner=practitioner,
            location=location,
            weekday=weekday,
            start_time=start,
            end_time=end,
            slot_minutes=slot_minutes,
            effective_from=dt.date(2026, 1, 1),
        )
        template.visit_types.set(visit_types)
        TemplateBlock.objects.bulk_create(
            [TemplateBlock(template=template, **block) for block in blocks]
        )
        templates.append(template)
    return templates


@dataclass
class Clinic:
    """One location in New York with a family doctor working weekday mornings and
    afternoons, a scheduler of that location and a patient of it."""

    location: Location
    practitioner: Practitioner
    visit_type: VisitType
    scheduler: User
    patient: Patient

    @property
    def actor(self) -> Actor:
        return Actor(user=self.scheduler, channel=AuditChannel.UI, remote_addr="127.0.0.1")

    def actor_for(self, user: User) -> Actor:
        return Actor(user=user, channel=AuditChannel.UI, remote_addr="127.0.0.1")

    def booking(self, starts_at: dt.datetime, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments of ``book_appointment`` for this clinic's slot."""
        values: dict[str, Any] = {
            "actor": self.actor,
            "patient_id": self.patient.public_id,
            "visit_type_id": self.visit_type.public_id,
            "practitioner_id": self.practitioner.public_id,
            "location_id": self.location.public_id,
            "starts_at": starts_at,
        }
        values.update(overrides)
        return values

    def new_patient(self, **fields: Any) -> Patient:
        return PatientFactory.create(primary_location=self.location, **fields)

    def user(self, role: str = Role.SCHEDULER) -> User:
        user = UserFactory.create(role=role)
        user.locations.add(self.location)
        return user


def make_clinic(**visit_type_fields: Any) -> Clinic:
    location = LocationFactory.create(name="Harbor Clinic", time_zone="America/New_York")
    practitioner = make_practitioner(given_name="Ana", family_name="Lopez", gender="female")
    make_template(practitioner, location, start=dt.time(9), end=dt.time(12))
    make_template(practitioner, location, start=dt.time(13), end=dt.time(17))
    scheduler = UserFactory.create(role=Role.SCHEDULER)
    scheduler.locations.add(location)
    return Clinic(
        location=location,
        practitioner=practitioner,
        visit_type=make_visit_type(**visit_type_fields),
        scheduler=scheduler,
        patient=PatientFactory.create(primary_location=location, birth_date=dt.date(1980, 5, 5)),
    )


def waitlist_with_offer(
    clinic: Clinic,
    starts_at: dt.datetime,
    *,
    visit_type: VisitType | None = None,
    patient: Patient | None = None,
) -> WaitlistEntry:
    """The patient (the clinic's by default) waits for ``visit_type`` from TUESDAY for a
    week; another patient's visit at ``starts_at`` is cancelled and the freed slot's first
    offer round runs, so she holds a pending offer of it."""
    visit_type = visit_type or clinic.visit_type
    patient = patient or clinic.patient
    entry = waitlist_services.join_waitlist(
        actor=clinic.actor,
        patient_id=patient.public_id,
        visit_type_id=visit_type.public_id,
        earliest_date=TUESDAY,
        latest_date=TUESDAY + dt.timedelta(days=7),
    )
    [appointment] = booking_services.book_appointment(
        **clinic.booking(
            starts_at, visit_type_id=visit_type.public_id, patient_id=clinic.new_patient().public_id
        )
    )
    booking_services.cancel_appointment(
        actor=clinic.actor, appointment_id=appointment.public_id, reason="patient"
    )
    freed = FreedSlot.objects.get(source_appointment=appointment)
    engine.run_offer_round(freed_slot_id=freed.public_id)
    return entry
