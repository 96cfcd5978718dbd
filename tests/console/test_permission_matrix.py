"""The permission matrix: every URL pattern x every role, from one table keyed by URL name.

The tests walk `django.urls.get_resolver()` — console pages, the admin site and the django-ninja
API (its OpenAPI schema and docs too) — so a new view with no row in EXPECTATIONS fails
`test_every_url_pattern_has_a_permission_expectation`, and one whose access differs from its row
fails `test_every_url_answers_each_role_as_the_matrix_says`.

Roles: anonymous; viewer (signed in, no group); source admin (the "Source admins" group, not
staff); superuser. Pages send anonymous visitors to /login/, the admin site to /admin/login/, and
the API (Bearer tokens only) answers 401.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from celery.app.task import Task
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from audit.models import ApiToken
from audit.trail import record
from destinations.models import Destination
from detections.models import RuleError, RuleRun, RuleSetting
from events.models import SavedSearch
from ingestion.models import BackfillRun, ObjectLedger
from sources import crypto
from sources.drafts import SESSION_KEY as DRAFTS
from sources.models import Source, VerificationRun
from sources.permissions import SOURCE_ADMINS_GROUP
from tests.factories import (
    AlertFactory,
    DestinationFactory,
    EventFactory,
    FailureFactory,
    SourceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "viewer", "source_admin", "superuser")
LOGIN = "login"  # 302 to /login/?next=...
ADMIN_LOGIN = "admin login"  # 302 to /admin/login/?next=...
TELEPORT = "Gravitational.TeleportAudit"
DRAFT_ID = "d" * 32
RULE_ID = "Teleport.RootLogin"


# --- The objects each URL is filled from (made fresh for every request) ------------------------
@dataclass
class World:
    user: Any
    source: Source
    event: Any
    run: VerificationRun
    saved: SavedSearch
    token: ApiToken
    raw_token: str
    ledger: ObjectLedger
    backfill: BackfillRun
    http: Source  # a push source
    alert: Any = None
    rule_run: Any = None


def make_world(user) -> World:
    owner = user or UserFactory(username="owner")
    source = SourceFactory()
    event = EventFactory(source=source, fields={"event": "session.start", "sid": "sid-1"})
    FailureFactory(source=source)
    record("created", source, actor=owner)
    DestinationFactory(name=f"matrix-{source.pk}", url="https://127.0.0.1:9/refused")
    token, raw = ApiToken.objects.issue(owner, "matrix")
    locked = {"username": f"someone-{source.pk}", "ip_address": "10.0.0.1"}
    AccessAttempt.objects.create(**locked, failures_since_start=1)
    AccessLog.objects.create(**locked)
    AccessFailureLog.objects.create(**locked)
    RuleError.objects.create(rule_id=RULE_ID, message="KeyError: 'x'", message_key="k", count=1)
    RuleSetting.objects.get_or_create(rule_id=RULE_ID, defaults={"severity": "high"})
    return World(
        user=owner,
        source=source,
        event=event,
        run=VerificationRun.objects.create(source=source, transport="s3", config=source.config),
        saved=SavedSearch.objects.create(user=owner, name=f"mine-{source.pk}", query_string="q=a"),
        token=token,
        raw_token=raw,
        ledger=ObjectLedger.objects.create(source=source, bucket="b", key="k.json.gz"),
        backfill=BackfillRun.objects.create(source=source, since=datetime(2026, 11, 1, tzinfo=UTC)),
        http=SourceFactory(
            transport="http",
            config={"auth": "bearer", "secret_encrypted": crypto.encrypt("matrix-secret-0123")},
        ),
        alert=AlertFactory(),
        rule_run=RuleRun.objects.create(rule_id=RULE_ID, kind=RuleRun.Kind.TESTS),
    )


# --- Expectations ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Expect:
    """What each role gets from one request (status code, LOGIN or ADMIN_LOGIN)."""

    anonymous: int | str
    viewer: int | str
    source_admin: int | str
    superuser: int | str
    method: str = "get"
    kwargs: Callable[[World], dict] = lambda w: {}
    data: dict | Callable[[World], dict] | None = None
    query: str = ""

    def body(self, world: World) -> dict:
        return (self.data(world) if callable(self.data) else self.data) or {}


def signed_in(**kw) -> Expect:
    return Expect(LOGIN, 200, 200, 200, **kw)


def source_admins(**kw) -> Expect:
    return Expect(LOGIN, 403, 200, 200, **kw)


def api_read(**kw) -> Expect:
    return Expect(401, 200, 200, 200, **kw)


def api_write(ok: int, **kw) -> Expect:
    return Expect(401, 403, ok, ok, **kw)


def pk_of(attr: str) -> Callable[[World], dict]:
    return lambda w: {"pk": getattr(w, attr).pk}


SOURCE = pk_of("source")
SOURCE_ID = lambda w: {"source_id": w.source.pk}  # noqa: E731
DRAFT = lambda w: {"draft": DRAFT_ID}  # noqa: E731
RULE = lambda w: {"rule_id": RULE_ID}  # noqa: E731
ALERT_ID = lambda w: {"alert_id": w.alert.pk}  # noqa: E731
API_SOURCE = {"name": "api-made", "transport": "s3", "config": {"bucket": "x"}}  # form-invalid

EXPECTATIONS: dict[str, Expect | list[Expect]] = {
    # console
    "dashboard": signed_in(),
    "healthz": Expect(200, 200, 200, 200),
    "favicon": Expect(301, 301, 301, 301),
    "login": [Expect(200, 302, 302, 302), Expect(200, 302, 302, 302, method="post")],
    "logout": [Expect(LOGIN, 405, 405, 405), Expect(LOGIN, 302, 302, 302, method="post")],
    "account": [signed_in(), signed_in(method="post", data={"name": ""})],
    "audit": Expect(LOGIN, 403, 403, 200),
    # admin/console/... (API tokens, audit entries before the audit app): 301 to admin/audit/...
    "old_admin_console": Expect(LOGIN, 301, 301, 301, kwargs=lambda w: {"rest": "auditentry/"}),
    "revoke_token": [
        Expect(LOGIN, 405, 405, 405, kwargs=pk_of("token")),
        Expect(LOGIN, 302, 302, 302, method="post", kwargs=pk_of("token")),
    ],
    # sources: everyone signed in reads, source admins change
    "sources:list": signed_in(),
    "sources:detail": signed_in(kwargs=SOURCE),
    "sources:health": signed_in(kwargs=SOURCE),
    "sources:history": signed_in(kwargs=SOURCE),
    "sources:settings": [
        signed_in(kwargs=SOURCE),
        Expect(LOGIN, 403, 200, 200, method="post", kwargs=SOURCE, data={"name": ""}),
    ],
    "sources:template": signed_in(kwargs=lambda w: {"pk": w.source.pk, "filename": "main.tf"}),
    "sources:verification": signed_in(kwargs=pk_of("run")),
    "sources:new": source_admins(),
    "sources:new_overview": source_admins(kwargs=lambda w: {"log_type": TELEPORT}),
    "sources:new_configure": [
        source_admins(kwargs=lambda w: {"log_type": TELEPORT, "transport": "s3"}),
        Expect(
            LOGIN,
            403,
            200,
            200,
            method="post",
            kwargs=lambda w: {"log_type": TELEPORT, "transport": "s3"},
        ),
    ],
    "sources:validate_field": Expect(
        LOGIN,
        403,
        200,
        200,
        method="post",
        kwargs=lambda w: {"transport": "s3"},
        data={"_field": "bucket", "bucket": "b"},
    ),
    "sources:draft_permissions": source_admins(kwargs=DRAFT),
    "sources:draft_template": source_admins(
        kwargs=lambda w: {"draft": DRAFT_ID, "filename": "main.tf"}
    ),
    "sources:draft_verify": source_admins(kwargs=DRAFT),
    "sources:draft_finish": source_admins(kwargs=DRAFT),
    "sources:verify": Expect(LOGIN, 403, 302, 302, method="post", kwargs=SOURCE),
    "sources:pause": Expect(LOGIN, 403, 302, 302, method="post", kwargs=SOURCE),
    "sources:delete": [
        source_admins(kwargs=SOURCE),
        Expect(
            LOGIN,
            403,
            302,
            302,
            method="post",
            kwargs=SOURCE,
            data=lambda w: {"confirm_name": w.source.name},
        ),
    ],
    # ingestion panel: everyone signed in reads, source admins act
    "ingestion:source": signed_in(kwargs=SOURCE),
    "ingestion:backfill": signed_in(kwargs=pk_of("backfill")),
    "ingestion:reprocess": Expect(LOGIN, 403, 302, 302, method="post", kwargs=SOURCE),
    "ingestion:start_backfill": Expect(
        LOGIN, 403, 302, 302, method="post", kwargs=SOURCE, data={"since": "2026-11-01"}
    ),
    "ingestion:retry": Expect(LOGIN, 403, 302, 302, method="post", kwargs=pk_of("ledger")),
    # search: every signed-in user
    "events:search": signed_in(query="q=alice"),
    "events:rows": signed_in(),
    "events:histogram": signed_in(),
    "events:field_values": signed_in(query="field=event"),
    "events:export": signed_in(kwargs=lambda w: {"fmt": "csv"}),
    "events:save": Expect(LOGIN, 302, 302, 302, method="post", data={"name": "x"}),
    "events:delete_saved": Expect(LOGIN, 302, 302, 302, method="post", kwargs=pk_of("saved")),
    "events:detail": signed_in(kwargs=lambda w: {"row_id": w.event.p_row_id}),
    "events:json": signed_in(kwargs=lambda w: {"row_id": w.event.p_row_id}),
    "events:session": signed_in(kwargs=lambda w: {"sid": "sid-1"}),
    # alerts: every signed-in user reads and triages; detections: admins change rules
    "detections:alerts": signed_in(),
    "detections:alerts_bulk": Expect(
        LOGIN,
        302,
        302,
        302,
        method="post",
        data=lambda w: {"status": "triaged", "alerts": [w.alert.pk]},
    ),
    "detections:alert": signed_in(kwargs=pk_of("alert")),
    "detections:alert_triage": Expect(
        LOGIN, 302, 302, 302, method="post", kwargs=pk_of("alert"), data={"status": "triaged"}
    ),
    "detections:alert_comment": Expect(
        LOGIN, 302, 302, 302, method="post", kwargs=pk_of("alert"), data={"body": "seen"}
    ),
    "detections:rules": signed_in(),
    "detections:rule": signed_in(kwargs=RULE),
    "detections:rule_change": Expect(
        LOGIN, 403, 302, 302, method="post", kwargs=RULE, data={"enabled": "false"}
    ),
    "detections:rule_run": Expect(
        LOGIN, 302, 302, 302, method="post", kwargs=RULE, data={"kind": "tests"}
    ),
    "detections:rule_run_status": signed_in(
        kwargs=lambda w: {"rule_id": RULE_ID, "pk": w.rule_run.pk}
    ),
    # API: Bearer tokens only; the schema and its docs are public (they hold no data)
    # log types (Configure > Schemas); POSTs check only: a save would write SLUICE_SCHEMAS_DIR
    "logtypes:list": signed_in(),
    "logtypes:new": [
        source_admins(),
        source_admins(method="post", data={"text": "schema: x", "action": "check"}),
    ],
    "logtypes:detail": signed_in(kwargs=lambda w: {"name": "Sluice.SSHAuth"}),
    "logtypes:edit": Expect(LOGIN, 403, 404, 404, kwargs=lambda w: {"name": "Sluice.SSHAuth"}),
    "api:list_schemas": api_read(),
    "api:create_schema": api_write(422, method="post", data={"text": "schema: x"}),
    "api:test_schema": Expect(401, 422, 422, 422, method="post", data={"text": "schema: x"}),
    "api:infer_schema": Expect(401, 422, 422, 422, method="post", data={"sample": ""}),
    "api:read_schema": api_read(kwargs=lambda w: {"name": "Sluice.SSHAuth"}),
    "api:update_schema": Expect(
        401,
        403,
        403,
        403,
        method="put",
        kwargs=lambda w: {"name": "Sluice.SSHAuth"},
        data={"text": "schema: x"},
    ),
    "api:schema_versions": api_read(kwargs=lambda w: {"name": "Sluice.SSHAuth"}),
    # a log type named like an action (no such type here: 404 once signed in)
    **{f"api:read_schema_named_{word}": Expect(401, 404, 404, 404) for word in ("test", "infer")},
    **{
        f"api:update_schema_named_{word}": Expect(
            401, 403, 404, 404, method="put", data={"text": "schema: x"}
        )
        for word in ("test", "infer")
    },
    "api:api-root": Expect(404, 404, 404, 404),
    "api:openapi-json": Expect(200, 200, 200, 200),
    "api:openapi-view": Expect(200, 200, 200, 200),
    "api:list_sources": api_read(),
    "api:create_source": api_write(422, method="post", data=API_SOURCE),
    "api:get_source": api_read(kwargs=SOURCE_ID),
    "api:update_source": api_write(200, method="patch", kwargs=SOURCE_ID, data={}),
    "api:delete_source": api_write(204, method="delete", kwargs=SOURCE_ID),
    "api:verify_source": api_write(202, method="post", kwargs=SOURCE_ID),
    "api:list_verifications": api_read(kwargs=SOURCE_ID),
    "api:get_verification": api_read(
        kwargs=lambda w: {"source_id": w.source.pk, "run_id": w.run.pk}
    ),
    "api:list_events": api_read(),
    # the push endpoint of HTTP sources: the source's secret is the only credential (an API
    # token, a session or a role is not), so every role without it gets 401
    "api:push": Expect(
        401, 401, 401, 401, method="post", kwargs=lambda w: {"source_id": w.http.pk}
    ),
    "api:events_histogram": api_read(),
    "api:list_alerts": api_read(),
    "api:get_alert": api_read(kwargs=ALERT_ID),
    "api:patch_alert": api_read(method="patch", kwargs=ALERT_ID, data={"status": "triaged"}),
    "api:alert_events": api_read(kwargs=ALERT_ID),
    "api:list_rules": api_read(),
    "api:get_rule": api_read(kwargs=lambda w: {"rule_id": RULE_ID}),
    "api:patch_rule": api_write(
        200, method="patch", kwargs=lambda w: {"rule_id": RULE_ID}, data={"enabled": False}
    ),
    # admin site views that are not a registered model's
    "admin:index": Expect(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200),
    "admin:login": Expect(200, 200, 200, 302),
    "admin:logout": Expect(ADMIN_LOGIN, 302, 302, 405),  # non-staff: to /admin/, then login
    "admin:password_change": Expect(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200),
    "admin:password_change_done": Expect(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200),
    "admin:autocomplete": Expect(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403),
    "admin:jsi18n": Expect(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200),
    "admin:app_list": Expect(
        ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200, kwargs=lambda w: {"app_label": "sources"}
    ),
    "admin:view_on_site": Expect(
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        302,
        kwargs=lambda w: {
            "content_type_id": ContentType.objects.get_for_model(Source).pk,
            "object_id": w.source.pk,
        },
    ),
    "admin:auth_user_password_change": Expect(
        LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200, kwargs=lambda w: {"id": w.user.pk}
    ),
    "admin:<catch-all>": Expect(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 404),
}
# destinations: everyone signed in reads; source admins change and send test alerts
DESTINATION = lambda w: {"pk": Destination.objects.latest("pk").pk}  # noqa: E731
DESTINATION_ID = lambda w: {"destination_id": Destination.objects.latest("pk").pk}  # noqa: E731
API_DESTINATION = {"name": "api-made", "kind": "webhook", "url": "https://h.example/x"}
EXPECTATIONS.update(
    {
        "destinations:list": signed_in(),
        "destinations:new": [
            source_admins(),
            Expect(LOGIN, 403, 200, 200, method="post", data={"name": ""}),
        ],
        "destinations:detail": [
            signed_in(kwargs=DESTINATION),
            Expect(LOGIN, 403, 200, 200, method="post", kwargs=DESTINATION, data={}),
        ],
        "destinations:test": Expect(LOGIN, 403, 302, 302, method="post", kwargs=DESTINATION),
        "destinations:delete": Expect(LOGIN, 403, 302, 302, method="post", kwargs=DESTINATION),
        "destinations:alert_deliveries": signed_in(kwargs=lambda w: {"alert_id": 1}),
        "api:list_destinations": api_read(),
        "api:create_destination": api_write(201, method="post", data=API_DESTINATION),
        "api:get_destination": api_read(kwargs=DESTINATION_ID),
        "api:update_destination": api_write(200, method="patch", kwargs=DESTINATION_ID, data={}),
        "api:delete_destination": api_write(204, method="delete", kwargs=DESTINATION_ID),
        "api:test_destination": api_write(200, method="post", kwargs=DESTINATION_ID),
        "api:list_deliveries": api_read(kwargs=DESTINATION_ID),
    }
)
# A registered model's admin URLs (admin:<app>_<model>_<action>) are staff-only through Django's
# admin: every one is checked below, for every registered model, with an object of that model.
MODEL_ADMIN_ACTIONS = ("changelist", "add", "history", "delete", "change", "redirect")


# --- Walking the URL conf ----------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    key: str  # the URL name with namespaces, or admin:<model url>
    name: str  # what reverse() takes
    pattern: URLPattern
    model_admin: admin.ModelAdmin | None = None
    action: str = ""


def walk(resolver: URLResolver, namespaces: tuple[str, ...] = (), prefix: str = "") -> Iterator:
    """(namespaces, full route, pattern) of every URL pattern under `resolver`."""
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = namespaces + ((entry.namespace,) if entry.namespace else ())
            yield from walk(entry, inner, route)
        else:
            yield namespaces, route, entry


def routes() -> list[Route]:
    """Every URL pattern of the site, each with the key it must have in EXPECTATIONS."""
    models = {
        f"{m._meta.app_label}_{m._meta.model_name}": ma for m, ma in admin.site._registry.items()
    }
    found = []
    for namespaces, full_route, pattern in walk(get_resolver()):
        name = ":".join((*namespaces, pattern.name)) if pattern.name else ""
        if namespaces == ("admin",):
            model_route = _model_admin_route(pattern, full_route, name, models)
            if model_route:
                found.append(model_route)
                continue
            if not pattern.name and "(?P<url>.*)$" in str(pattern.pattern):
                found.append(Route("admin:<catch-all>", "", pattern))
                continue
        found.append(Route(name or f"<unnamed {full_route}>", name, pattern))
    return found


def _model_admin_route(pattern, full_route: str, name: str, models: dict) -> Route | None:
    for prefix, model_admin in models.items():
        model = model_admin.model
        if not full_route.startswith(f"admin/{model._meta.app_label}/{model._meta.model_name}/"):
            continue
        action = name.removeprefix(f"admin:{prefix}_") if name else "redirect"
        if action in MODEL_ADMIN_ACTIONS:
            return Route(f"admin:{prefix}_{action}", name, pattern, model_admin, action)
    return None


# --- Requests ----------------------------------------------------------------------------------
def role_user(role: str):
    if role == "anonymous":
        return None
    if role == "superuser":
        return UserFactory(username="root", is_staff=True, is_superuser=True)
    user = UserFactory(username=role)
    if role == "source_admin":
        user.groups.add(Group.objects.get_or_create(name=SOURCE_ADMINS_GROUP)[0])
    return user


def expectations_for(route: Route) -> list[Expect]:
    if route.model_admin is not None:
        return [_model_admin_expectation(route)]
    found = EXPECTATIONS[route.key]
    return found if isinstance(found, list) else [found]


def _model_admin_expectation(route: Route) -> Expect:
    """Django's admin: staff only; the superuser gets what the ModelAdmin allows.

    Anonymous visitors meet LoginRequiredMiddleware (the console's /login/) before the admin.
    """
    allowed = {"add": "has_add_permission", "delete": "has_delete_permission"}
    check = allowed.get(route.action, "has_view_or_change_permission")

    def superuser_status() -> int:
        from django.test import RequestFactory

        request = RequestFactory().get("/")
        request.user = UserFactory.build(username="probe", is_staff=True, is_superuser=True)
        if route.action == "redirect":
            return 302
        return 200 if getattr(route.model_admin, check)(request) else 403

    def kwargs(world: World) -> dict:
        if route.action in {"changelist", "add"}:
            return {}
        obj = route.model_admin.model._default_manager.first()
        assert obj is not None, (
            f"make_world() makes no {route.model_admin.model.__name__}: add one so its admin "
            "pages are checked"
        )
        return {"object_id": quote(obj.pk)}

    return Expect(LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, superuser_status(), kwargs=kwargs)


def url_of(route: Route, expect: Expect, world: World) -> str:
    kwargs = expect.kwargs(world)
    if route.name:
        url = reverse(route.name, kwargs=kwargs)
    elif route.key == "admin:<catch-all>":
        url = "/admin/no-such-page/"
    else:  # a model's unnamed "<object_id>/" (redirects to its change page)
        model = route.model_admin.model
        changelist = f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        url = f"{reverse(changelist)}{kwargs['object_id']}/"
    return url + (f"?{expect.query}" if expect.query else "")


def request_as(role: str, user, world: World, route: Route, expect: Expect) -> tuple[str, Any]:
    """One request as `role`; whatever it changes is rolled back for the next one."""
    with transaction.atomic():
        url, response = _request(user, world, route, expect)
        transaction.set_rollback(True)
    return url, response


def _request(user, world: World, route: Route, expect: Expect) -> tuple[str, Any]:
    client = Client()
    headers = {}
    if route.key.startswith("api:"):
        if user is not None:
            headers["Authorization"] = f"Bearer {world.raw_token}"
    elif user is not None:
        client.force_login(user)
        session = client.session
        session[DRAFTS] = {DRAFT_ID: _draft(world.source)}
        session.save()
    url = url_of(route, expect, world)
    if route.key.startswith("api:") and expect.method != "get":
        response = client.generic(
            expect.method.upper(),
            url,
            json.dumps(expect.body(world)),
            content_type="application/json",
            headers=headers,
        )
    else:
        response = getattr(client, expect.method)(url, expect.body(world), headers=headers)
    return url, response


def _draft(source: Source) -> dict:
    return {
        "log_type": TELEPORT,
        "transport": "s3",
        "name": "draft-source",
        "log_types": [TELEPORT],
        "config": source.config,
    }


def outcome(response) -> int | str:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith("/login/?next="):
            return LOGIN
        if location.startswith("/admin/login/?next="):
            return ADMIN_LOGIN
    return response.status_code


# --- The tests ---------------------------------------------------------------------------------
def test_every_url_pattern_has_a_permission_expectation():
    missing = [r.key for r in routes() if r.model_admin is None and r.key not in EXPECTATIONS]
    assert not missing, (
        f"new view(s) {missing} have no permission expectation: add a row to EXPECTATIONS in "
        f"{__file__}"
    )


def test_the_matrix_has_no_rows_for_views_that_are_gone():
    keys = {r.key for r in routes()}
    assert set(EXPECTATIONS) - keys == set()


@pytest.fixture
def no_task_queue(monkeypatch):
    """Views that queue Celery tasks are checked for who may queue them, not for the task."""
    queued = []
    monkeypatch.setattr(Task, "apply_async", lambda self, *a, **kw: queued.append(self.name))
    return queued


@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_each_role_as_the_matrix_says(role, no_task_queue):
    wrong = []
    checked = 0
    user = role_user(role)
    world = make_world(user)
    for route in routes():
        for expect in expectations_for(route):
            url, response = request_as(role, user, world, route, expect)
            got, wanted = outcome(response), getattr(expect, role)
            checked += 1
            if got != wanted:
                wrong.append(
                    f"{expect.method.upper()} {url} ({route.key}): {got}, expected {wanted}"
                )
    assert not wrong, f"{role}:\n" + "\n".join(wrong)
    assert checked > 100
    if role in {"anonymous", "viewer"}:
        assert no_task_queue == [], "a role that may not act queued a task"
