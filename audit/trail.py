"""The audit trail's one writer: `record()` stores an AuditEntry for a change or a sign-in.

Who acted, from where and through which door (console, API, admin) comes from the request being
served, which AuditContextMiddleware keeps in a context variable; outside a request the actor is
the management command or "system". Values of secret-looking fields are redacted here, so no
caller can store a password hash, token digest or key by mistake.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from django.db import models
from django.http import HttpRequest, HttpResponse

from audit.models import AuditEntry

REDACTED = "[redacted]"
SECRET_WORDS = ("password", "secret", "token", "digest", "access_key", "session_key")

_current_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


class AuditContextMiddleware:
    """Makes the request being served available to `record()` (signals have no request)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


def is_secret(field: str) -> bool:
    """`password`, `config.secret_access_key`, `digest`…: judged by the last dotted part."""
    name = field.rsplit(".", 1)[-1].lower()
    return any(word in name for word in SECRET_WORDS)


def redact(changes: dict[str, Any]) -> dict[str, Any]:
    """{field: [before, after]} with secret values replaced by a marker (None stays None)."""
    return {
        field: [None if value in (None, "") else REDACTED for value in pair]
        if is_secret(field)
        else pair
        for field, pair in changes.items()
    }


def record(
    action: str,
    obj: models.Model | None = None,
    *,
    changes: dict[str, Any] | None = None,
    actor=None,
    via: str | None = None,
    request: HttpRequest | None = None,
    object_type: str = "",
    object_id: str = "",
    object_label: str = "",
) -> AuditEntry:
    """Store one audit entry about `obj` (or the object named by object_type/id/label).

    `actor` defaults to the signed-in user of the request being served; pass `request` when the
    caller has one that the middleware did not see (the auth signals).
    """
    request = request if request is not None else _current_request.get()
    actor = actor if _signed_in(actor) else _request_user(request)
    label = actor.get_username() if actor else _anonymous_label(request)
    if actor is not None and action == AuditEntry.Action.DELETED and not _exists(actor):
        actor = None  # the actor deleted their own login (or a cascade from it): keep the name
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id or str(obj.pk)
        object_label = object_label or str(obj)
    return AuditEntry.objects.create(
        actor=actor,
        actor_label=label,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label[:200],
        changes=redact(changes or {}),
        via=via or _via(request),
        ip=_client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request else "")[:255],
    )


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def _exists(user) -> bool:
    return user._meta.model._default_manager.filter(pk=user.pk).exists()


def _request_user(request: HttpRequest | None):
    user = getattr(request, "user", None)
    return user if _signed_in(user) else None


def _command() -> str | None:
    """`manage.py NAME` / `django-admin NAME` when this process is a management command."""
    argv = sys.argv
    if len(argv) > 1 and Path(argv[0]).name in {"manage.py", "django-admin"}:
        return argv[1]
    return None


def _anonymous_label(request: HttpRequest | None) -> str:
    if request is not None:
        return "anonymous"
    command = _command()
    return f"manage.py {command}" if command else "system"


def _via(request: HttpRequest | None) -> str:
    if request is None:
        return AuditEntry.Via.COMMAND if _command() else AuditEntry.Via.SYSTEM
    match = getattr(request, "resolver_match", None)
    namespaces = match.namespaces if match else []
    if "admin" in namespaces:
        return AuditEntry.Via.ADMIN
    if "api" in namespaces:
        return AuditEntry.Via.API
    return AuditEntry.Via.CONSOLE


def _client_ip(request: HttpRequest | None) -> str | None:
    """REMOTE_ADDR only: X-Forwarded-For is whatever the client chose to send."""
    address = request.META.get("REMOTE_ADDR", "") if request else ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
