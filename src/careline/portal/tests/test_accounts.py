"""Portal sign-up by email, address verification, sign-in, and the optional second factor."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core import mail
from django.test import Client
from django.urls import reverse

from careline.platform.models import AuditEvent, User

pytestmark = pytest.mark.django_db

PASSWORD = "a long portal passphrase"


def _sign_up(
    client: Client, email: str = "new.patient@example.net", password: str = PASSWORD
) -> Any:
    return client.post(
        reverse("portal:signup"), {"email": email, "password1": password, "password2": password}
    )


def _verification_path() -> str:
    match = re.search(
        r"http://testserver(/portal/verify-email/[^/\s]+/)", str(mail.outbox[-1].body)
    )
    assert match is not None
    return match.group(1)


def test_sign_up_makes_an_unverified_portal_account_and_mails_a_link(db: None) -> None:
    response = _sign_up(Client())

    assert (response.status_code, response["Location"]) == (
        302,
        reverse("portal:verify_email_sent"),
    )
    user = User.objects.get(email="new.patient@example.net")
    assert (user.kind, user.role, user.is_staff, user.username.startswith("portal-")) == (
        "portal",
        "",
        False,
        True,
    )
    assert not EmailAddress.objects.get(user=user).verified
    assert mail.outbox[-1].to == ["new.patient@example.net"]
    assert (
        AuditEvent.objects.filter(
            action="create", resource_type="User", details={"kind": "portal"}
        ).count()
        == 1
    )


def test_the_password_rules_apply(db: None) -> None:
    response = _sign_up(Client(), password="short")

    assert response.status_code == 422
    assert "This password is too short." in response.content.decode()
    assert not User.objects.exists()


def test_signing_up_with_a_taken_address_looks_the_same_and_tells_the_owner(
    make_account: Any,
) -> None:
    make_account("taken@example.net")

    response = _sign_up(Client(), email="taken@example.net")

    assert (response.status_code, response["Location"]) == (
        302,
        reverse("portal:verify_email_sent"),
    )
    assert User.objects.filter(email="taken@example.net").count() == 1
    [message] = mail.outbox
    assert message.subject == "You already have a Careline patient portal account"


def test_staff_sign_up_stays_closed(db: None) -> None:
    response = Client().post(
        "/accounts/signup/", {"username": "x", "password1": PASSWORD, "password2": PASSWORD}
    )

    assert not User.objects.exists()
    assert "Sign Up Closed" in response.content.decode()


def test_an_unverified_account_cannot_sign_in_until_it_confirms(db: None) -> None:
    _sign_up(Client())
    client = Client()

    before = client.post(
        reverse("portal:login"), {"email": "new.patient@example.net", "password": PASSWORD}
    )
    path = _verification_path()
    shown = client.get(path)
    confirmed = client.post(path)
    after = client.post(
        reverse("portal:login"), {"email": "new.patient@example.net", "password": PASSWORD}
    )

    assert (before.status_code, before["Location"]) == (302, reverse("portal:verify_email_sent"))
    assert shown.status_code == 200
    assert "new.patient@example.net" in shown.content.decode()
    assert confirmed.status_code == 200
    assert EmailAddress.objects.get().verified
    assert (after.status_code, after["Location"]) == (302, reverse("portal:home"))
    assert client.get(reverse("portal:home"))["Location"] == reverse("portal:link")


def test_a_forged_verification_link_confirms_nothing(db: None) -> None:
    _sign_up(Client())

    response = Client().post("/portal/verify-email/forged-key/")

    assert response.status_code == 404
    assert not EmailAddress.objects.get().verified


def test_a_wrong_password_gets_the_neutral_answer(make_account: Any) -> None:
    make_account("ada@example.org")

    wrong = Client().post(
        reverse("portal:login"), {"email": "ada@example.org", "password": "nope nope nope"}
    )
    unknown = Client().post(
        reverse("portal:login"), {"email": "who@example.org", "password": "nope nope nope"}
    )

    for response in (wrong, unknown):
        assert response.status_code == 422
        assert "The email address or the password is not right." in response.content.decode()
    assert AuditEvent.objects.filter(action="login_failed").count() == 2


def test_an_account_with_totp_enters_its_code_in_the_portal_layout(make_account: Any) -> None:
    account = make_account("ada@example.org")
    secret = pyotp.random_base32()
    Authenticator.objects.create(
        user=account, type=Authenticator.Type.TOTP, data={"secret": secret}
    )
    client = Client()

    password_step = client.post(
        reverse("portal:login"),
        {"email": "ada@example.org", "password": "correct horse battery staple"},
    )
    code_page = client.get(password_step["Location"])
    code_step = client.post(password_step["Location"], {"code": pyotp.TOTP(secret).now()})

    assert password_step.status_code == 302
    assert password_step["Location"] == reverse("mfa_authenticate")
    assert "Patient portal account" in code_page.content.decode()
    assert "Staff access" not in code_page.content.decode()
    assert (code_step.status_code, code_step["Location"]) == (302, reverse("portal:home"))
    assert AuditEvent.objects.filter(action="login", actor=account).count() == 1


def test_the_security_page_offers_totp(make_account: Any) -> None:
    client = Client()
    client.force_login(make_account("ada@example.org"))

    response = client.get(reverse("portal:security"))
    activate = client.get(reverse("mfa_activate_totp"))
    password_again = client.get(activate["Location"])  # allauth asks for the password first

    assert response.status_code == 200
    assert reverse("mfa_activate_totp") in response.content.decode()
    assert activate["Location"].startswith(reverse("account_reauthenticate"))
    assert password_again.status_code == 200
    assert "Patient portal account" in password_again.content.decode()
