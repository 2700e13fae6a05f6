"""The authorization matrix of every self-scheduling page: anonymous, staff, the patient
herself, a proxy with and without the "appointments" scope, another patient's account — and
the patient's own address with another patient's appointment or hold in it. Every refusal
changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from careline.patients.models import Patient
from careline.platform.models import AuditEvent, User
from careline.portal.models import PortalLink, Relationship
from careline.portal.tests.conftest import client_for
from careline.scheduling import services
from careline.scheduling.models import Appointment, Hold
from careline.testing.scheduling import NOW, Clinic, at, make_clinic, make_visit_type

pytestmark = pytest.mark.django_db

WEDNESDAY, THURSDAY = dt.date(2026, 6, 3), dt.date(2026, 6, 4)


@dataclass
class World:
    clinic: Clinic
    other: Patient
    owner: User
    proxy: User
    proxy_without_scope: User
    other_owner: User
    request_type_id: Any
    ids: dict[str, Any]  # "appointment", "hold" (the patient's); "other_appointment", …


@pytest.fixture
def world(
    db: None, make_account: Callable[..., User], make_link: Callable[..., PortalLink]
) -> Iterator[World]:
    with time_machine.travel(NOW, tick=False):
        clinic = make_clinic(portal_booking="self", name="Check-up")
        other = clinic.new_patient(given_names="Zelda", family_name="Zimmerman")
        owner, proxy = make_account("own@example.org"), make_account("proxy@example.org")
        no_scope, other_owner = make_account("ns@example.org"), make_account("zz@example.org")
        make_link(owner, clinic.patient)
        make_link(proxy, clinic.patient, Relationship.PROXY)
        make_link(no_scope, clinic.patient, Relationship.PROXY, scopes=["messages"])
        make_link(other_owner, other)
        request_type = make_visit_type(name="Therapy evaluation", portal_booking="request")
        ids = {}
        for key, patient, hour in (("", clinic.patient, 9), ("other_", other, 10)):
            [appointment] = services.book_appointment(
                **clinic.booking(at(WEDNESDAY, hour), patient_id=patient.public_id)
            )
            hold = services.hold_slot(
                actor=clinic.actor,
                visit_type_id=clinic.visit_type.public_id,
                practitioner_id=clinic.practitioner.public_id,
                location_id=clinic.location.public_id,
                starts_at=at(THURSDAY, hour + 4),
                patient_id=patient.public_id,
            )
            ids[f"{key}appointment"], ids[f"{key}hold"] = appointment.public_id, hold.public_id
        yield World(clinic, other, owner, proxy, no_scope, other_owner, request_type.public_id, ids)


# (url name, method, object key in ``World.ids`` or "visit_type"/"request_type", own status)
PAGES = [
    ("choose_visit", "get", None, 200),
    ("choose_slot", "get", "visit_type", 200),
    ("hold", "post", "visit_type", 302),
    ("request_visit", "get", "request_type", 200),
    ("confirm", "get", "hold", 200),
    ("appointment", "get", "appointment", 200),
    ("appointment_ics", "get", "appointment", 200),
    ("cancel_appointment", "post", "appointment", 302),
]


def _object(world: World, key: str | None, prefix: str = "") -> list[Any]:
    if key is None:
        return []
    if key == "visit_type":
        return [world.clinic.visit_type.public_id]
    if key == "request_type":
        return [world.request_type_id]
    return [world.ids[f"{prefix}{key}"]]


def _call(
    client: Client, world: World, page: tuple[Any, ...], patient: Patient, prefix: str = ""
) -> Any:
    name, method, key, _ = page
    address = reverse(f"portal:{name}", args=[patient.public_id, *_object(world, key, prefix)])
    data = {
        "practitioner_id": str(world.clinic.practitioner.public_id),
        "location_id": str(world.clinic.location.public_id),
        "starts_at": at(THURSDAY, 9).strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    with time_machine.travel(NOW, tick=False):
        return getattr(client, method)(address, data if method == "post" else None)


def _state() -> tuple[Any, ...]:
    return (
        tuple(Appointment.objects.order_by("pk").values_list("status", flat=True)),
        tuple(Hold.objects.order_by("pk").values_list("public_id", flat=True)),
    )


@pytest.mark.parametrize("page", PAGES, ids=[page[0] for page in PAGES])
@pytest.mark.parametrize("who", ["owner", "proxy"])
def test_the_patient_and_a_proxy_with_the_scope_may(world: World, page: Any, who: str) -> None:
    response = _call(client_for(getattr(world, who)), world, page, world.clinic.patient)

    assert response.status_code == page[3], response.content.decode()[:500]
    assert "Zimmerman" not in response.content.decode()
    actor_entries = AuditEvent.objects.filter(actor=getattr(world, who), channel="portal")
    assert actor_entries.filter(outcome="success").exists()


@pytest.mark.parametrize("page", PAGES, ids=[page[0] for page in PAGES])
@pytest.mark.parametrize("who", ["proxy_without_scope", "other_owner"])
def test_a_proxy_without_the_scope_and_another_patient_get_not_found(
    world: World, page: Any, who: str
) -> None:
    before = _state()

    response = _call(client_for(getattr(world, who)), world, page, world.clinic.patient)

    assert response.status_code == 404
    assert _state() == before
    denied = AuditEvent.objects.filter(actor=getattr(world, who), action="access_denied")
    assert denied.count() == 1
    assert denied.get().patient_id == world.clinic.patient.public_id


@pytest.mark.parametrize(
    "page", [page for page in PAGES if page[2] in ("hold", "appointment")], ids=lambda p: p[0]
)
def test_another_patients_appointment_or_hold_under_her_own_address_is_not_found(
    world: World, page: Any
) -> None:
    before = _state()

    response = _call(client_for(world.owner), world, page, world.clinic.patient, "other_")

    assert response.status_code == 404
    assert "Zimmerman" not in response.content.decode()
    assert _state() == before


@pytest.mark.parametrize("page", PAGES, ids=[page[0] for page in PAGES])
def test_anonymous_goes_to_the_portal_sign_in_and_staff_are_refused(
    world: World, page: Any, settings: Any
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    before = _state()
    staff = Client()
    staff.force_login(world.clinic.scheduler)

    anonymous = _call(Client(), world, page, world.clinic.patient)
    refused = _call(staff, world, page, world.clinic.patient)

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("portal:login"))
    assert refused.status_code == 403
    assert _state() == before
