"""Contact values with bidi controls or C0/C1 control characters are refused (422, the field
named) on the staff page and in the API alike: the service applies ``platform.text``'s rule."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from careline.patients.models import ContactPoint
from careline.patients.tests.ui_support import HTMX, patient_in_scope_of, signed_in
from careline.platform.actors import Actor
from careline.platform.models import AuditEvent
from careline.platform.permissions import Role
from careline.platform.services import issue_api_token
from careline.testing.factories import ContactPointFactory

pytestmark = pytest.mark.django_db

OVERRIDE_MESSAGE = (
    "The value contains an invisible control character (U+202E) that can disguise how it "
    "reads; remove it."
)


@pytest.fixture
def scheduler(make_user):
    return make_user(Role.SCHEDULER)


@pytest.fixture
def patient(scheduler):
    return patient_in_scope_of(scheduler, given_names="Robert", family_name="Jones")


@pytest.fixture
def api(scheduler) -> Client:
    secret = issue_api_token(actor=Actor.system("test"), user=scheduler, name="t").secret
    return Client(headers={"Authorization": f"Bearer {secret}"})


def send(client: Client, method: str, path: str, body: dict[str, str]):
    return client.generic(method, path, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    ("system", "value", "message"),
    [
        ("other", "@robert\u202eeno", OVERRIDE_MESSAGE),
        ("email", "robert\u2066@example.org", OVERRIDE_MESSAGE.replace("U+202E", "U+2066")),
        ("phone", "617 555\x850142", OVERRIDE_MESSAGE.replace("U+202E", "U+0085")),
        (
            "other",
            "a\x00b\x1bc",
            "The value contains invisible control characters (U+0000, U+001B) that can "
            "disguise how it reads; remove them.",
        ),
    ],
    ids=["override", "isolate-in-email", "c1-in-phone", "c0"],
)
def test_api_refuses_a_new_contact_value_naming_the_field(api, patient, system, value, message):
    events_before = AuditEvent.objects.count()

    response = send(
        api,
        "POST",
        f"/api/patients/{patient.public_id}/contact-points",
        {"system": system, "value": value},
    )

    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "validation_failed",
            "message": f"The request is invalid — value: {message}",
            "details": [{"loc": ["body", "value"], "msg": message}],
        }
    }
    assert not ContactPoint.objects.exists()
    assert AuditEvent.objects.count() == events_before


def test_api_refuses_a_corrected_value_and_keeps_the_old_one(api, patient):
    contact = ContactPointFactory.create(patient=patient, system="other", value="@robert")

    response = send(
        api,
        "PATCH",
        f"/api/patients/{patient.public_id}/contact-points/{contact.public_id}",
        {"value": "@trebor\u202e"},
    )

    assert response.status_code == 422
    assert response.json()["error"]["details"] == [
        {"loc": ["body", "value"], "msg": OVERRIDE_MESSAGE}
    ]
    contact.refresh_from_db()
    assert contact.value == "@robert"


def test_page_shows_the_message_next_to_the_value_and_saves_nothing(
    client, scheduler, patient, settings
):
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    signed_in(client, scheduler)

    response = client.post(
        reverse("patients:add_contact", args=[patient.public_id]),
        {"system": "other", "value": "@robert\u202eeno"},
        headers=HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert OVERRIDE_MESSAGE in html
    assert not ContactPoint.objects.exists()


def test_page_refuses_a_corrected_value(client, scheduler, patient, settings):
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    signed_in(client, scheduler)
    contact = ContactPointFactory.create(patient=patient, system="other", value="@robert")

    response = client.post(
        reverse("patients:update_contact", args=[patient.public_id, contact.public_id]),
        {"value": "@trebor\u2067x"},
        headers=HTMX,
    )

    assert response.status_code == 422
    assert OVERRIDE_MESSAGE.replace("U+202E", "U+2067") in response.content.decode()
    contact.refresh_from_db()
    assert contact.value == "@robert"


def test_a_right_to_left_value_with_ordinary_direction_marks_is_kept(api, patient):
    value = "\u05d3\u05d5\u05d3\u200f @ \u0645\u062d\u0645\u062f\u061c"

    response = send(
        api,
        "POST",
        f"/api/patients/{patient.public_id}/contact-points",
        {"system": "other", "value": value},
    )

    assert response.status_code == 201
    assert ContactPoint.objects.get().value == value
