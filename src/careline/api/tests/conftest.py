"""API personas: staff users with bearer tokens, patients in and out of their scope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from careline.api.tests.helpers import ApiCaller
from careline.patients.models import Patient
from careline.platform.actors import Actor
from careline.platform.models import AuditEvent, User
from careline.platform.permissions import Role
from careline.platform.services import issue_api_token
from careline.testing.factories import LocationFactory, PatientFactory


@pytest.fixture
def home_location(db: None) -> Any:
    return LocationFactory.create(name="Harbor Clinic")


@pytest.fixture
def other_location(db: None) -> Any:
    return LocationFactory.create(name="Hilltop Clinic")


@pytest.fixture
def caller_for(make_user: Callable[..., User], home_location: Any) -> Callable[..., ApiCaller]:
    """A token for a user of ``role`` working at the home location."""

    def make(role: str = Role.SCHEDULER, **fields: Any) -> ApiCaller:
        user = make_user(role=role, **fields)
        user.locations.add(home_location)
        issued = issue_api_token(actor=Actor.system("test"), user=user, name=f"{role} token")
        return ApiCaller(user=user, token=issued.secret)

    return make


@pytest.fixture
def scheduler(caller_for: Callable[..., ApiCaller]) -> ApiCaller:
    return caller_for(Role.SCHEDULER)


@pytest.fixture
def patient(home_location: Any) -> Patient:
    """A patient of the home location: in the scheduler's scope."""
    return PatientFactory.create(
        given_names="Robert",
        family_name="Zebrowski",
        mrn="MRN7000001",
        primary_location=home_location,
        ssn="123-45-6789",
    )


@pytest.fixture
def outside_patient(other_location: Any) -> Patient:
    """A patient of another location: outside the scheduler's scope."""
    return PatientFactory.create(
        given_names="Ottilie",
        family_name="Quennell",
        mrn="MRN7000002",
        primary_location=other_location,
        ssn="987-65-4321",
    )


@pytest.fixture
def api_client() -> Client:
    return Client()


@pytest.fixture
def last_audit() -> Callable[[], AuditEvent | None]:
    def last() -> AuditEvent | None:
        return AuditEvent.objects.order_by("-sequence").first()

    return last


@pytest.fixture
def no_mfa_required(settings: Any) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False
