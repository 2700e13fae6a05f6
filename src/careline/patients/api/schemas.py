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
    WithJsonSchema,
)

from careline.patients import selectors
from careline.patients.models import (
    CARELINE_SOURCE,
    Channel,
    CommunicationPreference,
    Consent,
    ConsentPurpose,
    ConsentStatus,
    ContactPoint,
    ContactSystem,
    ContactUse,
    Patient,
    TimelineEvent,
    TimelineKind,
)
from careline.platform.services import MIN_REASON_LENGTH

# ---------------------------------------------------------------------------------------------
# Input and output types whose OpenAPI description is exactly what is accepted.

# Text the database can store: no C0 control characters but tab and line breaks
# (PostgreSQL refuses NUL).
STORABLE_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"
StorableText = Annotated[str, StringConstraints(pattern=STORABLE_TEXT)]

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
# Output schemas (shared with the 360 summary).


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

    @classmethod
    def of(cls, hit: selectors.PatientHit) -> PatientHitOut:
        return cls(
            public_id=hit.public_id,
            name=hit.display_name,
            birth_date=hit.birth_date,
            sex=hit.sex,
            mrn=hit.mrn,
            is_deceased=hit.is_deceased,
        )


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
    def public_id(self) -> uuid.UUID: ...
    @property
    def display_name(self) -> str: ...
    @property
    def npi(self) -> str: ...
    @property
    def source_system(self) -> str: ...
    @property
    def received_at(self) -> datetime: ...


class PractitionerRefOut(Sourced):
    public_id: uuid.UUID
    name: str
    npi: str

    @classmethod
    def of(cls, practitioner: _PractitionerLike) -> PractitionerRefOut:
        return cls(
            public_id=practitioner.public_id,
            name=practitioner.display_name,
            npi=practitioner.npi,
            source_system=practitioner.source_system,
            received_at=practitioner.received_at,
        )


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

    @classmethod
    def of(cls, patient: Patient) -> PatientOut:
        location = patient.primary_location
        practitioner = patient.primary_care_practitioner
        return cls(
            public_id=patient.public_id,
            mrn=patient.mrn,
            name=patient.display_name,
            prefix=patient.prefix,
            given_names=patient.given_names,
            family_name=patient.family_name,
            suffix=patient.suffix,
            birth_date=patient.birth_date,
            sex=patient.sex,
            is_deceased=patient.is_deceased,
            deceased_at=patient.deceased_at,
            language=patient.language,
            interpreter_needed=patient.interpreter_needed,
            address=AddressOut(
                line=patient.address_line,
                city=patient.city,
                state=patient.state,
                postal_code=patient.postal_code,
            ),
            primary_location=(
                LocationRefOut(
                    public_id=location.public_id,
                    name=location.name,
                    source_system=location.source_system,
                    received_at=location.received_at,
                )
                if location is not None
                else None
            ),
            primary_care_practitioner=(
                PractitionerRefOut.of(practitioner) if practitioner is not None else None
            ),
            source_system=patient.source_system,
            received_at=patient.received_at,
            updated_at=patient.updated_at,
        )


class TimelineEventOut(Sourced):
    public_id: uuid.UUID
    kind: str
    occurred_at: datetime
    title: str
    detail: str
    actor_label: str

    @classmethod
    def of(cls, event: TimelineEvent) -> TimelineEventOut:
        return cls(
            public_id=event.public_id,
            kind=event.kind,
            occurred_at=event.occurred_at,
            title=event.title,
            detail=event.detail,
            actor_label=event.actor_label,
            source_system=event.source_system,
            received_at=event.received_at,
        )


class TimelinePageOut(Schema):
    events: list[TimelineEventOut]
    next_cursor: str | None = Field(
        description=(
            "Opaque: pass as `cursor` (with the same filters) for the next, older page; "
            "null on the last page."
        )
    )

    @classmethod
    def of(cls, page: selectors.TimelinePage) -> TimelinePageOut:
        return cls(
            events=[TimelineEventOut.of(event) for event in page.events],
            next_cursor=page.next_cursor,
        )


class ContactPointOut(Sourced):
    public_id: uuid.UUID
    system: str
    value: str
    use: str
    rank: int
    is_active: bool

    @classmethod
    def of(cls, contact: ContactPoint) -> ContactPointOut:
        return cls(
            public_id=contact.public_id,
            system=contact.system,
            value=contact.value,
            use=contact.use,
            rank=contact.rank,
            is_active=contact.is_active,
            source_system=contact.source_system,
            received_at=contact.received_at,
        )


class CommunicationPreferenceOut(Sourced):
    """Preferences are entered in Careline: the source is Careline, received when updated."""

    preferred_channel: str
    language: str
    quiet_hours_start: LocalTime | None
    quiet_hours_end: LocalTime | None
    time_zone: str
    updated_at: datetime

    @classmethod
    def of(cls, preference: CommunicationPreference) -> CommunicationPreferenceOut:
        return cls(
            preferred_channel=preference.preferred_channel,
            language=preference.language,
            quiet_hours_start=preference.quiet_hours_start,
            quiet_hours_end=preference.quiet_hours_end,
            time_zone=preference.time_zone,
            updated_at=preference.updated_at,
            source_system=CARELINE_SOURCE,
            received_at=preference.updated_at,
        )


class ConsentOut(Sourced):
    public_id: uuid.UUID
    purpose: str
    status: str
    description: str
    decided_at: datetime | None
    expires_on: date | None

    @classmethod
    def of(cls, consent: Consent) -> ConsentOut:
        return cls(
            public_id=consent.public_id,
            purpose=consent.purpose,
            status=consent.status,
            description=consent.description,
            decided_at=consent.decided_at,
            expires_on=consent.expires_on,
            source_system=consent.source_system,
            received_at=consent.received_at,
        )


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
    value: StorableText = Field(min_length=1, max_length=254)
    use: ContactUse | Literal[""] = ""


class ContactPointPatchIn(Schema):
    value: StorableText = Field(
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
