"""The "Appointments" section of the portal's home page, and the hook that fills it.

``CARELINE_PORTAL_APPOINTMENTS`` names a function ``(patient_id, now) -> Appointments``.
Until the scheduling app provides its own (its booked appointments), the default reads the
EHR mirror: the patient's next visits on record and, beside them, her latest past ones.
The portal page calls ``get_appointments`` only after ``portal_patient`` allowed the
account, with the ``appointments`` scope, to act for this patient.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from careline.clinical.selectors import list_patient_visits


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


def get_appointments(patient_id: uuid.UUID, now: datetime) -> Appointments:
    source: AppointmentsSource = import_string(settings.CARELINE_PORTAL_APPOINTMENTS)
    return source(patient_id, now)
