"""The registry's bulk service: the one way imports (FHIR, later HL7 v2) write patients.

Staff writes, one at a time and audited each, live in ``careline.patients.services``; these
take what an import has already validated and mapped, write it in bulk for a whole bundle
or batch (through ``careline.platform.bulk`` and ``rows``), and leave the audit event to the
importer (one per patient per bundle). No other app writes the registry's tables.
"""

from careline.patients.bulk.facts import (
    FACT_MODELS,
    FactOutcome,
    FactRow,
    TimelineRow,
    add_source_events,
    merge_derived_coverages,
    record_social_needs,
    record_source_events,
    retitle_source_events,
    upsert_patient_facts,
)
from careline.patients.bulk.lookups import find_identifier_owners, patient_refs
from careline.patients.bulk.records import (
    MRN_TYPE,
    RECORD_MODELS,
    SSN_SYSTEM,
    Identifier,
    PatientRecord,
    PatientRef,
    ResolvedRecord,
    Telecom,
    normalize_contact,
)
from careline.patients.bulk.registry import (
    PRIMARY_CARE_ROLE,
    apply_patient_records,
    create_patients,
)

__all__ = [
    "FACT_MODELS",
    "MRN_TYPE",
    "PRIMARY_CARE_ROLE",
    "RECORD_MODELS",
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
    "retitle_source_events",
    "upsert_patient_facts",
]
