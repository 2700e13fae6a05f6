"""The default templates pass the channel whitelist and keep texts under the TCPA limits."""

from __future__ import annotations

import importlib

from careline.messaging.rendering import check_template, render

DEFAULTS = importlib.import_module("careline.messaging.migrations.0002_default_templates")


def test_every_default_template_uses_only_its_channels_variables():
    for _purpose, channel, _category, subject, body in DEFAULTS.TEMPLATES:
        check_template(channel=channel, subject=subject, body=body)


def test_default_texts_name_us_and_a_contact_and_stay_under_160_characters():
    context = {
        "org_name": "Careline Health",
        "org_phone": "555-0100",
        "first_name": "Roberta",
        "appointment_date": "Mon Jun 12",
        "appointment_time": "10:30",
        "location_name": "Main Street Clinic",
        "offer_link": "https://c.example/o/abc123",
    }
    for purpose, channel, _category, subject, body in DEFAULTS.TEMPLATES:
        if channel != "sms" or purpose.startswith("program_"):
            continue
        text = render(channel="sms", subject=subject, body=body, context=context).body
        assert len(text) < 160, (purpose, len(text))
        assert "Careline Health" in text and "555-0100" in text, purpose
