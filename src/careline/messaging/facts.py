"""Facts for the policy gate, gathered for a whole batch in a few queries.

``gather_send_facts`` takes the planned sends (patient, channel, address, purpose) and returns
one ``policy.SendFacts`` each: the registry facts (``patients.reach``), active suppressions of
the addresses, express consents, and the counts the TCPA limits and the per-purpose caps look
at — one grouped query, whatever the batch size. ``FactBook`` keeps the counts of sends
decided earlier in the same batch, so two reminders planned together count against each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q

from careline.messaging.models import (
    ChannelConsent,
    Message,
    Status,
    Suppression,
    SuppressionReason,
)
from careline.messaging.policy import Cap, SendFacts
from careline.messaging.quiet_hours import resolve_zone, window_for
from careline.patients.reach import ReachFacts, list_reach_facts

# Messages that count toward limits: everything on its way or gone, not blocked/cancelled.
COUNTED_STATUSES = (
    Status.QUEUED,
    Status.DEFERRED,
    Status.SENDING,
    Status.IN_DOUBT,
    Status.SENT,
    Status.DELIVERED,
    Status.READ,
)
# Channel → the patients.Consent purpose that records the patient's decision about it.
CHANNEL_CONSENT_PURPOSE = {"sms": "sms", "email": "email", "voice": "voice", "portal": "portal"}


def configured_caps() -> dict[str, Cap]:
    """``CARELINE_MESSAGING_CAPS`` ("campaign=2/7,…") → {purpose: Cap}."""
    caps: dict[str, Cap] = {}
    for item in filter(
        None, (part.strip() for part in settings.CARELINE_MESSAGING_CAPS.split(","))
    ):
        purpose, _, rule = item.partition("=")
        limit, _, days = rule.partition("/")
        caps[purpose.strip()] = Cap(int(limit), int(days or "1"))
    return caps


@dataclass(frozen=True, slots=True)
class Planned:
    """One send to gather facts for. ``exclude_pk``: the message itself (at dispatch)."""

    patient_pk: int | None
    channel: str
    address: str
    purpose: str
    exclude_pk: int | None = None


@dataclass
class FactBook:
    """The batch's gathered facts, updated as sends are decided."""

    reach: dict[int, ReachFacts]
    suppressed: dict[tuple[str, str], str]  # (channel, address) → reason
    express: set[tuple[int, str, str]]  # (patient, channel, address)
    sms_day: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    sms_week: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    purposes: dict[tuple[int, str], int] = field(default_factory=lambda: defaultdict(int))
    caps: dict[str, Cap] = field(default_factory=configured_caps)

    def facts_for(self, planned: Planned) -> SendFacts:
        reason = self.suppressed.get((planned.channel, planned.address))
        base = SendFacts(
            is_suppressed=reason is not None and reason != SuppressionReason.LANDLINE,
            is_landline=reason == SuppressionReason.LANDLINE,
            org_name=settings.CARELINE_ORG_NAME,
            org_contact=settings.CARELINE_ORG_PHONE,
            cap=self.caps.get(planned.purpose),
        )
        patient = self.reach.get(planned.patient_pk) if planned.patient_pk else None
        if patient is None:
            return replace(base, zone=resolve_zone(preference="", postal_code="", phone=""))
        consent_purpose = CHANNEL_CONSENT_PURPOSE.get(planned.channel)
        phone = planned.address if planned.channel in ("sms", "voice") else ""
        return replace(
            base,
            is_deceased=patient.is_deceased,
            channel_consent=patient.consents.get(consent_purpose) if consent_purpose else None,
            marketing_consent=patient.consents.get("marketing", False),
            express_consent=(patient.pk, planned.channel, planned.address) in self.express,
            sent_last_day=self.sms_day[patient.pk],
            sent_last_week=self.sms_week[patient.pk],
            purpose_count=self.purposes[(patient.pk, planned.purpose)],
            zone=resolve_zone(
                preference=patient.time_zone, postal_code=patient.postal_code, phone=phone
            ),
            window=window_for(
                state=patient.state,
                own_start=patient.quiet_hours_start,
                own_end=patient.quiet_hours_end,
            ),
        )

    def count(self, planned: Planned) -> None:
        """A send was decided (queued or deferred): later ones in the batch see it."""
        if planned.patient_pk is None:
            return
        if planned.channel == "sms":
            self.sms_day[planned.patient_pk] += 1
            self.sms_week[planned.patient_pk] += 1
        self.purposes[(planned.patient_pk, planned.purpose)] += 1


def gather_send_facts(
    planned: Sequence[Planned],
    *,
    now: datetime,
    reach: dict[int, ReachFacts] | None = None,
) -> FactBook:
    """One FactBook for the batch (registry facts: 4 queries unless given; then 3 more)."""
    pks = {item.patient_pk for item in planned if item.patient_pk is not None}
    if reach is None:
        reach = list_reach_facts(patient_pks=pks, today=now.date())
    book = FactBook(
        reach=reach,
        suppressed=_suppressions(
            {(item.channel, item.address) for item in planned if item.address}
        ),
        express=_express_consents(pks),
    )
    _count_recent(book, pks, now=now, exclude={item.exclude_pk for item in planned} - {None})
    return book


def _suppressions(keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    if not keys:
        return {}
    found = Suppression.objects.filter(
        lifted_at__isnull=True, address__in={address for _, address in keys}
    ).values_list("channel", "address", "reason")
    return {
        (channel, address): reason
        for channel, address, reason in found
        if (channel, address) in keys
    }


def _express_consents(pks: Collection[int]) -> set[tuple[int, str, str]]:
    if not pks:
        return set()
    return set(
        ChannelConsent.objects.filter(patient_id__in=pks, revoked_at__isnull=True).values_list(
            "patient_id", "channel", "address"
        )
    )


def _count_recent(
    book: FactBook, pks: Collection[int], *, now: datetime, exclude: Iterable[int | None]
) -> None:
    if not pks:
        return
    longest = max([7, *(cap.days for cap in book.caps.values())])
    in_cap = Q(purpose="")  # no purpose is empty: counts nothing unless a cap is configured
    for purpose, cap in book.caps.items():
        in_cap |= Q(purpose=purpose, due_at__gte=now - timedelta(days=cap.days))
    rows = (
        Message.objects.filter(
            patient_id__in=pks,
            direction="outbound",
            is_reply=False,
            status__in=COUNTED_STATUSES,
            due_at__gte=now - timedelta(days=longest),
        )
        .exclude(pk__in=[pk for pk in exclude if pk is not None])
        .values("patient_id", "purpose")
        .annotate(
            day=Count("pk", filter=Q(channel="sms", due_at__gte=now - timedelta(days=1))),
            week=Count("pk", filter=Q(channel="sms", due_at__gte=now - timedelta(days=7))),
            capped=Count("pk", filter=in_cap),
        )
    )
    for row in rows:
        book.sms_day[row["patient_id"]] += row["day"]
        book.sms_week[row["patient_id"]] += row["week"]
        book.purposes[(row["patient_id"], row["purpose"])] += row["capped"]
