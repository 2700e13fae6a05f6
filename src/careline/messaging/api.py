"""Messaging's REST routes, mounted at /api/messaging/ by ``careline.api.api``: the outbox
(no text or address) and one message (its text: a PHI read, access-checked and audited)."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema

from careline.messaging import selectors
from careline.messaging.models import Message
from careline.platform.actors import actor_from_request
from careline.platform.authorization import api_requires_permission
from careline.platform.models import AuditChannel
from careline.platform.permissions import Permission

router = Router(tags=["messaging"])


class MessageOut(Schema):
    id: uuid.UUID
    patient_id: uuid.UUID | None
    direction: str
    channel: str
    purpose: str
    category: str
    status: str
    decision: str
    decision_rule: str
    error_code: str
    due_at: datetime
    sent_at: datetime | None


class MessageDetailOut(MessageOut):
    to_address: str
    subject: str
    body: str
    attempts: int
    provider_message_id: str
    error_reason: str


class OutboxQuery(Schema):
    status: str = ""
    channel: str = ""


def _out(message: Message) -> dict[str, object]:
    return {
        "id": message.public_id,
        "patient_id": message.patient.public_id if message.patient else None,
        **{
            name: getattr(message, name)
            for name in (
                "direction",
                "channel",
                "purpose",
                "category",
                "status",
                "decision",
                "decision_rule",
                "error_code",
                "due_at",
                "sent_at",
            )
        },
    }


@router.get("/messages", response=list[MessageOut])
@api_requires_permission(Permission.VIEW_MESSAGES, resource_type="Message")
def list_messages(request: HttpRequest, filters: Query[OutboxQuery]) -> list[dict[str, object]]:
    rows = selectors.list_outbox(
        actor=actor_from_request(request, channel=AuditChannel.API),
        status=filters.status,
        channel=filters.channel,
    )
    return [_out(row) for row in rows]


@router.get("/messages/{message_id}", response=MessageDetailOut)
@api_requires_permission(Permission.VIEW_MESSAGES, resource_type="Message")
def get_message(request: HttpRequest, message_id: uuid.UUID) -> dict[str, object]:
    view = selectors.get_message(
        actor=actor_from_request(request, channel=AuditChannel.API), message_id=message_id
    )
    message = view.message
    return {
        **_out(message),
        "to_address": message.to_address,
        "subject": message.subject,
        "body": message.body,
        "attempts": message.attempts,
        "provider_message_id": message.provider_message_id,
        "error_reason": message.error_reason,
    }
