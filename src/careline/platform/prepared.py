"""Hot-path queries whose SQL is built once: a row by a unique field with its foreign keys
joined (what ``select_related`` gives), and an INSERT of many rows.

The ORM compiles a ``select_related`` query anew on every call: for the one-row read every
API request makes, compiling took ~1.3 ms of Python against ~0.25 ms to run the SQL
(bench/bench_api.py, ``--profile``). Here the SQL is written once from the models' own
metadata (columns, joins), each value goes through the same database converters the ORM
applies, and the instances are made with ``Model.from_db`` with the related rows cached on
them as ``select_related`` caches them — so callers get ordinary model instances.

On PostgreSQL these statements also run on a server-binding cursor (``hot_cursor``), so
psycopg prepares each one on the server after a few executions on a connection and the
database stops parsing and planning it on every request: the patient lookup took 0.21 ms
of PostgreSQL CPU as a client-bound statement and 0.04 ms prepared. The rest of Careline
keeps Django's default client-side binding.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

M = TypeVar("M", bound=models.Model)
_Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class _Part:
    model: type[models.Model]
    attnames: list[str]  # in the model's field order, as ``Model.from_db`` wants them
    primary_key_index: int  # a null primary key: no related row (a null foreign key)


@dataclass(frozen=True)
class _Statement:
    sql: str
    main: _Part
    joined: list[tuple[models.ForeignKey[Any, Any], _Part]]
    converters: list[tuple[int, list[_Converter], Any]]  # (column, converters, expression)


class JoinedRowLookup(Generic[M]):
    """``model.objects.select_related(*related).defer(*deferred).filter(**{by: value}).first()``
    with SQL built once per process. ``deferred`` names fields of the model or, as
    ``"relation__field"``, of a related one."""

    def __init__(
        self,
        model: type[M],
        *,
        by: str,
        related: Sequence[str] = (),
        deferred: Iterable[str] = (),
    ) -> None:
        self.model, self.by = model, by
        self.related, self.deferred = tuple(related), frozenset(deferred)

    def get(self, value: Any) -> M | None:
        db = default_database()
        statement = _build_statement(db.vendor, self.model, self.by, self.related, self.deferred)
        parameter = _concrete_field(self.model, self.by).get_db_prep_value(
            value, db, prepared=False
        )
        with hot_cursor(db) as cursor:
            cursor.execute(statement.sql, [parameter])
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for index, converters, expression in statement.converters:
            for convert in converters:
                values[index] = convert(values[index], expression, db)
        main = self.model.from_db(db.alias, statement.main.attnames, _take(values, statement.main))
        for foreign_key, part in statement.joined:
            part_values = _take(values, part)
            related = (
                None
                if part_values[part.primary_key_index] is None
                else part.model.from_db(db.alias, part.attnames, part_values)
            )
            foreign_key.set_cached_value(main, related)
        return main


def default_database() -> BaseDatabaseWrapper:
    """This thread's default connection itself: every attribute read through the
    ``django.db.connection`` proxy is a thread-local lookup (~0.5 µs), which a hot path making
    dozens of them should pay once."""
    return connections[DEFAULT_DB_ALIAS]


@contextmanager
def hot_cursor(db: BaseDatabaseWrapper | None = None) -> Iterator[CursorWrapper]:
    """A cursor for a statement every request runs, with a fixed SQL text.

    On PostgreSQL it binds parameters on the server and prepares each statement once per
    connection (psycopg keeps the prepared statements, up to ``prepared_max``). Django turns
    psycopg's automatic preparing off for the whole site, for connection poolers; only these
    statements are prepared, and ``?prepare_threshold=`` with no value in ``DATABASE_URL``
    turns that off too (a transaction-pooling proxy such as PgBouncer before 1.21 needs it).
    Django's wrapper is kept, so errors, query logging and ``assertNumQueries`` behave as on
    any cursor. On SQLite it is ``connection.cursor()``.
    """
    db = db or default_database()
    if db.vendor != "postgresql" or db.settings_dict["OPTIONS"].get("prepare_threshold") is None:
        with db.cursor() as cursor:
            yield cursor
        return
    db.ensure_connection()
    with db.wrap_database_errors:
        raw = _preparing_cursor_class()(db.connection)
    db.validate_thread_sharing()
    wrapped = db.make_debug_cursor(raw) if db.queries_logged else db.make_cursor(raw)
    with wrapped as cursor:
        yield cursor


@functools.cache
def _preparing_cursor_class() -> type[Any]:
    """psycopg's server-binding cursor (Django's ``ServerBindingCursor`` is the same plus
    ``callproc``), preparing every statement it executes."""
    import psycopg

    class PreparingCursor(psycopg.Cursor[Any]):
        def execute(self, query: Any, params: Any = None, **options: Any) -> Any:
            options.setdefault("prepare", True)
            return super().execute(query, params, **options)

    return PreparingCursor


def _take(values: list[Any], part: _Part) -> list[Any]:
    taken = values[: len(part.attnames)]
    del values[: len(part.attnames)]
    return taken


@functools.cache
def _build_statement(
    vendor: str,
    model: type[models.Model],
    by: str,
    related: tuple[str, ...],
    deferred: frozenset[str],
) -> _Statement:
    quote = connection.ops.quote_name
    columns: list[str] = []
    converters: list[tuple[int, list[_Converter], Any]] = []

    def part(part_model: type[models.Model], alias: str, skip: set[str]) -> _Part:
        fields = [
            field
            for field in part_model._meta.concrete_fields
            if field.primary_key or field.name not in skip
        ]
        for field in fields:
            expression = field.get_col(alias)
            found = connection.ops.get_db_converters(expression)
            from_db_value = getattr(field, "from_db_value", None)  # Field.get_db_converters
            if from_db_value is not None:
                found = [*found, from_db_value]
            if found:
                converters.append((len(columns), found, expression))
            columns.append(f"{alias}.{quote(field.column)}")
        primary_key_index = next(i for i, field in enumerate(fields) if field.primary_key)
        return _Part(part_model, [field.attname for field in fields], primary_key_index)

    main = part(model, "t0", {name for name in deferred if "__" not in name})
    joined, joins = [], []
    for number, name in enumerate(related, start=1):
        foreign_key = model._meta.get_field(name)
        target = getattr(foreign_key, "related_model", None)
        if not (
            isinstance(foreign_key, models.ForeignKey)
            and isinstance(target, type)
            and issubclass(target, models.Model)
        ):
            raise TypeError(f"{model.__name__}.{name} is not a resolved foreign key")
        alias = f"t{number}"
        skip = {field.split("__", 1)[1] for field in deferred if field.startswith(f"{name}__")}
        joined.append((foreign_key, part(target, alias, skip)))
        target_key = target._meta.pk.column if target._meta.pk is not None else "id"
        joins.append(
            f"LEFT OUTER JOIN {quote(target._meta.db_table)} {alias} "
            f"ON {alias}.{quote(target_key)} = t0.{quote(foreign_key.column)}"
        )
    where = f"t0.{quote(_concrete_field(model, by).column)} = %s"
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(model._meta.db_table)} t0 "  # noqa: S608 (names from the models)
        f"{' '.join(joins)} WHERE {where}"
    )
    return _Statement(sql, main, joined, converters)


def _concrete_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field
