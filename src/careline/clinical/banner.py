"""The allergy banner: what a clinician or scheduler is told about allergies before anything else.

The one place these rules live. The 360 page (``clinical.views``), the API summary
(``api.summary``) and any export read ``ClinicalSummary.allergy_banner``, which is
``allergy_banner(records)``:

- a record that is refuted or entered in error is not an allergy; neither is one whose
  clinical status is inactive or resolved;
- a SNOMED CT "no known … allergy" situation is a statement that none is known, not an
  allergy; it is shown only when no allergy is (an allergy always wins over "none known"),
  each with its own scope ("no known drug allergies" is not "no known allergies");
- allergies are ordered by criticality: high, unable to assess, low, then not stated;
  records of the same criticality keep the selector's order (most recent first);
- a code Careline does not know is still an allergy, shown with the text the EHR sent;
- no record at all is "no allergy information", never "none known".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models

from careline.clinical.models import (
    AllergyClinicalStatus,
    AllergyCriticality,
    AllergyIntolerance,
    AllergyVerificationStatus,
)

SNOMED_CT = "http://snomed.info/sct"

# SNOMED CT situations an EHR records as an AllergyIntolerance meaning "none known"
# (the IPS "absent or unknown" allergy codes and their older kin), with how the banner says it.
NO_KNOWN_ALLERGY_LABELS: dict[str, str] = {
    "716186003": "No known allergies",
    "160244002": "No known allergies",  # the older concept some EHRs still send
    "409137002": "No known drug allergies",
    "429625007": "No known food allergies",
    "428607008": "No known environmental allergies",
    "428197003": "No known insect allergies",
    "716220001": "No known animal allergies",
    "1003774007": "No known latex allergy",
}
NOT_AN_ALLERGY = frozenset(
    {AllergyVerificationStatus.REFUTED, AllergyVerificationStatus.ENTERED_IN_ERROR}
)
NOT_CURRENT = frozenset({AllergyClinicalStatus.INACTIVE, AllergyClinicalStatus.RESOLVED})
CRITICALITY_ORDER: tuple[str, ...] = (
    AllergyCriticality.HIGH,
    AllergyCriticality.UNABLE_TO_ASSESS,
    AllergyCriticality.LOW,
)  # then anything else, blank included


class AllergyBannerState(models.TextChoices):
    ALLERGIES = "allergies", "Allergies"
    NONE_KNOWN = "none-known", "None known"
    NO_INFORMATION = "no-information", "No allergy information"


@dataclass(frozen=True)
class NoKnownAllergy:
    """A record saying that no allergy (of a kind) is known, with how the banner says it."""

    label: str
    record: AllergyIntolerance


@dataclass(frozen=True)
class AllergyBanner:
    allergies: tuple[AllergyIntolerance, ...]  # the most critical first
    none_known: tuple[NoKnownAllergy, ...]  # only when there is no allergy

    @property
    def state(self) -> AllergyBannerState:
        if self.allergies:
            return AllergyBannerState.ALLERGIES
        if self.none_known:
            return AllergyBannerState.NONE_KNOWN
        return AllergyBannerState.NO_INFORMATION


def allergy_banner(records: Iterable[AllergyIntolerance]) -> AllergyBanner:
    """The banner of a patient's allergy records (given most recent first)."""
    standing = [record for record in records if is_standing(record)]
    allergies = sorted(
        (record for record in standing if no_known_allergy_label(record) is None),
        key=criticality_rank,
    )
    if allergies:
        return AllergyBanner(allergies=tuple(allergies), none_known=())
    statements: dict[str, NoKnownAllergy] = {}
    for record in standing:
        label = no_known_allergy_label(record)
        if label is not None and label not in statements:
            statements[label] = NoKnownAllergy(label=label, record=record)
    return AllergyBanner(allergies=(), none_known=tuple(statements.values()))


def is_standing(record: AllergyIntolerance) -> bool:
    """Whether a record still says something: not refuted, not in error, not inactive/resolved."""
    return record.verification_status not in NOT_AN_ALLERGY and record.status not in NOT_CURRENT


def no_known_allergy_label(record: AllergyIntolerance) -> str | None:
    """How the banner says a "none known" record, or None when the record is an allergy."""
    if record.code_system != SNOMED_CT:
        return None
    return NO_KNOWN_ALLERGY_LABELS.get(record.code)


def criticality_rank(record: AllergyIntolerance) -> int:
    criticality = record.criticality
    if criticality in CRITICALITY_ORDER:
        return CRITICALITY_ORDER.index(criticality)
    return len(CRITICALITY_ORDER)
