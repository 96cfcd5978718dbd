"""A list-of-strings column that is `text[]` on PostgreSQL and JSON text on SQLite.

Both backends answer `field__has="value"`: PostgreSQL with `@>` (served by a partial GIN index),
SQLite with `json_each`.
"""

import json

from django.db import models
from django.db.models import Lookup


class IndicatorArrayField(models.Field):
    description = "Sorted unique strings (indicator values)"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", list)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def db_type(self, connection) -> str:
        return "text[]" if connection.vendor == "postgresql" else "text"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return []
        if isinstance(value, str):
            return json.loads(value)
        return value

    def to_python(self, value):
        if isinstance(value, str):
            return json.loads(value)
        return list(value or [])

    def get_db_prep_value(self, value, connection, prepared=False):
        values = list(value or [])
        if connection.vendor == "postgresql":
            return values
        return json.dumps(values)


@IndicatorArrayField.register_lookup
class Has(Lookup):
    """`p_any__has="ip:10.0.0.1"`: the array holds the value."""

    lookup_name = "has"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return "%s", [str(value)]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        # The GIN index is partial (WHERE p_any <> '{}', migration 0007: events without
        # indicators cost it nothing); the planner uses such an index only when the query
        # repeats its predicate word for word.
        return (
            f"({lhs} @> ARRAY[{rhs}]::text[] AND {lhs} <> '{{}}'::text[])",
            [*lhs_params, *rhs_params, *lhs_params],
        )

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return (
            f"EXISTS (SELECT 1 FROM json_each({lhs}) WHERE json_each.value = {rhs})",  # noqa: S608 - lhs is a column, rhs a placeholder
            [*lhs_params, *rhs_params],
        )
