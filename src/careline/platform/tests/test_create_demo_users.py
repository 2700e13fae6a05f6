"""``careline create_demo_users``: one staff user per role, idempotent."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command

from careline.platform.models import AuditAction, AuditEvent, User
from careline.platform.permissions import Role

pytestmark = pytest.mark.django_db

USERNAMES = [
    "admin",
    "scheduler",
    "scheduling-lead",
    "contact-center-agent",
    "nurse",
    "care-manager",
    "marketer",
    "liaison",
    "executive",
    "compliance",
    "integration",
]


def make_location(name: str) -> Any:
    location_model = apps.get_model("directory", "Location")
    return location_model.objects.create(
        name=name,
        source_system="urn:test:ehr",
        source_id=name,
        received_at="2026-01-02T03:04:05Z",
        content_hash="0" * 64,
        raw={},
    )


def run() -> str:
    out = io.StringIO()
    call_command("create_demo_users", stdout=out)
    return out.getvalue()


def test_demo_mode_gives_every_role_a_user_with_the_demo_password(settings: Any) -> None:
    settings.DEMO_MODE = True
    harbor, hilltop = make_location("Harbor Clinic"), make_location("Hilltop Clinic")

    output = run()

    users = {user.username: user for user in User.objects.all()}
    assert sorted(users) == sorted(USERNAMES)
    assert users["contact-center-agent"].role == Role.CONTACT_CENTER_AGENT
    for user in users.values():
        assert user.check_password("careline-demo")
        assert user.username in output
    assert output.count("careline-demo") == len(USERNAMES)
    assert "Contact-center agent" in output
    assert users["scheduling-lead"].role == Role.SCHEDULING_LEAD
    assert "Scheduling lead" in output
    for username in ("scheduler", "scheduling-lead", "nurse", "care-manager"):
        assert set(users[username].locations.all()) == {harbor, hilltop}
    assert list(users["marketer"].locations.all()) == []
    assert (users["admin"].is_staff, users["scheduler"].is_staff) == (True, False)
    created = AuditEvent.objects.filter(action=AuditAction.CREATE, resource_type="User")
    assert created.count() == len(USERNAMES)


def test_outside_demo_mode_passwords_are_random_and_shown_once(settings: Any) -> None:
    settings.DEMO_MODE = False

    output = run()

    assert "careline-demo" not in output
    nurse = User.objects.get(username="nurse")
    [row] = [line for line in output.splitlines() if " nurse " in line]
    password = row.split("│")[3].strip()
    assert len(password) == 16
    assert nurse.check_password(password)
    assert not nurse.check_password("careline-demo")
    assert "These passwords are shown once. Staff must set up MFA at sign-in." in output


def test_running_again_resets_nothing(settings: Any) -> None:
    settings.DEMO_MODE = True
    run()
    nurse = User.objects.get(username="nurse")
    nurse.set_password("my own long passphrase")
    nurse.save(update_fields=["password"])
    clinic = make_location("New Clinic")

    output = run()

    assert User.objects.count() == len(USERNAMES)
    nurse.refresh_from_db()
    assert nurse.check_password("my own long passphrase")
    assert "careline-demo" not in output
    assert output.count("(exists; unchanged)") == len(USERNAMES)
    assert clinic in nurse.locations.all()  # new locations are added, nothing is taken away
    assert AuditEvent.objects.filter(resource_type="User").count() == len(USERNAMES)
