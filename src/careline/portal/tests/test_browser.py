"""A patient signs up, confirms her email, links her record with the emailed code and sees
her home page — in a real browser (Playwright, Debian chromium; axe-core on every page).

The emails are read from Django's locmem outbox: the live server runs in this process.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse

from careline.patients.models import Patient
from careline.patients.tests.test_browser import CHROMIUM_ARGS, assert_accessible
from careline.portal.models import PortalLink
from careline.testing.environment import CHROMIUM
from careline.testing.factories import ContactPointFactory, EncounterFactory, PatientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long portal passphrase"


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from playwright import sync_api

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def _ada() -> Patient:
    patient: Patient = PatientFactory.create(
        given_names="Ada", family_name="Lovelace", birth_date=dt.date(1951, 3, 14)
    )
    ContactPointFactory.create(patient=patient, system="email", value="ada@example.org")
    EncounterFactory.create(
        patient=patient,
        display="Annual check-up",
        effective_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=10),
    )
    return patient


def _last_mail_match(pattern: str) -> str:
    match = re.search(pattern, str(mail.outbox[-1].body), re.MULTILINE)
    assert match is not None, mail.outbox[-1].body
    return match.group(1)


def test_sign_up_verify_link_by_proof_and_see_the_home_page(browser: Any, live_server: Any) -> None:
    patient = _ada()
    base = live_server.url
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()  # a phone
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    page.goto(f"{base}{reverse('portal:signup')}")
    assert_accessible(page)
    page.get_by_label("Email address").fill("ada.lovelace@example.net")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Type the password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    assert_accessible(page)

    page.goto(_last_mail_match(r"(http://\S+/portal/verify-email/\S+/)"))
    assert_accessible(page)
    page.get_by_role("button", name="Yes, confirm it").click()
    page.get_by_role("heading", name="Your email address is confirmed").wait_for()
    page.get_by_role("link", name="Sign in").click()

    assert_accessible(page)
    page.get_by_label("Email address").fill("ada.lovelace@example.net")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Link your health record").wait_for()
    assert_accessible(page)

    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Date of birth").fill("1951-03-14")
    page.get_by_role("button", name="Send me a code").click()
    page.get_by_role("heading", name="Enter your code").wait_for()
    assert_accessible(page)
    assert mail.outbox[-1].to == ["ada@example.org"]
    page.get_by_label("The 6-digit code from the email").fill(_last_mail_match(r"^(\d{6})$"))
    page.get_by_role("button", name="Link my record").click()

    page.wait_for_url(f"**{reverse('portal:patient_home', args=[patient.public_id])}")
    page.get_by_role("heading", name="Your record").wait_for()
    page.get_by_text("Annual check-up").wait_for()
    assert page.get_by_text("Your record is linked to your account.").is_visible()
    assert_accessible(page)
    assert violations == []
    assert PortalLink.objects.get().patient_public_id == patient.public_id
