"""The registry routes (/api/patients/…): what they answer, what they store, what they audit.

The authorization matrix of every route is in ``careline/api/tests``; these tests drive one
permitted scheduler (a bearer token) through each route's behaviour.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from careline.patients.models import (
    CommunicationPreference,
    Consent,
    ConsentPurpose,
    ContactPoint,
    Patient,
    TimelineEvent,
)
from careline.patients.selectors import decode_timeline_cursor, encode_timeline_cursor
from careline.platform.actors import Actor
from careline.platform.models import AuditEvent, BreakGlassAccess, User
from careline.platform.permissions import Role
from careline.platform.services import issue_api_token
from careline.testing.factories import (
    RECEIVED,
    ContactPointFactory,
    LocationFactory,
    PatientFactory,
    TimelineEventFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def location() -> Any:
    return LocationFactory.create()


@pytest.fixture
def scheduler(location: Any) -> User:
    user: User = UserFactory.create(role=Role.SCHEDULER)
    user.locations.add(location)
    return user


@pytest.fixture
def client(scheduler: User) -> Client:
    """A client that sends the scheduler's bearer token with every request."""
    secret = issue_api_token(actor=Actor.system("test"), user=scheduler, name="t").secret
    return Client(headers={"Authorization": f"Bearer {secret}"})


@pytest.fixture
def patient(location: Any) -> Patient:
    patient: Patient = PatientFactory.create(
        given_names="Robert",
        family_name="Zebrowski",
        mrn="MRN7000001",
        primary_location=location,
        ssn="123-45-6789",
    )
    return patient


def post(client: Client, path: str, body: Any, method: str = "POST") -> Any:
    return client.generic(method, path, json.dumps(body), content_type="application/json")


def error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    result: dict[str, Any] = body["error"]
    return result


def last_event() -> AuditEvent:
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event is not None
    return event


# --- search -----------------------------------------------------------------------------------


def test_search_takes_the_text_in_the_body_and_audits_no_value(
    client: Client, patient: Patient
) -> None:
    PatientFactory.create(given_names="Alice", family_name="Other")

    response = post(client, "/api/patients/search", {"q": "zebrowski"})

    assert response.status_code == 200
    assert response.json() == [
        {
            "public_id": str(patient.public_id),
            "name": "Robert Zebrowski",
            "birth_date": "1951-03-14",
            "sex": "male",
            "mrn": "MRN7000001",
            "is_deceased": False,
        }
    ]
    event = last_event()
    assert (event.action, event.resource_type, event.patient_id) == ("search", "Patient", None)
    assert event.details == {
        "criteria": ["name"],
        "results": 1,
        "patients": [str(patient.public_id)],
    }
    assert "zebrowski" not in json.dumps(event.details).lower()


def test_search_by_query_string_is_not_a_route(client: Client) -> None:
    response = client.get("/api/patients/search?q=zebrowski")

    assert response.status_code == 405
    assert error(response)["code"] == "method_not_allowed"


def test_search_with_too_short_text_is_422(client: Client) -> None:
    response = post(client, "/api/patients/search", {"q": "z"})

    assert response.status_code == 422
    assert error(response)["code"] == "validation_failed"


def test_search_without_q_names_the_missing_field(client: Client) -> None:
    response = post(client, "/api/patients/search", {})

    assert response.status_code == 422
    details = error(response)["details"]
    assert details == [{"loc": ["body", "q"], "msg": "Field required"}]


# --- one patient ------------------------------------------------------------------------------


def test_get_patient_answers_demographics_without_ssn_or_integer_ids(
    client: Client, patient: Patient
) -> None:
    response = client.get(f"/api/patients/{patient.public_id}")

    assert response.status_code == 200
    body = response.json()
    assert body["public_id"] == str(patient.public_id)
    assert body["name"] == "Robert Zebrowski"
    assert body["birth_date"] == "1951-03-14"
    assert patient.primary_location is not None
    assert body["primary_location"]["public_id"] == str(patient.primary_location.public_id)
    assert body["received_at"] == "2026-01-02T03:04:05Z"
    text = response.content.decode()
    assert "ssn" not in text.lower()
    assert "123-45-6789" not in text
    assert "id" not in body and "pk" not in body
    assert str(patient.pk) not in {str(value) for value in body.values()}


def test_unknown_patient_is_404(client: Client) -> None:
    response = client.get(f"/api/patients/{uuid.uuid4()}")

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"


def test_a_malformed_patient_id_is_an_unknown_route(client: Client) -> None:
    response = client.get("/api/patients/12")

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"


# --- timeline ---------------------------------------------------------------------------------


def test_timeline_pages_backwards_with_next_cursor(client: Client, patient: Patient) -> None:
    events = [
        TimelineEventFactory.create(patient=patient, occurred_at=RECEIVED - timedelta(days=day))
        for day in range(5)
    ]
    url = f"/api/patients/{patient.public_id}/timeline"

    first = client.get(url, {"limit": 2}).json()
    second = client.get(url, {"limit": 2, "cursor": first["next_cursor"]}).json()
    last = client.get(url, {"limit": 2, "cursor": second["next_cursor"]}).json()

    seen = [e["public_id"] for page in (first, second, last) for e in page["events"]]
    assert seen == [str(event.public_id) for event in events]
    assert first["next_cursor"] == encode_timeline_cursor(events[1])
    assert re.fullmatch(r"[A-Za-z0-9_-]+", first["next_cursor"])  # URL-safe as it is
    assert last["next_cursor"] is None
    assert set(first["events"][0]) == {
        "public_id",
        "kind",
        "occurred_at",
        "title",
        "detail",
        "actor_label",
        "source_system",
        "received_at",
    }


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def test_timeline_cursor_holds_only_a_time_and_an_event_id(patient: Patient) -> None:
    event = TimelineEventFactory.create(patient=patient, title="Called about a refill")

    cursor = encode_timeline_cursor(event)

    assert decode_timeline_cursor(cursor) == (event.occurred_at, event.public_id)
    decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    assert decoded == f"{event.occurred_at.isoformat()}|{event.public_id}"


def test_timeline_paging_shows_events_sharing_a_time_exactly_once(
    client: Client, patient: Patient
) -> None:
    # 30 events, 10 of them at one instant that falls inside the second page of 7.
    shared = RECEIVED - timedelta(days=10)
    times = [RECEIVED - timedelta(days=day) for day in range(1, 10)]  # 9 newer
    times += [shared] * 10
    times += [shared - timedelta(days=day) for day in range(1, 12)]  # 11 older
    for index, occurred_at in enumerate(times):
        TimelineEventFactory.create(patient=patient, occurred_at=occurred_at, title=f"E{index}")
    newest_first = list(
        TimelineEvent.objects.filter(patient=patient)
        .order_by("-occurred_at", "-public_id")
        .values_list("title", flat=True)
    )
    url = f"/api/patients/{patient.public_id}/timeline"

    pages, cursor = [], None
    while True:
        query: dict[str, Any] = {"limit": 7} | ({"cursor": cursor} if cursor else {})
        response = client.get(url, query)
        assert response.status_code == 200
        body = response.json()
        pages.append([event["title"] for event in body["events"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert [len(page) for page in pages] == [7, 7, 7, 7, 2]
    assert [title for page in pages for title in page] == newest_first
    assert sorted(newest_first) == sorted(f"E{index}" for index in range(30))


def test_timeline_cursor_keeps_the_filters(client: Client, patient: Patient) -> None:
    shared = RECEIVED - timedelta(days=3)
    calls = [
        TimelineEventFactory.create(patient=patient, kind="call", occurred_at=shared)
        for _ in range(3)
    ]
    TimelineEventFactory.create(patient=patient, kind="message", occurred_at=shared)
    TimelineEventFactory.create(patient=patient, kind="call", occurred_at=RECEIVED)  # after until
    url = f"/api/patients/{patient.public_id}/timeline"
    filters: dict[str, Any] = {"kind": "call", "until": "2026-01-01T00:00:00Z", "limit": 2}

    first = client.get(url, filters).json()
    second = client.get(url, {**filters, "cursor": first["next_cursor"]}).json()

    seen = [e["public_id"] for page in (first, second) for e in page["events"]]
    assert seen == sorted((str(call.public_id) for call in calls), reverse=True)
    assert second["next_cursor"] is None


EVENT_ID = "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e"


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not-a-cursor", id="not-base64-of-a-cursor"),
        pytest.param("%%%", id="not-base64"),
        pytest.param(_b64("2026-01-01T00:00:00+00:00|not-a-uuid"), id="bad-uuid"),
        pytest.param(_b64(f"2026-01-01T00:00:00|{EVENT_ID}"), id="naive-time"),
        pytest.param(_b64(f"yesterday|{EVENT_ID}"), id="bad-time"),
        pytest.param("QUJD" * 40, id="too-long"),
    ],
)
def test_timeline_refuses_a_malformed_cursor_with_422(
    client: Client, patient: Patient, cursor: str
) -> None:
    events_before = AuditEvent.objects.count()

    response = client.get(f"/api/patients/{patient.public_id}/timeline", {"cursor": cursor})

    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "validation_failed",
            "message": "The page cursor is not valid; start from the first page.",
            "details": [
                {
                    "loc": ["query", "cursor"],
                    "msg": "The page cursor is not valid; start from the first page.",
                }
            ],
        }
    }
    assert AuditEvent.objects.count() == events_before  # nothing was read


def test_timeline_filters_by_kind_and_time(client: Client, patient: Patient) -> None:
    TimelineEventFactory.create(
        patient=patient, kind="call", occurred_at=RECEIVED - timedelta(days=1)
    )
    wanted = TimelineEventFactory.create(
        patient=patient, kind="message", occurred_at=RECEIVED - timedelta(days=2)
    )
    TimelineEventFactory.create(
        patient=patient, kind="message", occurred_at=RECEIVED - timedelta(days=9)
    )

    response = client.get(
        f"/api/patients/{patient.public_id}/timeline",
        {"kind": ["message", "survey"], "since": "2025-12-25T00:00:00Z"},
    )

    assert response.status_code == 200
    assert [e["public_id"] for e in response.json()["events"]] == [str(wanted.public_id)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"kind": "gossip"}, "kind"),
        ({"since": "2026-01-01T00:00:00"}, "since"),  # naive: which clock?
        ({"until": "0001-01-01T00:00:00+14:00"}, "until"),  # before year 1 in UTC
        ({"until": "1700000000"}, "until"),  # seconds are not an instant's text
    ],
)
def test_timeline_rejects_bad_filters_with_422(
    client: Client, patient: Patient, query: dict[str, Any], field: str
) -> None:
    response = client.get(f"/api/patients/{patient.public_id}/timeline", query)

    assert response.status_code == 422
    assert error(response)["details"][0]["loc"][:2] == ["query", field]


# --- contact points ---------------------------------------------------------------------------


def test_add_contact_point_stores_the_phone_in_e164(client: Client, patient: Patient) -> None:
    response = post(
        client,
        f"/api/patients/{patient.public_id}/contact-points",
        {"system": "phone", "value": "(617) 555-0123", "use": "mobile"},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["value"] == "+16175550123"
    assert body["source_system"] == "careline"
    contact = ContactPoint.objects.get(public_id=body["public_id"])
    assert contact.patient_id == patient.pk and contact.value == "+16175550123"
    event = last_event()
    assert (event.action, event.resource_type, event.resource_id, event.patient_id) == (
        "create",
        "ContactPoint",
        body["public_id"],
        patient.public_id,
    )


def test_update_contact_point_normalises_the_phone(client: Client, patient: Patient) -> None:
    contact = ContactPointFactory.create(patient=patient, value="+16175550142")

    response = post(
        client,
        f"/api/patients/{patient.public_id}/contact-points/{contact.public_id}",
        {"value": "617.555.0199"},
        method="PATCH",
    )

    assert response.status_code == 200
    assert response.json()["value"] == "+16175550199"
    contact.refresh_from_db()
    assert contact.value == "+16175550199"
    event = last_event()
    assert (event.action, event.resource_type, event.patient_id) == (
        "update",
        "ContactPoint",
        patient.public_id,
    )
    assert event.details == {"fields": ["value"]}


def test_invalid_phone_is_422_naming_the_field(client: Client, patient: Patient) -> None:
    contact = ContactPointFactory.create(patient=patient, value="+16175550142")
    events_before = AuditEvent.objects.count()

    response = post(
        client,
        f"/api/patients/{patient.public_id}/contact-points/{contact.public_id}",
        {"value": "12"},
        method="PATCH",
    )

    assert response.status_code == 422
    body = error(response)
    assert body["code"] == "validation_failed"
    assert body["message"].startswith("value: ")
    assert body["details"][0]["loc"] == ["body", "value"]
    contact.refresh_from_db()
    assert contact.value == "+16175550142"
    assert AuditEvent.objects.count() == events_before


def test_patch_of_another_patients_contact_point_is_404_and_changes_nothing(
    client: Client, patient: Patient, location: Any
) -> None:
    other = PatientFactory.create(primary_location=location)
    foreign = ContactPointFactory.create(patient=other, value="+16175550111")

    response = post(
        client,
        f"/api/patients/{patient.public_id}/contact-points/{foreign.public_id}",
        {"value": "617-555-0122"},
        method="PATCH",
    )

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"
    foreign.refresh_from_db()
    assert (foreign.value, foreign.patient_id) == ("+16175550111", other.pk)


def test_remove_contact_point_deactivates_it_once(client: Client, patient: Patient) -> None:
    contact = ContactPointFactory.create(patient=patient)
    url = f"/api/patients/{patient.public_id}/contact-points/{contact.public_id}"

    first = client.delete(url)
    second = client.delete(url)

    assert first.status_code == 204 and first.content == b""
    assert second.status_code == 404
    contact.refresh_from_db()
    assert contact.is_active is False


def test_unknown_contact_system_lists_the_allowed_ones(client: Client, patient: Patient) -> None:
    response = post(
        client,
        f"/api/patients/{patient.public_id}/contact-points",
        {"system": "pager", "value": "123"},
    )

    assert response.status_code == 422
    message = error(response)["message"]
    for system in ("phone", "email", "sms", "fax", "other"):
        assert system in message
    assert ContactPoint.objects.count() == 0


# --- preferences and consents -----------------------------------------------------------------


def test_put_communication_preference_replaces_it(client: Client, patient: Patient) -> None:
    url = f"/api/patients/{patient.public_id}/communication-preference"
    body = {
        "preferred_channel": "sms",
        "language": "es",
        "quiet_hours_start": "21:00:00",
        "quiet_hours_end": "08:00:00",
        "time_zone": "America/Chicago",
    }

    response = post(client, url, body, method="PUT")

    assert response.status_code == 200
    answer = response.json()
    assert {key: answer[key] for key in body} == body
    assert answer["source_system"] == "careline"
    preference = CommunicationPreference.objects.get(patient=patient)
    assert preference.preferred_channel == "sms" and preference.time_zone == "America/Chicago"
    event = last_event()
    assert (event.action, event.resource_type, event.patient_id) == (
        "update",
        "CommunicationPreference",
        patient.public_id,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"quiet_hours_start": "21:00"}, "quiet_hours_end"),
        ({"preferred_channel": "pigeon"}, "preferred_channel"),
        ({"quiet_hours_start": "21:00Z", "quiet_hours_end": "08:00Z"}, "quiet_hours_start"),
        ({"quiet_hours_start": 75600, "quiet_hours_end": 28800}, "quiet_hours_start"),
    ],
)
def test_invalid_preference_is_422_naming_the_field(
    client: Client, patient: Patient, body: dict[str, Any], field: str
) -> None:
    response = post(
        client, f"/api/patients/{patient.public_id}/communication-preference", body, method="PUT"
    )

    assert response.status_code == 422
    assert field in json.dumps(error(response)["details"])
    assert not CommunicationPreference.objects.exists()


def test_record_consent(client: Client, patient: Patient) -> None:
    response = post(
        client,
        f"/api/patients/{patient.public_id}/consents",
        {"purpose": "marketing", "status": "rejected", "description": "Said no on the phone"},
    )

    assert response.status_code == 201
    consent = Consent.objects.get(public_id=response.json()["public_id"])
    assert (consent.purpose, consent.status, consent.patient_id) == (
        "marketing",
        "rejected",
        patient.pk,
    )
    event = last_event()
    assert (event.action, event.resource_type, event.resource_id, event.patient_id) == (
        "create",
        "Consent",
        str(consent.public_id),
        patient.public_id,
    )
    assert TimelineEvent.objects.filter(patient=patient, kind="consent_change").count() == 1


def test_consent_with_an_unknown_purpose_lists_the_allowed_values(
    client: Client, patient: Patient
) -> None:
    response = post(
        client,
        f"/api/patients/{patient.public_id}/consents",
        {"purpose": "telepathy", "status": "active"},
    )

    assert response.status_code == 422
    body = error(response)
    assert body["details"][0]["loc"] == ["body", "purpose"]
    for purpose in ConsentPurpose.values:
        assert f"'{purpose}'" in body["message"]
    assert "telepathy" not in response.content.decode()
    assert not Consent.objects.exists()


# --- break-glass ------------------------------------------------------------------------------


def test_break_glass_needs_a_real_reason(client: Client, patient: Patient) -> None:
    response = post(client, f"/api/patients/{patient.public_id}/break-glass", {"reason": "x"})

    assert response.status_code == 422
    assert error(response)["details"][0]["loc"] == ["body", "reason"]
    assert not BreakGlassAccess.objects.exists()


def test_break_glass_on_an_unknown_patient_is_404(client: Client) -> None:
    response = post(
        client, f"/api/patients/{uuid.uuid4()}/break-glass", {"reason": "Chest pain on the line"}
    )

    assert response.status_code == 404
