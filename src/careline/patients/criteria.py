"""Structured patient search (the FHIR facade's): criteria as ``Q`` objects and a keyset page.

The staff search (``selectors.search_patients``) reads one typed box; an integration asks
for fields by name. Both match names, phones and emails through ``normalize`` — the
registry's one rule — so the same person is found by the same text on either surface:
names compare in ``search_name`` (lower-case ASCII, ``family given``), phones as E.164 and
emails lower-cased, exactly as contact points are stored.

A page lists only patients the caller may open now (``access.patients_in_scope``) and is
audited as one search naming every patient it listed (ids, never the criteria's values).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from django.db.models import Q

from careline.patients.access import patients_in_scope
from careline.patients.models import ContactPoint, ContactSystem, Patient, PatientIdentifier
from careline.patients.normalize import normalize_email, phone_to_e164, search_text
from careline.platform import audit
from careline.platform.actors import Actor
from careline.platform.audit.selectors import SEARCH_LISTED_PATIENTS
from careline.platform.authorization import require_permission
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission

MATCH_NOTHING = Q(pk__in=[])


class NamePart(StrEnum):
    ANY = "name"
    FAMILY = "family"
    GIVEN = "given"


class StringMatch(StrEnum):
    """FHIR string search: starts-with by default, ``:contains``, ``:exact``."""

    STARTS_WITH = "starts_with"
    CONTAINS = "contains"
    EXACT = "exact"


def name_criterion(part: NamePart, value: str, match: StringMatch) -> Q:
    """Patients whose name (any part, the family name or a given name) matches ``value``.

    Starts-with and contains ignore case and accents (``search_name``); exact compares the
    stored text as written, as FHIR's ``:exact`` says. ``family`` starts-with reads the
    front of ``search_name`` (family first), served by its index.
    """
    if match is StringMatch.EXACT:
        full = Q(given_names=value) | Q(family_name=value)
        return {
            NamePart.ANY: full,
            NamePart.FAMILY: Q(family_name=value),
            NamePart.GIVEN: Q(given_names=value) | Q(given_names__startswith=f"{value} "),
        }[part]
    text = search_text(value)
    if not text:
        return MATCH_NOTHING
    if match is StringMatch.CONTAINS:
        if part is NamePart.FAMILY:
            return Q(family_name__icontains=value) | Q(search_name__startswith=text)
        return Q(search_name__contains=text)
    if part is NamePart.FAMILY:
        return Q(search_name__startswith=text)
    if part is NamePart.GIVEN:
        return Q(search_name__contains=f" {text}")
    return Q(search_name__startswith=text) | Q(search_name__contains=f" {text}")


def phone_criterion(value: str) -> Q:
    """Patients with this phone (any format: compared as E.164) on an active contact point."""
    phone = phone_to_e164(value)
    if phone is None:
        return MATCH_NOTHING
    contacts = ContactPoint.objects.filter(
        value=phone, system__in=[ContactSystem.PHONE, ContactSystem.SMS], is_active=True
    )
    return Q(pk__in=contacts.values("patient_id"))


def email_criterion(value: str) -> Q:
    contacts = ContactPoint.objects.filter(
        value=normalize_email(value), system=ContactSystem.EMAIL, is_active=True
    )
    return Q(pk__in=contacts.values("patient_id"))


MRN_SYSTEM = "https://careline.health/fhir/sid/mrn"


def identifier_criterion(system: str | None, value: str | None) -> Q:
    """FHIR token ``system|value``, ``value`` (``system`` None: any system) or ``system|``
    (``value`` None: any value).

    Careline's own MRN answers under ``MRN_SYSTEM``. Sensitive identifiers are never kept
    as identifiers (the SSN is encrypted on the patient), so they cannot be searched.
    """
    identifiers = PatientIdentifier.objects.all()
    if system is not None:  # "" is FHIR's "|value": an identifier without a system
        identifiers = identifiers.filter(system=system)
    if value:
        identifiers = identifiers.filter(value=value)
    found = Q(pk__in=identifiers.values("patient_id"))
    if system in (None, "", MRN_SYSTEM):
        mrn = Q(mrn=value) if value else ~Q(mrn="")
        found |= mrn
    return found


def birth_date_criterion(start: date | None, end: date | None, *, negate: bool = False) -> Q:
    """Birth dates in ``[start, end)`` (either bound may be open), or — ``negate`` — known
    birth dates outside it. An unknown birth date matches neither."""
    within = Q()
    if start is not None:
        within &= Q(birth_date__gte=start)
    if end is not None:
        within &= Q(birth_date__lt=end)
    return Q(birth_date__isnull=False) & (~within if negate else within)


def updated_criterion(start: datetime | None, end: datetime | None, *, negate: bool = False) -> Q:
    """Patients last changed in ``[start, end)``, or — ``negate`` — outside it."""
    within = Q()
    if start is not None:
        within &= Q(updated_at__gte=start)
    if end is not None:
        within &= Q(updated_at__lt=end)
    return ~within if negate else within


def id_criterion(values: Sequence[uuid.UUID]) -> Q:
    return Q(public_id__in=list(values))


def gender_criterion(values: Sequence[str]) -> Q:
    return Q(sex__in=list(values))


def postal_code_criterion(value: str) -> Q:
    """FHIR string semantics on the postcode: starts with, ignoring case."""
    return Q(postal_code__istartswith=value.strip()) if value.strip() else MATCH_NOTHING


@dataclass(frozen=True)
class PatientPage:
    patients: list[Patient]
    has_more: bool
    total: int | None


def search_patient_page(
    *,
    actor: Actor,
    criteria: Sequence[Q],
    criteria_names: Sequence[str],
    after_pk: int | None,
    limit: int,
    count_total: bool,
) -> PatientPage:
    """One page of the patients matching every criterion that ``actor`` may open.

    Keyset paging on the primary key (which only grows): a patient written between two
    pages is listed once or — inserted behind the cursor — on no page already read, never
    twice, and no page skips one that matched when it was read. ``limit == 0`` lists none
    (a count). The search is audited with the ids it listed.
    """
    require_permission(
        actor,
        Permission.VIEW_PATIENT,
        resource_type="Patient",
        message="Your role does not allow searching patients.",
    )
    matching = Patient.objects.filter(patients_in_scope(actor=actor))
    for criterion in criteria:
        matching = matching.filter(criterion)
    total = matching.count() if count_total else None
    page = matching.order_by("pk") if after_pk is None else matching.filter(pk__gt=after_pk)
    rows: list[Patient] = []
    if limit > 0:
        rows = list(
            page.order_by("pk")
            .defer("ssn")
            .prefetch_related("identifiers", "contact_points")[: limit + 1]
        )
    listed = rows[:limit]
    audit.record_event(
        actor=actor,
        action=AuditAction.SEARCH,
        resource_type="Patient",
        details={
            "criteria": sorted(set(criteria_names)),
            "results": len(listed),
            SEARCH_LISTED_PATIENTS: [str(patient.public_id) for patient in listed],
        },
    )
    return PatientPage(patients=listed, has_more=len(rows) > limit, total=total)
