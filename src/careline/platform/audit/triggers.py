"""SQLite's seal-only trigger, kept in step with the model after every ``migrate``.

SQLite rebuilds a table to alter it, and the rebuild drops its triggers; its trigger must also
name every column an entry is born with. So after each ``migrate`` the trigger is written
again from the model (``post_migrate``). PostgreSQL's trigger (migration 0003) compares whole
rows and survives ``ALTER TABLE``, so it needs nothing here.
"""

from __future__ import annotations

from typing import Any

from django.db import connections

from careline.platform.audit.chain import SEAL_COLUMNS
from careline.platform.models import AuditEvent

SQLITE_TRIGGER_NAME = "platform_auditevent_seal_only"


def sqlite_trigger_sql() -> str:
    table = AuditEvent._meta.db_table
    unchanged = " AND ".join(
        f'NEW."{field.column}" IS OLD."{field.column}"'
        for field in AuditEvent._meta.concrete_fields
        if field.name not in SEAL_COLUMNS
    )
    return (
        f'CREATE TRIGGER "{SQLITE_TRIGGER_NAME}" BEFORE UPDATE ON "{table}" '
        f"WHEN NOT (OLD.sequence IS NULL AND NEW.sequence IS NOT NULL AND {unchanged}) "
        "BEGIN SELECT RAISE(ABORT, 'platform_auditevent is append-only: UPDATE is not allowed'); "
        "END"
    )


def refresh_sqlite_trigger(*, using: str = "default", **kwargs: Any) -> None:
    """``post_migrate``: (re)write the trigger on an SQLite database; nothing elsewhere."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    if AuditEvent._meta.db_table not in connection.introspection.table_names():
        return  # migrated backwards past the table
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TRIGGER IF EXISTS "{SQLITE_TRIGGER_NAME}"')
        cursor.execute(sqlite_trigger_sql())
