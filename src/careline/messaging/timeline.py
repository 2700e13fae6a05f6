"""Every message, in or out, is one event on the patient's timeline (kind MESSAGE), keyed by
the message (``Message/<public id>``) so its status updates the same event: queued →
deferred → sent → delivered → read. The title names channel, purpose and status only.

A batch costs a constant number of statements: new messages are one INSERT, a status change
one UPDATE per distinct title (``patients.bulk.retitle_source_events``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from careline.messaging.models import Channel, Message, Purpose, Status
from careline.patients.bulk import TimelineRow, add_source_events, retitle_source_events
from careline.platform.actors import Actor

SOURCE_SYSTEM = "urn:careline:messaging"
MESSAGE_KIND = "message"


def title_of(message: Message) -> str:
    return (
        f"{Channel(message.channel).label} · {Purpose(message.purpose).label}: "
        f"{Status(message.status).label}"
    )


def source_key(message: Message) -> str:
    return f"Message/{message.public_id}"


def record_new(*, actor: Actor, messages: Sequence[Message], now: datetime) -> None:
    """One timeline event for each new message that belongs to a patient."""
    events = [
        TimelineRow(
            patient_id=message.patient_id,
            source_key=source_key(message),
            kind=MESSAGE_KIND,
            title=title_of(message),
            occurred_at=message.created_at or now,
            detail=message.decision_reason,
        )
        for message in messages
        if message.patient_id is not None
    ]
    add_source_events(actor=actor, source_system=SOURCE_SYSTEM, received_at=now, events=events)


def record_statuses(*, actor: Actor, messages: Sequence[Message]) -> None:
    """The status of these messages changed: their events' titles follow."""
    titles: dict[str, list[str]] = defaultdict(list)
    for message in messages:
        if message.patient_id is not None:
            titles[title_of(message)].append(source_key(message))
    retitle_source_events(actor=actor, source_system=SOURCE_SYSTEM, titles=dict(titles))
