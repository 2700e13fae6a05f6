"""Source-keyed bulk upserts of ``SourcedModel`` rows — the engine every import-side service
(directory, clinical, identity) writes with.

A row is identified by (source system, source id). A row whose content hash is unchanged is
not written at all; new rows of a kind go in one bulk insert (``COPY`` on PostgreSQL when
there are several), changed rows in one ``INSERT … ON CONFLICT DO UPDATE``. The existing rows
of every kind are read with one query. The owning app's service names the models and
records nothing in the audit trail: its caller (the importer) audits per patient and run.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection, models, transaction

from careline.platform.models import SourcedModel
from careline.platform.rows import TextTooLong, require_fitting_text

RAW_JSON = "raw_json"  # key of a row's pre-serialised raw resource (not a model field)
COPY_THRESHOLD = 2  # one row: a plain INSERT; more: COPY (far less CPU per row)
RETURNING_BATCH = 500  # rows per INSERT … RETURNING (its parameters stay within the limits)
StoredRow = tuple[str, int]  # (content hash, primary key) of a row that exists


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One source record: its id, hash, raw resource and the model fields it maps to."""

    source_id: str
    content_hash: str
    raw: dict[str, Any]
    fields: dict[str, Any]
    raw_json: str = ""  # ``raw`` already serialised (sent as is by COPY)


@dataclass
class UpsertOutcome:
    """Source ids by what happened to them, and the primary key of every row."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)


def upsert_sourced_rows(
    *,
    kinds: Mapping[str, type[SourcedModel]],
    source_system: str,
    received_at: datetime,
    rows: Mapping[str, Sequence[SourceRow]],
    want_ids: bool = False,
    stored: Mapping[str, Mapping[str, StoredRow]] | None = None,
) -> dict[str, UpsertOutcome]:
    """The source-keyed upsert of any ``SourcedModel`` kinds (the clinical mirror uses it too).

    One query (UNION ALL) reads the existing hashes of every kind; unchanged rows are not
    written; new rows of a kind go in one bulk insert (``COPY`` on PostgreSQL when there
    are many); changed rows are updated with one ``INSERT … ON CONFLICT DO UPDATE``.
    ``want_ids`` fills ``ids`` with the primary key of every row. ``stored`` is what
    ``find_stored_rows`` answered for these rows moments before, in this transaction or just
    before it: the existing rows are then not read again.
    """
    wanted = {kind: kind_rows for kind, kind_rows in rows.items() if kind_rows}
    with transaction.atomic(savepoint=False):  # inside the caller's transaction: no savepoint
        if stored is None:
            source_ids = {k: {row.source_id for row in r} for k, r in wanted.items()}
            stored = find_stored_rows(kinds, source_system, source_ids)
        return {
            kind: _upsert(
                kinds[kind], source_system, received_at, kind_rows, stored.get(kind, {}), want_ids
            )
            for kind, kind_rows in wanted.items()
        }


def _upsert(
    model: type[SourcedModel],
    source_system: str,
    received_at: datetime,
    rows: Sequence[SourceRow],
    existing: Mapping[str, StoredRow],
    want_ids: bool,
) -> UpsertOutcome:
    outcome = UpsertOutcome()
    hashes = {source_id: known[0] for source_id, known in existing.items()}
    new: dict[str, SourceRow] = {}
    changed: dict[str, dict[str, Any]] = {}
    for row in rows:
        if hashes.get(row.source_id) == row.content_hash:
            outcome.unchanged.append(row.source_id)
            continue
        is_update = row.source_id in hashes
        (outcome.updated if is_update else outcome.created).append(row.source_id)
        hashes[row.source_id] = row.content_hash
        if row.source_id in existing:
            changed[row.source_id] = {
                "source_system": source_system,
                "source_id": row.source_id,
                "received_at": received_at,
                "content_hash": row.content_hash,
                "raw": row.raw,
                **require_fitting_text(model, row.fields),
            }
        else:
            new[row.source_id] = row
    outcome.ids = {source_id: known[1] for source_id, known in existing.items()}
    layout = _layout(model, connection.vendor)
    values = [layout.source_values(row, source_system, received_at) for row in new.values()]
    if want_ids:
        outcome.ids.update(_insert_returning(layout, values, "source_id"))
    else:
        _insert_values(layout, values)
    _update_rows(model, list(changed.values()))
    return outcome


def find_stored_rows(
    kinds: Mapping[str, type[SourcedModel]],
    source_system: str,
    source_ids: Mapping[str, Collection[str]],
) -> dict[str, dict[str, StoredRow]]:
    """kind → source id → (content hash, primary key) of the rows that exist (one query)."""
    found: dict[str, dict[str, StoredRow]] = {kind: {} for kind in source_ids}
    order = [kind for kind, ids in source_ids.items() if ids]
    if not order:
        return found
    parts, params = [], []
    for position, kind in enumerate(order):
        sql, part_params = source_lookup(
            kinds[kind], source_system, source_ids[kind], ("source_id", "content_hash", "id")
        )
        parts.append(f"SELECT {position}, * FROM ({sql}) AS part{position}")  # noqa: S608
        params += part_params
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for position, source_id, content_hash, pk in cursor.fetchall():
            found[order[position]][source_id] = (content_hash, pk)
    return found


def source_lookup(
    model: type[models.Model],
    source_system: str,
    source_ids: Collection[str],
    columns: Sequence[str],
) -> tuple[str, list[Any]]:
    """SQL and parameters selecting ``columns`` of the rows with these source ids.

    Plain SQL because it runs for every bundle and batch. On PostgreSQL one index probe
    per id (``LATERAL … LIMIT 1``): exact even while a table has no statistics yet — during
    a big first import the planner otherwise reads every row of the source for each
    lookup. Table and column names come from the model; every value is a parameter.
    """
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    selected = ", ".join(quote(column) for column in columns)
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT found.* FROM unnest(%s::varchar[]) AS wanted(source_id) "  # noqa: S608
            f"CROSS JOIN LATERAL (SELECT {selected} FROM {table} AS row "
            "WHERE row.source_system = %s AND row.source_id = wanted.source_id LIMIT 1) AS found"
        )
        return sql, [list(source_ids), source_system]
    placeholders = ", ".join(["%s"] * len(source_ids))
    sql = (
        f"SELECT {selected} FROM {table} "  # noqa: S608
        f"WHERE source_system = %s AND source_id IN ({placeholders})"
    )
    return sql, [source_system, *source_ids]


def select_by_source(
    model: type[models.Model],
    source_system: str,
    source_ids: Collection[str],
    columns: Sequence[str],
) -> list[tuple[Any, ...]]:
    """``columns`` of the rows of ``model`` from ``source_system`` with these source ids."""
    if not source_ids:
        return []
    sql, params = source_lookup(model, source_system, source_ids, columns)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _update_rows(model: type[SourcedModel], rows: list[dict[str, Any]]) -> None:
    """Changed rows, in one statement (INSERT … ON CONFLICT (source) DO UPDATE)."""
    if not rows:
        return
    names = sorted({name for values in rows for name in values} - {"source_system", "source_id"})
    model._default_manager.bulk_create(
        [model(**values) for values in rows],
        batch_size=500,
        update_conflicts=True,
        unique_fields=["source_system", "source_id"],
        update_fields=names,
    )


def insert_rows(
    model: type[models.Model],
    rows: list[dict[str, Any]],
    *,
    want_ids: bool = False,
    ignore_conflicts: bool = False,
) -> dict[str, int]:
    """Insert new rows (field name → value; absent fields take their default), no model
    instances built; a text longer than its column raises ``TextTooLong``.

    On PostgreSQL by ``COPY``: no SQL to parse and every value formatted by psycopg's C
    code — several times faster than the ORM's bulk INSERT of JSON-heavy rows. Elsewhere, and
    with ``ignore_conflicts`` (a row that would break a unique constraint is left out), one
    ``executemany`` of a plain INSERT. With ``want_ids``, answers source id → primary key.
    """
    if not rows:
        return {}
    layout = _layout(model, connection.vendor)
    _insert_values(layout, [layout.values(row) for row in rows], ignore_conflicts=ignore_conflicts)
    if not want_ids:
        return {}
    source_ids = [values["source_id"] for values in rows]
    found = select_by_source(model, rows[0]["source_system"], source_ids, ("source_id", "id"))
    return dict(found)


def _insert_values(
    layout: _Layout, rows: list[list[Any]], *, ignore_conflicts: bool = False
) -> None:
    """Rows of column values (in ``layout.columns`` order) into the layout's table."""
    if not rows:
        return
    if connection.vendor == "postgresql" and len(rows) >= COPY_THRESHOLD and not ignore_conflicts:
        with connection.cursor() as cursor, cursor.cursor.copy(layout.copy_sql) as copy:
            for values in rows:
                copy.write_row(values)
        return
    statement = layout.insert_sql + (" ON CONFLICT DO NOTHING" if ignore_conflicts else "")
    with connection.cursor() as cursor:
        cursor.executemany(statement, rows)


def insert_rows_returning(
    model: type[models.Model], rows: list[dict[str, Any]], *, key: str
) -> dict[Any, int]:
    """Insert new rows as ``insert_rows`` does, answering the value of column ``key`` of each
    (as the database returns it) → its primary key, from the insert itself."""
    layout = _layout(model, connection.vendor)
    return _insert_returning(layout, [layout.values(row) for row in rows], key)


def _insert_returning(layout: _Layout, rows: list[list[Any]], key: str) -> dict[Any, int]:
    """Rows inserted, answering ``key`` → primary key (one ``INSERT … RETURNING`` per
    ``RETURNING_BATCH`` rows: no second query for the ids)."""
    quote = connection.ops.quote_name
    returning = f"{quote(key)}, {quote(layout.primary_key)}"
    found: dict[Any, int] = {}
    for start in range(0, len(rows), RETURNING_BATCH):
        batch = rows[start : start + RETURNING_BATCH]
        values = ", ".join([layout.placeholders] * len(batch))
        with connection.cursor() as cursor:
            cursor.execute(
                f"{layout.insert_head} VALUES {values} RETURNING {returning}",
                [value for row in batch for value in row],
            )
            found.update(cursor.fetchall())
    return found


# Column types whose Python values the driver takes as they are (no Django conversion).
_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.FloatField,
    models.IntegerField,
    models.BigIntegerField,
    models.PositiveSmallIntegerField,
    models.BooleanField,
    models.ForeignKey,
)
_PLAIN_ON_POSTGRESQL = (*_PLAIN_FIELDS, models.DateField, models.DateTimeField, models.UUIDField)
_ABSENT = object()
_PLAIN, _JSON, _CONVERTED = 0, 1, 2  # how a column's value is sent


@dataclass(frozen=True, slots=True)
class _Column:
    """How one column's value is sent to the database, written without the ORM."""

    name: str  # the field's attname
    kind: int
    limit: int  # a text column's max_length (0: not checked)
    field: models.Field[Any, Any]


class _Layout:
    """A model's columns as written without the ORM, worked out once per model and vendor.

    Each row becomes a list of column values in one pass over the columns: absent fields
    take their default, text is checked against its column (``TextTooLong``), JSON is
    serialised (a source row's raw resource is sent as the text it was hashed from).
    """

    def __init__(self, model: type[models.Model], vendor: str) -> None:
        plain = _PLAIN_ON_POSTGRESQL if vendor == "postgresql" else _PLAIN_FIELDS
        self.model = model
        self.columns = [
            _Column(f.attname, _kind(f, plain), _limit(f), f)
            for f in model._meta.concrete_fields
            if not isinstance(f, models.AutoField)
        ]
        self.raw_at = next((i for i, c in enumerate(self.columns) if c.name == "raw"), None)
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        names = ", ".join(quote(column.field.column) for column in self.columns)
        self.copy_sql = f"COPY {table} ({names}) FROM STDIN"
        self.insert_head = f"INSERT INTO {table} ({names})"  # names from the model
        self.placeholders = f"({', '.join(['%s'] * len(self.columns))})"
        self.insert_sql = f"{self.insert_head} VALUES {self.placeholders}"
        self.primary_key = model._meta.pk.column if model._meta.pk is not None else "id"

    def values(self, fields: Mapping[str, Any]) -> list[Any]:
        """Column values from field name → value (``raw_json``: the raw resource as text)."""
        raw_json = fields.get(RAW_JSON)
        if not raw_json or self.raw_at is None:
            return self._row(fields)
        row = self._row({**fields, "raw": None})
        row[self.raw_at] = raw_json
        return row

    def source_values(
        self, source: SourceRow, source_system: str, received_at: datetime
    ) -> list[Any]:
        fields = {
            **source.fields,
            "source_system": source_system,
            "source_id": source.source_id,
            "received_at": received_at,
            "content_hash": source.content_hash,
        }
        row = self._row(fields)
        if self.raw_at is not None:  # the text it was hashed from, when there is one
            row[self.raw_at] = source.raw_json or json.dumps(source.raw, ensure_ascii=False)
        return row

    def _row(self, fields: Mapping[str, Any]) -> list[Any]:
        row = []
        for column in self.columns:
            value = fields.get(column.name, _ABSENT)
            if value is _ABSENT:
                value = column.field.get_default()
            if value is None:
                pass
            elif column.kind == _JSON:
                value = json.dumps(value, ensure_ascii=False)
            elif column.kind == _CONVERTED:
                value = column.field.get_db_prep_save(value, connection)
            elif column.limit and type(value) is str and len(value) > column.limit:
                raise TextTooLong(self.model, column.name, len(value), column.limit)
            row.append(value)
        return row


def _kind(field: models.Field[Any, Any], plain: tuple[type[models.Field[Any, Any]], ...]) -> int:
    if isinstance(field, models.JSONField):
        return _JSON
    return _PLAIN if type(field) in plain else _CONVERTED


def _limit(field: models.Field[Any, Any]) -> int:
    if isinstance(field, models.CharField) and field.max_length:
        return field.max_length
    return 0


@cache
def _layout(model: type[models.Model], vendor: str) -> _Layout:
    return _Layout(model, vendor)
