"""The waitlist on the portal: a patient (or a proxy with the "appointments" scope) sees her
open entries with the offer out, joins a waitlist through the service staff use (its rules,
its audit, its timeline; only self-schedulable visit types, at the routine priority) and
leaves one. Refusals are shown beside the field; every refusal changes nothing. The 360
card, the API summary and the portal list show the same entries."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from careline.patients.models import Patient, TimelineEvent
from careline.platform.actors import Actor
from careline.platform.models import AuditChannel, AuditEvent, User
from careline.platform.services import issue_api_token
from careline.portal.models import PortalLink, Relationship
from careline.portal.tests.conftest import client_for
from careline.scheduling.errors import SelfServiceRefused
from careline.scheduling.models import Appointment, RedFlagList
from careline.scheduling.waitlist import services as waitlist
from careline.scheduling.waitlist.models import WaitlistEntry, WaitlistPriority
from careline.testing.scheduling import (
    NOW,
    TUESDAY,
    Clinic,
    at,
    make_clinic,
    make_visit_type,
    waitlist_with_offer,
)

pytestmark = pytest.mark.django_db


@dataclass
class World:
    clinic: Clinic
    other: Patient
    owner: User
    proxy: User
    proxy_without_scope: User
    other_owner: User
    entry: WaitlistEntry  # the patient's, with an offer out
    other_entry: WaitlistEntry  # another patient's


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):  # Monday 1 June 2026, 08:00 in New York
        yield


@pytest.fixture
def world(
    frozen: None, make_account: Callable[..., User], make_link: Callable[..., PortalLink]
) -> World:
    clinic = make_clinic(portal_booking="self", name="Check-up")
    other = clinic.new_patient(given_names="Zelda", family_name="Zimmerman")
    owner, proxy = make_account("own@example.org"), make_account("proxy@example.org")
    no_scope, other_owner = make_account("ns@example.org"), make_account("zz@example.org")
    make_link(owner, clinic.patient)
    make_link(proxy, clinic.patient, Relationship.PROXY)
    make_link(no_scope, clinic.patient, Relationship.PROXY, scopes=["messages"])
    make_link(other_owner, other)
    entry = waitlist_with_offer(clinic, at(TUESDAY, 9))
    other_entry = waitlist.join_waitlist(
        actor=clinic.actor,
        patient_id=other.public_id,
        visit_type_id=clinic.visit_type.public_id,
        earliest_date=TUESDAY,
        latest_date=TUESDAY + dt.timedelta(days=3),
    )
    return World(clinic, other, owner, proxy, no_scope, other_owner, entry, other_entry)


def join_data(visit_type: Any, **changes: Any) -> dict[str, str]:
    data = {
        "visit_type_id": str(visit_type.public_id),
        "location_id": "",
        "practitioner_id": "",
        "earliest_date": "2026-06-03",
        "latest_date": "2026-06-20",
        "earliest_time": "",
        "latest_time": "",
    }
    return {**data, **changes}


def join_url(patient: Patient) -> str:
    return reverse("portal:waitlist_join", args=[patient.public_id])


def leave_url(patient: Patient, entry: WaitlistEntry) -> str:
    return reverse("portal:waitlist_leave", args=[patient.public_id, entry.public_id])


def home(client: Client, patient: Patient) -> str:
    response = client.get(reverse("portal:patient_home", args=[patient.public_id]))
    assert response.status_code == 200
    return response.content.decode()


def open_entries() -> list[tuple[int, str, str]]:
    rows = WaitlistEntry.objects.order_by("pk").values_list(
        "patient_id", "visit_type__name", "status"
    )
    return list(rows)


# --- seeing, joining, leaving ---------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "proxy"])
def test_she_and_a_proxy_with_the_scope_see_the_open_entries_with_the_offer(
    world: World, who: str
) -> None:
    html = home(client_for(getattr(world, who)), world.clinic.patient)

    assert 'Check-up <span class="muted">· Offered a slot</span>' in html
    assert "Between June 2 and June 9, 2026" in html
    assert "Any provider, any location" in html
    assert (
        "Tuesday, June 2, 2026, 9:00 AM</time> with Dr. Ana Lopez at Harbor Clinic. The offer is "
        'open until <time datetime="2026-06-01T08:15:00-04:00">8:15 AM</time>'
    ) in html
    assert "Leave the Check-up waitlist" in html
    assert "Zimmerman" not in html


def test_a_proxy_without_the_scope_sees_no_waitlist(world: World) -> None:
    html = home(client_for(world.proxy_without_scope), world.clinic.patient)
    assert "Waitlist" not in html
    assert "Check-up" not in html


def test_the_join_form_offers_only_self_schedulable_visit_types(world: World) -> None:
    make_visit_type(name="Therapy evaluation", portal_booking="request")
    make_visit_type(name="CT with contrast", portal_booking="none")
    make_visit_type(name="Flu shot", portal_booking="self")

    response = client_for(world.owner).get(join_url(world.clinic.patient))

    assert response.status_code == 200
    options = re.findall(
        r'<option value="[^"]+">([^<]+)</option>',
        response.content.decode().split('name="visit_type_id"')[1].split("</select>")[0],
    )
    assert options == ["Check-up", "Flu shot"]


def test_she_joins_through_the_staff_service_audited_and_on_the_timeline(world: World) -> None:
    flu = make_visit_type(name="Flu shot", portal_booking="self", duration_minutes=15)
    data = join_data(
        flu,
        location_id=str(world.clinic.location.public_id),
        practitioner_id=str(world.clinic.practitioner.public_id),
        earliest_time="13:00",
        latest_time="17:00",
    )

    client = client_for(world.owner)
    response = client.post(join_url(world.clinic.patient), data)

    assert response.status_code == 302
    assert response["Location"] == reverse(
        "portal:patient_home", args=[world.clinic.patient.public_id]
    )
    entry = WaitlistEntry.objects.get(visit_type=flu)
    assert (entry.patient, entry.location, entry.practitioner) == (
        world.clinic.patient,
        world.clinic.location,
        world.clinic.practitioner,
    )
    assert (entry.earliest_date, entry.latest_date) == (dt.date(2026, 6, 3), dt.date(2026, 6, 20))
    assert (entry.earliest_time, entry.latest_time) == (dt.time(13), dt.time(17))
    assert (entry.priority, entry.status, entry.created_by) == (
        WaitlistPriority.ROUTINE,
        "active",
        world.owner,
    )
    created = AuditEvent.objects.get(
        action="create", resource_type="WaitlistEntry", actor=world.owner
    )
    assert (created.actor, created.channel, created.resource_id, created.patient_id) == (
        world.owner,
        AuditChannel.PORTAL,
        str(entry.public_id),
        world.clinic.patient.public_id,
    )
    assert TimelineEvent.objects.filter(
        patient=world.clinic.patient,
        title="Joined the waitlist for Flu shot (03 Jun to 20 Jun 2026)",
    ).exists()
    html = home(client, world.clinic.patient)
    assert "You are on the waitlist for Flu shot. We will offer you a time" in html
    assert "Between June 3 and June 20, 2026, not before 1:00 PM and finished by 5:00 PM" in html
    assert "With Dr. Ana Lopez at Harbor Clinic" in html


def test_a_proxy_with_the_scope_joins_for_her(world: World) -> None:
    flu = make_visit_type(name="Flu shot", portal_booking="self")
    response = client_for(world.proxy).post(join_url(world.clinic.patient), join_data(flu))
    assert response.status_code == 302
    entry = WaitlistEntry.objects.get(visit_type=flu)
    assert (entry.patient, entry.created_by) == (world.clinic.patient, world.proxy)


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        (
            {"latest_date": "2026-06-02"},
            422,
            "latest_date must be on or after earliest_date.",
        ),
        (
            {"earliest_date": "2026-05-01", "latest_date": "2026-05-20"},
            422,
            "The window has already passed.",
        ),
        (
            {"earliest_time": "15:00", "latest_time": "10:00"},
            422,
            "latest_time must be after earliest_time.",
        ),
        ({"earliest_date": "next week"}, 422, "Enter a valid date."),
        ({"visit_type_id": "not-a-visit"}, 422, "Select a valid choice."),
    ],
    ids=["dates-reversed", "past", "times-reversed", "bad-date", "bad-visit"],
)
def test_a_wrong_answer_is_shown_beside_the_field_and_changes_nothing(
    world: World, changes: dict[str, str], status: int, message: str
) -> None:
    flu = make_visit_type(name="Flu shot", portal_booking="self")
    before = open_entries()

    response = client_for(world.owner).post(
        join_url(world.clinic.patient), join_data(flu, **changes)
    )

    assert response.status_code == status
    html = response.content.decode()
    assert f'<p class="field__error" role="alert">{message}' in html
    assert open_entries() == before


def test_joining_twice_says_she_is_already_waiting(world: World) -> None:
    before = open_entries()
    response = client_for(world.owner).post(
        join_url(world.clinic.patient), join_data(world.clinic.visit_type)
    )
    assert response.status_code == 409
    assert "The patient is already on the waitlist for Check-up." in response.content.decode()
    assert open_entries() == before


def test_a_criterion_refusal_names_the_rule(world: World) -> None:
    children = make_visit_type(name="Child check-up", portal_booking="self", max_age_years=17)
    response = client_for(world.owner).post(join_url(world.clinic.patient), join_data(children))
    assert response.status_code == 422
    assert (
        '<div class="notice notice--error" role="alert">\n    <p>Child check-up is for patients '
        "aged 17 or younger.</p>"
    ) in response.content.decode()
    assert not WaitlistEntry.objects.filter(visit_type=children).exists()


def test_the_service_holds_a_portal_account_to_self_schedulable_types_and_routine_priority(
    world: World,
) -> None:
    actor = Actor(user=world.owner, channel=AuditChannel.PORTAL, remote_addr="127.0.0.1")
    request_only = make_visit_type(name="Therapy evaluation", portal_booking="request")
    common: dict[str, Any] = {
        "actor": actor,
        "patient_id": world.clinic.patient.public_id,
        "earliest_date": TUESDAY,
        "latest_date": TUESDAY + dt.timedelta(days=7),
    }
    with pytest.raises(SelfServiceRefused) as not_on_portal:
        waitlist.join_waitlist(visit_type_id=request_only.public_id, **common)
    flu = make_visit_type(name="Flu shot", portal_booking="self")
    with pytest.raises(SelfServiceRefused) as urgent:
        waitlist.join_waitlist(
            visit_type_id=flu.public_id, priority=WaitlistPriority.URGENT, **common
        )

    assert not_on_portal.value.message == (
        "The portal's waitlist is for visits you book yourself; Therapy evaluation is booked by "
        "the clinic. Please call the clinic to be put on its waitlist."
    )
    assert not_on_portal.value.details["rule"] == "visit_type.portal_booking"
    assert urgent.value.details["rule"] == "portal.waitlist_priority"
    assert not WaitlistEntry.objects.filter(visit_type__in=[request_only, flu]).exists()


def test_staff_may_still_waitlist_a_visit_not_on_the_portal_at_any_priority(world: World) -> None:
    request_only = make_visit_type(name="Therapy evaluation", portal_booking="request")
    entry = waitlist.join_waitlist(
        actor=world.clinic.actor,
        patient_id=world.clinic.patient.public_id,
        visit_type_id=request_only.public_id,
        earliest_date=TUESDAY,
        latest_date=TUESDAY + dt.timedelta(days=7),
        priority=WaitlistPriority.URGENT,
    )
    assert entry.priority == WaitlistPriority.URGENT


@pytest.mark.parametrize("who", ["owner", "proxy"])
def test_she_leaves_a_waitlist_and_the_offer_is_withdrawn(world: World, who: str) -> None:
    account = getattr(world, who)
    response = client_for(account).post(leave_url(world.clinic.patient, world.entry))

    assert response.status_code == 302
    world.entry.refresh_from_db()
    assert (world.entry.status, world.entry.removed_reason) == ("removed", "patient_request")
    assert list(world.entry.offers.values_list("status", flat=True)) == ["withdrawn"]
    updated = AuditEvent.objects.get(action="update", resource_type="WaitlistEntry")
    assert (updated.actor, updated.channel) == (account, AuditChannel.PORTAL)
    assert "You are not on a waitlist." in home(client_for(account), world.clinic.patient)


# --- authorization ----------------------------------------------------------------------------


def _state() -> list[tuple[int, str, str]]:
    return open_entries()


@pytest.mark.parametrize("who", ["proxy_without_scope", "other_owner"])
@pytest.mark.parametrize("method", ["get_join", "post_join", "post_leave"])
def test_a_proxy_without_the_scope_and_another_patient_get_not_found(
    world: World, who: str, method: str
) -> None:
    client, patient = client_for(getattr(world, who)), world.clinic.patient
    before = _state()

    if method == "get_join":
        response = client.get(join_url(patient))
    elif method == "post_join":
        response = client.post(join_url(patient), join_data(world.clinic.visit_type))
    else:
        response = client.post(leave_url(patient, world.entry))

    assert response.status_code == 404
    assert _state() == before
    denied = AuditEvent.objects.filter(actor=getattr(world, who), action="access_denied")
    assert [row.patient_id for row in denied] == [patient.public_id]


def test_another_patients_entry_under_her_own_address_is_not_found(world: World) -> None:
    before = _state()
    response = client_for(world.owner).post(leave_url(world.clinic.patient, world.other_entry))
    assert response.status_code == 404
    assert "Zimmerman" not in response.content.decode()
    assert _state() == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_goes_to_sign_in_and_staff_are_refused(
    world: World, method: str, settings: Any
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    before = _state()
    staff = Client()
    staff.force_login(world.clinic.scheduler)
    url = join_url(world.clinic.patient)
    data = join_data(world.clinic.visit_type) if method == "post" else None

    anonymous = getattr(Client(), method)(url, data)
    refused = getattr(staff, method)(url, data)

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("portal:login"))
    assert refused.status_code == 403
    assert _state() == before


# --- the same entries on every surface ------------------------------------------------------


def test_the_360_card_the_api_summary_and_the_portal_show_the_same_entries(
    world: World, settings: Any
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    flu = make_visit_type(name="Flu shot", portal_booking="self")
    client_for(world.owner).post(join_url(world.clinic.patient), join_data(flu))
    removed = make_visit_type(name="Annual physical", portal_booking="self")
    client_for(world.owner).post(join_url(world.clinic.patient), join_data(removed))
    gone = WaitlistEntry.objects.get(visit_type=removed)
    client_for(world.owner).post(leave_url(world.clinic.patient, gone))
    patient_id = world.clinic.patient.public_id

    staff = Client()
    staff.force_login(world.clinic.scheduler)
    card = staff.get(
        reverse("scheduling:patient_appointments", args=[patient_id]),
        headers={"HX-Request": "true"},
    ).content.decode()
    token = issue_api_token(actor=Actor.system("t"), user=world.clinic.scheduler, name="t").secret
    summary = Client().get(
        f"/api/patients/{patient_id}/summary", headers={"Authorization": f"Bearer {token}"}
    )
    portal = home(client_for(world.owner), world.clinic.patient)

    from_api = [
        (row["visit_type_name"], row["status"], row["offer"] is not None)
        for row in summary.json()["appointments"]["waitlist"]
    ]
    assert from_api == [("Check-up", "offered", True), ("Flu shot", "active", False)]
    waitlist_portal = portal.split('id="waitlist-title"')[1]
    portal_rows = re.findall(
        r'visit__what">([^<]+?) <span class="muted">· ([^<]+)<', waitlist_portal
    )
    labels = {"offered": "Offered a slot", "active": "Waiting"}
    expected = [(name, labels[status]) for name, status, _ in from_api]
    waitlist_card = card.split('id="waitlist-heading"')[1]
    card_rows = re.findall(r'row__value">([^·<]+?) ·.*?status">([^<]+)<', waitlist_card)
    assert card_rows == expected
    assert portal_rows == expected
    offers = [flag for *_, flag in from_api]
    assert [
        ("Offered " in chunk) for chunk in waitlist_card.split('<li class="row">')[1:]
    ] == offers
    assert "Annual physical" not in card + str(summary.json()["appointments"]) + waitlist_portal


def test_the_slot_page_leads_to_the_waitlist_form_with_the_visit_chosen(world: World) -> None:
    client = client_for(world.owner)
    visit_type_id = world.clinic.visit_type.public_id
    slots = client.get(
        reverse("portal:choose_slot", args=[world.clinic.patient.public_id, visit_type_id])
    ).content.decode()
    link = f"{join_url(world.clinic.patient)}?visit_type={visit_type_id}"
    assert f'<a href="{link}">Join the waitlist for Check-up</a>' in slots

    form = client.get(link).content.decode()

    assert f'<option value="{visit_type_id}" selected>Check-up</option>' in form


# --- answering an offer -----------------------------------------------------------------------


def offer_url(patient: Patient, entry: WaitlistEntry) -> str:
    offer = entry.offers.get()
    return reverse("portal:waitlist_offer", args=[patient.public_id, offer.public_id])


def test_the_home_page_links_her_to_the_offer(world: World) -> None:
    html = home(client_for(world.owner), world.clinic.patient)
    assert f'href="{offer_url(world.clinic.patient, world.entry)}">Answer the offer</a>' in html


@pytest.mark.parametrize("who", ["owner", "proxy"])
def test_she_takes_the_offered_time_and_the_visit_is_booked(world: World, who: str) -> None:
    client, patient = client_for(getattr(world, who)), world.clinic.patient
    url = offer_url(patient, world.entry)

    page = client.get(url)
    taken = client.post(url, {"answer": "accept"})

    assert page.status_code == 200
    assert "Tuesday, June 2, 2026, 9:00 AM" in page.content.decode()
    assert taken.status_code == 302
    appointment = Appointment.objects.get(patient=patient, status="booked")
    assert taken["Location"] == reverse(
        "portal:appointment", args=[patient.public_id, appointment.public_id]
    )
    assert appointment.starts_at == at(TUESDAY, 9)
    world.entry.refresh_from_db()
    assert world.entry.status == "booked"
    assert list(world.entry.offers.values_list("status", flat=True)) == ["accepted"]
    answered = AuditEvent.objects.get(action="update", resource_type="WaitlistOffer")
    assert (answered.actor, answered.channel) == (getattr(world, who), AuditChannel.PORTAL)


def test_she_says_no_and_stays_on_the_list(world: World) -> None:
    response = client_for(world.owner).post(
        offer_url(world.clinic.patient, world.entry), {"answer": "decline"}
    )

    assert response.status_code == 302
    world.entry.refresh_from_db()
    assert world.entry.status == "active"
    assert list(world.entry.offers.values_list("status", flat=True)) == ["declined"]
    assert not Appointment.objects.filter(patient=world.clinic.patient).exists()
    declined = AuditEvent.objects.get(action="update", resource_type="WaitlistOffer")
    assert (declined.actor, declined.channel) == (world.owner, AuditChannel.PORTAL)


def test_the_safety_screen_comes_first_and_a_yes_stops_the_booking(world: World) -> None:
    RedFlagList.objects.create(
        code="chest",
        name="Chest symptoms",
        questions=[{"code": "chest_pain", "text": "Do you have chest pain now?"}],
        advice="Call the nurse line at 555-0100 now.",
    )
    visit_type = world.clinic.visit_type
    visit_type.requires_safety_screen, visit_type.safety_screen_code = True, "chest"
    visit_type.save()
    client, url = client_for(world.owner), offer_url(world.clinic.patient, world.entry)

    question = client.get(url)
    unanswered = client.post(url, {"answer": "accept"})
    stopped = client.post(url, {"answer": "accept", "flag_chest_pain": "yes"})

    assert "Do you have chest pain now?" in question.content.decode()
    assert unanswered.status_code == 422
    assert "Answer yes or no." in unanswered.content.decode()
    assert stopped.status_code == 422
    assert "Call the nurse line at 555-0100 now." in stopped.content.decode()
    assert not Appointment.objects.filter(patient=world.clinic.patient).exists()
    assert list(world.entry.offers.values_list("status", flat=True)) == ["pending"]


def test_an_offer_already_answered_is_not_found_with_the_reason(world: World) -> None:
    url = offer_url(world.clinic.patient, world.entry)
    offer = world.entry.offers.get()
    waitlist.accept_offer(actor=world.clinic.actor, offer_id=offer.public_id)  # staff took it

    response = client_for(world.owner).get(url)

    assert response.status_code == 404
    assert "That offer is no longer open." in response.content.decode()


@pytest.mark.parametrize("who", ["proxy_without_scope", "other_owner"])
@pytest.mark.parametrize("answer", ["", "accept", "decline"])
def test_someone_without_the_right_gets_not_found_and_nothing_changes(
    world: World, who: str, answer: str
) -> None:
    client, url = client_for(getattr(world, who)), offer_url(world.clinic.patient, world.entry)

    response = client.post(url, {"answer": answer}) if answer else client.get(url)

    assert response.status_code == 404
    assert list(world.entry.offers.values_list("status", flat=True)) == ["pending"]
    assert not Appointment.objects.filter(patient=world.clinic.patient).exists()
    denied = AuditEvent.objects.filter(actor=getattr(world, who), action="access_denied")
    assert [row.patient_id for row in denied] == [world.clinic.patient.public_id]


def test_another_patients_offer_under_her_own_address_is_not_found(world: World) -> None:
    waitlist.remove_from_waitlist(
        actor=world.clinic.actor, entry_id=world.other_entry.public_id, reason="other"
    )
    others = waitlist_with_offer(world.clinic, at(TUESDAY, 10), patient=world.other)
    offer = others.offers.get()
    url = reverse("portal:waitlist_offer", args=[world.clinic.patient.public_id, offer.public_id])

    response = client_for(world.owner).post(url, {"answer": "accept"})

    assert response.status_code == 404
    assert list(others.offers.values_list("status", flat=True)) == ["pending"]
