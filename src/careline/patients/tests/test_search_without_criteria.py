"""A search whose text normalises to nothing (emoji, zero-width spaces, BOMs, bidi controls …)
has no usable criterion: it is refused like a too-short one — by the selector, so the page
and the API answer alike — and never lists patients."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careline.patients.selectors import search_patients
from careline.patients.tests.ui_support import HTMX, signed_in
from careline.platform.actors import Actor
from careline.platform.errors import ValidationFailed
from careline.platform.models import AuditEvent, User
from careline.platform.permissions import Role
from careline.platform.services import issue_api_token
from careline.testing.factories import PatientFactory

USUAL_MESSAGE = "Type at least 2 characters of a name, a birth date, a phone number or an MRN."
# Characters that carry no letter or digit once a name is normalised for search.
EMOJI = "😀🎉👍🙂🩺❤"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060"
BYTE_ORDER_MARK = "\ufeff"
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
OTHER_INVISIBLE = "\u0301\u0308\u00ad\x00\x07\x1b\x7f\x85\x9b"
NOTHING = EMOJI + ZERO_WIDTH + BYTE_ORDER_MARK + BIDI_CONTROLS + OTHER_INVISIBLE

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(make_user, actor_for):
    PatientFactory.create(given_names="Aaron", family_name="Abbott", search_name="abbott aaron")
    return actor_for(make_user(Role.CONTACT_CENTER_AGENT))


@pytest.mark.parametrize(
    "text",
    ["😀😀", "\u200b\u200b", "\ufeff\ufeff", "\u202e\u202e", "\u2066\u2069", "🙂 \u200b"],
    ids=["emoji", "zero-width-spaces", "boms", "bidi-overrides", "isolates", "mixed"],
)
def test_a_query_without_criteria_is_refused_with_the_usual_message(agent, text):
    with pytest.raises(ValidationFailed) as refused:
        search_patients(actor=agent, text=text)

    assert refused.value.message == USUAL_MESSAGE
    assert AuditEvent.objects.count() == 0


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    noise=st.text(alphabet=st.sampled_from(NOTHING), min_size=2, max_size=40),
    separator=st.sampled_from(["", " ", "  "]),
)
def test_any_text_that_normalises_to_nothing_lists_no_one(agent, noise, separator):
    text = separator.join(noise)

    with pytest.raises(ValidationFailed) as refused:
        search_patients(actor=agent, text=text)

    assert refused.value.message == USUAL_MESSAGE
    assert AuditEvent.objects.count() == 0


def test_one_letter_among_invisible_characters_is_still_too_short(agent):
    with pytest.raises(ValidationFailed, match="at least 2 characters"):
        search_patients(actor=agent, text="a\u200b\u200b😀")


def test_a_name_wrapped_in_invisible_characters_is_still_found(agent):
    hits = search_patients(actor=agent, text="\ufeff\u200babbott\u202c")

    assert [hit.display_name for hit in hits] == ["Aaron Abbott"]


def test_the_page_shows_the_usual_hint_and_lists_no_one(client, agent, settings):
    settings.CARELINE_REQUIRE_STAFF_MFA = False
    signed_in(client, User.objects.get(role=Role.CONTACT_CENTER_AGENT))

    response = client.post(reverse("patients:search_results"), {"q": "\u200b\u200b"}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert USUAL_MESSAGE in html
    assert "Abbott" not in html
    assert AuditEvent.objects.filter(action="search").count() == 0


def test_the_api_answers_422_with_the_usual_message(agent):
    user = User.objects.get(role=Role.CONTACT_CENTER_AGENT)
    secret = issue_api_token(actor=Actor.system("test"), user=user, name="t").secret
    client = Client(headers={"Authorization": f"Bearer {secret}"})

    response = client.post(
        "/api/patients/search", json.dumps({"q": "😀😀"}), content_type="application/json"
    )

    assert response.status_code == 422
    assert response.json() == {
        "error": {"code": "validation_failed", "message": USUAL_MESSAGE, "details": None}
    }
    assert AuditEvent.objects.filter(action="search").count() == 0
