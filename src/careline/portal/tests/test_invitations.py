"""Invitations: staff send one from the 360 page to an address on file; the invited person
accepts it once, before it expires, signed in with the account of that address."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from careline.patients.models import Patient, RelatedPerson
from careline.platform.models import AuditEvent, User
from careline.platform.permissions import Role
from careline.portal.models import PortalInvitation, PortalLink
from careline.portal.tests.conftest import NOW, client_for
from careline.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheduler(settings: Any, ada: Patient) -> Client:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    return client_for(UserFactory.create(role=Role.CONTACT_CENTER_AGENT))


def _invite(staff: Client, patient: Patient, **data: Any) -> Any:
    return staff.post(
        reverse("portal_access:invite", args=[patient.public_id]), data, HTTP_HX_REQUEST="true"
    )


def _accept_path() -> str:
    [message] = mail.outbox
    match = re.search(r"http://testserver(/portal/invitations/[\w-]+/)", str(message.body))
    assert match is not None
    return match.group(1)


def test_staff_invite_the_patient_at_her_email_on_file(scheduler: Client, ada: Patient) -> None:
    card = scheduler.get(reverse("portal_access:patient_card", args=[ada.public_id]))
    assert card.status_code == 200
    assert '<option value="ada@example.org">' in card.content.decode()

    with time_machine.travel(NOW, tick=False):
        response = _invite(scheduler, ada, relationship="self", email="ada@example.org")

    assert response.status_code == 200
    assert "Invitation sent to ada@example.org." in response.content.decode()
    [message] = mail.outbox
    assert message.to == ["ada@example.org"]
    assert message.subject == "Your invitation to the Careline patient portal"
    invitation = PortalInvitation.objects.get()
    token = _accept_path().split("/")[-2]
    assert token not in invitation.token_hash
    assert invitation.expires_at == NOW + dt.timedelta(hours=72)
    created = AuditEvent.objects.get(action="create", resource_type="PortalInvitation")
    assert (created.patient_id, created.channel) == (ada.public_id, "ui")


def test_staff_cannot_invite_to_an_address_not_on_file(scheduler: Client, ada: Patient) -> None:
    response = _invite(scheduler, ada, relationship="self", email="attacker@example.com")

    assert response.status_code == 422
    assert mail.outbox == []
    assert not PortalInvitation.objects.exists()


def test_a_role_without_the_permission_cannot_invite(settings: Any, ada: Patient) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    marketer = client_for(UserFactory.create(role=Role.MARKETER))

    card = marketer.get(reverse("portal_access:patient_card", args=[ada.public_id]))
    invite = _invite(marketer, ada, relationship="self", email="ada@example.org")

    assert (card.status_code, invite.status_code) == (403, 403)
    assert "ada@example.org" not in card.content.decode()
    assert mail.outbox == []
    assert AuditEvent.objects.filter(action="access_denied").count() == 2


def test_the_invited_patient_accepts_once_and_is_linked(
    scheduler: Client, ada: Patient, make_account: Callable[..., User]
) -> None:
    _invite(scheduler, ada, relationship="self", email="ada@example.org")
    path = _accept_path()
    patient_client = client_for(make_account("ADA@example.org"))

    shown = patient_client.get(path)
    accepted = patient_client.post(path)
    again = patient_client.post(path)

    assert shown.status_code == 200
    assert (accepted.status_code, accepted["Location"]) == (
        302,
        reverse("portal:patient_home", args=[ada.public_id]),
    )
    link = PortalLink.objects.get()
    assert (link.relationship, link.method, link.patient_public_id) == (
        "self",
        "invitation",
        ada.public_id,
    )
    assert again.status_code == 404
    assert "not valid" in again.content.decode()
    assert PortalLink.objects.count() == 1


def test_an_expired_invitation_links_nothing(
    scheduler: Client, ada: Patient, make_account: Callable[..., User]
) -> None:
    with time_machine.travel(NOW, tick=False):
        _invite(scheduler, ada, relationship="self", email="ada@example.org")
    path = _accept_path()
    with time_machine.travel(NOW + dt.timedelta(hours=72, seconds=1), tick=False):
        response = client_for(make_account("ada@example.org")).post(path)

    assert response.status_code == 404
    assert not PortalLink.objects.exists()
    refusal = AuditEvent.objects.get(action="access_denied")
    assert (refusal.patient_id, refusal.details) == (
        ada.public_id,
        {"reason": "invitation_used_or_expired"},
    )


def test_an_invitation_forwarded_to_another_account_links_nothing(
    scheduler: Client, ada: Patient, make_account: Callable[..., User]
) -> None:
    _invite(scheduler, ada, relationship="self", email="ada@example.org")

    response = client_for(make_account("daughter@example.net")).post(_accept_path())

    assert response.status_code == 409
    assert "sent to a different email address" in response.content.decode()
    assert not PortalLink.objects.exists()
    assert PortalInvitation.objects.get().accepted_at is None


def test_an_unknown_token_links_nothing(make_account: Callable[..., User]) -> None:
    response = client_for(make_account("ada@example.org")).post("/portal/invitations/not-a-token/")

    assert response.status_code == 404
    assert not PortalLink.objects.exists()


def test_staff_invite_a_proxy_who_accepts_with_the_scope_and_expiry_given(
    scheduler: Client, ada: Patient, make_account: Callable[..., User]
) -> None:
    son = RelatedPerson.objects.get(patient=ada)
    with time_machine.travel(NOW, tick=False):
        response = _invite(
            scheduler,
            ada,
            relationship="proxy",
            related_person=str(son.public_id),
            scopes=["appointments"],
            grant_days="30",
        )
        assert response.status_code == 200
        assert mail.outbox[0].to == ["byron@example.org"]
        accepted = client_for(make_account("byron@example.org")).post(_accept_path())

    assert accepted.status_code == 302
    link = PortalLink.objects.get()
    assert (link.relationship, link.scopes, link.related_person_id, link.expires_at) == (
        "proxy",
        ["appointments"],
        son.public_id,
        NOW + dt.timedelta(days=30),
    )


def test_staff_revoke_a_link_and_the_account_loses_access(
    scheduler: Client,
    ada: Patient,
    make_account: Callable[..., User],
    make_link: Callable[..., PortalLink],
) -> None:
    son = make_account("byron@example.org")
    link = make_link(son, ada, "proxy")

    response = scheduler.post(
        reverse("portal_access:revoke", args=[ada.public_id, link.public_id]),
        HTTP_HX_REQUEST="true",
    )
    after = client_for(son).get(reverse("portal:patient_home", args=[ada.public_id]))

    assert response.status_code == 200
    assert "revoked" in response.content.decode()
    assert after.status_code == 404
    assert AuditEvent.objects.filter(action="delete", resource_type="PortalLink").count() == 1


def test_the_patient_invites_a_proxy_and_ends_their_access(
    ada: Patient, make_account: Callable[..., User], make_link: Callable[..., PortalLink]
) -> None:
    patient = make_account("ada@example.org")
    make_link(patient, ada)
    client = client_for(patient)
    proxies = reverse("portal:proxies", args=[ada.public_id])

    sent = client.post(
        proxies, {"email": "neighbour@example.net", "scopes": ["appointments"], "grant_days": "7"}
    )
    accepted = client_for(make_account("neighbour@example.net")).post(_accept_path())
    link = PortalLink.objects.get(relationship="proxy")
    ended = client.post(reverse("portal:revoke_proxy", args=[ada.public_id, link.public_id]))

    assert (sent.status_code, accepted.status_code, ended.status_code) == (302, 302, 302)
    assert link.method == "patient_grant"
    link.refresh_from_db()
    assert link.revoked_at is not None


def test_a_proxy_cannot_invite_further_proxies(
    ada: Patient, make_account: Callable[..., User], make_link: Callable[..., PortalLink]
) -> None:
    son = make_account("byron@example.org")
    make_link(son, ada, "proxy")

    response = client_for(son).post(
        reverse("portal:proxies", args=[ada.public_id]),
        {"email": "x@example.net", "scopes": ["appointments"], "grant_days": "7"},
    )

    assert response.status_code == 404
    assert mail.outbox == []
