"""The facade's HTTP behaviour: metadata from the registry, formats, methods, no 500 on any
input (hypothesis over the search parameters)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careline.interop.fhir.rest.patient import PARAMETERS
from careline.interop.tests.fhir_rest.conftest import BASE, FhirCaller
from careline.interop.tests.fhir_rest.helpers import fhir_body, outcome

pytestmark = pytest.mark.django_db


def test_metadata_states_exactly_the_registry() -> None:
    response = Client().get("/fhir/R4/metadata")
    body = fhir_body(response, "CapabilityStatement")
    (rest,) = body["rest"]
    (patient,) = rest["resource"]
    assert patient["type"] == "Patient"
    assert [p["name"] for p in patient["searchParam"]] == [
        "_id",
        "_lastUpdated",
        "identifier",
        "name",
        "family",
        "given",
        "birthdate",
        "gender",
        "phone",
        "email",
        "address-postalcode",
    ]
    assert [p["name"] for p in patient["searchParam"]] == [p.name for p in PARAMETERS]
    assert [i["code"] for i in patient["interaction"]] == ["read", "search-type"]
    assert body["fhirVersion"] == "4.0.1"
    assert body["implementation"]["url"] == BASE
    assert "handling=strict" in rest["documentation"]


def test_xml_is_a_406(scheduler: FhirCaller) -> None:
    assert outcome(scheduler.get("Patient", Accept="application/fhir+xml"), 406)["code"] == (
        "not-supported"
    )
    outcome(scheduler.get("Patient?_format=xml"), 406)
    fhir_body(scheduler.get("Patient", Accept="application/fhir+json"), "Bundle")
    fhir_body(scheduler.get("Patient?_format=json"), "Bundle")


def test_post_search_needs_a_form_body(scheduler: FhirCaller) -> None:
    response = scheduler.client.post(
        "/fhir/R4/Patient/_search",
        data='{"family": "x"}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {scheduler.token}"},
    )
    assert outcome(response, 415)["code"] == "not-supported"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", "Patient/7f1c6e1e-0000-4000-8000-000000000000"),
        ("delete", "Patient/7f1c6e1e-0000-4000-8000-000000000000"),
        ("post", "Patient"),
        ("get", "Patient/_search"),
        ("post", "metadata"),
    ],
)
def test_other_methods_are_a_405(scheduler: FhirCaller, method: str, path: str) -> None:
    response = getattr(scheduler.client, method)(
        f"/fhir/R4/{path}", headers={"Authorization": f"Bearer {scheduler.token}"}
    )
    assert outcome(response, 405)["code"] == "not-supported"
    assert response["Allow"] in ("GET", "POST")


@pytest.mark.parametrize("path", ["Spaceship", "Spaceship/1", "Patient/1/2/3", "patient"])
def test_unknown_types_and_paths_are_a_404(scheduler: FhirCaller, path: str) -> None:
    assert outcome(scheduler.get(path), 404)["code"] == "not-found"


_NAMES = st.sampled_from(
    [p.name for p in PARAMETERS]
    + ["name:exact", "name:contains", "family:missing", "_count", "_summary", "_cursor", "x"]
)
_VALUES = st.one_of(
    st.text(max_size=40),
    st.from_regex(
        r"(eq|ne|lt|gt|ge|le|sa|eb|ap)?\d{1,5}(-\d{1,3}){0,2}(T\d\d:\d\d(Z|[+-]\d\d:\d\d)?)?",
        fullmatch=True,
    ),
    st.from_regex(r"[a-z:/.]{0,12}\|[A-Za-z0-9,\\|]{0,12}", fullmatch=True),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=st.lists(st.tuples(_NAMES, _VALUES), max_size=4), strict=st.booleans())
def test_no_input_makes_a_500(
    scheduler: FhirCaller, params: list[tuple[str, str]], strict: bool
) -> None:
    headers: dict[str, Any] = {"Prefer": "handling=strict"} if strict else {}
    response = scheduler.get(f"Patient?{urlencode(params)}", **headers)
    assert response.status_code in (200, 400), (params, response.content[:300])
    fhir_body(response, "Bundle" if response.status_code == 200 else "OperationOutcome")


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer cl_nope", "Bearer " + "cl_" + "x" * 300]
)
def test_a_bad_authorization_header_is_a_401(header: str) -> None:
    response = Client().get("/fhir/R4/Patient", headers={"Authorization": header})
    assert outcome(response, 401)["code"] == "login"


def test_too_many_parameters_is_a_400_not_a_500(scheduler: FhirCaller) -> None:
    query = "&".join(f"x{n}=1" for n in range(1200))
    assert outcome(scheduler.get(f"Patient?{query}"), 400)["code"] == "invalid"
