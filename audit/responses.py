"""The error responses of the JSON API, declared once so the OpenAPI schema says what it answers.

Convention for every route under /api/v1 (new routers follow it too): declare
`response={200: Out, **errors(...)}` with each error the route can answer, and raise rather than
build error bodies by hand:

- 401 on every route (the Bearer token is missing or wrong): `{"detail": "Unauthorized"}`;
- 403 on routes that change something and check a role: `raise HttpError(403, "why")`;
- 404 on routes with an id in the path: `get_object_or_404`, ids too large for the database
  included (`{"detail": "Not Found"}`);
- 422 on routes with parameters or a body: ninja's own validation, or a form's message per field
  (`{"detail": [{"loc": ["body", "config", "bucket"], "msg": "...", "type": "value_error"}]}`);
- 400 where a value is well-formed but cannot be used (a search query, a time range):
  `{"detail": "...", "param": "q", "position": 12}`; and on routes with a body, for a body that
  is not JSON (ninja: `{"detail": "Cannot parse request body"}`).

Parameters with a fixed set of values are `Literal[...]` (an enum in the schema); bodies derive
from `Body` (a JSON object) and declare their constraints (`min_length`), so a request the
schema accepts is one the route answers without a 5xx (tests/console/test_openapi.py fuzzes
every route with schemathesis to hold this).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from ninja import Schema
from ninja.schema import DjangoGetter
from pydantic import model_validator


class Body(Schema):
    """The base of every request body: a JSON object. (ninja's Schema would otherwise read the
    fields of any value as attributes, so `[null, null]` made a valid all-defaults body.)"""

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data: Any) -> Any:
        value = data._obj if isinstance(data, DjangoGetter) else data
        if not isinstance(value, dict):
            raise ValueError("the body must be a JSON object")
        return data


class Problem(Schema):
    """401, 403, 404 (and other errors with one message)."""

    detail: str


class FieldProblem(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(Schema):
    """422: one message per field; `loc` is the path to the field in the request."""

    detail: list[FieldProblem]


class ParamProblem(Schema):
    """400: a parameter that is well-formed but cannot be used; `position` for query text."""

    detail: str
    param: str | None = None
    position: int | None = None


MAX_ID = 2**63 - 1  # the largest id a bigint column (and SQLite) holds: past it, no such object


def object_id(value: int) -> int:
    """An id from the path; one no id column can hold is simply not there (404, not a 500)."""
    if not 0 < value <= MAX_ID:
        raise Http404("Not Found")
    return value


SCHEMAS: dict[int, type[Schema]] = {
    400: ParamProblem,
    401: Problem,
    403: Problem,
    404: Problem,
    422: ValidationProblem,
}


def errors(*codes: int) -> dict[int, type[Schema]]:
    """The documented error responses of a route: 401 always, plus the given codes."""
    return {code: SCHEMAS[code] for code in sorted({401, *codes})}
