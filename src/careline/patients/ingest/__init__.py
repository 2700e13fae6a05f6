"""Import-side writes to the registry (FHIR, later HL7 v2): the services module of imports.

Staff writes live in ``careline.patients.services``; these functions take what an import
has already validated and mapped, write it in bulk for a whole bundle or batch, and leave
the audit event to the importer (one per patient per bundle).
"""

from careline.patients.ingest.facts import (
    FactOutcome,
    FactRow,
    TimelineRow,
    add_source_events,
    merge_derived_coverages,
    record_social_needs,
    record_source_events,
    upsert_patient_facts,
)
from careline.patients.ingest.lookups import find_identifier_owners, patient_refs
from careline.patients.ingest.records import (
    SSN_SYSTEM,
    Identifier,
    PatientRecord,
    PatientRef,
    ResolvedRecord,
    Telecom,
    normalize_contact,
)
from careline.patients.ingest.registry import (
    PRIMARY_CARE_ROLE,
    apply_patient_records,
    create_patients,
)

__all__ = [
    "PRIMARY_CARE_ROLE",
    "SSN_SYSTEM",
    "FactOutcome",
    "FactRow",
    "Identifier",
    "PatientRecord",
    "PatientRef",
    "ResolvedRecord",
    "Telecom",
    "TimelineRow",
    "add_source_events",
    "apply_patient_records",
    "create_patients",
    "find_identifier_owners",
    "merge_derived_coverages",
    "normalize_contact",
    "patient_refs",
    "record_social_needs",
    "record_source_events",
    "upsert_patient_facts",
]
