"""``field__any_of=values``: membership in a list, sent to PostgreSQL as ONE array parameter.

Django's ``__in`` writes one placeholder per value: ``IN (%s, %s, …)``. For the lists the
slot search passes — every eligible practitioner, every occupancy key, 200 and more — building,
preparing and parsing those placeholders cost more CPU than the database's answer (a profile
of one search: ~40 % of it in ``add_q``/``get_prep_lookup`` and psycopg's query splitting, for
1,800 parameters). ``col = ANY(%s)`` with the list as one array parameter is the same set
membership, uses the same B-tree index, and its SQL text is the same whatever the list's
length (so psycopg's conversion cache and PostgreSQL's plan cache both hit).

Other databases (SQLite) get Django's own ``IN`` list. An empty list matches nothing. On a
relation, give keys (``practitioner_id__any_of=[3, 5]``), not model instances.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import Field, ForeignObject, Lookup
from django.db.models.lookups import In

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType


class AnyOf(Lookup[Any]):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        values: Iterable[Any] = self.rhs
        field = self.lhs.output_field
        return [field.get_prep_value(value) for value in values]

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _AsSqlType:
        if connection.vendor != "postgresql":
            fallback: In[Any] = In(self.lhs, self.rhs)
            return fallback.as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(value, connection, prepared=True) for value in self.rhs]
        return f"{lhs} = ANY(%s)", [*lhs_params, values]


def register() -> None:
    Field.register_lookup(AnyOf)
    ForeignObject.register_lookup(AnyOf)  # relations keep lookups of their own: ids only
