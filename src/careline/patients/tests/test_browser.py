"""A scheduler finds a patient, sees her allergy, corrects her phone — in a real browser.

Playwright drives Debian's chromium (``apt-get install chromium``) against the live server;
the ``browser`` marker skips the tests with a printed reason where that browser is missing,
and fails them under CI (careline.testing.environment). axe-core (shipped in the
``axe-playwright-python`` package, no network) checks every page the tests visit and fails on
any accessibility violation.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse

from careline.patients.models import ContactPoint, Patient
from careline.platform.models import AuditEvent, User
from careline.platform.permissions import Role
from careline.testing.environment import CHROMIUM
from careline.testing.factories import (
    TEST_PASSWORD,
    AllergyFactory,
    CarePlanFactory,
    ConditionFactory,
    ConsentFactory,
    ContactPointFactory,
    CoverageFactory,
    EncounterFactory,
    ImmunizationFactory,
    LocationFactory,
    MedicationRequestFactory,
    ObservationFactory,
    PatientFactory,
    PractitionerFactory,
    RelatedPersonFactory,
    SocialNeedFactory,
    TimelineEventFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOT = Path(tempfile.gettempdir()) / "careline-360.png"
SEARCH_TEXT = "rob thornb"


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from playwright import sync_api  # the browser marker checked it is installed

    # Playwright's sync API runs an event loop in this thread; the ORM calls are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def _mr_thornbury(scheduler: User) -> Patient:
    """A patient with an iodinated-contrast allergy, a phone, and a full picture."""
    location = LocationFactory.create(name="Harbor Clinic Dorchester")
    scheduler.locations.add(location)
    doctor = PractitionerFactory.create(given_name="Ana", family_name="Okafor")
    patient: Patient = PatientFactory.create(
        given_names="Robert",
        family_name="Thornbury",
        search_name="robert thornbury",
        mrn="MRN0042187",
        language="es",
        interpreter_needed=True,
        address_line="12 Dudley St",
        city="Boston",
        state="MA",
        postal_code="02119",
        primary_location=location,
        primary_care_practitioner=doctor,
    )
    ContactPointFactory.create(patient=patient, value="+16175550142", use="mobile")
    ContactPointFactory.create(
        patient=patient, system="email", value="rthornbury@example.org", use=""
    )
    RelatedPersonFactory.create(
        patient=patient,
        name="Maria Thornbury",
        relationship="Daughter",
        phone="+16175550177",
        note="Drives him to visits; available after 3 pm",
    )
    SocialNeedFactory.create(patient=patient, note="Needs a ride; no car since 2025")
    CoverageFactory.create(patient=patient, payer="Medicare Part B", plan="Original Medicare")
    ConsentFactory.create(patient=patient, purpose="hipaa-notice")
    ConsentFactory.create(patient=patient, purpose="sms", status="rejected")
    _clinical_history(patient, doctor, location)
    return patient


def _clinical_history(patient: Patient, doctor: Any, location: Any) -> None:
    AllergyFactory.create(
        patient=patient,
        display="Iodinated contrast media",
        criticality="high",
        reactions="Anaphylaxis",
        category="medication",
    )
    ConditionFactory.create(patient=patient, display="Type 2 diabetes mellitus")
    ConditionFactory.create(patient=patient, display="Essential hypertension", code="59621000")
    ConditionFactory.create(patient=patient, display="Acute bronchitis", status="resolved")
    MedicationRequestFactory.create(patient=patient, dosage="500 mg twice daily with meals")
    MedicationRequestFactory.create(
        patient=patient, display="lisinopril 10 MG Oral Tablet", dosage="10 mg once daily"
    )
    ImmunizationFactory.create(patient=patient)
    ObservationFactory.create(patient=patient)
    ObservationFactory.create(
        patient=patient,
        code="8480-6",
        display="Blood pressure",
        value_number=None,
        components=[{"value": 142, "unit": "mmHg"}, {"value": 88, "unit": "mmHg"}],
    )
    ObservationFactory.create(
        patient=patient,
        category="laboratory",
        code="4548-4",
        display="Hemoglobin A1c",
        value_number=7.9,
        value_unit="%",
        interpretation="H",
    )
    CarePlanFactory.create(patient=patient)
    for months in (1, 4, 9):
        EncounterFactory.create(
            patient=patient,
            practitioner=doctor,
            location=location,
            reason="Diabetes follow-up",
            effective_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC) - dt.timedelta(days=30 * months),
        )
    for hours, kind, title in (
        (3, "call", "Called about a prescription refill"),
        (30, "message", "Appointment reminder sent by text"),
        (200, "encounter", "Office visit — diabetes follow-up"),
    ):
        TimelineEventFactory.create(
            patient=patient,
            kind=kind,
            title=title,
            occurred_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC) - dt.timedelta(hours=hours),
        )


def assert_accessible(page: Any) -> None:
    """axe-core finds no violation (any impact) on the page as it is now."""
    results = Axe().run(page)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def _sign_in(page: Any, base_url: str, user: User, lands_on: str | None = None) -> None:
    page.goto(f"{base_url}{reverse('account_login')}")
    assert_accessible(page)
    page.fill("input[name=login]", user.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base_url}{lands_on or reverse('patients:search')}")


def test_scheduler_finds_patient_sees_allergy_and_corrects_phone(
    browser: Any, live_server: Any, settings: Any
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    scheduler = UserFactory.create(role=Role.SCHEDULER, first_name="Dana", last_name="Reyes")
    patient = _mr_thornbury(scheduler)
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    _sign_in(page, live_server.url, scheduler)
    assert_accessible(page)
    page.locator("input[name=q]").press_sequentially(SEARCH_TEXT, delay=40)
    result = page.get_by_role("link", name="Robert Thornbury")
    result.wait_for()
    assert_accessible(page)
    result.click()

    page.wait_for_url(f"**/patients/{patient.public_id}/")
    banner = page.locator("#allergy-banner")
    banner.get_by_text("Allergy: Iodinated contrast media (high criticality)").wait_for()
    page.locator("#clinical-summary .card--loading").wait_for(state="detached")
    assert_accessible(page)
    _provenance_is_quiet_and_shows_in_full_on_focus(page)

    row = page.locator(".contact-row", has_text="(617) 555-0142")
    row.locator("summary").click()
    row.locator("input[name=value]").fill("617.555.0199")
    row.get_by_role("button", name="Save").click()
    page.locator(".contact-row", has_text="(617) 555-0199").wait_for()
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    context.close()

    contact = ContactPoint.objects.get(patient=patient, use="mobile")
    assert contact.value == "+16175550199"
    assert AuditEvent.objects.filter(
        action="update", resource_type="ContactPoint", patient_id=patient.public_id
    ).exists()
    typed = {SEARCH_TEXT, SEARCH_TEXT.replace(" ", "+"), SEARCH_TEXT.replace(" ", "%20")}
    assert not [url for url in requested if any(text in url for text in typed)]

    _admin_sees_the_update_in_the_audit_log(browser, live_server.url, patient)


def _admin_sees_the_update_in_the_audit_log(browser: Any, base_url: str, patient: Patient) -> None:
    audit_log = reverse("platform:audit_log")
    admin = UserFactory.create(role=Role.ADMIN, first_name="Ada", last_name="Admin")
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    _sign_in(page, base_url, admin)
    page.goto(f"{base_url}{audit_log}")
    page.locator("text=ContactPoint").first.wait_for()
    assert_accessible(page)
    # The patient picker narrows the log to Mr. Thornbury without typing his id.
    page.get_by_text("Find a patient by name, birth date or MRN").click()
    page.locator("#picker-q").press_sequentially("thornb", delay=40)
    choice = page.locator(".picker__choice", has_text="Robert Thornbury")
    choice.wait_for()
    assert_accessible(page)
    choice.click()
    page.wait_for_url(f"**{audit_log}?patient={patient.public_id}")
    page.locator(".filter-chip").wait_for()
    assert_accessible(page)
    context.close()


def _provenance_is_quiet_and_shows_in_full_on_focus(page: Any) -> None:
    """Under each fact a short label; the full line (source, id, time) on keyboard focus."""
    fact = page.locator("#allergy-banner .provenance").first
    full = fact.locator(".provenance__full")
    assert fact.locator(".provenance__label").inner_text() == "ehr"
    assert full.bounding_box()["width"] <= 1  # visually hidden until asked for
    fact.focus()
    assert full.bounding_box()["width"] > 100
    assert full.inner_text().startswith("Source: ")


def test_idle_page_signs_the_session_out(browser: Any, live_server: Any, settings: Any) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    settings.CARELINE_INACTIVITY_TIMEOUT_SECONDS = 2
    scheduler = UserFactory.create(role=Role.SCHEDULER)
    context = browser.new_context()
    page = context.new_page()

    _sign_in(page, live_server.url, scheduler)
    notice = page.locator("#inactivity-notice")
    notice.wait_for(state="visible", timeout=5_000)

    page.wait_for_url(f"**{reverse('account_login')}?timed_out=1", timeout=10_000)
    assert_accessible(page)
    page.goto(f"{live_server.url}{reverse('patients:search')}")
    assert reverse("account_login") in page.url  # the session really ended
    context.close()


def test_a_role_without_a_workspace_yet_lands_on_its_home_page(
    browser: Any, live_server: Any, settings: Any
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    marketer = UserFactory.create(role=Role.MARKETER, first_name="Mara", last_name="Quill")
    context = browser.new_context()
    page = context.new_page()

    _sign_in(page, live_server.url, marketer, lands_on=reverse("platform:home"))

    page.get_by_role("heading", name="Welcome, Mara Quill").wait_for()
    assert_accessible(page)
    context.close()


# --- the pages under the Content-Security-Policy (platform/tests/test_security_headers.py) ---

_RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def test_pages_work_under_the_content_security_policy(
    browser: Any, live_server: Any, settings: Any
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    scheduler = UserFactory.create(role=Role.SCHEDULER)
    patient = _mr_thornbury(scheduler)
    context = browser.new_context()
    context.add_init_script(_RECORD_CSP_VIOLATIONS)
    page = context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text))
    policies: list[str | None] = []
    page.on(
        "response",
        lambda answer: (
            policies.append(answer.headers.get("content-security-policy"))
            if answer.request.resource_type == "document"
            else None
        ),
    )

    _sign_in(page, live_server.url, scheduler)
    page.locator("input[name=q]").press_sequentially(SEARCH_TEXT, delay=40)  # htmx
    page.get_by_role("link", name="Robert Thornbury").click()
    page.wait_for_url(f"**/patients/{patient.public_id}/")
    page.locator("#allergy-banner").wait_for()  # the clinical panel, loaded by htmx
    assert page.evaluate("window.cspViolations") == []
    page.goto(f"{live_server.url}/api/docs")
    # Swagger UI rendered the operations (its 1 MB bundle is slow on a loaded machine).
    page.locator(".opblock-summary").first.wait_for(timeout=90_000)
    assert page.evaluate("window.cspViolations") == []
    context.close()
    _mfa_setup_shows_its_qr_code(browser, live_server.url, settings)

    assert policies and all(policy and "script-src 'self'" in policy for policy in policies)
    assert [text for text in console_errors if "Content Security Policy" in text] == []


def _mfa_setup_shows_its_qr_code(browser: Any, base_url: str, settings: Any) -> None:
    """allauth draws the TOTP QR code as a data: image; the policy must let it show."""
    settings.CARELINE_REQUIRE_STAFF_MFA = True
    nurse = UserFactory.create(role=Role.NURSE)
    context = browser.new_context()
    context.add_init_script(_RECORD_CSP_VIOLATIONS)
    page = context.new_page()
    page.goto(f"{base_url}{reverse('account_login')}")
    page.fill("input[name=login]", nurse.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/accounts/reauthenticate/**")  # allauth asks again before MFA setup
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("main form button[type=submit]")  # not the top bar's "Sign out"
    page.wait_for_url(f"**{reverse('mfa_activate_totp')}")
    qr_code = page.locator("img[src^='data:image/svg+xml']")
    qr_code.wait_for()

    assert qr_code.evaluate("image => image.complete && image.naturalWidth > 0") is True
    assert page.evaluate("window.cspViolations") == []
    context.close()
