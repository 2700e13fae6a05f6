"""Versions of one resource from one source: the registry follows the last one received.

Staff edits (rows Careline owns) are never touched by a re-import.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careline.identity.models import SourceLink
from careline.interop.importer import import_fhir_payload
from careline.interop.tests.test_import_support import MRN_TYPE, SOURCE, patient, system_actor
from careline.patients.models import CARELINE_SOURCE, ContactPoint, Patient, PatientIdentifier
from careline.patients.services import add_contact_point

pytestmark = pytest.mark.django_db
_numbers = itertools.count(1)


def _send(resource: dict[str, Any]) -> dict[str, dict[str, int]]:
    result = import_fhir_payload(
        actor=system_actor(),
        payload=json.dumps(resource).encode(),
        content_type="application/fhir+json",
        source_system=SOURCE,
    )
    assert result.rejections == []
    return result.summary


def test_a_reimport_without_identifiers_drops_them() -> None:
    _send(patient("p1"))
    with_none = patient("p1")
    del with_none["identifier"]

    summary = _send(with_none)

    assert summary["Patient"]["updated"] == 1
    assert not PatientIdentifier.objects.filter(patient__source_links__source_id="p1").exists()
    assert SourceLink.objects.get(source_id="p1").raw == with_none


def test_a_reimport_without_telecoms_drops_the_imported_ones_only() -> None:
    _send(patient("p1", telecom=[{"system": "phone", "value": "(617) 555-0142"}]))
    owner = Patient.objects.get(source_links__source_id="p1")
    add_contact_point(
        actor=system_actor(), patient_id=owner.public_id, system="email", value="a@example.org"
    )

    _send(patient("p1"))

    assert list(
        ContactPoint.objects.filter(patient=owner).values_list("source_system", "value")
    ) == [(CARELINE_SOURCE, "a@example.org")]


_identifiers = st.lists(st.sampled_from(["urn:a", "urn:b", "urn:c"]), unique=True, max_size=3)
_telecoms = st.lists(
    st.sampled_from(["(617) 555-0101", "(617) 555-0102", "a@example.org"]), unique=True, max_size=3
)
_version = st.fixed_dictionaries(
    {
        "family": st.sampled_from(["Núñez", "Okafor", "Lindqvist"]),
        "identifiers": _identifiers,
        "telecoms": _telecoms,
        "has_mrn": st.booleans(),
    }
)


def _resource(resource_id: str, version: dict[str, Any]) -> dict[str, Any]:
    identifiers: list[dict[str, Any]] = [
        {"system": system, "value": f"{system}-{resource_id}"} for system in version["identifiers"]
    ]
    if version["has_mrn"]:
        identifiers.append({"type": MRN_TYPE, "system": "urn:mrn", "value": f"M-{resource_id}"})
    telecoms = [
        {"system": "email" if "@" in value else "phone", "value": value}
        for value in version["telecoms"]
    ]
    resource = patient(resource_id, telecom=telecoms, identifier=identifiers)
    resource["name"][0]["family"] = version["family"]
    return {key: value for key, value in resource.items() if value != []}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(versions=st.lists(_version, min_size=1, max_size=4))
def test_any_sequence_of_versions_converges_to_the_last(versions: list[dict[str, Any]]) -> None:
    resource_id = f"v{next(_numbers)}"
    _send(_resource(resource_id, versions[0]))
    owner = Patient.objects.get(source_links__source_id=resource_id)
    add_contact_point(
        actor=system_actor(), patient_id=owner.public_id, system="phone", value="617 555 0199"
    )

    for version in versions[1:]:
        _send(_resource(resource_id, version))

    last = versions[-1]
    owner.refresh_from_db()
    expected_identifiers = {(system, f"{system}-{resource_id}") for system in last["identifiers"]}
    if last["has_mrn"]:
        expected_identifiers.add(("urn:mrn", f"M-{resource_id}"))
    stored_identifiers = set(
        PatientIdentifier.objects.filter(patient=owner).values_list("system", "value")
    )
    contacts = set(ContactPoint.objects.filter(patient=owner).values_list("source_system", "value"))
    expected_contacts = {
        (SOURCE, "a@example.org" if "@" in value else "+1617555" + value[-4:])
        for value in last["telecoms"]
    } | {(CARELINE_SOURCE, "+16175550199")}
    assert owner.family_name == last["family"]
    assert stored_identifiers == expected_identifiers
    assert contacts == expected_contacts
    assert SourceLink.objects.get(source_id=resource_id).raw == _resource(resource_id, last)
