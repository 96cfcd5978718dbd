"""/api/v1/sources: list, create, read, update, delete sources; run verification, read results.

Input is validated by the same forms as the wizard, so the API and the console agree on every
rule and message; a bad value answers 422 with the message on its field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError, ValidationError

from audit.responses import Body, errors, object_id
from sources import services, transports
from sources.health import Backlog
from sources.models import (
    ALARM_MAX_MINUTES,
    ALARM_MIN_MINUTES,
    DEFAULT_ALARM_MINUTES,
    Source,
    VerificationRun,
)
from sources.permissions import can_manage_sources
from sources.transports.base import PrepareFailed

router = Router(tags=["sources"])


TransportKey = Literal[tuple(transports.REGISTRY)]  # type: ignore[valid-type]


class SourceIn(Body):
    name: str
    transport: TransportKey
    log_types: list[str] = Field(
        default_factory=list,
        description="S3: used for a single whole-bucket prefix when config.prefixes is absent.",
    )
    config: dict[str, Any] = Field(
        min_length=1,
        description="Transport settings, as in Source.config. SQS: give queue_name instead of "
        "queue_url to have the console create the queue. HTTP: auth (bearer or hmac) and secret "
        "(omit it to have one generated, returned once as `secret`).",
    )
    alarm_minutes: int | None = Field(
        DEFAULT_ALARM_MINUTES,
        ge=ALARM_MIN_MINUTES,
        le=ALARM_MAX_MINUTES,
        description="Drop-off alarm: Unhealthy after this many minutes without data. On by "
        f"default ({DEFAULT_ALARM_MINUTES}); null turns it off.",
    )


class SourcePatch(Body):
    name: str | None = None
    log_types: list[str] | None = None
    config: dict[str, Any] | None = Field(None, description="Merged into the current settings.")
    alarm_minutes: int | None = Field(None, ge=ALARM_MIN_MINUTES, le=ALARM_MAX_MINUTES)
    paused: bool | None = None


class BacklogOut(Schema):
    """What waited to be read at the last health check (every 30 s)."""

    queue: bool = Field(description="Queue-driven source (SQS or S3 notifications).")
    visible: int | None = Field(
        description="Messages waiting in the SQS queue (ApproximateNumberOfMessages); null "
        "for sources that list their bucket, or when the queue could not be read."
    )
    in_flight: int | None = Field(
        description="Messages received and not yet deleted (ApproximateNumberOfMessagesNotVisible)."
    )
    objects_pending: int = Field(description="Objects handed out and not read yet (the ledger).")
    oldest_pending_at: datetime | None = Field(
        description="When the longest-waiting pending object last moved."
    )
    oldest_age_seconds: float | None = Field(
        description="The longest any work has waited: a pending object, or the last receive's "
        "oldest message."
    )
    last_receive_at: datetime | None = Field(
        description="The last answered receive (or listing) request."
    )
    receive_lag_seconds: float | None = Field(
        description="How long the oldest message of that receive had waited in SQS."
    )
    error: str = Field(description="Why the queue could not be measured (an AWS error).")
    measured_at: datetime | None


class SourceOut(Schema):
    id: int
    name: str
    transport: str
    log_types: list[str]
    config: dict[str, Any] = Field(description="Transport settings (secrets are never returned).")
    ingest_url: str | None = Field(
        None,
        description="Push transports (HTTP): the URL clients POST their events to; null for the "
        "transports that fetch their data.",
    )
    paused: bool
    health: str = Field(description="healthy, unhealthy, paused or waiting (for data).")
    health_reason: str = Field(
        description="Why, in one sentence (empty when Healthy with nothing to say)."
    )
    health_checked_at: datetime | None = Field(description="The last health check.")
    backlog: BacklogOut | None = Field(description="Null until the first health check.")
    last_event_at: datetime | None
    alarm_minutes: int | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_backlog(source: Source) -> dict[str, Any] | None:
        backlog = Backlog.from_json(source.backlog)
        if backlog is None:
            return None
        oldest = backlog.oldest_age()
        return {
            **backlog.as_json(),
            "oldest_age_seconds": round(oldest.total_seconds(), 1) if oldest else None,
            "receive_lag_seconds": backlog.receive_lag,
        }

    @staticmethod
    def resolve_config(source: Source) -> dict[str, Any]:
        return source.transport_impl.public_config(source.config)

    @staticmethod
    def resolve_ingest_url(source: Source, context) -> str | None:
        return services.ingest_url(source, context["request"] if context else None)


class SourceCreatedOut(SourceOut):
    secret: str | None = Field(
        None,
        description="The source's secret (HTTP: the bearer token or HMAC key), returned only "
        "here, once: it is stored encrypted and never returned again.",
    )

    @staticmethod
    def resolve_secret(source: Source) -> str | None:
        return source.transport_impl.reveal(source.settings)


class CheckOut(Schema):
    name: str
    ok: bool | None
    message: str
    error: str = ""
    at: str


class VerificationOut(Schema):
    id: int
    source_id: int | None
    status: str
    done: bool
    checks: list[CheckOut]
    created_at: datetime
    finished_at: datetime | None


def _source(source_id: int) -> Source:
    return get_object_or_404(Source, pk=object_id(source_id))


def require_admin(request: HttpRequest) -> None:
    if not can_manage_sources(request.user):
        raise HttpError(403, "Only source admins can create, change or delete log sources.")


def field_errors(form) -> list[dict[str, Any]]:
    """Form errors as ninja's 422 `detail` items: loc points at the field in the request body."""
    detail = []
    for field, messages in form.error_dict().items():
        if field in {"name", "log_types"}:
            loc = ["body", field]
        elif field == "__all__":
            loc = ["body", "config"]
        elif field.startswith("prefixes["):
            index, _, sub = field[len("prefixes[") :].partition("].")
            loc = ["body", "config", "prefixes", int(index), sub]
        else:
            loc = ["body", "config", field]
        detail += [{"loc": loc, "msg": message, "type": "value_error"} for message in messages]
    return detail


def validated_settings(
    transport_key: str, name: str, log_types: list[str], config: dict, instance=None
) -> tuple[dict, list[str]]:
    """(config, log types) after the transport's form accepts them; 422 otherwise."""
    tr = transports.get(transport_key)
    form = tr.bind_form(tr.form_data_from(name, log_types, config), instance=instance)
    if not form.is_valid():
        raise ValidationError(field_errors(form))
    clean = tr.config_from(form)
    try:
        clean = tr.prepare(form, clean)
    except PrepareFailed as exc:
        raise ValidationError(
            [{"loc": ["body", "config", exc.field], "msg": exc.message, "type": "value_error"}]
        ) from exc
    return clean, tr.log_types_from(form)


@router.get("", response={200: list[SourceOut], **errors(422)}, summary="List sources")
def list_sources(
    request: HttpRequest, transport: str | None = None, health: str | None = None, q: str = ""
):
    sources = Source.objects.all()
    if transport:
        sources = sources.filter(transport=transport)
    if health:
        sources = sources.filter(health=health)
    if q:
        sources = sources.filter(name__icontains=q)
    return sources


@router.post(
    "", response={201: SourceCreatedOut, **errors(400, 403, 422)}, summary="Create a source"
)
def create_source(request: HttpRequest, payload: SourceIn):
    require_admin(request)
    config, log_types = validated_settings(
        payload.transport, payload.name, payload.log_types, payload.config
    )
    with transaction.atomic():
        source = services.create_source(
            name=payload.name.strip(),
            transport=payload.transport,
            log_types=log_types,
            config=config,
            user=request.user,
            alarm_minutes=payload.alarm_minutes,
            via="api",
        )
    return Status(201, source)


@router.get("/{source_id}", response={200: SourceOut, **errors(404, 422)}, summary="Read a source")
def get_source(request: HttpRequest, source_id: int):
    return _source(source_id)


@router.patch(
    "/{source_id}",
    response={200: SourceOut, **errors(400, 403, 404, 422)},
    summary="Change a source",
)
def update_source(request: HttpRequest, source_id: int, payload: SourcePatch):
    require_admin(request)
    source = _source(source_id)
    values: dict[str, Any] = {}
    if payload.name is not None or payload.log_types is not None or payload.config is not None:
        config, log_types = validated_settings(
            source.transport,
            payload.name if payload.name is not None else source.name,
            payload.log_types if payload.log_types is not None else source.log_types,
            {**source.config, **(payload.config or {})},
            instance=source,
        )
        name = payload.name.strip() if payload.name is not None else source.name
        values.update(name=name, config=config, log_types=log_types)
    if "alarm_minutes" in payload.model_fields_set:
        values["alarm_minutes"] = payload.alarm_minutes
    if values:
        services.update_source(source, request.user, via="api", **values)
    if payload.paused is not None:
        services.set_paused(source, payload.paused, request.user, via="api")
    return source


@router.delete(
    "/{source_id}", response={204: None, **errors(403, 404, 422)}, summary="Delete a source"
)
def delete_source(request: HttpRequest, source_id: int):
    require_admin(request)
    services.delete_source(_source(source_id), request.user, via="api")
    return Status(204, None)


@router.post(
    "/{source_id}/verify",
    response={202: VerificationOut, **errors(403, 404, 422)},
    summary="Run the verification checks",
)
def verify_source(request: HttpRequest, source_id: int):
    require_admin(request)
    source = _source(source_id)
    run = services.start_verification(
        transport=source.transport,
        config=source.config,
        user=request.user,
        source=source,
        via="api",
    )
    return Status(202, run)


@router.get(
    "/{source_id}/verifications",
    response={200: list[VerificationOut], **errors(404, 422)},
    summary="Verification runs",
)
def list_verifications(request: HttpRequest, source_id: int):
    source = _source(source_id)
    return source.verifications.all()[:50]


@router.get(
    "/{source_id}/verifications/{run_id}",
    response={200: VerificationOut, **errors(404, 422)},
    summary="One verification run (poll until done)",
)
def get_verification(request: HttpRequest, source_id: int, run_id: int):
    return get_object_or_404(VerificationRun, pk=object_id(run_id), source_id=object_id(source_id))
