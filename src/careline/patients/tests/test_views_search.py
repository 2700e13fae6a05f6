"""Patient search page and its htmx results: access, parsing, audit, and no PHI in URLs."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.urls import reverse

from careline.patients.tests.ui_support import HTMX, audit_rows, signed_in
from careline.platform.audit.chain import linked_fields
from careline.platform.authorization import ANONYMOUS_REFUSALS
from careline.platform.models import AuditEvent
from careline.platform.permissions import Role
from careline.testing.factories import ContactPointFactory, PatientFactory

SEARCH_URL = reverse("patients:search")
RESULTS_URL = reverse("patients:search_results")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _staff_without_mfa(settings):
    settings.CARELINE_REQUIRE_STAFF_MFA = False


@pytest.fixture
def jones():
    patient = PatientFactory.create(
        given_names="Robert",
        family_name="Jones",
        search_name="robert jones",
        birth_date=dt.date(1951, 3, 14),
        mrn="MRN0042187",
    )
    ContactPointFactory.create(patient=patient, value="+16175550142")
    return patient


@pytest.fixture
def others():
    return [
        PatientFactory.create(
            given_names="Roberta",
            family_name="Smith",
            search_name="roberta smith",
            birth_date=dt.date(1951, 4, 14),
        ),
        PatientFactory.create(
            given_names="Alice",
            family_name="Jonesy",
            search_name="alice jonesy",
            birth_date=dt.date(1980, 1, 2),
        ),
    ]


def _result_links(html: str) -> list[str]:
    return re.findall(r'href="(/patients/[0-9a-f-]{36}/)"', html)


def test_anonymous_is_sent_to_sign_in_counted_not_audited(client):
    counted = ANONYMOUS_REFUSALS["ui"]

    page = client.get(SEARCH_URL)
    results = client.post(RESULTS_URL, {"q": "jones"})

    for response in (page, results):
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    assert not AuditEvent.objects.exists()
    assert ANONYMOUS_REFUSALS["ui"] == counted + 2


def test_role_without_patient_access_is_refused_and_nothing_is_searched(client, make_user):
    signed_in(client, make_user(role=Role.MARKETER))

    page = client.get(SEARCH_URL)
    results = client.post(RESULTS_URL, {"q": "jones"}, headers=HTMX)

    assert page.status_code == 403
    assert "Your role does not allow" in page.content.decode()
    assert results.status_code == 403
    assert audit_rows() == [("access_denied", "Patient", None, False)] * 2


def test_search_page_posts_the_text_and_never_puts_it_in_a_url(client, make_user):
    signed_in(client, make_user())

    response = client.get(SEARCH_URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert f'hx-post="{RESULTS_URL}"' in html
    assert 'hx-trigger="input changed delay:250ms, search"' in html
    assert "hx-get" not in html.split('role="search"')[1].split("</form>")[0]
    assert 'method="post"' in html
    assert '"X-CSRFToken"' in html
    assert response["Cache-Control"].count("no-store") == 1


@pytest.mark.parametrize(
    "text",
    [
        "jones rob",
        "ROBERT J",
        "1951-03-14",
        "03/14/1951",
        "3/14/51",
        "(617) 555-0142",
        "617.555.0142",
        "+1 617 555 0142",
        "MRN0042187",
        "mrn0042187",
    ],
)
def test_finds_by_name_part_birth_date_phone_or_mrn(client, make_user, jones, others, text):
    signed_in(client, make_user())

    response = client.post(RESULTS_URL, {"q": text}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert _result_links(html) == [reverse("patients:detail", args=[jones.public_id])]
    assert "Robert Jones" in html
    assert "1951-03-14" in html
    assert "MRN0042187" in html


def test_result_shows_age_sex_and_deceased_marker(client, make_user, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 13, 15, tzinfo=dt.UTC))
    PatientFactory.create(
        family_name="Lund", search_name="eva lund", given_names="Eva", sex="female"
    )
    PatientFactory.create(
        family_name="Lund", search_name="olaf lund", given_names="Olaf", is_deceased=True
    )
    signed_in(client, make_user())

    html = client.post(RESULTS_URL, {"q": "lund"}, headers=HTMX).content.decode()

    eva, olaf = html.split("<tr>")[2:4]
    assert "Eva Lund" in eva
    assert "· 74 y" in eva  # birthday (14 March) is tomorrow
    assert "Female" in eva
    assert "Deceased" not in eva
    assert "Olaf Lund" in olaf
    assert "Deceased" in olaf
    assert " y<" not in olaf  # no age for the deceased: it would be wrong


def test_too_short_text_shows_the_hint_not_an_error(client, make_user):
    signed_in(client, make_user())

    response = client.post(RESULTS_URL, {"q": "j"}, headers=HTMX)

    assert response.status_code == 200
    assert "Type at least 2 characters" in response.content.decode()
    assert audit_rows(action="search") == []


def test_no_match_says_so(client, make_user, jones):
    signed_in(client, make_user())

    html = client.post(RESULTS_URL, {"q": "zzyzx"}, headers=HTMX).content.decode()

    assert "No patient matches." in html
    assert _result_links(html) == []


def test_search_is_audited_without_the_text(client, make_user, jones):
    user = make_user()
    signed_in(client, user)

    client.post(RESULTS_URL, {"q": "jones 3/14/51"}, headers=HTMX)

    event = AuditEvent.objects.get(action="search")
    assert (event.actor_id, event.resource_type, event.patient_id) == (user.pk, "Patient", None)
    assert event.details == {
        "criteria": ["name", "birth_date"],
        "results": 1,
        "patients": [str(jones.public_id)],
    }
    serialized = json.dumps(linked_fields(event))
    for fragment in ("jones", "3/14/51", "1951"):
        assert fragment not in serialized.lower()


def test_results_and_their_links_carry_no_search_text(client, make_user, jones):
    signed_in(client, make_user())

    html = client.post(RESULTS_URL, {"q": "617 555 0142"}, headers=HTMX).content.decode()

    urls = re.findall(r'(?:href|hx-get|hx-post|action)="([^"]*)"', html)
    assert urls == [reverse("patients:detail", args=[jones.public_id])]
    assert all("617" not in url and "555" not in url for url in urls)


def test_without_javascript_the_form_posts_to_the_page_itself(client, make_user, jones):
    signed_in(client, make_user())

    response = client.post(SEARCH_URL, {"q": "jones"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert _result_links(html) == [reverse("patients:detail", args=[jones.public_id])]
    assert 'value="jones"' in html


def test_results_endpoint_refuses_get(client, make_user):
    signed_in(client, make_user())

    assert client.get(RESULTS_URL).status_code == 405
