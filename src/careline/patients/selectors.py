"""Reads of the patient registry: search, the 360 view's registry part, the timeline.

Every function that returns PHI takes ``actor`` and goes through ``access_patient`` (or, for
search, records a search event), so each read is checked and audited.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import models
from django.db.models import Q, QuerySet

from careline.patients.access import PatientAccess, access_patient
from careline.patients.models import (
    CareTeamMember,
    CommunicationPreference,
    Consent,
    ConsentStatus,
    ContactPoint,
    ContactSystem,
    Coverage,
    Patient,
    PatientIdentifier,
    RelatedPerson,
    SocialNeed,
    SocialNeedCategory,
    TimelineEvent,
)
from careline.patients.normalize import parse_date, phone_to_e164, search_text, visible_text
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.audit.selectors import SEARCH_LISTED_PATIENTS
from careline.platform.authorization import require_permission
from careline.platform.errors import ValidationFailed
from careline.platform.models import AuditAction, Purpose
from careline.platform.permissions import Permission

SEARCH_LIMIT = 25
MIN_QUERY_LENGTH = 2
_HAS_DIGIT = re.compile(r"\d")
_PHONE_CHARACTERS = re.compile(r"^[\d\s().+\-]+$")


@dataclass(frozen=True)
class SearchQuery:
    """What a typed query means: name words, a birth date, a phone, an identifier."""

    name_words: tuple[str, ...] = ()
    birth_date: date | None = None
    phone: str | None = None
    identifier: str | None = None

    @property
    def is_usable(self) -> bool:
        """Whether it has a criterion to search by: a birth date, a phone, an identifier or
        at least ``MIN_QUERY_LENGTH`` letters of a name once normalised (emoji, zero-width
        and control characters normalise to nothing)."""
        name_letters = sum(len(word.replace(" ", "")) for word in self.name_words)
        return bool(
            self.birth_date or self.phone or self.identifier or name_letters >= MIN_QUERY_LENGTH
        )


def parse_search_query(text: str, *, today: date) -> SearchQuery:
    text = visible_text(text).strip()
    digits = re.sub(r"\D", "", text)
    if _PHONE_CHARACTERS.match(text) and len(digits) >= 10:
        phone = phone_to_e164(text)
        if phone is not None:
            return SearchQuery(phone=phone)
    words: list[str] = []
    birth_date = None
    identifier = None
    for token in text.split():
        parsed = parse_date(token)
        if parsed is not None and birth_date is None:
            birth_date = _past_century(parsed, today)
        elif _HAS_DIGIT.search(token) and identifier is None:
            identifier = token
        else:
            words.append(search_text(token))
    return SearchQuery(tuple(w for w in words if w), birth_date, None, identifier)


def _past_century(day: date, today: date) -> date:
    """'01/02/50' is 1950 for a birth date, not 2050."""
    return day.replace(year=day.year - 100) if day > today else day


@dataclass(frozen=True)
class PatientHit:
    public_id: uuid.UUID
    display_name: str
    birth_date: date | None
    sex: str
    mrn: str
    is_deceased: bool


def search_patients(*, actor: Actor, text: str, limit: int = SEARCH_LIMIT) -> list[PatientHit]:
    """Patients matching a name fragment, birth date, phone (any format) or MRN."""
    require_permission(
        actor,
        Permission.VIEW_PATIENT,
        resource_type="Patient",
        message="Your role does not allow searching patients.",
    )
    return _search_audited(actor, text, limit)


def search_patients_for_audit(
    *, actor: Actor, text: str, limit: int = SEARCH_LIMIT
) -> list[PatientHit]:
    """The same search for a compliance officer choosing whose audit trail to read.

    Her role opens no record; the list shows name, birth date, sex and MRN, and the entry
    of this search (purpose: compliance) names every patient it listed.
    """
    require_permission(
        actor,
        Permission.VIEW_AUDIT_LOG,
        resource_type="Patient",
        message="Your role does not allow reading the audit log.",
    )
    return _search_audited(actor.for_purpose(Purpose.COMPLIANCE), text, limit)


def _search_audited(actor: Actor, text: str, limit: int) -> list[PatientHit]:
    query = parse_search_query(text, today=clock.now().date())
    if len(text.strip()) < MIN_QUERY_LENGTH or not query.is_usable:
        raise ValidationFailed(
            f"Type at least {MIN_QUERY_LENGTH} characters of a name, a birth date, "
            "a phone number or an MRN."
        )
    rows = _search_rows(query, limit)
    audit.record_event(
        actor=actor,
        action=AuditAction.SEARCH,
        resource_type="Patient",
        details={
            "criteria": _criteria_names(query),
            "results": len(rows),
            # Which patients it listed (ids only): their access history shows the search.
            SEARCH_LISTED_PATIENTS: [str(row[0]) for row in rows],
        },
    )
    return [
        PatientHit(
            public_id=public_id,
            display_name=" ".join(p for p in (given, family) if p) or "—",
            birth_date=birth_date,
            sex=sex,
            mrn=mrn,
            is_deceased=is_deceased,
        )
        for public_id, given, family, birth_date, sex, mrn, is_deceased in rows
    ]


_HIT_COLUMNS = (
    "public_id",
    "given_names",
    "family_name",
    "birth_date",
    "sex",
    "mrn",
    "is_deceased",
)
_HitRow = tuple[uuid.UUID, str, str, date | None, str, str, bool]


def _search_rows(query: SearchQuery, limit: int) -> list[_HitRow]:
    """Name-only searches list family names starting with the text first (an index range,
    in name order, stopping at ``limit``), then other matches of every word; a search with
    a birth date, phone or identifier is selective enough to sort whole."""
    matching = _matching(query)
    if not query.name_words or query.birth_date or query.phone or query.identifier:
        ordered = matching.order_by("family_name", "given_names", "pk")
        return list(ordered.values_list(*_HIT_COLUMNS)[:limit])
    prefix = " ".join(query.name_words)
    starting = matching.filter(
        search_name__gte=prefix,
        search_name__lt=_after_prefix(prefix),
        search_name__startswith=prefix,
    )
    rows: list[_HitRow] = list(
        starting.order_by("search_name", "pk").values_list(*_HIT_COLUMNS)[:limit]
    )
    if len(rows) < limit:
        found = [row[0] for row in rows]
        others = matching.exclude(public_id__in=found).values_list(*_HIT_COLUMNS)
        rows += sorted(others[: limit - len(rows)], key=lambda row: (row[2], row[1]))
    return rows


def _after_prefix(prefix: str) -> str:
    """The smallest string after every string that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _matching(query: SearchQuery) -> QuerySet[Patient]:
    patients = Patient.objects.all()
    if query.phone is not None:
        return patients.filter(
            pk__in=ContactPoint.objects.filter(
                value=query.phone, system__in=[ContactSystem.PHONE, ContactSystem.SMS]
            ).values("patient_id")
        )
    if query.identifier is not None:
        # Exact matches only (indexed): as typed, and upper-cased as MRNs usually are.
        # Two index lookups; an OR across the subquery would scan every patient.
        values = sorted({query.identifier, query.identifier.upper()})
        identified = list(
            PatientIdentifier.objects.filter(value__in=values).values_list("patient_id", flat=True)
        )
        patients = patients.filter(Q(mrn__in=values) | Q(pk__in=identified))
    if query.birth_date is not None:
        patients = patients.filter(birth_date=query.birth_date)
    for word in query.name_words:
        patients = patients.filter(search_name__contains=word)
    return patients


def _criteria_names(query: SearchQuery) -> list[str]:
    """Which kinds of criteria were used — never the values (they are PHI)."""
    kinds = {
        "name": bool(query.name_words),
        "birth_date": query.birth_date is not None,
        "phone": query.phone is not None,
        "identifier": query.identifier is not None,
    }
    return [kind for kind, used in kinds.items() if used]


@dataclass(frozen=True)
class TimelinePage:
    events: list[TimelineEvent]
    next_cursor: str | None  # pass as ``cursor`` for the next (older) page; None on the last


TIMELINE_PAGE_SIZE = 25
INVALID_CURSOR = "The page cursor is not valid; start from the first page."
_MAX_CURSOR_LENGTH = 128  # an encoded cursor is 92 characters


def encode_timeline_cursor(event: TimelineEvent) -> str:
    """Where a page ended: its last event's time and public id (no PHI), URL-safe base64."""
    text = f"{event.occurred_at.astimezone(UTC).isoformat()}|{event.public_id}"
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def decode_timeline_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The (time, public id) a cursor stands for; ``ValidationFailed`` if it is not one."""
    try:
        if len(cursor) > _MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        padded = cursor.encode("ascii") + b"=" * (-len(cursor) % 4)
        text = base64.b64decode(padded, altchars=b"-_", validate=True).decode("ascii")
        moment, _, public_id = text.partition("|")
        occurred_at, event_id = datetime.fromisoformat(moment), uuid.UUID(public_id)
    except ValueError as error:  # and its kin: binascii.Error, UnicodeError
        raise ValidationFailed(INVALID_CURSOR, details={"parameter": "cursor"}) from error
    if occurred_at.tzinfo is None:
        raise ValidationFailed(INVALID_CURSOR, details={"parameter": "cursor"})
    return occurred_at, event_id


class ConsentState(models.TextChoices):
    """What a consent decision means on a given day: its status (``ConsentStatus``), or
    expired when a given consent's period has ended."""

    ACTIVE = "active", "Given"
    REJECTED = "rejected", "Refused"
    INACTIVE = "inactive", "Withdrawn"
    DRAFT = "draft", "Pending"
    EXPIRED = "expired", "Expired"


@dataclass(frozen=True)
class ConsentRow:
    """A consent decision, whether it is the current one for its purpose, and what it means."""

    consent: Consent
    is_current: bool
    state: ConsentState

    @property
    def purpose(self) -> str:
        return self.consent.purpose

    @property
    def is_given(self) -> bool:
        """Whether the patient agrees today (only a current, given, unexpired decision)."""
        return self.is_current and self.state == ConsentState.ACTIVE


def consent_state(consent: Consent, *, today: date) -> ConsentState:
    """A given consent whose period ended before ``today`` has expired; else its status."""
    if consent.status == ConsentStatus.ACTIVE and consent.expires_on and consent.expires_on < today:
        return ConsentState.EXPIRED
    return ConsentState(consent.status)


def list_consent_rows(consents: Iterable[Consent], *, today: date) -> list[ConsentRow]:
    """Every decision by purpose, the latest first; the latest of each purpose is current.

    The latest is the one decided last (a decision without a date counts as older than any
    dated one), then the one received last: the same answer on every database.
    """
    rows: list[ConsentRow] = []
    seen: set[str] = set()
    for consent in sorted(consents, key=_latest_first):
        is_current = consent.purpose not in seen
        seen.add(consent.purpose)
        rows.append(ConsentRow(consent, is_current, consent_state(consent, today=today)))
    return sorted(rows, key=lambda row: row.purpose)  # stable: latest first within a purpose


def list_patient_consent_rows(*, patient_pk: int, today: date) -> list[ConsentRow]:
    """One patient's consent decisions as the 360 page lists them (one query). The caller
    has checked access: the page after recording a decision, whose write was audited."""
    return list_consent_rows(Consent.objects.filter(patient_id=patient_pk), today=today)


def current_consents(consents: Iterable[Consent], *, today: date) -> list[ConsentRow]:
    """The current decision for each purpose that has one, by purpose."""
    return [row for row in list_consent_rows(consents, today=today) if row.is_current]


def _latest_first(consent: Consent) -> tuple[bool, float, float, int]:
    decided = consent.decided_at
    return (
        decided is None,
        -decided.timestamp() if decided else 0.0,
        -consent.received_at.timestamp(),
        -(consent.pk or 0),
    )


@dataclass(frozen=True)
class PatientRegistryView:
    """The registry half of the 360 view (the clinical half comes from ``clinical``)."""

    access: PatientAccess
    identifiers: list[PatientIdentifier]
    contact_points: list[ContactPoint]
    preference: CommunicationPreference | None
    consents: list[Consent]
    coverages: list[Coverage]
    related_people: list[RelatedPerson]
    care_team: list[CareTeamMember]
    social_needs: list[SocialNeed]
    timeline: TimelinePage

    @property
    def patient(self) -> Patient:
        return self.access.patient

    @property
    def caregivers(self) -> list[RelatedPerson]:
        return [person for person in self.related_people if person.is_caregiver]

    @property
    def transport_need(self) -> SocialNeed | None:
        return next(
            (
                need
                for need in self.social_needs
                if need.is_active and need.category == SocialNeedCategory.TRANSPORTATION
            ),
            None,
        )

    def current_coverages(self, today: date) -> list[Coverage]:
        return [coverage for coverage in self.coverages if coverage.is_current_on(today)]

    def consent_rows(self, today: date) -> list[ConsentRow]:
        return list_consent_rows(self.consents, today=today)

    def current_consents(self, today: date) -> list[ConsentRow]:
        return current_consents(self.consents, today=today)


def get_patient_registry_view(*, actor: Actor, patient_id: uuid.UUID) -> PatientRegistryView:
    """One checked, audited read of everything the registry knows of one patient.

    A fixed number of queries whatever the patient's history.
    """
    access = access_patient(actor=actor, patient_id=patient_id)
    patient = access.patient
    return PatientRegistryView(
        access=access,
        identifiers=list(PatientIdentifier.objects.filter(patient=patient)),
        contact_points=list(ContactPoint.objects.filter(patient=patient, is_active=True)),
        preference=CommunicationPreference.objects.filter(patient=patient).first(),
        consents=list(Consent.objects.filter(patient=patient)),
        coverages=list(Coverage.objects.filter(patient=patient)),
        related_people=list(RelatedPerson.objects.filter(patient=patient)),
        care_team=list(
            CareTeamMember.objects.filter(patient=patient).select_related("practitioner", "user")
        ),
        social_needs=list(SocialNeed.objects.filter(patient=patient)),
        timeline=_timeline_page(TimelineEvent.objects.filter(patient=patient), TIMELINE_PAGE_SIZE),
    )


def list_timeline(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    kinds: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> TimelinePage:
    """Newest first, in [``since``, ``until``); ``cursor`` (the previous page's
    ``next_cursor``) continues after the last event shown, even among events that share its
    time. A malformed cursor is refused before the patient is opened (nothing is audited).
    """
    after = decode_timeline_cursor(cursor) if cursor else None
    access = access_patient(actor=actor, patient_id=patient_id, resource_type="Timeline")
    events = TimelineEvent.objects.filter(patient=access.patient)
    if kinds:
        events = events.filter(kind__in=kinds)
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    if until is not None:
        events = events.filter(occurred_at__lt=until)
    if after is not None:
        occurred_at, event_id = after
        events = events.filter(
            Q(occurred_at__lt=occurred_at) | Q(occurred_at=occurred_at, public_id__lt=event_id)
        )
    return _timeline_page(events, TIMELINE_PAGE_SIZE if limit is None else limit)


def _timeline_page(events: QuerySet[TimelineEvent], limit: int) -> TimelinePage:
    """Ordered by (time, public id), both descending: a total order the cursor can resume."""
    page = list(events.order_by("-occurred_at", "-public_id")[: limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    return TimelinePage(
        events=page, next_cursor=encode_timeline_cursor(page[-1]) if has_more else None
    )


def list_current_payers(*, patient: Patient, day: date) -> list[str]:
    """The payers of the patient's coverage current on ``day`` (for booking criteria).

    The caller has checked access to the patient. One query.
    """
    coverages = Coverage.objects.filter(patient=patient)
    return [coverage.payer for coverage in coverages if coverage.is_current_on(day)]


def list_living_patient_keys(*, limit: int) -> list[tuple[int, uuid.UUID]]:
    """(primary key, public id) of the first ``limit`` living patients by primary key — for
    generated demo data only (no PHI, no access check: callers are system tasks)."""
    rows = Patient.objects.filter(deceased_at__isnull=True, is_deceased=False).order_by("pk")
    return list(rows.values_list("pk", "public_id")[:limit])
