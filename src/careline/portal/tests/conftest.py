"""Personas for the portal's tests: a patient with an email on file, portal accounts (own
record, proxy, unlinked), and a client signed in as each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache
from django.test import Client

from careline.patients.models import Patient
from careline.platform.models import User, UserKind
from careline.portal.models import LinkMethod, PortalLink, Relationship
from careline.testing.factories import (
    TEST_PASSWORD,
    ContactPointFactory,
    PatientFactory,
    RelatedPersonFactory,
)

NOW = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """allauth counts failed sign-ins in the cache; each test starts from none."""
    cache.clear()


@pytest.fixture
def make_account(db: None) -> Callable[..., User]:
    def make(email: str, *, verified: bool = True) -> User:
        user = User.objects.create_user(
            username=f"portal-{email.split('@')[0]}",
            email=email,
            password=TEST_PASSWORD,
            kind=UserKind.PORTAL,
            role="",
        )
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=verified)
        return user

    return make


@pytest.fixture
def make_link() -> Callable[..., PortalLink]:
    def make(
        account: User, patient: Patient, relationship: str = Relationship.SELF, **fields: Any
    ) -> PortalLink:
        defaults: dict[str, Any] = {
            "method": LinkMethod.INVITATION,
            "created_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        }
        if relationship == Relationship.PROXY:
            defaults["scopes"] = ["appointments"]
        return PortalLink.objects.create(
            account=account,
            patient_id=str(patient.public_id),
            relationship=relationship,
            **{**defaults, **fields},
        )

    return make


@pytest.fixture
def ada(db: None) -> Patient:
    """Ada Lovelace, born 1951-03-14, with an email and a caregiver marked as a proxy."""
    patient: Patient = PatientFactory.create(
        given_names="Ada",
        family_name="Lovelace",
        search_name="lovelace ada",
        birth_date=dt.date(1951, 3, 14),
    )
    ContactPointFactory.create(patient=patient, system="email", value="ada@example.org", use="home")
    RelatedPersonFactory.create(
        patient=patient,
        name="Byron Lovelace",
        relationship="Son",
        is_proxy=True,
        email="byron@example.org",
    )
    return patient


@pytest.fixture
def grace(db: None) -> Patient:
    patient: Patient = PatientFactory.create(
        given_names="Grace",
        family_name="Hopper",
        search_name="hopper grace",
        birth_date=dt.date(1946, 12, 9),
    )
    ContactPointFactory.create(
        patient=patient, system="email", value="grace@example.org", use="home"
    )
    return patient


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
