"""The staff sign-in page: no sign-up invitation; says why after an inactivity logoff."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_sign_in_page_does_not_invite_sign_up(client: Client) -> None:
    page = client.get("/accounts/login/").content.decode()

    assert "sign up" not in page.lower()
    assert "staff account your administrator gave you" in page


def test_after_an_inactivity_logoff_the_page_says_so(client: Client) -> None:
    page = client.get("/accounts/login/?timed_out=1").content.decode()

    assert "signed out after a period of inactivity" in page
