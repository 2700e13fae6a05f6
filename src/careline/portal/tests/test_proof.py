"""Linking by proof: name and birth date, then a code sent to an email already on file."""

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

from careline.patients.models import Patient, TimelineEvent
from careline.platform.models import AuditEvent, User
from careline.portal.models import PortalLink, ProofChallenge
from careline.portal.tests.conftest import NOW, client_for

pytestmark = pytest.mark.django_db

ADA = {"given_name": "ada", "family_name": "LOVELACE", "birth_date": "1951-03-14"}


def _start(client: Client, details: dict[str, str] = ADA) -> str:
    """Post the details; the URL of the code page it sends to."""
    response = client.post(reverse("portal:link"), details)
    assert response.status_code == 302
    return str(response["Location"])


def _code_from_mail() -> str:
    [message] = mail.outbox
    match = re.search(r"^(\d{6})$", str(message.body), re.MULTILINE)
    assert match is not None
    return match.group(1)


@pytest.fixture
def signed_in(make_account: Callable[..., User]) -> tuple[User, Client]:
    account = make_account("ada.l@example.net")
    return account, client_for(account)


def test_the_right_code_links_the_record(ada: Patient, signed_in: tuple[User, Client]) -> None:
    account, client = signed_in
    with time_machine.travel(NOW, tick=False):
        code_page = _start(client)
        [message] = mail.outbox
        response = client.post(code_page, {"code": _code_from_mail()})

    assert message.to == ["ada@example.org"]  # the address on file, not the account's
    assert message.subject == "Your Careline patient portal code"
    assert (response.status_code, response["Location"]) == (
        302,
        reverse("portal:patient_home", args=[ada.public_id]),
    )
    link = PortalLink.objects.get()
    assert (link.account, link.patient_public_id, link.relationship, link.method) == (
        account,
        ada.public_id,
        "self",
        "proof",
    )
    created = AuditEvent.objects.get(action="create", resource_type="PortalLink")
    assert (created.actor, created.channel, created.patient_id) == (
        account,
        "portal",
        ada.public_id,
    )
    assert TimelineEvent.objects.filter(patient=ada, title="Portal account linked").count() == 1


def test_the_code_is_stored_only_as_a_keyed_hash(
    ada: Patient, signed_in: tuple[User, Client]
) -> None:
    _start(signed_in[1])
    code = _code_from_mail()

    challenge = ProofChallenge.objects.get()
    assert len(challenge.code_hash) == 64
    assert code not in challenge.code_hash
    assert challenge.patient_public_id == ada.public_id


def test_a_wrong_code_links_nothing_and_counts_as_a_try(
    ada: Patient, signed_in: tuple[User, Client]
) -> None:
    code_page = _start(signed_in[1])
    wrong = f"{(int(_code_from_mail()) + 1) % 1_000_000:06d}"

    response = signed_in[1].post(code_page, {"code": wrong})

    assert response.status_code == 422
    assert "That code is not right." in response.content.decode()
    assert not PortalLink.objects.exists()
    assert ProofChallenge.objects.get().attempts == 1
    refusal = AuditEvent.objects.get(action="access_denied")
    assert refusal.details == {"reason": "code_wrong"}


def test_an_expired_code_no_longer_links(ada: Patient, signed_in: tuple[User, Client]) -> None:
    with time_machine.travel(NOW, tick=False):
        code_page = _start(signed_in[1])
    with time_machine.travel(NOW + dt.timedelta(minutes=10, seconds=1), tick=False):
        response = signed_in[1].post(code_page, {"code": _code_from_mail()})

    assert response.status_code == 422
    assert "This code can no longer be used" in response.content.decode()
    assert not PortalLink.objects.exists()


def test_a_code_works_once(
    ada: Patient, signed_in: tuple[User, Client], make_account: Callable[..., User]
) -> None:
    code_page = _start(signed_in[1])
    code = _code_from_mail()
    assert signed_in[1].post(code_page, {"code": code}).status_code == 302

    again = signed_in[1].post(code_page, {"code": code})

    assert again.status_code == 422
    assert "This code can no longer be used" in again.content.decode()
    assert PortalLink.objects.count() == 1


def test_another_account_cannot_use_someone_elses_challenge(
    ada: Patient, signed_in: tuple[User, Client], make_account: Callable[..., User]
) -> None:
    code_page = _start(signed_in[1])
    intruder = client_for(make_account("mallory@example.net"))

    response = intruder.post(code_page, {"code": _code_from_mail()})

    assert response.status_code == 404
    assert not PortalLink.objects.exists()


def test_five_wrong_tries_use_the_code_up(ada: Patient, signed_in: tuple[User, Client]) -> None:
    code_page = _start(signed_in[1])
    code = _code_from_mail()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    statuses = [signed_in[1].post(code_page, {"code": wrong}).status_code for _ in range(5)]

    right = signed_in[1].post(code_page, {"code": code})

    assert statuses == [422] * 5
    assert right.status_code == 422
    assert "This code can no longer be used" in right.content.decode()
    assert not PortalLink.objects.exists()


def test_an_account_may_start_five_proofs_a_day(
    ada: Patient, signed_in: tuple[User, Client]
) -> None:
    with time_machine.travel(NOW, tick=False):
        for _ in range(5):
            _start(signed_in[1])
        sixth = signed_in[1].post(reverse("portal:link"), ADA)
    with time_machine.travel(NOW + dt.timedelta(days=1, seconds=1), tick=False):
        next_day = client_for(signed_in[0]).post(reverse("portal:link"), ADA)  # a new session

    assert sixth.status_code == 429
    assert "Too many tries today." in sixth.content.decode()
    assert len(mail.outbox) == 6  # five, then one the next day
    assert next_day.status_code == 302
    assert next_day["Location"].startswith("/portal/link/")
    assert (
        AuditEvent.objects.filter(action="access_denied", details={"reason": "throttled"}).count()
        == 1
    )


@pytest.mark.parametrize(
    "details",
    [
        {**ADA, "birth_date": "1951-03-15"},  # nobody
        {**ADA, "given_name": "Augusta"},  # nobody
        {"given_name": "Grace", "family_name": "Hopper", "birth_date": "1946-12-09"},  # no email
    ],
    ids=["wrong-birth-date", "wrong-name", "no-email-on-file"],
)
def test_no_match_answers_exactly_like_a_match_and_sends_nothing(
    details: dict[str, str], ada: Patient, db: Any, signed_in: tuple[User, Client]
) -> None:
    from careline.testing.factories import PatientFactory

    PatientFactory.create(
        given_names="Grace", family_name="Hopper", birth_date=dt.date(1946, 12, 9)
    )
    client = signed_in[1]
    matched_page = client.get(_start(client)).content.decode()
    mail.outbox.clear()

    unmatched_url = _start(client, details)
    unmatched_page = client.get(unmatched_url).content.decode()
    any_code = client.post(unmatched_url, {"code": "123456"})

    assert mail.outbox == []
    assert _without_csrf(unmatched_page) == _without_csrf(matched_page)
    assert any_code.status_code == 422
    assert "That code is not right." in any_code.content.decode()
    assert not PortalLink.objects.exists()


def test_two_patients_sharing_name_and_birth_date_match_neither(
    ada: Patient, signed_in: tuple[User, Client]
) -> None:
    from careline.testing.factories import ContactPointFactory, PatientFactory

    twin = PatientFactory.create(
        given_names="Ada", family_name="Lovelace", birth_date=ada.birth_date
    )
    ContactPointFactory.create(patient=twin, system="email", value="other-ada@example.org")

    _start(signed_in[1])

    assert mail.outbox == []
    assert ProofChallenge.objects.get().patient_id is None


def _without_csrf(page: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
