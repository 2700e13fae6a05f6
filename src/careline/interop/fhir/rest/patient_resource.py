"""The Patient resource Careline serves.

- A patient mirrored from an EHR is the Patient that EHR last sent (the raw resource kept at
  import) with Careline's ``id``, Careline's ``meta`` (``versionId``, ``lastUpdated``) and the
  provenance in ``meta.source`` (the source system) and a ``meta.tag`` (system = the source
  system, code = its id for the patient). References to directory resources are rewritten to
  Careline ids; a reference Careline cannot resolve keeps only its display/identifier. The
  narrative (``text``) is dropped: Careline did not write it and cannot vouch for what it
  shows; ``link`` is dropped until merges exist (it names the EHR's ids).
- Otherwise it is built from the registry row.

Either way, sensitive identifiers (``interop.fhir.sensitive``'s rule, the SSN by default)
are never served — removed again here even though the import removed them already.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from careline.directory.selectors import find_public_ids_by_source, is_directory_type
from careline.interop.fhir.references import ReferenceKind, parse_reference
from careline.interop.fhir.rest.registry import Served
from careline.interop.fhir.sensitive import V2_IDENTIFIER_TYPE, is_sensitive, without_sensitive
from careline.interop.fhir.values import JSON
from careline.patients.criteria import MRN_SYSTEM

if TYPE_CHECKING:
    from careline.identity.selectors import SourceRecord
    from careline.patients.models import Patient

PROVENANCE_TAG = "https://careline.health/fhir/CodeSystem/source-record"
_TELECOM_SYSTEMS = {"phone": "phone", "sms": "sms", "email": "email", "fax": "fax"}
_DROPPED = ("text", "link", "meta", "id")


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def patient_resource(patient: Patient, record: SourceRecord | None) -> Served:
    last_updated = patient.updated_at
    if record is not None and record.received_at > last_updated:
        last_updated = record.received_at
    version_id = str(int(last_updated.timestamp() * 1_000_000))
    meta: JSON = {"versionId": version_id, "lastUpdated": instant(last_updated)}
    if record is None:
        body = _built(patient)
    else:
        body = _mirrored(record)
        meta["source"] = record.source_system
        meta["tag"] = [{"system": PROVENANCE_TAG, "code": record.source_id[:200]}]
        meta["tag"][0]["display"] = record.source_system
    resource: JSON = {"resourceType": "Patient", "id": str(patient.public_id), "meta": meta}
    resource.update(body)
    return Served(resource=resource, version_id=version_id, last_updated=last_updated)


def _mirrored(record: SourceRecord) -> JSON:
    stripped, _ = without_sensitive(record.raw)
    body = {k: v for k, v in stripped.items() if k not in (*_DROPPED, "resourceType")}
    body = copy.deepcopy(body)
    _rewrite_references(body, record.source_system)
    return body


def _rewrite_references(resource: JSON, source_system: str) -> None:
    """Local references to directory resources → Careline ids (one query per type)."""
    found: list[tuple[dict[str, Any], str, str]] = []
    _collect(resource, found)
    wanted: dict[str, set[str]] = defaultdict(set)
    for _, kind, source_id in found:
        if is_directory_type(kind):
            wanted[kind].add(source_id)
    ids = {
        kind: find_public_ids_by_source(kind=kind, source_system=source_system, source_ids=sids)
        for kind, sids in wanted.items()
    }
    for reference, kind, source_id in found:
        public_id = ids.get(kind, {}).get(source_id)
        if public_id is not None:
            reference["reference"] = f"{kind}/{public_id}"
            continue
        del reference["reference"]
        if not reference.get("display") and not reference.get("identifier"):
            reference["display"] = f"{kind} not held by Careline"


def _collect(value: Any, found: list[tuple[dict[str, Any], str, str]]) -> None:
    if isinstance(value, list):
        for item in value:
            _collect(item, found)
        return
    if not isinstance(value, dict):
        return
    reference = value.get("reference")
    if isinstance(reference, str):
        parsed = parse_reference(reference)
        if parsed is not None and parsed.kind is ReferenceKind.LOCAL:
            found.append((value, parsed.resource_type or "", parsed.id or ""))
        elif not reference.startswith("#"):
            found.append((value, "Resource", ""))
    for key, item in value.items():
        if key != "reference":
            _collect(item, found)


def _built(patient: Patient) -> JSON:
    body: JSON = {"active": True}
    identifiers = _identifiers(patient)
    if identifiers:
        body["identifier"] = identifiers
    name: JSON = {"use": "official"}
    if patient.family_name:
        name["family"] = patient.family_name
    if patient.given_names:
        name["given"] = patient.given_names.split()
    if patient.prefix:
        name["prefix"] = [patient.prefix]
    if patient.suffix:
        name["suffix"] = [patient.suffix]
    if len(name) > 1:
        body["name"] = [name]
    telecom = [
        {"system": _TELECOM_SYSTEMS.get(c.system, "other"), "value": c.value, "rank": c.rank}
        | ({"use": c.use} if c.use else {})
        for c in patient.contact_points.all()
        if c.is_active and c.value
    ]
    if telecom:
        body["telecom"] = telecom
    body["gender"] = patient.sex or "unknown"
    if patient.birth_date:
        body["birthDate"] = patient.birth_date.isoformat()
    if patient.deceased_at:
        body["deceasedDateTime"] = instant(patient.deceased_at)
    elif patient.is_deceased:
        body["deceasedBoolean"] = True
    address = _address(patient)
    if address:
        body["address"] = [address]
    if patient.marital_status:
        body["maritalStatus"] = {"text": patient.marital_status}
    if patient.language:
        body["communication"] = [
            {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": patient.language}]}}
        ]
    return body


def _identifiers(patient: Patient) -> list[JSON]:
    identifiers: list[JSON] = []
    if patient.mrn:
        identifiers.append(
            {
                "use": "usual",
                "type": {"coding": [{"system": V2_IDENTIFIER_TYPE, "code": "MR"}]},
                "system": MRN_SYSTEM,
                "value": patient.mrn,
            }
        )
    for row in patient.identifiers.all():
        identifier: JSON = {"system": row.system, "value": row.value}
        if row.type_code:
            identifier["type"] = {"coding": [{"system": V2_IDENTIFIER_TYPE, "code": row.type_code}]}
        if row.value and not is_sensitive(identifier):
            identifiers.append(identifier)
    return identifiers


def _address(patient: Patient) -> JSON:
    address: JSON = {}
    if patient.address_line:
        address["line"] = [patient.address_line]
    for key, value in (
        ("city", patient.city),
        ("state", patient.state),
        ("postalCode", patient.postal_code),
    ):
        if value:
            address[key] = value
    return address
