"""Messaging fixtures: the templates every purpose used in the tests needs, patients with
numbers, and a system actor."""

from __future__ import annotations

import pytest

from careline.messaging.models import MessageTemplate
from careline.platform import clock
from careline.platform.actors import Actor

REMINDER_SMS = (
    "{org_name}: {first_name}, visit {appointment_date} {appointment_time} at {location_name}. "
    "Reply C to confirm. Call {org_phone}"
)


@pytest.fixture
def templates(db):
    now = clock.now()
    rows = [
        ("appointment_reminder", "sms", "transactional", "", REMINDER_SMS),
        (
            "appointment_reminder",
            "email",
            "transactional",
            "Your visit",
            "Dear {first_name}, your visit is on {appointment_date}. {org_name} {org_phone}",
        ),
        (
            "appointment_reminder",
            "portal",
            "transactional",
            "Your visit",
            "Visit {appointment_date}: {visit_type}. {preparation}",
        ),
        ("campaign", "sms", "marketing", "", "{org_name}: flu shots now. Call {org_phone}"),
    ]
    made = {}
    for purpose, channel, category, subject, body in rows:
        earlier = MessageTemplate.objects.filter(purpose=purpose, channel=channel, language="en")
        version = earlier.count() + 1
        earlier.update(is_active=False)  # the default templates (migration 0002) step aside
        made[(purpose, channel)] = MessageTemplate.objects.create(
            purpose=purpose,
            channel=channel,
            category=category,
            subject=subject,
            body=body,
            version=version,
            created_at=now,
        )
    return made


@pytest.fixture
def system_actor():
    return Actor.system("test")


@pytest.fixture(autouse=True)
def _messaging_settings(settings):
    """Demo sinks on every channel, no pacing (pacing tests set their own rates)."""
    settings.CARELINE_MESSAGING_RATES = ""
    settings.CARELINE_MESSAGING_ADAPTERS = (
        "email=careline.messaging.channels.sink.EmailSinkAdapter,"
        "sms=careline.messaging.channels.sink.SmsSinkAdapter,"
        "portal=careline.messaging.channels.portal.PortalAdapter"
    )
    settings.CARELINE_MESSAGING_RETRY_BASE_SECONDS = 30
    settings.CARELINE_MESSAGING_MAX_ATTEMPTS = 3
