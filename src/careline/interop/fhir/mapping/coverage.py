"""Coverage derived from claims (Synthea sends ExplanationOfBenefit and Claim, no Coverage).

The payer of a claim is its contained Coverage's payor (else its type text), else the
insurance entry's display, else the EOB's insurer. A payer meaning "uninsured" gives no
coverage. One row per (patient, payer), spanning the claims' billable periods.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from careline.interop.fhir.context import RefKey, UnitContext
from careline.interop.fhir.values import JSON, as_dict, concept_display, dicts, period_bounds, text

UNINSURED = frozenset({"no_insurance", "no insurance", "uninsured", "self-pay", "self pay", "none"})


@dataclass(frozen=True, slots=True)
class ClaimCoverage:
    patient: RefKey
    payer: str
    start: date | None
    end: date | None


def claim_coverage(resource: JSON, context: UnitContext) -> ClaimCoverage | None:
    """The coverage one Claim or ExplanationOfBenefit shows, or None."""
    patient = context.key(resource.get("patient"), expected="Patient")
    payer = claim_payer(resource, context)
    if patient is None or not payer or payer.lower() in UNINSURED:
        return None
    start, end = period_bounds(resource.get("billablePeriod"))
    return ClaimCoverage(
        patient, payer, start.date() if start else None, end.date() if end else None
    )


def claim_payer(resource: JSON, context: UnitContext) -> str:
    for insurance in dicts(resource.get("insurance")):
        reference = as_dict(insurance.get("coverage"))
        coverage = context.lookup(reference, container=resource) or {}
        payor = next(dicts(coverage.get("payor")), {})
        payer = (
            text(payor.get("display"))
            or concept_display(coverage.get("type"))
            or text(reference.get("display"))
        )
        if payer:
            return payer
    return text(as_dict(resource.get("insurer")).get("display"))
