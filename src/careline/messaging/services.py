"""The outbox's writes: enqueue (one or a batch), cancel or re-plan pending messages.

``enqueue_messages`` writes its rows in the CALLER's transaction (a booking and its reminders
commit together or not at all): it renders each template, runs the policy gate (recording
the decision and the rule on the row), audits each message and puts it on the patient's
timeline with its status. Nothing leaves here: the dispatcher sends due rows later. Task
arguments and logs carry ids only.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from careline.messaging import timeline
from careline.messaging.channels.registry import adapter_for, is_covered_by_baa
from careline.messaging.facts import FactBook, Planned, gather_send_facts
from careline.messaging.models import (
    PENDING_STATUSES,
    Category,
    Channel,
    Decision,
    Direction,
    Message,
    MessageTemplate,
    Purpose,
    Status,
)
from careline.messaging.policy import Candidate, decide
from careline.messaging.rendering import Rendered, render
from careline.messaging.rows import update_messages
from careline.patients.reach import ContactFact, ReachFacts, list_reach_facts
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.audit import AuditEntry
from careline.platform.errors import ValidationFailed
from careline.platform.models import AuditAction

_INSERT_CHUNK = 2000


@dataclass(frozen=True)
class MessageRequest:
    """What an owner app asks to send. ``context`` fills the template's variables (see
    ``messaging.rendering``); ``dedupe_key`` makes a second request for the same thing a
    no-op (one reminder per appointment per offset); ``subject_ref`` names the owner's row
    ("scheduling.Appointment:<uuid>") so it can cancel or re-plan its pending messages;
    ``expires_at`` is when the message is pointless (the appointment's start)."""

    patient_id: uuid.UUID | None
    purpose: str
    channel: str
    context: Mapping[str, str] = field(default_factory=dict)
    due_at: datetime | None = None
    expires_at: datetime | None = None
    dedupe_key: str | None = None
    subject_ref: str = ""
    is_reply: bool = False
    to_address: str = ""
    language: str = ""
    sensitive_location: bool = False


def enqueue_message(*, actor: Actor, request: MessageRequest) -> Message | None:
    """One message; None when its ``dedupe_key`` is already taken."""
    created = enqueue_messages(actor=actor, requests=[request])
    return created[0] if created else None


def enqueue_messages(*, actor: Actor, requests: Sequence[MessageRequest]) -> list[Message]:
    """Write a batch of outbox rows (gate decided, audited, on the timeline) in the caller's
    transaction; requests whose ``dedupe_key`` exists already are skipped."""
    now = clock.now()
    for request in requests:
        _validate(request)
    requests = _without_duplicates(requests)
    if not requests:
        return []
    reach = list_reach_facts(
        public_ids={r.patient_id for r in requests if r.patient_id}, today=now.date()
    )
    by_public_id = {facts.public_id: facts for facts in reach.values()}
    templates = _active_templates()
    drafts = [_draft(request, by_public_id, templates, now) for request in requests]
    book = gather_send_facts([draft.planned for draft in drafts], now=now, reach=reach)
    messages = [_decided(draft, book, now) for draft in drafts]
    with transaction.atomic(savepoint=False):
        for start in range(0, len(messages), _INSERT_CHUNK):
            Message.objects.bulk_create(messages[start : start + _INSERT_CHUNK])
        _audit(actor, messages, by_pk={facts.pk: facts for facts in reach.values()})
        timeline.record_new(actor=actor, messages=messages, now=now)
    return messages


def cancel_pending(*, actor: Actor, subject_ref: str, purpose: str | None = None) -> int:
    """Cancel the messages of ``subject_ref`` (of ``purpose``) not sent yet; the count."""
    with transaction.atomic(savepoint=False):
        pending = (
            Message.objects.select_for_update(of=("self",))
            .select_related("patient")
            .filter(subject_ref=subject_ref, status__in=PENDING_STATUSES)
        )
        if purpose:
            pending = pending.filter(purpose=purpose)
        messages = list(pending)
        for message in messages:
            message.status = Status.CANCELLED
        update_messages(messages, ["status"])
        _audit(actor, messages, by_pk={}, action=AuditAction.UPDATE)
        timeline.record_statuses(actor=actor, messages=messages)
    return len(messages)


def replan_pending(
    *,
    actor: Actor,
    subject_ref: str,
    shift: timedelta,
    expires_at: datetime | None,
    purpose: str | None = None,
) -> int:
    """Move the pending messages of ``subject_ref`` by ``shift`` (a rescheduled appointment
    moves its reminders with it); the dispatcher's gate decides quiet hours again."""
    with transaction.atomic(savepoint=False):
        pending = (
            Message.objects.select_for_update(of=("self",))
            .select_related("patient")
            .filter(subject_ref=subject_ref, status__in=PENDING_STATUSES)
        )
        if purpose:
            pending = pending.filter(purpose=purpose)
        messages = list(pending)
        for message in messages:
            message.due_at += shift
            message.next_attempt_at = message.due_at
            message.expires_at = expires_at
            message.status = Status.QUEUED
        update_messages(messages, ["due_at", "next_attempt_at", "expires_at", "status"])
        _audit(actor, messages, by_pk={}, action=AuditAction.UPDATE)
    return len(messages)


def mark_read(*, actor: Actor, message: Message) -> Message:
    """The patient opened a portal message: READ (once), audited, on her timeline. The caller
    (the portal) has checked that the actor may read it."""
    if message.status == Status.READ:
        return message
    with transaction.atomic():
        message.status = Status.READ
        message.read_at = clock.now()
        message.save(update_fields=["status", "read_at"])
        _audit(actor, [message], by_pk={}, action=AuditAction.UPDATE)
        timeline.record_statuses(actor=actor, messages=[message])
    return message


# --- building rows ----------------------------------------------------------------------


@dataclass
class _Draft:
    request: MessageRequest
    planned: Planned
    rendered: Rendered
    template: MessageTemplate | None
    category: str
    language: str
    adapter_name: str


_PURPOSES = frozenset(Purpose.values)
_CHANNELS = frozenset(Channel.values)


def _validate(request: MessageRequest) -> None:
    if request.purpose not in _PURPOSES:
        raise ValidationFailed(f"{request.purpose!r} is not a message purpose.")
    if request.channel not in _CHANNELS:
        raise ValidationFailed(f"{request.channel!r} is not a channel.")
    if request.patient_id is None and not request.to_address:
        raise ValidationFailed("A message needs a patient or an address.")


def _without_duplicates(requests: Sequence[MessageRequest]) -> list[MessageRequest]:
    keys = [r.dedupe_key for r in requests if r.dedupe_key]
    taken = set(Message.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    kept: list[MessageRequest] = []
    for request in requests:
        if request.dedupe_key:
            if request.dedupe_key in taken:
                continue
            taken.add(request.dedupe_key)
        kept.append(request)
    return kept


def _active_templates() -> dict[tuple[str, str, str], MessageTemplate]:
    return {
        (t.purpose, t.channel, t.language): t
        for t in MessageTemplate.objects.filter(is_active=True)
    }


def _draft(
    request: MessageRequest,
    by_public_id: dict[uuid.UUID, ReachFacts],
    templates: dict[tuple[str, str, str], MessageTemplate],
    now: datetime,
) -> _Draft:
    patient = by_public_id.get(request.patient_id) if request.patient_id else None
    if request.patient_id and patient is None:
        raise ValidationFailed("No such patient.", details={"patient_id": str(request.patient_id)})
    language = request.language or (patient.language if patient else "") or "en"
    template = templates.get((request.purpose, request.channel, language)) or templates.get(
        (request.purpose, request.channel, "en")
    )
    if template is None:
        raise ValidationFailed(
            f"No active {request.channel} template for {request.purpose}.",
            details={"purpose": request.purpose, "channel": request.channel},
        )
    context = {
        "org_name": settings.CARELINE_ORG_NAME,
        "org_phone": settings.CARELINE_ORG_PHONE,
        "portal_link": settings.CARELINE_PORTAL_BASE_URL,
        "first_name": patient.given_names.split(" ")[0] if patient else "",
        **request.context,
    }
    rendered = render(
        channel=request.channel,
        subject=template.subject,
        body=template.body,
        context=context,
        sensitive_location=request.sensitive_location,
    )
    address = request.to_address or (_address_of(patient, request.channel) if patient else "")
    adapter = adapter_for(request.channel)
    return _Draft(
        request=request,
        planned=Planned(patient.pk if patient else None, request.channel, address, request.purpose),
        rendered=rendered,
        template=template,
        category=template.category,
        language=template.language,
        adapter_name=adapter.name if adapter else "",
    )


def _address_of(patient: ReachFacts, channel: str) -> str:
    """The patient's best address on ``channel``: an SMS number (or a mobile phone) by rank,
    any phone for voice, the first email; the portal needs none (her public id)."""
    if channel == Channel.PORTAL or channel == Channel.CHAT:
        return str(patient.public_id)
    return next((c.value for c in patient.contacts if _serves(c, channel)), "")


def _serves(contact: ContactFact, channel: str) -> bool:
    if channel == Channel.SMS:
        return contact.system == "sms" or (contact.system == "phone" and contact.use == "mobile")
    if channel == Channel.VOICE:
        return contact.system in ("phone", "sms")
    return contact.system == channel  # email, fax


def _decided(draft: _Draft, book: FactBook, now: datetime) -> Message:
    request = draft.request
    due_at = max(request.due_at or now, now)
    candidate = Candidate(
        channel=request.channel,
        purpose=request.purpose,
        category=draft.category,
        address=draft.planned.address,
        body=draft.rendered.body,
        is_reply=request.is_reply,
        has_phi=draft.rendered.has_phi,
        adapter_covered_by_baa=is_covered_by_baa(request.channel),
        expires_at=request.expires_at,
    )
    decision = decide(candidate, book.facts_for(draft.planned), now=due_at)
    status = {"send": Status.QUEUED, "defer": Status.DEFERRED, "block": Status.BLOCKED}[
        decision.outcome
    ]
    if status != Status.BLOCKED and not request.is_reply:
        book.count(draft.planned)
    return Message(
        patient_id=draft.planned.patient_pk,
        direction=Direction.OUTBOUND,
        channel=request.channel,
        purpose=request.purpose,
        category=draft.category or Category.TRANSACTIONAL,
        template=draft.template,
        language=draft.language,
        to_address=draft.planned.address,
        subject=draft.rendered.subject,
        body=draft.rendered.body,
        has_phi=draft.rendered.has_phi,
        status=status,
        decision=Decision(decision.outcome),
        decision_rule=decision.rule,
        decision_reason=decision.reason[:300],
        is_reply=request.is_reply,
        due_at=due_at,
        expires_at=request.expires_at,
        next_attempt_at=decision.send_at if status != Status.BLOCKED else None,
        adapter=draft.adapter_name,
        dedupe_key=request.dedupe_key,
        subject_ref=request.subject_ref,
        created_at=now,
    )


def _audit(
    actor: Actor,
    messages: Sequence[Message],
    *,
    by_pk: Mapping[int, ReachFacts],
    action: str = AuditAction.CREATE,
) -> None:
    """One audit entry per message (ids, channel, purpose, status, rule: no PHI)."""
    entries = [
        AuditEntry(
            action,
            "Message",
            str(message.public_id),
            _patient_public_id(message, by_pk),
            "success",
            False,
            {
                "channel": message.channel,
                "purpose": message.purpose,
                "status": message.status,
                "rule": message.decision_rule,
            },
        )
        for message in messages
    ]
    audit.record_events(actor=actor, entries=entries)


def _patient_public_id(message: Message, by_pk: Mapping[int, ReachFacts]) -> uuid.UUID | None:
    if message.patient_id is None:
        return None
    facts = by_pk.get(message.patient_id)
    if facts is not None:
        return facts.public_id
    return message.patient.public_id if message.patient else None
