"""How a patient can be reached: the registry facts the messaging policy gate needs, gathered
for many patients at once (a 100,000-patient reminder batch costs a few queries per chunk,
not a few per patient).

Messaging sits above the registry (DESIGN.md §4) and reads it only through this module: who
is deceased, where she lives (for her time zone and state quiet-hour rules), her preferences
(time zone, quiet hours, language), her current consent decisions per purpose (the one rule
in ``patients.selectors.current_consents``) and her active contact points by rank.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, time

from careline.patients.models import CommunicationPreference, Consent, ContactPoint, Patient
from careline.patients.selectors import current_consents


@dataclass(frozen=True, slots=True)
class ContactFact:
    system: str  # phone | sms | email | fax | other
    value: str
    use: str
    rank: int


@dataclass(frozen=True, slots=True)
class ReachFacts:
    """One patient's registry facts for deciding a send (no clinical data)."""

    pk: int
    public_id: uuid.UUID
    given_names: str
    is_deceased: bool
    state: str
    postal_code: str
    language: str
    time_zone: str = ""
    quiet_hours_start: time | None = None
    quiet_hours_end: time | None = None
    preferred_channel: str = ""
    # purpose → True (given today) / False (refused, withdrawn, expired or pending)
    consents: dict[str, bool] = field(default_factory=dict)
    contacts: tuple[ContactFact, ...] = ()


def list_reach_facts(
    *, patient_pks: Collection[int] = (), public_ids: Collection[uuid.UUID] = (), today: date
) -> dict[int, ReachFacts]:
    """Facts by patient pk for the patients named by pk or public id (four queries)."""
    patients = Patient.objects.all()
    if public_ids:
        patients = patients.filter(public_id__in=list(public_ids))
    else:
        patients = patients.filter(pk__in=list(patient_pks))
    rows = list(
        patients.values_list(
            "pk", "public_id", "given_names", "is_deceased", "state", "postal_code", "language"
        )
    )
    pks = [row[0] for row in rows]
    preferences = {
        pref.patient_id: pref
        for pref in CommunicationPreference.objects.filter(patient_id__in=pks).only(
            "patient_id",
            "time_zone",
            "quiet_hours_start",
            "quiet_hours_end",
            "language",
            "preferred_channel",
        )
    }
    consents: dict[int, list[Consent]] = defaultdict(list)
    for consent in Consent.objects.filter(patient_id__in=pks).only(
        "patient_id", "purpose", "status", "decided_at", "received_at", "expires_on"
    ):
        consents[consent.patient_id].append(consent)
    contacts: dict[int, list[ContactFact]] = defaultdict(list)
    for patient_id, system, value, use, rank in (
        ContactPoint.objects.filter(patient_id__in=pks, is_active=True)
        .order_by("patient_id", "system", "rank", "pk")
        .values_list("patient_id", "system", "value", "use", "rank")
    ):
        contacts[patient_id].append(ContactFact(system, value, use, rank))
    facts: dict[int, ReachFacts] = {}
    for pk, public_id, given, deceased, state, postal_code, language in rows:
        pref = preferences.get(pk)
        facts[pk] = ReachFacts(
            pk=pk,
            public_id=public_id,
            given_names=given,
            is_deceased=deceased,
            state=state,
            postal_code=postal_code,
            language=(pref.language if pref and pref.language else language),
            time_zone=pref.time_zone if pref else "",
            quiet_hours_start=pref.quiet_hours_start if pref else None,
            quiet_hours_end=pref.quiet_hours_end if pref else None,
            preferred_channel=pref.preferred_channel if pref else "",
            consents={
                row.purpose: row.is_given for row in current_consents(consents[pk], today=today)
            },
            contacts=tuple(contacts[pk]),
        )
    return facts
