"""FHIR facade personas: token holders in and out of scope, hand-made patients."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from careline.patients.models import Patient
from careline.patients.normalize import search_name
from careline.platform.actors import Actor
from careline.platform.models import User
from careline.platform.permissions import Role
from careline.platform.services import issue_api_token
from careline.testing.factories import LocationFactory, PatientFactory

BASE = "https://fhir.example.org/fhir/R4"


@dataclass(frozen=True)
class FhirCaller:
    user: User
    token: str
    client: Client

    def get(self, path: str, **headers: str) -> Any:
        return self.client.get(f"/fhir/R4/{path}", headers=self._headers(headers))

    def post_search(self, path: str, data: dict[str, Any], **headers: str) -> Any:
        return self.client.post(
            f"/fhir/R4/{path}",
            data=urlencode(data, doseq=True),
            content_type="application/x-www-form-urlencoded",
            headers=self._headers(headers),
        )

    def _headers(self, extra: dict[str, str]) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}


@pytest.fixture(autouse=True)
def fhir_base_url(settings: Any) -> None:
    settings.CARELINE_FHIR_BASE_URL = BASE


@pytest.fixture
def home_location(db: None) -> Any:
    return LocationFactory.create(name="Harbor Clinic")


@pytest.fixture
def other_location(db: None) -> Any:
    return LocationFactory.create(name="Hilltop Clinic")


@pytest.fixture
def caller_for(make_user: Callable[..., User], home_location: Any) -> Callable[..., FhirCaller]:
    def make(role: str = Role.SCHEDULER, **fields: Any) -> FhirCaller:
        user = make_user(role=role, **fields)
        user.locations.add(home_location)
        issued = issue_api_token(actor=Actor.system("test"), user=user, name=f"{role} token")
        return FhirCaller(user=user, token=issued.secret, client=Client())

    return make


@pytest.fixture
def scheduler(caller_for: Callable[..., FhirCaller]) -> FhirCaller:
    return caller_for(Role.SCHEDULER)


@pytest.fixture
def make_patient(home_location: Any) -> Callable[..., Patient]:
    """A patient of the home location (in the scheduler's scope) unless told otherwise."""

    def make(**fields: Any) -> Patient:
        fields.setdefault("primary_location", home_location)
        patient: Patient = PatientFactory.create(**fields)
        # The registry's own search key (the factory's default is not the real rule).
        patient.search_name = search_name(patient.given_names, patient.family_name)
        patient.save(update_fields=["search_name"])
        return patient

    return make
