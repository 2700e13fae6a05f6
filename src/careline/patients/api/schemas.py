"""The registry API's schemas: typed input (what is accepted is what OpenAPI says) and
output (minimum necessary: never the SSN, never an integer id; every fact with its source).

The output schemas are shared with the 360 summary (``careline.api.schemas``).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time
from typing import Annotated, Literal, Protocol

from ninja import Schema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from careline.patients import selectors
from careline.patients.models import (
    CARELINE_SOURCE,
    Channel,
    CommunicationPreference,
    ConsentPurpose,
    ConsentStatus,
    ContactSystem,
    ContactUse,
    Patient,
    TimelineKind,
)
from careline.patients.selectors import ConsentState
from careline.platform.services import MIN_REASON_LENGTH
from careline.platform.text import PLAIN_TEXT_PATTERN, plain_text_problem

# ---------------------------------------------------------------------------------------------
# Input and output types whose OpenAPI description is exactly what is accepted.

# Text the database can store: no C0 control characters but tab and line breaks
# (PostgreSQL refuses NUL).
STORABLE_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"
StorableText = Annotated[str, StringConstraints(pattern=STORABLE_TEXT)]


def _plain_text(value: str, info: ValidationInfo) -> str:
    label = f"The {(info.field_name or 'text').replace('_', ' ')}"
    problem = plain_text_problem(value, label=label)
    if problem is not None:
        raise PydanticCustomError("plain_text", problem)
    return value


# A name or contact value: none of the characters that disguise how it reads (platform.text).
PlainText = Annotated[
    str, AfterValidator(_plain_text), Field(json_schema_extra={"pattern": PLAIN_TEXT_PATTERN})
]

# A wall-clock time of day in the patient's time zone: no offset (JSON Schema's "time"
# format demands one, so this is a pattern).
LOCAL_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


def _local_time_text(value: object) -> object:
    if isinstance(value, str) and re.fullmatch(LOCAL_TIME, value):
        return value
    if isinstance(value, time) and value.tzinfo is None:  # already parsed (serialization)
        return value
    raise ValueError("must be a local time of day, HH:MM or HH:MM:SS, without an offset")


LocalTime = Annotated[
    time,
    BeforeValidator(_local_time_text),
    WithJsonSchema({"type": "string", "pattern": LOCAL_TIME, "example": "21:00"}),
]

# An instant with its offset, as ISO 8601 text (not a number of seconds), that converts to
# UTC without overflowing.
ISO_INSTANT = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"


def _instant_text(value: object) -> object:
    if isinstance(value, str) and re.match(ISO_INSTANT, value):
        return value
    raise ValueError("must be an ISO 8601 date-time with an offset, e.g. 2026-01-31T09:00:00Z")


def _instant_in_range(value: datetime) -> datetime:
    try:
        value.astimezone(UTC)
    except (OverflowError, ValueError) as error:
        raise ValueError("is out of range") from error
    return value


Instant = Annotated[
    AwareDatetime, BeforeValidator(_instant_text), AfterValidator(_instant_in_range)
]


# ---------------------------------------------------------------------------------------------
# Output schemas (shared with the 360 summary). Each reads the attributes of the row or
# selector result it presents (``Schema.from_orm``); ``resolve_*`` names what is derived.


class Sourced(Schema):
    """Where a fact came from and when Careline received it."""

    source_system: str
    received_at: datetime


class PatientHitOut(Schema):
    public_id: uuid.UUID
    name: str
    birth_date: date | None
    sex: str
    mrn: str
    is_deceased: bool

    @staticmethod
    def resolve_name(hit: selectors.PatientHit) -> str:
        return hit.display_name


class AddressOut(Schema):
    line: str
    city: str
    state: str
    postal_code: str


class LocationRefOut(Sourced):
    public_id: uuid.UUID
    name: str


class _PractitionerLike(Protocol):
    """A ``directory.Practitioner`` (``patients`` may not import ``directory``)."""

    @property
    def display_name(self) -> str: ...


class PractitionerRefOut(Sourced):
    public_id: uuid.UUID
    name: str
    npi: str

    @staticmethod
    def resolve_name(practitioner: _PractitionerLike) -> str:
        return practitioner.display_name


class PatientOut(Sourced):
    """Demographics: the minimum an integration needs to serve the patient (never the SSN)."""

    public_id: uuid.UUID
    mrn: str
    name: str
    prefix: str
    given_names: str
    family_name: str
    suffix: str
    birth_date: date | None
    sex: str
    is_deceased: bool
    deceased_at: datetime | None
    language: str
    interpreter_needed: bool
    address: AddressOut
    primary_location: LocationRefOut | None
    primary_care_practitioner: PractitionerRefOut | None
    updated_at: datetime

    @staticmethod
    def resolve_name(patient: Patient) -> str:
        return patient.display_name

    @staticmethod
    def resolve_address(patient: Patient) -> dict[str, str]:
        return {
            "line": patient.address_line,
            "city": patient.city,
            "state": patient.state,
            "postal_code": patient.postal_code,
        }


class TimelineEventOut(Sourced):
    public_id: uuid.UUID
    kind: str
    occurred_at: datetime
    title: str
    detail: str
    actor_label: str


class TimelinePageOut(Schema):  # read from a ``selectors.TimelinePage``
    events: list[TimelineEventOut]
    next_cursor: str | None = Field(
        description=(
            "Opaque: pass as `cursor` (with the same filters) for the next, older page; "
            "null on the last page."
        )
    )


class ContactPointOut(Sourced):
    public_id: uuid.UUID
    system: str
    value: str
    use: str
    rank: int
    is_active: bool


class CommunicationPreferenceOut(Sourced):
    """Preferences are entered in Careline: the source is Careline, received when updated."""

    preferred_channel: str
    language: str
    quiet_hours_start: LocalTime | None
    quiet_hours_end: LocalTime | None
    time_zone: str
    updated_at: datetime

    @staticmethod
    def resolve_source_system(preference: CommunicationPreference) -> str:
        return CARELINE_SOURCE

    @staticmethod
    def resolve_received_at(preference: CommunicationPreference) -> datetime:
        return preference.updated_at


class ConsentOut(Sourced):
    public_id: uuid.UUID
    purpose: str
    status: str
    description: str
    decided_at: datetime | None
    expires_on: date | None


class CurrentConsentOut(Schema):  # read from a ``selectors.ConsentRow``
    """The current decision for one purpose."""

    purpose: str
    state: ConsentState = Field(
        description=("The decision's status, or `expired` when a given consent's period has ended.")
    )
    is_given: bool = Field(description="Whether the patient agrees today.")
    consent: ConsentOut


class BreakGlassOut(Schema):
    public_id: uuid.UUID
    patient_id: uuid.UUID
    expires_at: datetime


# ---------------------------------------------------------------------------------------------
# Input schemas.


class PatientSearchIn(Schema):
    q: StorableText = Field(
        min_length=selectors.MIN_QUERY_LENGTH,
        max_length=200,
        description="A name fragment, a birth date, a phone number (any format) or an MRN.",
    )


class TimelineFilters(Schema):
    kind: list[TimelineKind] | None = Field(None, description="Repeat to ask for several kinds.")
    since: Instant | None = None
    until: Instant | None = Field(None, description="Exclusive.")
    cursor: str | None = Field(
        None, description="The previous page's `next_cursor`; leave out for the first page."
    )
    limit: int = Field(selectors.TIMELINE_PAGE_SIZE, ge=1, le=100)


class ContactPointIn(Schema):
    system: ContactSystem
    value: PlainText = Field(min_length=1, max_length=254)
    use: ContactUse | Literal[""] = ""


class ContactPointPatchIn(Schema):
    value: PlainText = Field(
        min_length=1,
        max_length=254,
        description="The corrected value (phones are stored in E.164).",
    )
    use: ContactUse | Literal[""] | None = Field(None, description="Omit to keep the current use.")


class CommunicationPreferenceIn(Schema):
    """The whole preference: a field left out is cleared."""

    preferred_channel: Channel | Literal[""] = ""
    language: StorableText = Field("", max_length=20, description="BCP-47, e.g. es.")
    quiet_hours_start: LocalTime | None = None
    quiet_hours_end: LocalTime | None = None
    time_zone: StorableText = Field(
        "", max_length=64, description="An IANA name, e.g. America/New_York."
    )


class ConsentIn(Schema):
    purpose: ConsentPurpose
    status: ConsentStatus
    description: StorableText = Field("", max_length=300)


class BreakGlassIn(Schema):
    reason: StorableText = Field(
        min_length=MIN_REASON_LENGTH,
        max_length=2000,
        description="Why this out-of-scope record must be opened.",
    )
