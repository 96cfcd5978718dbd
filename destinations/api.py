"""/api/v1/destinations: list, create, read, change, delete destinations; send a test alert; read
a destination's deliveries. Every signed-in role reads; source admins change (as for sources).
Input is validated by the pages' form, so a bad value answers 422 with the message on its field.
Secrets are write-only: responses name which are set, never their values."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError, ValidationError

from audit.responses import Body, errors, object_id
from destinations import services
from destinations.forms import DestinationForm, initial_from
from destinations.models import Delivery, Destination
from destinations.sealed import which_are_set
from sources.permissions import can_manage_sources

router = Router(tags=["destinations"])

KindName = Literal["slack", "webhook", "email", "pagerduty"]
SeverityName = Literal["info", "low", "medium", "high", "critical"]


class DestinationIn(Body):
    name: str
    kind: KindName
    enabled: bool = True
    min_severity: SeverityName = "low"
    log_types: list[str] = Field(default_factory=list, description="Empty: every log type.")
    rule_ids: list[str] = Field(
        default_factory=list, description="Rule ids or shell patterns (System.*); empty: all."
    )
    url: str = Field("", description="webhook: where to POST; pagerduty: empty for PagerDuty's.")
    recipients: list[str] = Field(default_factory=list, description="email: addresses.")
    webhook_url: str = Field("", description="slack: the incoming webhook URL (secret).")
    hmac_secret: str = Field("", description="webhook: signs bodies (X-Sluice-Signature).")
    headers: dict[str, str] = Field(default_factory=dict, description="webhook (secret).")
    routing_key: str = Field("", description="pagerduty: the Events API v2 key (secret).")


class DestinationPatch(Body):
    name: str | None = None
    enabled: bool | None = None
    min_severity: SeverityName | None = None
    log_types: list[str] | None = None
    rule_ids: list[str] | None = None
    url: str | None = None
    recipients: list[str] | None = None
    webhook_url: str | None = Field(None, description="Replaces the stored one.")
    hmac_secret: str | None = None
    headers: dict[str, str] | None = None
    routing_key: str | None = None


class DestinationOut(Schema):
    id: int
    name: str
    kind: KindName
    enabled: bool
    min_severity: SeverityName
    log_types: list[str]
    rule_ids: list[str]
    url: str
    recipients: list[str]
    secrets_set: list[str] = Field(description="Names of the secret settings stored.")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_secrets_set(destination: Destination) -> list[str]:
        return which_are_set(destination.secrets)


class AttemptOut(Schema):
    number: int
    started_at: datetime
    finished_at: datetime | None
    ok: bool
    status_code: int | None
    response: str
    error: str


class DeliveryOut(Schema):
    id: int
    destination_id: int
    alert_id: int | None
    change: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    tries: list[AttemptOut]

    @staticmethod
    def resolve_tries(delivery: Delivery) -> list[Any]:
        return list(delivery.tries.all())


def _require_admin(request: HttpRequest) -> None:
    if not can_manage_sources(request.user):
        raise HttpError(403, "Only source admins can create, change or delete destinations.")


def _form_data(values: dict[str, Any]) -> dict[str, Any]:
    """JSON values as the form's fields (lists and headers as text)."""
    data = dict(values)
    for name in ("log_types", "rule_ids", "recipients"):
        if isinstance(data.get(name), list):
            data[name] = ", ".join(data[name])
    if isinstance(data.get("headers"), dict):
        data["headers"] = "\n".join(f"{k}: {v}" for k, v in data["headers"].items())
    if data.get("enabled") is False:
        data.pop("enabled")  # an unchecked box is absent from a form post
    return data


def _valid(data: dict[str, Any], instance: Destination | None = None) -> DestinationForm:
    form = DestinationForm(_form_data(data), instance=instance)
    if not form.is_valid():
        raise ValidationError(
            [
                {"loc": ["body", field], "msg": str(message), "type": "value_error"}
                for field, messages in form.errors.items()
                for message in messages
            ]
        )
    return form


@router.get("", response={200: list[DestinationOut], **errors()}, summary="List destinations")
def list_destinations(request: HttpRequest):
    return Destination.objects.all()


@router.post(
    "", response={201: DestinationOut, **errors(400, 403, 422)}, summary="Create a destination"
)
def create_destination(request: HttpRequest, payload: DestinationIn):
    _require_admin(request)
    form = _valid(payload.dict())
    return Status(201, services.save(form, actor=request.user, via="api"))


@router.get(
    "/{destination_id}",
    response={200: DestinationOut, **errors(404, 422)},
    summary="Read a destination",
)
def get_destination(request: HttpRequest, destination_id: int):
    return get_object_or_404(Destination, pk=object_id(destination_id))


@router.patch(
    "/{destination_id}",
    response={200: DestinationOut, **errors(400, 403, 404, 422)},
    summary="Change a destination",
)
def update_destination(request: HttpRequest, destination_id: int, payload: DestinationPatch):
    _require_admin(request)
    destination = get_object_or_404(Destination, pk=object_id(destination_id))
    current = initial_from(destination)
    changed = payload.dict(exclude_none=True)
    form = _valid({**current, **changed}, instance=destination)
    return services.save(form, actor=request.user, via="api")


@router.delete(
    "/{destination_id}",
    response={204: None, **errors(403, 404, 422)},
    summary="Delete a destination",
)
def delete_destination(request: HttpRequest, destination_id: int):
    _require_admin(request)
    services.delete(
        get_object_or_404(Destination, pk=object_id(destination_id)), actor=request.user, via="api"
    )
    return Status(204, None)


@router.post(
    "/{destination_id}/test",
    response={200: DeliveryOut, **errors(403, 404, 422)},
    summary="Send a test alert (once, now)",
)
def test_destination(request: HttpRequest, destination_id: int):
    _require_admin(request)
    return services.send_test(get_object_or_404(Destination, pk=object_id(destination_id)))


@router.get(
    "/{destination_id}/deliveries",
    response={200: list[DeliveryOut], **errors(404, 422)},
    summary="The last 50 deliveries to a destination, newest first, with each try",
)
def list_deliveries(request: HttpRequest, destination_id: int):
    destination = get_object_or_404(Destination, pk=object_id(destination_id))
    return destination.deliveries.prefetch_related("tries")[:50]
