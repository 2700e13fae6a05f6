"""The registry as a patient-facing surface (the portal) sees it.

Nothing here checks a staff permission: the caller has already decided, with its own rule,
that the person may act for this patient (``careline.portal.access.portal_patient``) — or,
for ``find_patient_for_proof``, only learns an id it never shows. Staff pages never call
these; their reads go through ``careline.patients.access.access_patient``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from careline.patients.models import (
    ContactPoint,
    ContactSystem,
    Patient,
    RelatedPerson,
    TimelineEvent,
    TimelineKind,
)
from careline.patients.normalize import format_phone, search_text
from careline.platform import clock
from careline.platform.actors import Actor

_PHONE_SYSTEMS = frozenset({ContactSystem.PHONE, ContactSystem.SMS})


@dataclass(frozen=True)
class PatientBasics:
    """What a patient (or her proxy) sees about herself on the portal's home page."""

    public_id: uuid.UUID
    display_name: str
    birth_date: date | None
    address_lines: tuple[str, ...]
    phones: tuple[str, ...]
    emails: tuple[str, ...]


def get_patient_basics(patient_id: uuid.UUID) -> PatientBasics | None:
    """Name, birth date, address and active phones and emails, in two queries."""
    patient = (
        Patient.objects.filter(public_id=patient_id)
        .only(
            "public_id",
            "given_names",
            "family_name",
            "birth_date",
            "address_line",
            "city",
            "state",
            "postal_code",
        )
        .first()
    )
    if patient is None:
        return None
    contacts = list(
        ContactPoint.objects.filter(patient=patient, is_active=True).order_by("system", "rank")
    )
    place = " ".join(part for part in (patient.state, patient.postal_code) if part)
    town = ", ".join(part for part in (patient.city, place) if part)
    return PatientBasics(
        public_id=patient.public_id,
        display_name=patient.display_name,
        birth_date=patient.birth_date,
        address_lines=tuple(line for line in (patient.address_line, town) if line),
        phones=tuple(format_phone(c.value) for c in contacts if c.system in _PHONE_SYSTEMS),
        emails=tuple(c.value for c in contacts if c.system == ContactSystem.EMAIL),
    )


def get_patient_display_names(patient_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """First and last name by patient id, in one query (the portal's "acting for" list)."""
    rows = Patient.objects.filter(public_id__in=patient_ids).values_list(
        "public_id", "given_names", "family_name"
    )
    return {
        public_id: " ".join(part for part in (given, family) if part) or "—"
        for public_id, given, family in rows
    }


def find_patient_for_proof(
    *, given_name: str, family_name: str, birth_date: date
) -> uuid.UUID | None:
    """The one living patient with this birth date, family name and first given name
    (compared without case or accents), or None when none or several match."""
    family, given = search_text(family_name), search_text(given_name)
    if not family or not given:
        return None
    # A birth date is shared by a few dozen patients in a million (an index lookup).
    candidates = Patient.objects.filter(birth_date=birth_date, is_deceased=False).values_list(
        "public_id", "family_name", "given_names"
    )
    matches = [
        public_id
        for public_id, stored_family, stored_given in candidates
        if search_text(stored_family) == family
        and search_text(stored_given).split(" ")[:1] == given.split(" ")[:1]
    ]
    return matches[0] if len(matches) == 1 else None


def list_emails_on_file(patient_id: uuid.UUID) -> list[str]:
    """The patient's active email addresses, first-ranked first."""
    return list(
        ContactPoint.objects.filter(
            patient__public_id=patient_id, system=ContactSystem.EMAIL, is_active=True
        )
        .order_by("rank", "pk")
        .values_list("value", flat=True)
    )


@dataclass(frozen=True)
class ProxyCandidate:
    """A related person staff may invite as a proxy: marked as one, with an email on file."""

    public_id: uuid.UUID
    name: str
    relationship: str
    email: str


def list_proxy_candidates(patient_id: uuid.UUID) -> list[ProxyCandidate]:
    people = RelatedPerson.objects.filter(patient__public_id=patient_id, is_proxy=True).exclude(
        email=""
    )
    return [
        ProxyCandidate(person.public_id, person.name, person.relationship, person.email.lower())
        for person in people
    ]


def record_portal_event(*, actor: Actor, patient_id: uuid.UUID, title: str) -> None:
    """A portal event on the patient's timeline (a record linked, a proxy granted)."""
    now = clock.now()
    patient = Patient.objects.only("pk").get(public_id=patient_id)
    TimelineEvent.objects.create(
        patient=patient,
        kind=TimelineKind.REGISTRATION,
        occurred_at=now,
        received_at=now,
        title=title,
        actor_label=actor.display,
    )


def first_patient_with_an_email_on_file() -> uuid.UUID | None:
    """The first living patient (in name order) with an active email: the demo's patient."""
    with_email = ContactPoint.objects.filter(system=ContactSystem.EMAIL, is_active=True)
    return (
        Patient.objects.filter(is_deceased=False, pk__in=with_email.values("patient_id"))
        .order_by("family_name", "given_names", "pk")
        .values_list("public_id", flat=True)
        .first()
    )
