"""A contact point added by staff ranks after every other one of its system, even when two
additions for one patient run at the same moment."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction

from careline.patients.models import ContactPoint, Patient
from careline.patients.services import add_contact_point
from careline.patients.tests.ui_support import patient_in_scope_of
from careline.platform.actors import Actor
from careline.platform.models import AuditChannel
from careline.testing.factories import RECEIVED, ContactPointFactory


def actor_in_scope(make_user: Any) -> tuple[Actor, Patient]:
    user = make_user()
    return Actor(user=user, channel=AuditChannel.UI), patient_in_scope_of(user)


@pytest.mark.django_db
def test_rank_follows_the_highest_of_its_system_not_the_count(make_user: Any) -> None:
    actor, patient = actor_in_scope(make_user)
    ContactPointFactory.create(patient=patient, system="phone", rank=1)
    ContactPointFactory.create(patient=patient, system="phone", rank=5)  # as the EHR sent it
    ContactPointFactory.create(patient=patient, system="email", value="a@example.org", rank=9)

    phone = add_contact_point(
        actor=actor, patient_id=patient.public_id, system="phone", value="617 555 0100"
    )
    fax = add_contact_point(
        actor=actor, patient_id=patient.public_id, system="fax", value="617 555 0101"
    )

    assert (phone.rank, fax.rank) == (6, 1)


def _waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


@pytest.mark.django_db(transaction=True)
def test_two_additions_at_once_take_turns_and_get_different_ranks(make_user: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            f"needs PostgreSQL's row locks; this run uses {connection.vendor}, whose IMMEDIATE "
            "transactions already run one at a time"
        )
    actor, patient = actor_in_scope(make_user)
    inserted, release = threading.Event(), threading.Event()
    answers: dict[str, Any] = {}

    def first_addition_in_flight() -> None:
        """Holds the patient's lock with its rank-1 row written but not yet committed."""
        try:
            with transaction.atomic():
                list(Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk"))
                ContactPoint.objects.create(
                    patient=patient,
                    system="sms",
                    value="+16175550100",
                    rank=1,
                    received_at=RECEIVED,
                )
                inserted.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def second_addition() -> None:
        try:
            answers["contact"] = add_contact_point(
                actor=actor, patient_id=patient.public_id, system="sms", value="617 555 0101"
            )
        except Exception as error:  # reported below, with the assertion
            answers["error"] = error
        finally:
            connection.close()

    first = threading.Thread(target=first_addition_in_flight)
    first.start()
    assert inserted.wait(timeout=30)
    second = threading.Thread(target=second_addition)
    second.start()
    deadline = time.monotonic() + 10  # the second addition must queue behind the first's lock
    while not _waiting_for_a_lock() and second.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    was_waiting = _waiting_for_a_lock()
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)

    assert "error" not in answers, answers
    assert was_waiting
    assert answers["contact"].rank == 2
    ranks = ContactPoint.objects.filter(patient=patient, system="sms").values_list(
        "rank", flat=True
    )
    assert sorted(ranks) == [1, 2]
