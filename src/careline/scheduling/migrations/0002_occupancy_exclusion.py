"""On PostgreSQL, no two occupancies of one resource overlap (the no-double-booking guarantee).

Two rows with the same ``resource_key`` whose ``[occupied_from, occupied_to)`` ranges overlap
are refused unless they share a ``slot_key`` (seats of one group session) or one is an
authorised overbook. ``btree_gist`` lets the text columns join the GiST index. SQLite has no
exclusion constraints; there the booking service's overlap query, inside an IMMEDIATE (one
writer at a time) transaction, is the guard.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE scheduling_occupancy ADD CONSTRAINT occupancy_no_overlap EXCLUDE USING gist (
    resource_key WITH =,
    slot_key WITH <>,
    tstzrange(occupied_from, occupied_to, '[)') WITH &&
) WHERE (NOT is_overbook);
"""

DROP = "ALTER TABLE scheduling_occupancy DROP CONSTRAINT IF EXISTS occupancy_no_overlap;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
