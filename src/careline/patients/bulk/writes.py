"""Bulk write helpers of the registry's imports: sync a patient's rows from a source.

``sync_rows`` makes the rows one source record contributes to a patient (identifiers,
contact points, the care-team entry) equal to what the record now says: it inserts the
missing, updates the changed and deletes the ones the record no longer has — with one read
and at most one statement of each kind for a whole batch.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from careline.patients.models import PatientFact
from careline.platform.bulk import insert_rows
from careline.platform.rows import require_fitting_text

FactT = TypeVar("FactT", bound=PatientFact)
Wanted = dict[tuple[int, str], dict[str, dict[str, Any]]]
NewRow = dict[str, Any]  # field name → value of a row to insert


def sync_rows(
    *,
    model: type[FactT],
    wanted: Wanted,
    natural_key: Callable[[dict[str, Any]], str],
    key_fields: tuple[str, ...],
    source_system: str,
    received_at: datetime,
    new_patients: set[int],
    keep_new: Callable[[list[NewRow]], list[NewRow]] | None = None,
    by_prefix: bool = False,
) -> None:
    """Make each (patient, source key) group of rows equal to ``wanted``.

    A group's key is the rows' ``source_id`` — or, with ``by_prefix``, the prefix (up to the
    last ``:``) of the ``source_id`` each wanted row carries in its fields. ``natural_key``
    names a row within its group from ``key_fields`` (always read, even when no record of
    the batch has a row left: then every stored row of its groups is deleted). Groups of
    ``new_patients`` are not looked up. ``keep_new`` may drop rows (field name → value)
    before they are inserted.
    """
    existing = _existing_rows(
        model, wanted, (natural_key, key_fields), source_system, new_patients, by_prefix
    )
    create: list[NewRow] = []
    update: list[FactT] = []
    delete: list[int] = []
    names: set[str] = set()
    for (patient_id, group), rows in wanted.items():
        have = existing.get((patient_id, group), {})
        for key, fields in rows.items():
            fields = require_fitting_text(model, fields)
            names.update(fields)
            row = have.pop(key, None)
            if row is None:
                create.append(
                    {
                        "patient_id": patient_id,
                        "source_system": source_system,
                        "received_at": received_at,
                        "source_id": group,
                        **fields,
                    }
                )
            elif any(row[name] != value for name, value in fields.items()):
                update.append(model(pk=row["pk"], received_at=received_at, **fields))
        delete.extend(row["pk"] for row in have.values())
    if keep_new is not None:
        create = keep_new(create)
    if delete:
        model._default_manager.filter(pk__in=delete).delete()
    if update:
        model._default_manager.bulk_update(update, sorted(names | {"received_at"}), batch_size=200)
    insert_rows(model, create)  # no model instances: the rows' ids are not needed


def _existing_rows(
    model: type[FactT],
    wanted: Wanted,
    key: tuple[Callable[[dict[str, Any]], str], tuple[str, ...]],
    source_system: str,
    new_patients: set[int],
    by_prefix: bool,
) -> dict[tuple[int, str], dict[str, dict[str, Any]]]:
    """(patient, group) → natural key → the stored row's fields (one query)."""
    natural_key, key_fields = key
    groups = {group for group in wanted if group[0] not in new_patients}
    if not groups:
        return {}
    names = sorted(
        {name for rows in wanted.values() for fields in rows.values() for name in fields}
        | set(key_fields)
    )
    names = [name for name in names if name not in ("pk", "patient_id", "source_id")]
    rows = model._default_manager.filter(
        source_system=source_system, patient_id__in={patient for patient, _ in groups}
    )
    if not by_prefix:
        rows = rows.filter(source_id__in={group for _, group in groups})
    found: dict[tuple[int, str], dict[str, dict[str, Any]]] = {}
    for row in rows.values("pk", "patient_id", "source_id", *names):
        group = _group_of(row, groups, by_prefix)
        if group is not None:
            found.setdefault(group, {})[natural_key(row)] = row
    return found


def _group_of(
    row: dict[str, Any], groups: set[tuple[int, str]], by_prefix: bool
) -> tuple[int, str] | None:
    source_id = str(row["source_id"])
    if not by_prefix:
        key = (int(row["patient_id"]), source_id)
        return key if key in groups else None
    key = (int(row["patient_id"]), source_id.rpartition(":")[0] + ":")
    return key if key in groups else None
