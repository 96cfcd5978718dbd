"""/api/v1/schemas: the log types; custom ones created, changed (each a new version), tested on
a sample and inferred from one. Problems answer 422 with the message on `body.text` (with the
line, column and field path of the schema text) or on `body.sample`."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError, ValidationError

from audit.responses import Body, errors
from audit.responses import Problem as Conflict
from audit.roles import can_manage
from logtypes import custom, registry
from parsers.evolve import Problem
from parsers.streams import STREAM_TYPES

router = Router(tags=["schemas"])

StreamType = Literal[STREAM_TYPES]  # type: ignore[valid-type]


class LogTypeOut(Schema):
    name: str
    title: str
    vendor: str
    category: str
    description: str
    fields: int
    custom: bool
    version: int | None


class SchemaOut(LogTypeOut):
    text: str


class SchemaIn(Body):
    text: str = Field(description="The Panther-format YAML schema")


class VersionOut(Schema):
    name: str
    version: int
    author: str
    created_at: datetime
    text: str
    diff: str


class SampleIn(Body):
    sample: str = Field("", description="Sample lines (plain text)")
    sample_base64: str = Field("", description="Or a sample file, base64 (may be compressed)")
    stream_type: StreamType = "auto"


class TestIn(SampleIn):
    text: str = Field(description="The schema to test")


class InferIn(SampleIn):
    name: str = Field("Custom.Inferred", description="The inferred log type's name")
    text: str = Field(
        "",
        description="A schema to merge the inferred fields into (types widen, never narrow; "
        "its edits are kept); empty: a new schema",
    )


class TestOut(Schema):
    event_count: int
    failure_count: int
    events: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    extra_keys: dict[str, int]


class InferOut(Schema):
    text: str


def _out(lt: registry.LogType, **more: Any) -> dict[str, Any]:
    latest = custom.SchemaVersion.objects.filter(name=lt.name).first()
    return {
        "name": lt.name,
        "title": lt.title,
        "vendor": lt.vendor,
        "category": lt.category,
        "description": lt.description,
        "fields": lt.field_count,
        "custom": custom.editable(lt.name),
        "version": latest.version if latest else None,
        **more,
    }


def _get(name: str) -> registry.LogType:
    try:
        return registry.get(name)
    except KeyError as exc:
        raise HttpError(404, str(exc.args[0])) from None


def _require_admin(request: HttpRequest) -> None:
    if not can_manage(request.user):
        raise HttpError(403, "Only source admins can create or change log types.")


def _text_errors(problems: list[Problem]) -> ValidationError:
    return ValidationError(
        [
            {"loc": ["body", "text"], "msg": p.message, "type": "value_error", **p.as_dict()}
            for p in problems
        ]
    )


def _sample_error(message: str) -> ValidationError:
    return ValidationError([{"loc": ["body", "sample"], "msg": message, "type": "value_error"}])


def _sample(body: SampleIn) -> bytes:
    try:
        raw = base64.b64decode(body.sample_base64, validate=True) if body.sample_base64 else b""
    except (binascii.Error, ValueError):
        raise _sample_error("sample_base64 is not base64") from None
    raw = raw or body.sample.encode("utf-8")
    if not raw.strip():
        raise _sample_error("give sample lines (sample) or a file (sample_base64)")
    try:
        return custom.read_sample(raw)
    except ValueError as exc:
        raise _sample_error(str(exc)) from None


def _save(
    request: HttpRequest, text: str, name: str | None, *, new: bool = False
) -> custom.SchemaVersion:
    try:
        return custom.save(text, user=request.user, via="api", name=name, new=new)
    except custom.SaveConflict as exc:
        raise HttpError(409, str(exc)) from None
    except custom.SaveRefused as exc:
        raise _text_errors(exc.problems) from None


@router.get("", response={200: list[LogTypeOut], **errors()}, summary="List log types")
def list_schemas(request: HttpRequest) -> list[dict[str, Any]]:
    return [_out(lt) for lt in registry.all()]


@router.post(
    "",
    response={201: SchemaOut, **errors(400, 403, 422), 409: Conflict},
    summary="Create a custom log type",
)
def create_schema(request: HttpRequest, body: SchemaIn) -> Status:
    _require_admin(request)
    schema, _ = custom.check(body.text)
    if schema is not None and schema.name in registry.current_registry():
        raise _text_errors([Problem(f"{schema.name} exists: PUT a new version", "schema", 1, 1)])
    version = _save(request, body.text, None, new=True)  # checked again under the save lock
    return Status(201, _out(registry.get(version.name), text=version.text, version=version.version))


@router.post(
    "/test", response={200: TestOut, **errors(400, 422)}, summary="Parse a sample with a schema"
)
def test_schema(request: HttpRequest, body: TestIn) -> dict[str, Any]:
    schema, problems = custom.check(body.text)
    if schema is None:
        raise _text_errors(problems)
    return custom.parse_sample(schema, _sample(body), body.stream_type).as_dict()


@router.post(
    "/infer", response={200: InferOut, **errors(400, 422)}, summary="Infer a schema from a sample"
)
def infer_schema(request: HttpRequest, body: InferIn) -> dict[str, str]:
    if body.text and (problems := custom.check(body.text)[1]):
        raise _text_errors(problems)
    try:
        return {"text": custom.infer(_sample(body), body.name, body.stream_type, into=body.text)}
    except ValueError as exc:
        raise _sample_error(str(exc)) from None


@router.get(
    "/{name}", response={200: SchemaOut, **errors(404, 422)}, summary="Read a log type's schema"
)
def read_schema(request: HttpRequest, name: str) -> dict[str, Any]:
    lt = _get(name)
    return _out(lt, text=lt.schema.text)


@router.put(
    "/{name}",
    response={200: SchemaOut, **errors(400, 403, 404, 422), 409: Conflict},
    summary="Save a new version of a custom log type",
)
def update_schema(request: HttpRequest, name: str, body: SchemaIn) -> dict[str, Any]:
    _require_admin(request)
    _get(name)
    if not custom.editable(name):
        raise HttpError(403, f"{name} is built in and cannot be changed")
    version = _save(request, body.text, name)
    return _out(registry.get(name), text=version.text, version=version.version)


def _route_log_types_named(word: str) -> None:
    """GET and PUT /schemas/test and /schemas/infer: a log type may be named like an action (a
    name needs no dot), and Django resolves those paths to the POST-only actions (405) first."""
    read = {200: SchemaOut, **errors(404, 422)}
    update = {200: SchemaOut, **errors(400, 403, 404, 422), 409: Conflict}

    @router.get(
        f"/{word}", response=read, include_in_schema=False, url_name=f"read_schema_named_{word}"
    )
    def read_named(request: HttpRequest) -> dict[str, Any]:
        return read_schema(request, word)

    @router.put(
        f"/{word}", response=update, include_in_schema=False, url_name=f"update_schema_named_{word}"
    )
    def update_named(request: HttpRequest, body: SchemaIn) -> dict[str, Any]:
        return update_schema(request, word, body)


for _action in ("test", "infer"):
    _route_log_types_named(_action)


@router.get(
    "/{name}/versions",
    response={200: list[VersionOut], **errors(404, 422)},
    summary="A log type's versions",
)
def schema_versions(request: HttpRequest, name: str) -> list[dict[str, Any]]:
    _get(name)
    return [
        {
            "name": v.name,
            "version": v.version,
            "author": v.author_label,
            "created_at": v.created_at,
            "text": v.text,
            "diff": v.diff,
        }
        for v in custom.versions(name)
    ]
