"""The Outbox page, the message page and their API: authorization matrix, audited reads,
the demo sink's copy, filters, a constant query count."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from careline.messaging.dispatch import dispatch_once
from careline.messaging.services import MessageRequest, enqueue_messages
from careline.platform.actors import Actor
from careline.platform.models import AuditEvent
from careline.platform.permissions import Role
from careline.platform.services import issue_api_token
from careline.testing.factories import ContactPointFactory, PatientFactory

NOON_NY = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _staff_without_mfa(settings):
    settings.CARELINE_REQUIRE_STAFF_MFA = False


@pytest.fixture
def sent(templates, system_actor):
    with time_machine.travel(NOON_NY, tick=False):
        patients = [PatientFactory.create(postal_code="02115") for _ in range(2)]
        for n, patient in enumerate(patients):
            ContactPointFactory.create(
                patient=patient, system="sms", use="mobile", value=f"+1617555000{n}"
            )
        messages = enqueue_messages(
            actor=system_actor,
            requests=[
                MessageRequest(
                    patient_id=p.public_id,
                    purpose="appointment_reminder",
                    channel="sms",
                    context={"appointment_date": "Jun 12", "location_name": "Main"},
                )
                for p in patients
            ],
        )
        dispatch_once(worker="w1")
    return messages


def _client(make_user, role):
    client = Client()
    client.force_login(make_user(role=role))
    return client


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.CONTACT_CENTER_AGENT, 200), (Role.SCHEDULER, 200), (Role.MARKETER, 403)],
)
def test_the_outbox_is_open_to_roles_with_the_permission(sent, make_user, role, status):
    response = _client(make_user, role).get("/messaging/outbox/")
    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        assert page.count("Appointment reminder") == 2
        assert "+16175550000" not in page  # no addresses (nor texts) in the list


def test_anonymous_goes_to_the_login_page(sent):
    response = Client().get("/messaging/outbox/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_filters_narrow_the_list(sent, make_user):
    client = _client(make_user, Role.CONTACT_CENTER_AGENT)
    assert client.get("/messaging/outbox/?status=sent").content.decode().count("Open</a>") == 2
    assert client.get("/messaging/outbox/?status=failed").content.decode().count("Open</a>") == 0
    assert client.get("/messaging/outbox/?channel=nonsense").status_code == 200


def test_the_message_page_shows_the_text_and_the_sink_copy_and_is_audited(sent, make_user):
    user = make_user(role=Role.CONTACT_CENTER_AGENT)
    client = Client()
    client.force_login(user)
    message = sent[0]
    response = client.get(f"/messaging/messages/{message.public_id}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "What the demo sink received" in page
    assert "+16175550000" in page
    read = AuditEvent.objects.get(
        action="read", resource_type="Message", resource_id=str(message.public_id)
    )
    assert (read.actor_id, read.patient_id) == (user.pk, message.patient.public_id)


def test_the_message_page_needs_the_patient_in_scope(sent, make_user):
    # A scheduler with no location and no care team: break-glass first (403, audited).
    response = _client(make_user, Role.SCHEDULER).get(f"/messaging/messages/{sent[0].public_id}/")
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="read", resource_type="Message").exists()


def test_an_unknown_message_is_404(sent, make_user):
    client = _client(make_user, Role.CONTACT_CENTER_AGENT)
    response = client.get("/messaging/messages/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404


def test_the_outbox_costs_the_same_queries_for_2_or_12_messages(
    sent, make_user, templates, system_actor, django_assert_num_queries
):
    client = _client(make_user, Role.CONTACT_CENTER_AGENT)
    client.get("/messaging/outbox/")  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get("/messaging/outbox/")
    more = [PatientFactory.create() for _ in range(10)]
    enqueue_messages(
        actor=system_actor,
        requests=[
            MessageRequest(
                patient_id=p.public_id,
                purpose="appointment_reminder",
                channel="portal",
                context={"appointment_date": "Jun 12"},
            )
            for p in more
        ],
    )
    with CaptureQueriesContext(connection) as many:
        client.get("/messaging/outbox/")
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_api_lists_and_reads_messages(sent, make_user):
    user = make_user(role=Role.CONTACT_CENTER_AGENT)
    token = issue_api_token(actor=Actor.system("test"), user=user, name="t").secret
    headers = {"Authorization": f"Bearer {token}"}
    listed = Client().get("/api/messaging/messages?status=sent", headers=headers)
    assert listed.status_code == 200
    assert {row["id"] for row in listed.json()} == {str(m.public_id) for m in sent}
    assert "body" not in listed.json()[0]
    one = Client().get(f"/api/messaging/messages/{sent[0].public_id}", headers=headers)
    assert one.status_code == 200
    assert one.json()["to_address"] == "+16175550000"
    assert one.json()["status"] == "sent"
    marketer = make_user(role=Role.MARKETER)
    other = issue_api_token(actor=Actor.system("test"), user=marketer, name="m").secret
    refused = Client().get("/api/messaging/messages", headers={"Authorization": f"Bearer {other}"})
    assert refused.status_code == 403
