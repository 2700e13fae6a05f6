"""Scheduling's REST routes, mounted at /api/scheduling/ by ``careline.api.api``.

Each route parses a typed schema, makes one call into ``scheduling`` (a selector or a
service) with an API actor, and presents what it answered. Refusals keep the one error shape:
409 ``slot_taken`` (with fresh options in ``details.options``), 422 ``rule_violation`` naming
the rule (``details.rule`` and ``details.violations``), 422 ``slot_not_offered``,
``safety_screen_required`` (the questions) and ``safety_screen_positive`` (the advice).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import StringConstraints

from careline.directory.visit_types import list_visit_types
from careline.patients.api.schemas import Instant, PlainText
from careline.platform.actors import Actor, actor_from_request
from careline.platform.authorization import api_requires_permission
from careline.platform.errors import CarelineError
from careline.platform.http import local_today
from careline.platform.models import AuditChannel
from careline.platform.permissions import Permission
from careline.scheduling import metrics, selectors, services
from careline.scheduling.booking import MAX_OCCURRENCES
from careline.scheduling.bumps.api import router as flagged_router
from careline.scheduling.errors import SlotTaken
from careline.scheduling.models import Appointment, CancelReason, Hold
from careline.scheduling.selectors import Place, PlaceQuery, SlotOption
from careline.scheduling.waitlist.api import router as waitlist_router

router = Router(tags=["scheduling"])
router.add_router("waitlist", waitlist_router)
router.add_router("flagged", flagged_router)

Reason = Annotated[str, StringConstraints(max_length=300)]
FRESH_OPTIONS = 5


def _actor(request: HttpRequest) -> Actor:
    return actor_from_request(request, channel=AuditChannel.API)


# --- schemas -------------------------------------------------------------------------------


class VisitTypeOut(Schema):
    public_id: uuid.UUID
    code: str
    name: str
    specialty: str
    duration_minutes: int
    modality: str
    min_age_years: int | None
    max_age_years: int | None
    allowed_sexes: list[str]
    patient_status: str
    referral_required: bool
    accepted_payers: list[str]
    preparation_instructions: str
    requires_safety_screen: bool
    portal_booking: str
    minimum_notice_minutes: int
    maximum_horizon_days: int
    capacity: int
    required_resource_kinds: list[str]


class SlotFilters(Schema):
    visit_type: uuid.UUID
    patient: uuid.UUID | None = None
    location: list[uuid.UUID] | None = Field(
        None, description="Location ids, nearest first (repeat the parameter); none: anywhere."
    )
    zip: str | None = Field(
        None, max_length=20, description="Nearest first from this ZIP (or ZIP+4)."
    )
    address: str | None = Field(
        None, max_length=300, description="Nearest first from this US address (its ZIP)."
    )
    near_patient: bool = Field(
        False, description="Nearest first from the patient's home (needs patient)."
    )
    date_from: date
    date_to: date
    language: Annotated[str, StringConstraints(max_length=20, pattern=r"^[A-Za-z-]*$")] = ""
    gender: Annotated[str, StringConstraints(max_length=10, pattern=r"^[a-z]*$")] = ""
    limit: int = Field(10, ge=1, le=selectors.MAX_LIMIT)


class SlotOut(Schema):
    starts_at: datetime
    ends_at: datetime
    local_start: datetime
    visit_type_id: uuid.UUID
    practitioner_id: uuid.UUID
    practitioner_name: str
    location_id: uuid.UUID
    location_name: str
    time_zone: str
    distance_km: float | None


class SlotIn(Schema):
    visit_type_id: uuid.UUID
    practitioner_id: uuid.UUID
    location_id: uuid.UUID
    starts_at: Instant


class HoldIn(SlotIn):
    patient_id: uuid.UUID | None = None


class HoldOut(Schema):
    public_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    expires_at: datetime


class BookingIn(SlotIn):
    patient_id: uuid.UUID
    occurrences: int = Field(1, ge=1, le=MAX_OCCURRENCES)
    interval_days: int = Field(7, ge=1, le=365)
    hold_id: uuid.UUID | None = None
    safety_answers: dict[Annotated[str, StringConstraints(max_length=64)], bool] | None = None
    overbook_reason: PlainText = Field("", max_length=300)


class AppointmentOut(Schema):
    public_id: uuid.UUID
    patient_id: uuid.UUID
    visit_type_id: uuid.UUID
    practitioner_id: uuid.UUID
    location_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    status: str
    is_new_patient: bool
    is_overbook: bool
    cancel_reason: str
    series_id: uuid.UUID | None
    rescheduled_from_id: uuid.UUID | None

    @staticmethod
    def resolve_patient_id(appointment: Appointment) -> uuid.UUID:
        return appointment.patient.public_id

    @staticmethod
    def resolve_visit_type_id(appointment: Appointment) -> uuid.UUID:
        return appointment.visit_type.public_id

    @staticmethod
    def resolve_practitioner_id(appointment: Appointment) -> uuid.UUID:
        return appointment.practitioner.public_id

    @staticmethod
    def resolve_location_id(appointment: Appointment) -> uuid.UUID:
        return appointment.location.public_id

    @staticmethod
    def resolve_rescheduled_from_id(appointment: Appointment) -> uuid.UUID | None:
        previous = appointment.rescheduled_from
        return previous.public_id if previous is not None else None


class BookingOut(Schema):
    appointment: AppointmentOut
    series: list[AppointmentOut] = Field(description="Every occurrence, first first.")


class RescheduleIn(Schema):
    starts_at: Instant
    practitioner_id: uuid.UUID | None = None
    location_id: uuid.UUID | None = None
    reason: CancelReason = CancelReason.PATIENT
    note: PlainText = Field("", max_length=300)
    hold_id: uuid.UUID | None = None


class CancelIn(Schema):
    reason: CancelReason
    note: PlainText = Field("", max_length=300)


# --- routes --------------------------------------------------------------------------------


@router.get("visit-types", response=list[VisitTypeOut], summary="List the active visit types")
@api_requires_permission(Permission.VIEW_SCHEDULE, resource_type="VisitType")
def get_visit_types(request: HttpRequest) -> list[Any]:
    return list_visit_types()


@router.get(
    "slots",
    response=list[SlotOut],
    summary="Search the next free slots (near a ZIP, an address or the patient's home)",
    description=(
        "Without a place: the next free slots, earliest first. With one of zip, address or "
        "near_patient: the nearest locations offering the visit type (at most "
        f"{selectors.NEAREST_PLACES}), nearest first, each with its next free slots and "
        "distance_km — the order the Schedule page shows."
    ),
)
@api_requires_permission(Permission.VIEW_SCHEDULE, resource_type="Slot")
def search_slots(request: HttpRequest, filters: Query[SlotFilters]) -> list[SlotOption]:
    return selectors.search_slots_near(
        actor=_actor(request),
        visit_type_id=filters.visit_type,
        patient_id=filters.patient,
        place=PlaceQuery(
            zip_code=filters.zip, address=filters.address, near_patient=filters.near_patient
        ),
        location_ids=filters.location or (),
        date_from=filters.date_from,
        date_to=filters.date_to,
        language=filters.language,
        gender=filters.gender,
        limit=filters.limit,
    ).options


@router.post("holds", response={201: HoldOut}, summary="Hold a slot for a few minutes")
@api_requires_permission(Permission.BOOK_APPOINTMENT, resource_type="Hold")
def hold_slot(request: HttpRequest, payload: HoldIn) -> Status[Hold]:
    try:
        hold = services.hold_slot(
            actor=_actor(request),
            visit_type_id=payload.visit_type_id,
            practitioner_id=payload.practitioner_id,
            location_id=payload.location_id,
            starts_at=payload.starts_at,
            patient_id=payload.patient_id,
        )
    except SlotTaken as taken:
        raise _with_fresh_options(request, taken, payload, payload.patient_id) from taken
    return Status(201, hold)


@router.delete("holds/{uuid:hold_id}", response={204: None}, summary="Release a hold")
@api_requires_permission(Permission.BOOK_APPOINTMENT, resource_type="Hold")
def release_hold(request: HttpRequest, hold_id: uuid.UUID) -> Status[None]:
    services.release_hold(actor=_actor(request), hold_id=hold_id)
    return Status(204, None)


@router.post("appointments", response={201: BookingOut}, summary="Book an appointment or a series")
@api_requires_permission(Permission.BOOK_APPOINTMENT, resource_type="Appointment")
def book_appointment(request: HttpRequest, payload: BookingIn) -> Status[dict[str, Any]]:
    try:
        appointments = services.book_appointment(
            actor=_actor(request),
            patient_id=payload.patient_id,
            visit_type_id=payload.visit_type_id,
            practitioner_id=payload.practitioner_id,
            location_id=payload.location_id,
            starts_at=payload.starts_at,
            occurrences=payload.occurrences,
            interval_days=payload.interval_days,
            hold_id=payload.hold_id,
            safety_answers=payload.safety_answers,
            overbook_reason=payload.overbook_reason,
        )
    except SlotTaken as taken:
        raise _with_fresh_options(request, taken, payload, payload.patient_id) from taken
    return Status(201, {"appointment": appointments[0], "series": appointments})


@router.get(
    "appointments/{uuid:appointment_id}", response=AppointmentOut, summary="Get an appointment"
)
@api_requires_permission(Permission.VIEW_SCHEDULE, resource_type="Appointment")
def get_appointment(request: HttpRequest, appointment_id: uuid.UUID) -> Appointment:
    return selectors.get_appointment(actor=_actor(request), appointment_id=appointment_id)


@router.post(
    "appointments/{uuid:appointment_id}/reschedule",
    response=AppointmentOut,
    summary="Move an appointment (answers the new one)",
)
@api_requires_permission(Permission.BOOK_APPOINTMENT, resource_type="Appointment")
def reschedule_appointment(
    request: HttpRequest, appointment_id: uuid.UUID, payload: RescheduleIn
) -> Appointment:
    return services.reschedule_appointment(
        actor=_actor(request),
        appointment_id=appointment_id,
        starts_at=payload.starts_at,
        practitioner_id=payload.practitioner_id,
        location_id=payload.location_id,
        reason=payload.reason,
        note=payload.note,
        hold_id=payload.hold_id,
    )


@router.post(
    "appointments/{uuid:appointment_id}/cancel",
    response=AppointmentOut,
    summary="Cancel an appointment",
)
@api_requires_permission(Permission.BOOK_APPOINTMENT, resource_type="Appointment")
def cancel_appointment(
    request: HttpRequest, appointment_id: uuid.UUID, payload: CancelIn
) -> Appointment:
    return services.cancel_appointment(
        actor=_actor(request),
        appointment_id=appointment_id,
        reason=payload.reason,
        note=payload.note,
    )


@router.post(
    "appointments/{uuid:appointment_id}/arrived",
    response=AppointmentOut,
    summary="Mark the patient arrived",
)
@api_requires_permission(Permission.CHANGE_APPOINTMENT_STATUS, resource_type="Appointment")
def mark_arrived(request: HttpRequest, appointment_id: uuid.UUID) -> Appointment:
    return services.mark_arrived(actor=_actor(request), appointment_id=appointment_id)


@router.post(
    "appointments/{uuid:appointment_id}/no-show",
    response=AppointmentOut,
    summary="Record a no-show",
)
@api_requires_permission(Permission.CHANGE_APPOINTMENT_STATUS, resource_type="Appointment")
def mark_no_show(request: HttpRequest, appointment_id: uuid.UUID) -> Appointment:
    return services.mark_no_show(actor=_actor(request), appointment_id=appointment_id)


@router.post(
    "appointments/{uuid:appointment_id}/completed",
    response=AppointmentOut,
    summary="Mark the visit completed",
)
@api_requires_permission(Permission.CHANGE_APPOINTMENT_STATUS, resource_type="Appointment")
def mark_completed(request: HttpRequest, appointment_id: uuid.UUID) -> Appointment:
    return services.mark_completed(actor=_actor(request), appointment_id=appointment_id)


def _with_fresh_options(
    request: HttpRequest, taken: SlotTaken, payload: SlotIn, patient_id: uuid.UUID | None
) -> SlotTaken:
    """The same refusal, with the next free slots of the visit type at that location."""
    day = payload.starts_at.date()
    try:
        options = selectors.search_slots(
            actor=_actor(request),
            visit_type_id=payload.visit_type_id,
            patient_id=patient_id,
            places=[Place(payload.location_id)],
            date_from=day,
            date_to=day + timedelta(days=30),
            limit=FRESH_OPTIONS,
        )
    except CarelineError:  # the refusal stands; the options are a courtesy
        options = []
    details = taken.details if isinstance(taken.details, dict) else {}
    return SlotTaken(
        taken.message,
        details={
            **details,
            "options": [SlotOut.from_orm(option).model_dump(mode="json") for option in options],
        },
    )


# --- access metrics ----------------------------------------------------------------------


class MetricsFilters(Schema):
    date_from: date | None = Field(
        None, alias="from", description="First day (default: 12 weeks ago, Monday)."
    )
    date_to: date | None = Field(
        None, alias="to", description="Last day, inclusive (default: today)."
    )
    visit_type: uuid.UUID | None = None
    location: uuid.UUID | None = None


class MetricsOutcomesOut(Schema):
    scheduled: int
    no_shows: int
    attended: int
    no_show_rate: float | None
    late_cancellations: int
    late_cancellation_rate: float | None
    bumps: int
    bump_rate: float | None


class MetricsWeekOut(Schema):
    week_start: date
    scheduled: int
    no_shows: int
    attended: int
    no_show_rate: float | None
    late_cancellations: int
    bumps: int


class MetricsFillWeekOut(Schema):
    week_start: date
    freed: int
    rebooked: int
    fill_rate: float | None


class MetricsFillOut(Schema):
    freed: int
    rebooked: int
    fill_rate: float | None
    weeks: list[MetricsFillWeekOut]


class MetricsUtilisationOut(Schema):
    practitioner_id: uuid.UUID
    practitioner_name: str
    available_minutes: int
    booked_minutes: int
    utilisation: float | None


class MetricsSnapshotOut(Schema):
    week_start: date
    visit_type_id: uuid.UUID
    visit_type_name: str
    practitioner_id: uuid.UUID | None = Field(
        description="None: across the visit type's providers."
    )
    practitioner_name: str
    days: int | None = Field(description="None: fewer than three free slots within a year.")


class MetricsOut(Schema):
    from_: date = Field(alias="from")
    to: date
    visit_type: uuid.UUID | None
    location: uuid.UUID | None
    late_cancel_hours: int
    outcomes: MetricsOutcomesOut
    weeks: list[MetricsWeekOut]
    fill: MetricsFillOut
    utilisation: list[MetricsUtilisationOut]
    third_next_available: list[MetricsSnapshotOut]


@router.get(
    "metrics",
    response=MetricsOut,
    by_alias=True,
    summary="Access metrics: third next available, no-shows, late cancellations, bumps, "
    "utilisation, fill rate",
)
@api_requires_permission(Permission.VIEW_ACCESS_METRICS, resource_type="AccessMetrics")
def get_access_metrics(request: HttpRequest, filters: Query[MetricsFilters]) -> dict[str, object]:
    """The numbers of the Access metrics page (``scheduling.metrics`` defines each)."""
    defaults = metrics.default_filters(local_today())
    result = metrics.get_access_metrics(
        actor=_actor(request),
        filters=metrics.MetricFilters(
            date_from=filters.date_from or defaults.date_from,
            date_to=filters.date_to or defaults.date_to,
            visit_type_id=filters.visit_type,
            location_id=filters.location,
        ),
    )
    return metrics.payload(result)
