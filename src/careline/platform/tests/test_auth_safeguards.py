"""Authentication safeguards: staff MFA, automatic logoff, and the audit of every sign-in."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pyotp
import pytest
import time_machine
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.test import Client
from django.urls import reverse

from careline.platform.audit.chain import linked_fields
from careline.platform.models import (
    AuditAction,
    AuditChannel,
    AuditEvent,
    AuditOutcome,
    Purpose,
    User,
)
from careline.platform.permissions import Role

pytestmark = pytest.mark.django_db

PASSWORD = "a long and private passphrase"
WRONG_PASSWORD = "Hunter2-not-the-passphrase"
LOGIN = reverse("account_login")
MFA_AUTHENTICATE = reverse("mfa_authenticate")
MFA_SETUP = reverse("mfa_activate_totp")
REAUTHENTICATE = reverse("account_reauthenticate")
AUDIT_LOG = reverse("platform:audit_log")
PATIENT_SEARCH = reverse("patients:search")
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _mfa_required(settings: Any) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = True


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """A stopped clock: TOTP codes, sessions and audit times all read it."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def staff(make_user: Callable[..., User]) -> Callable[..., User]:
    def make(role: str = Role.COMPLIANCE, username: str = "olga") -> User:
        user = make_user(role, username=username)
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        return user

    return make


def sign_in_with_password(
    client: Client, username: str, password: str = PASSWORD, **kwargs: Any
) -> Any:
    return client.post(LOGIN, {"login": username, "password": password, **kwargs})


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- MFA for staff ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "url"), [(Role.SCHEDULER, PATIENT_SEARCH), (Role.COMPLIANCE, AUDIT_LOG)]
)
def test_staff_without_an_authenticator_must_set_one_up_first(
    client: Client, make_user: Callable[..., User], role: str, url: str
) -> None:
    client.force_login(make_user(role))

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == MFA_SETUP
    assert not AuditEvent.objects.exclude(action=AuditAction.LOGIN).exists()


@pytest.mark.parametrize(
    ("role", "url"), [(Role.SCHEDULER, PATIENT_SEARCH), (Role.COMPLIANCE, AUDIT_LOG)]
)
def test_staff_with_a_totp_authenticator_use_the_pages(
    client: Client, sign_in: Callable[..., User], role: str, url: str
) -> None:
    sign_in(role)

    assert client.get(url).status_code == 200


def test_a_password_only_session_of_a_user_with_totp_is_ended(
    client: Client, staff: Callable[..., User], add_totp: Callable[[User], str]
) -> None:
    """Django's admin login (or any password-only path) cannot skip the second factor."""
    user = staff(Role.ADMIN)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    add_totp(user)
    client.force_login(user)  # signed in without a TOTP code

    response = client.get(AUDIT_LOG)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert not is_signed_in(client)


def test_the_admin_login_goes_through_the_mfa_aware_sign_in(client: Client) -> None:
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_mfa_can_be_switched_off_for_the_demo(
    client: Client, make_user: Callable[..., User], settings: Any
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    client.force_login(make_user(Role.COMPLIANCE))

    assert client.get(AUDIT_LOG).status_code == 200


def test_full_sign_in_with_password_then_totp_code(
    client: Client,
    staff: Callable[..., User],
    add_totp: Callable[[User], str],
    clock: time_machine.Traveller,
) -> None:
    officer = staff(Role.COMPLIANCE)
    secret = add_totp(officer)

    assert client.get(f"{LOGIN}?next={AUDIT_LOG}").status_code == 200
    password_step = sign_in_with_password(client, "olga", next=AUDIT_LOG)
    assert password_step.status_code == 302
    assert password_step["Location"] == MFA_AUTHENTICATE
    assert not is_signed_in(client)
    assert client.get(MFA_AUTHENTICATE).status_code == 200
    code_step = client.post(MFA_AUTHENTICATE, {"code": pyotp.TOTP(secret).now()})
    assert code_step.status_code == 302
    assert code_step["Location"] == AUDIT_LOG
    landing = client.get(AUDIT_LOG)

    assert landing.status_code == 200
    assert is_signed_in(client)
    login = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert (login.actor, login.actor_label, login.actor_role) == (officer, "olga", "compliance")
    assert (login.resource_type, login.channel, login.remote_addr) == (
        "Session",
        AuditChannel.UI,
        "127.0.0.1",
    )
    assert (login.purpose, login.outcome, login.details) == (
        Purpose.OPERATIONS,
        AuditOutcome.SUCCESS,
        {},
    )
    assert login.occurred_at == START


def test_a_wrong_totp_code_keeps_the_door_shut_and_is_audited(
    client: Client,
    staff: Callable[..., User],
    add_totp: Callable[[User], str],
    clock: time_machine.Traveller,
) -> None:
    officer = staff(Role.COMPLIANCE)
    secret = add_totp(officer)
    sign_in_with_password(client, "olga")
    right_code = pyotp.TOTP(secret).now()
    wrong_code = f"{(int(right_code) + 1) % 1_000_000:06d}"

    response = client.post(MFA_AUTHENTICATE, {"code": wrong_code})

    assert response.status_code == 200
    assert response.context["form"].errors == {"code": ["Incorrect code."]}
    assert not is_signed_in(client)
    assert client.get(AUDIT_LOG)["Location"] == f"{LOGIN}?next={AUDIT_LOG}"
    failure = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert (failure.actor, failure.outcome, failure.details) == (
        officer,
        AuditOutcome.DENIED,
        {"step": "mfa"},
    )
    assert wrong_code not in json.dumps(linked_fields(failure))
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN).exists()


def test_setting_up_totp_after_a_password_sign_in_opens_the_pages(
    client: Client,
    staff: Callable[..., User],
    clock: time_machine.Traveller,
) -> None:
    """A new staff member: password, confirm the password (allauth asks before adding MFA),
    scan the secret, enter a code — then the pages open."""
    staff(Role.COMPLIANCE)
    sign_in_with_password(client, "olga")
    assert client.get(AUDIT_LOG)["Location"] == MFA_SETUP

    confirm = client.get(MFA_SETUP)
    assert confirm["Location"] == f"{REAUTHENTICATE}?next={quote(MFA_SETUP, safe='')}"
    confirmed = client.post(REAUTHENTICATE, {"password": PASSWORD, "next": MFA_SETUP})
    assert confirmed["Location"] == MFA_SETUP
    setup_page = client.get(MFA_SETUP)
    assert setup_page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    activated = client.post(MFA_SETUP, {"code": pyotp.TOTP(secret).now()})

    assert activated.status_code == 302
    assert client.get(AUDIT_LOG).status_code == 200


# --- audit of sign-in and sign-out --------------------------------------------------------


def test_a_wrong_password_is_audited_without_the_password(
    client: Client, staff: Callable[..., User]
) -> None:
    staff(Role.NURSE, username="nina")

    response = client.post(
        LOGIN, {"login": "nina", "password": WRONG_PASSWORD}, REMOTE_ADDR="10.9.8.7"
    )

    assert response.status_code == 200
    assert not is_signed_in(client)
    failure = AuditEvent.objects.get()
    assert (failure.action, failure.outcome, failure.resource_type) == (
        AuditAction.LOGIN_FAILED,
        AuditOutcome.DENIED,
        "Session",
    )
    assert (failure.actor, failure.actor_label, failure.actor_role) == (None, "nina", "")
    assert (failure.channel, failure.remote_addr) == (AuditChannel.UI, "10.9.8.7")
    assert failure.details == {"step": "password"}
    recorded = json.dumps(linked_fields(failure))
    assert WRONG_PASSWORD not in recorded
    assert "password" not in recorded.replace('"step": "password"', "")


def test_an_unknown_user_name_is_audited_as_a_keyed_hash_only(client: Client) -> None:
    """A password typed into the user-name field must not land in the immutable trail."""
    sign_in_with_password(client, "Hunter2-Secret!")
    sign_in_with_password(client, "hunter2-secret!")

    first, second = AuditEvent.objects.order_by("sequence")
    assert first.action == AuditAction.LOGIN_FAILED
    assert re.fullmatch(r"unknown user [0-9a-f]{16}", first.actor_label)
    assert second.actor_label == first.actor_label  # repeated attempts still group
    assert "hunter2" not in json.dumps(linked_fields(first)).lower()


def test_a_failed_sign_in_names_the_account_as_stored(
    client: Client, make_user: Callable[..., User]
) -> None:
    make_user(Role.NURSE, username="nina")

    sign_in_with_password(client, "NINA")

    assert AuditEvent.objects.get().actor_label == "nina"


def test_the_client_address_comes_from_a_trusted_proxy_only(client: Client, settings: Any) -> None:
    settings.CARELINE_TRUSTED_PROXIES = ["10.0.0.2"]
    forwarded = "203.0.113.9, 198.51.100.7"

    attempt = {"login": "mallory", "password": PASSWORD}

    client.post(LOGIN, attempt, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    client.post(LOGIN, attempt, REMOTE_ADDR="192.0.2.44", HTTP_X_FORWARDED_FOR=forwarded)
    client.post(LOGIN, attempt, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-address")

    addresses = AuditEvent.objects.order_by("sequence").values_list("remote_addr", flat=True)
    assert list(addresses) == ["198.51.100.7", "192.0.2.44", "10.0.0.2"]


def test_sign_out_is_audited(client: Client, sign_in: Callable[..., User]) -> None:
    officer = sign_in(Role.COMPLIANCE)

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert not is_signed_in(client)
    logout = AuditEvent.objects.get(action=AuditAction.LOGOUT)
    assert (logout.actor, logout.resource_type, logout.channel) == (
        officer,
        "Session",
        AuditChannel.UI,
    )
    assert logout.details == {"reason": "user"}


# --- automatic logoff ---------------------------------------------------------------------


def test_inactivity_past_fifteen_minutes_signs_the_session_out(
    client: Client, sign_in: Callable[..., User], clock: time_machine.Traveller
) -> None:
    officer = sign_in(Role.COMPLIANCE)
    assert client.get(AUDIT_LOG).status_code == 200

    clock.shift(dt.timedelta(minutes=15, seconds=1))
    response = client.get(AUDIT_LOG)

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?timed_out=1"
    assert not is_signed_in(client)
    assert client.get(AUDIT_LOG)["Location"] == f"{LOGIN}?next={AUDIT_LOG}"
    logout = AuditEvent.objects.get(action=AuditAction.LOGOUT)
    assert (logout.actor, logout.details) == (officer, {"reason": "inactivity"})
    assert logout.occurred_at == START + dt.timedelta(minutes=15, seconds=1)


def test_activity_within_the_timeout_keeps_the_session(
    client: Client, sign_in: Callable[..., User], clock: time_machine.Traveller
) -> None:
    sign_in(Role.COMPLIANCE)
    client.get(AUDIT_LOG)

    for _ in range(3):  # 42 minutes in all, never 15 idle
        clock.shift(dt.timedelta(minutes=14))
        assert client.get(AUDIT_LOG).status_code == 200

    assert is_signed_in(client)
    assert not AuditEvent.objects.filter(action=AuditAction.LOGOUT).exists()


def test_the_timeout_is_a_setting(
    client: Client, sign_in: Callable[..., User], clock: time_machine.Traveller, settings: Any
) -> None:
    settings.CARELINE_INACTIVITY_TIMEOUT_SECONDS = 60
    sign_in(Role.COMPLIANCE)
    client.get(AUDIT_LOG)

    clock.shift(dt.timedelta(seconds=61))

    assert client.get(AUDIT_LOG)["Location"] == f"{LOGIN}?timed_out=1"


def test_the_last_request_time_is_saved_at_most_every_30_seconds(
    client: Client, sign_in: Callable[..., User], clock: time_machine.Traveller, settings: Any
) -> None:
    """Not a session save on every request (a page's parallel requests raced to save it)."""
    from careline.platform.middleware import LAST_SEEN_KEY

    settings.CARELINE_INACTIVITY_TIMEOUT_SECONDS = 900
    sign_in(Role.COMPLIANCE)
    client.get(AUDIT_LOG)
    first = client.session[LAST_SEEN_KEY]

    clock.shift(dt.timedelta(seconds=29))
    client.get(AUDIT_LOG)
    assert client.session[LAST_SEEN_KEY] == first

    clock.shift(dt.timedelta(seconds=1))
    client.get(AUDIT_LOG)
    assert client.session[LAST_SEEN_KEY] == first + 30
