"""The "Appointments" section of the portal's home page, and the hook that fills it.

``CARELINE_PORTAL_APPOINTMENTS`` names a function ``(patient_id, now) -> Appointments``.
The default, ``scheduled_and_ehr_visits``, shows what a patient expects to find under
"Appointments": the visits booked in Careline's scheduling (the ones she can open,
reschedule, cancel and add to her calendar) and, beside them, the visits her care team's
health record system records — booked elsewhere, or from before Careline. A visit the EHR
echoes back at the same minute as a Careline appointment is shown once (Careline's).
``visits_from_the_ehr_mirror`` (the EHR only) remains for a site that schedules elsewhere.
The portal page calls ``get_appointments`` only after ``portal_patient`` allowed the
account, with the ``appointments`` scope, to act for this patient.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from careline.clinical.selectors import list_patient_visits
from careline.scheduling.selectors import list_patient_schedule
from careline.scheduling.self_service import may_change


class AppointmentItem(Protocol):
    """What the page shows of one appointment, whoever provides it."""

    @property
    def starts_at(self) -> datetime: ...
    @property
    def title(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def place(self) -> str: ...
    @property
    def clinician(self) -> str: ...


@dataclass(frozen=True)
class ScheduledVisit:
    """A Careline appointment as the portal lists it: it can be opened (and maybe changed)."""

    starts_at: datetime
    title: str
    status: str
    place: str
    clinician: str
    appointment_id: uuid.UUID
    can_change: bool


@dataclass(frozen=True)
class Appointments:
    upcoming: list[AppointmentItem]
    past: list[AppointmentItem]
    source: str  # shown under the list: where these come from


AppointmentsSource = Callable[[uuid.UUID, datetime], Appointments]


def visits_from_the_ehr_mirror(patient_id: uuid.UUID, now: datetime) -> Appointments:
    return Appointments(
        upcoming=list(list_patient_visits(patient_id=patient_id, upcoming=True, now=now)),
        past=list(list_patient_visits(patient_id=patient_id, upcoming=False, now=now, limit=3)),
        source="Visits as recorded by your care team's health record system.",
    )


SOURCE_BOTH = "Visits booked here, and visits recorded by your care team's health record system."
PAST_LIMIT = 5


def scheduled_and_ehr_visits(patient_id: uuid.UUID, now: datetime) -> Appointments:
    schedule = list_patient_schedule(patient_id=patient_id, now=now, past_limit=PAST_LIMIT)

    def item(appointment: Any) -> ScheduledVisit:
        return ScheduledVisit(
            starts_at=appointment.starts_at,
            title=appointment.visit_type.name,
            status=appointment.get_status_display(),
            place=appointment.location.name,
            clinician=str(appointment.practitioner),
            appointment_id=appointment.public_id,
            can_change=may_change(appointment, now),
        )

    booked = [item(appointment) for appointment in schedule.upcoming]
    done = [item(appointment) for appointment in schedule.past]
    minutes = {visit.starts_at.replace(second=0, microsecond=0) for visit in booked + done}

    def from_ehr(rows: list[Any]) -> list[AppointmentItem]:
        return [
            row for row in rows if row.starts_at.replace(second=0, microsecond=0) not in minutes
        ]

    ehr_upcoming = from_ehr(list_patient_visits(patient_id=patient_id, upcoming=True, now=now))
    ehr_past = from_ehr(
        list_patient_visits(patient_id=patient_id, upcoming=False, now=now, limit=PAST_LIMIT)
    )
    upcoming: list[AppointmentItem] = sorted([*booked, *ehr_upcoming], key=_start)
    past: list[AppointmentItem] = sorted([*done, *ehr_past], key=_start, reverse=True)
    return Appointments(upcoming=upcoming, past=past[:PAST_LIMIT], source=SOURCE_BOTH)


def _start(visit: AppointmentItem) -> datetime:
    return visit.starts_at


def get_appointments(patient_id: uuid.UUID, now: datetime) -> Appointments:
    source: AppointmentsSource = import_string(settings.CARELINE_PORTAL_APPOINTMENTS)
    return source(patient_id, now)
