"""The portal's secure messages: the patient lists and reads hers (opening marks it read,
audited, on her timeline); another patient's is not found; a proxy needs the messages scope."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from careline.messaging.dispatch import dispatch_once
from careline.messaging.models import Message
from careline.messaging.services import MessageRequest, enqueue_messages
from careline.patients.models import TimelineEvent
from careline.platform.actors import Actor
from careline.platform.models import AuditEvent
from careline.portal.models import Relationship
from careline.portal.tests.conftest import client_for

NOON_NY = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def sent(ada, grace, settings):
    settings.CARELINE_MESSAGING_RATES = ""
    with time_machine.travel(NOON_NY, tick=False):
        messages = enqueue_messages(
            actor=Actor.system("test"),
            requests=[
                MessageRequest(
                    patient_id=patient.public_id,
                    purpose="appointment_reminder",
                    channel="portal",
                    context={"appointment_date": "Jun 12", "visit_type": "Colonoscopy"},
                )
                for patient in (ada, grace)
            ],
        )
        dispatch_once(worker="w1")
    return {message.patient_id: message for message in messages}


def test_the_patient_lists_and_reads_her_message_which_becomes_read(
    ada, sent, make_account, make_link
):
    account = make_account("ada@example.org")
    make_link(account, ada)
    client = client_for(account)
    listed = client.get(f"/portal/patients/{ada.public_id}/messages/")
    assert listed.status_code == 200
    assert listed.content.decode().count("(new)") == 1
    mine = sent[ada.pk]
    page = client.get(f"/portal/patients/{ada.public_id}/messages/{mine.public_id}/")
    assert page.status_code == 200
    assert "Colonoscopy" in page.content.decode()  # clinical content: the portal only
    mine.refresh_from_db()
    assert mine.status == "read"
    assert TimelineEvent.objects.get(patient=ada, kind="message").title == (
        "Portal message · Appointment reminder: Read"
    )
    assert AuditEvent.objects.filter(
        action="update", resource_type="Message", resource_id=str(mine.public_id)
    ).exists()


def test_another_patients_message_is_not_found(ada, grace, sent, make_account, make_link):
    account = make_account("ada@example.org")
    make_link(account, ada)
    theirs = sent[grace.pk]
    response = client_for(account).get(
        f"/portal/patients/{ada.public_id}/messages/{theirs.public_id}/"
    )
    assert response.status_code == 404
    assert Message.objects.get(pk=theirs.pk).status == "sent"


def test_a_proxy_without_the_messages_scope_cannot_read(ada, sent, make_account, make_link):
    proxy = make_account("byron@example.org")
    make_link(proxy, ada, Relationship.PROXY)  # appointments only
    response = client_for(proxy).get(f"/portal/patients/{ada.public_id}/messages/")
    assert response.status_code == 404
    allowed = make_account("carer@example.org")
    make_link(allowed, ada, Relationship.PROXY, scopes=["messages"])
    assert client_for(allowed).get(f"/portal/patients/{ada.public_id}/messages/").status_code == 200
