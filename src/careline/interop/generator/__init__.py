"""Deterministic synthetic FHIR R4 data for Careline's demo and tests.

`generate_bundles` yields a directory bundle (Organizations, Locations, Practitioners,
PractitionerRoles) and one transaction bundle per patient. The same (patients, seed)
always gives the same bundles: every random choice comes from `random.Random` instances
seeded from the seed, Faker is reseeded from them, and dates are relative to
`REFERENCE_DATE`, never to today.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .admin import consents, coverages
from .clinical import clinical_history
from .codes import CONSENT_PURPOSE_SYSTEM, DEMO_MRN_SYSTEM
from .common import REFERENCE_DATE, Resource, new_id, transaction
from .directory import Directory, build_directory, is_valid_npi
from .names import FakerPool
from .patient import caregivers, new_patient, patient_resource

__all__ = [
    "CONSENT_PURPOSE_SYSTEM",
    "DEMO_MRN_SYSTEM",
    "REFERENCE_DATE",
    "generate_bundles",
    "is_valid_npi",
    "write_bundles",
]

_STRIDE = 7919  # prime, coprime with both identifier spaces below
_MRN_SPACE = 10**7
_SSN_SPACE = 99 * 9999


def _identifiers(index: int, mrn_offset: int, ssn_offset: int) -> tuple[str, str]:
    """Distinct, random-looking MRN and SSN for each patient index."""
    mrn = (index * _STRIDE + mrn_offset) % _MRN_SPACE
    ssn = (index * _STRIDE + ssn_offset) % _SSN_SPACE
    return f"MRN{mrn:07d}", f"999-{ssn // 9999 + 1:02d}-{ssn % 9999 + 1:04d}"


def _patient_bundle(
    rng: random.Random, pool: FakerPool, directory: Directory, identifiers: tuple[str, str]
) -> Resource:
    context = new_patient(rng, pool, directory)
    patient = patient_resource(context, *identifiers)
    resources = [patient, *caregivers(context, patient), *coverages(context), *consents(context)]
    resources += clinical_history(context)
    return transaction(new_id(rng), resources)


def generate_bundles(*, patients: int, seed: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (file name, bundle) pairs: first 'directory.json' (a transaction bundle with the
    shared Organizations, Locations, Practitioners, PractitionerRoles), then one transaction
    bundle per patient, named e.g. 'patient-00001.json'."""
    if patients < 0:
        raise ValueError("patients must be >= 0")
    master = random.Random(f"careline-generator:{seed}")
    pool = FakerPool()
    directory = build_directory(
        random.Random(f"careline-generator:{seed}:directory"), pool, patients
    )
    mrn_offset, ssn_offset = master.randrange(_MRN_SPACE), master.randrange(_SSN_SPACE)
    yield "directory.json", transaction(new_id(master), directory.resources)
    for index in range(patients):
        rng = random.Random(f"careline-generator:{seed}:patient:{index}")
        bundle = _patient_bundle(rng, pool, directory, _identifiers(index, mrn_offset, ssn_offset))
        yield f"patient-{index + 1:05d}.json", bundle


def write_bundles(*, out_dir: Path, patients: int, seed: int) -> list[Path]:
    """Write the bundles as compact UTF-8 JSON files in out_dir (created if needed) and
    return their paths in order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for name, bundle in generate_bundles(patients=patients, seed=seed):
        path = out_dir / name
        text = json.dumps(bundle, separators=(",", ":"), ensure_ascii=False)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def seeded_random(*, purpose: str, seed: int) -> random.Random:
    """A deterministic generator for other demo data (the scheduling history)."""
    return random.Random(f"careline-{purpose}:{seed}")
