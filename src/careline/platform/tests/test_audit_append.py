"""Appending to the audit trail: one event, or many at once in the same hash chain."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from careline.platform import audit
from careline.platform.actors import Actor
from careline.platform.audit.chain import GENESIS_HASH, verify_chain
from careline.platform.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db

PATIENTS = [uuid.UUID(int=n) for n in range(1, 4)]


def entries(count: int) -> list[audit.AuditEntry]:
    return [
        audit.AuditEntry(
            action=AuditAction.IMPORT,
            resource_type="Patient",
            patient_id=PATIENTS[n % len(PATIENTS)],
            details={"n": n},
        )
        for n in range(count)
    ]


def test_bulk_append_continues_the_chain_of_single_appends() -> None:
    actor = Actor.system("test")
    first = audit.record_event(actor=actor, action=AuditAction.READ, resource_type="Patient")

    appended = audit.record_events(actor=actor, entries=entries(3))
    last = audit.record_event(actor=actor, action=AuditAction.READ, resource_type="Patient")

    stored = list(AuditEvent.objects.order_by("sequence"))
    assert [event.sequence for event in stored] == [1, 2, 3, 4, 5]
    assert [event.sequence for event in appended] == [2, 3, 4]
    assert (first.sequence, last.sequence) == (1, 5)
    assert [event.previous_hash for event in stored] == [
        GENESIS_HASH,
        *[event.hash for event in stored[:-1]],
    ]
    assert [event.hash for event in stored] == [first.hash, *[e.hash for e in appended], last.hash]
    assert [event.details for event in stored[1:4]] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert [event.patient_id for event in stored[1:4]] == PATIENTS
    assert verify_chain() == (5, None)


def test_bulk_append_inside_a_transaction_rolls_back_with_it() -> None:
    actor = Actor.system("test")
    audit.record_events(actor=actor, entries=entries(2))

    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record_events(actor=actor, entries=entries(4))
        raise RuntimeError
    audit.record_events(actor=actor, entries=entries(1))

    assert list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True)) == [
        1,
        2,
        3,
    ]
    assert verify_chain() == (3, None)


def test_empty_bulk_append_writes_nothing() -> None:
    assert audit.record_events(actor=Actor.system("test"), entries=[]) == []

    assert AuditEvent.objects.count() == 0
