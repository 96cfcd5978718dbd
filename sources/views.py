"""Configure > Log Sources: the table, the Create New wizard and each source's page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.models import AuditEntry
from logtypes import registry as logtypes
from sources import services, stats, transports
from sources.drafts import drop_draft, get_draft, save_draft
from sources.filters import SourceFilter
from sources.forms import AlarmForm
from sources.health import Backlog
from sources.models import DEFAULT_ALARM_MINUTES, Source, VerificationRun
from sources.permissions import can_manage_sources, source_admin_required
from sources.transports.base import PrepareFailed, SettingsError
from sources.validators import validate_role_arn

WIZARD_STEPS = ["Log type", "Configure", "Permissions", "Verify", "Finish"]


def _wizard(step: int, **context: Any) -> dict[str, Any]:
    return {"steps": WIZARD_STEPS, "step": step, **context}


def _transport_or_404(key: str) -> transports.Transport:
    try:
        return transports.get(key)
    except KeyError:
        raise Http404(f"Unknown transport {key!r}.") from None


def _options(log_type) -> list[transports.Transport]:
    """The transports offered for a log type: those it lists, then those for every log type."""
    listed = [transports.get(key) for key in log_type.transports if key in transports.REGISTRY]
    return listed + [
        t for t in transports.REGISTRY.values() if t.for_every_log_type and t not in listed
    ]


def _settings_or_none(tr: transports.Transport, config: dict) -> transports.Settings | None:
    try:
        return tr.settings(config)
    except SettingsError:  # a config edited by hand may be partial
        return None


REVEAL = "sources_reveal"  # sources whose new secret their page shows once


def _reveal_once(request: HttpRequest, source: Source) -> None:
    request.session[REVEAL] = [*request.session.get(REVEAL, []), source.pk][-10:]


def _revealed(request: HttpRequest, source: Source) -> str | None:
    pending = request.session.get(REVEAL, [])
    if source.pk not in pending:
        return None
    request.session[REVEAL] = [pk for pk in pending if pk != source.pk]
    settings = _settings_or_none(source.transport_impl, source.config)
    return source.transport_impl.reveal(settings) if settings else None


def _log_type_or_404(name: str):
    try:
        return logtypes.get(name)
    except KeyError as exc:
        raise Http404(str(exc)) from None


# --- Log Sources table ---------------------------------------------------------------------------
@require_GET
def source_list(request: HttpRequest) -> HttpResponse:
    filterset = SourceFilter(request.GET, queryset=Source.objects.all())
    sources = list(filterset.qs)
    series = stats.hourly_events([s.pk for s in sources])
    rows = [
        {
            "source": s,
            "events_24h": sum(series[s.pk]),
            "spark": stats.sparkline_points(series[s.pk]),
            "backlog": Backlog.from_json(s.backlog),
        }
        for s in sources
    ]
    context = {
        "filter": filterset,
        "rows": rows,
        "total": Source.objects.count(),
        "can_manage": can_manage_sources(request.user),
    }
    template = "sources/source_list.html#table" if request.htmx else "sources/source_list.html"
    return render(request, template, context)


# --- Create New: step 1, pick a log type ---------------------------------------------------------
@require_GET
@source_admin_required
def new_pick(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    category = request.GET.get("category", "")
    all_types = logtypes.all()
    categories = sorted({lt.category for lt in all_types})
    needle = query.lower()
    tiles = [
        lt
        for lt in all_types
        if (not category or lt.category == category)
        and (
            not needle
            or any(
                needle in text.lower() for text in (lt.name, lt.title, lt.vendor, lt.description)
            )
        )
    ]
    context = _wizard(1, tiles=tiles, q=query, category=category, categories=categories)
    template = "sources/new_pick.html#tiles" if request.htmx else "sources/new_pick.html"
    return render(request, template, context)


@require_GET
@source_admin_required
def new_overview(request: HttpRequest, log_type: str) -> HttpResponse:
    lt = _log_type_or_404(log_type)
    options = _options(lt)
    return render(request, "sources/new_overview.html", _wizard(1, log_type=lt, options=options))


# --- Create New: step 2, configure the transport -------------------------------------------------
@require_http_methods(["GET", "POST"])
@source_admin_required
def new_configure(request: HttpRequest, log_type: str, transport: str) -> HttpResponse:
    lt = _log_type_or_404(log_type)
    tr = _transport_or_404(transport)
    draft_id = request.GET.get("draft") or request.POST.get("draft") or ""
    if request.method == "POST":
        data, submitted = tr.form_class.rebound(request.POST)
        form = tr.bind_form(data)
        if not submitted:
            form.without_errors()
        elif form.is_valid():
            config = tr.config_from(form)
            try:
                config = tr.prepare(form, config)
            except PrepareFailed as exc:
                form.add_error(exc.field, exc.message)
            else:
                # A changed draft drops its verification run: that run checked other settings.
                draft = {
                    "log_type": lt.name,
                    "transport": tr.key,
                    "name": form.cleaned_data["name"],
                    "log_types": tr.log_types_from(form),
                    "config": config,
                }
                draft_id = save_draft(request, draft, draft_id or None)
                return redirect("sources:draft_permissions", draft=draft_id)
    else:
        draft = request.session.get("source_drafts", {}).get(draft_id) if draft_id else None
        if draft and draft["transport"] == tr.key:
            form = tr.bind_form(
                config=draft["config"], name=draft["name"], log_types=draft["log_types"]
            )
        else:
            form = tr.bind_form(name=f"{slugify(lt.title)}-{tr.key}", log_types=[lt.name])
    context = _wizard(
        2,
        log_type=lt,
        transport=tr,
        form=form,
        draft_id=draft_id,
        other_transports=_options(lt),
        validate_url=reverse("sources:validate_field", args=[tr.key]),
        action=request.path,
    )
    if request.htmx and request.htmx.target == "transport-form":
        return render(request, "sources/new_configure.html#transport_form", context)
    return render(request, "sources/new_configure.html", context)


@require_POST
@source_admin_required
def validate_field(request: HttpRequest, transport: str) -> HttpResponse:
    """Validate the whole form, render only the field the user just left (hx-post on change)."""
    tr = _transport_or_404(transport)
    instance = None
    if request.POST.get("source"):
        instance = Source.objects.filter(pk=request.POST["source"]).first()
    form = tr.bind_form(request.POST, instance=instance)
    form.is_valid()
    wanted = request.POST.get("_field", "")
    candidates = list(form)
    for sub in form.nested_forms:
        candidates += list(sub)
    for bound in candidates:
        if bound.html_name == wanted:
            return render(
                request,
                "sources/partials/field.html",
                {"field": bound, "validate_url": request.path, "show_errors": True},
            )
    raise Http404("No such field.")


# --- Create New: step 3, permissions (IAM templates) ---------------------------------------------
@require_GET
@source_admin_required
def draft_permissions(request: HttpRequest, draft: str) -> HttpResponse:
    data = get_draft(request, draft)
    tr = transports.get(data["transport"])
    cloudformation, terraform = _templates(tr, data["name"], data["config"])
    context = _wizard(
        3,
        draft_id=draft,
        draft=data,
        transport=tr,
        log_type=_log_type_or_404(data["log_type"]),
        cloudformation=cloudformation,
        terraform=terraform,
        download_base=reverse("sources:draft_permissions", args=[draft]),
    )
    return render(request, "sources/new_permissions.html", context)


TEMPLATE_FILES = {
    "cloudformation.yml": ("cloudformation", "application/yaml"),
    "main.tf": ("terraform", "text/plain"),
}


def _template_download(name: str, transport_key: str, config: dict, filename: str) -> HttpResponse:
    if filename not in TEMPLATE_FILES:
        raise Http404("Unknown template.")
    kind, content_type = TEMPLATE_FILES[filename]
    text = _templates(transports.get(transport_key), name, config)[kind == "terraform"]
    if not text:
        raise Http404("This source's settings are incomplete, or need no template.")
    response = HttpResponse(text, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sluice-{slugify(name)}-{filename}"'
    return response


@require_GET
@source_admin_required
def draft_template(request: HttpRequest, draft: str, filename: str) -> HttpResponse:
    data = get_draft(request, draft)
    return _template_download(data["name"], data["transport"], data["config"], filename)


# --- Create New: step 4, verify ------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@source_admin_required
def draft_verify(request: HttpRequest, draft: str) -> HttpResponse:
    """Step 4. The page starts the checks as it loads (htmx POST; the button without JS); after
    a failure a role ARN can be pasted here and the checks run again with it."""
    data = get_draft(request, draft)
    tr = transports.get(data["transport"])
    role_error = ""
    if request.method == "POST":
        role_arn = (request.POST.get("role_arn") or "").strip()
        try:
            if role_arn:
                validate_role_arn(role_arn)
                data["config"] = {**data["config"], "role_arn": role_arn}
        except ValidationError as error:
            role_error = error.messages[0]
        else:
            run = services.start_verification(
                transport=data["transport"], config=data["config"], user=request.user
            )
            data["run_id"] = run.pk
            save_draft(request, data, draft)
            if not request.htmx:
                return redirect("sources:draft_verify", draft=draft)
            # htmx swaps the step in place (no reload that would undo a click on Continue)
    run = VerificationRun.objects.filter(pk=data.get("run_id"), source=None).first()
    settings = _settings_or_none(tr, data["config"])
    context = _wizard(
        4,
        draft_id=draft,
        draft=data,
        run=run,
        role_error=role_error,
        takes_role_arn="role_arn" in tr.form_class.base_fields,
        transport=tr,
        resource=tr.resource(settings) if settings else "",
        check_names=[name for name, _check in tr.checks(settings)] if settings else [],
        log_type=_log_type_or_404(data["log_type"]),
    )
    return render(request, "sources/new_verify.html", context)


@require_GET
def verification_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The polled partial: check rows so far; stops polling (no hx-trigger) once done."""
    run = get_object_or_404(VerificationRun, pk=pk)
    if run.source_id is None and not can_manage_sources(request.user):
        raise Http404("No such verification run.")
    return render(request, "sources/partials/verification.html", {"run": run})


# --- Create New: step 5, finish ------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@source_admin_required
def draft_finish(request: HttpRequest, draft: str) -> HttpResponse:
    data = get_draft(request, draft)
    run = VerificationRun.objects.filter(pk=data.get("run_id"), source=None).first()
    form = AlarmForm(
        request.POST if request.method == "POST" else None,
        initial=AlarmForm.initial_for(DEFAULT_ALARM_MINUTES),
    )
    if request.method == "POST" and form.is_valid():
        tr = transports.get(data["transport"])
        # Re-validate the draft with the same form: the name may have been taken meanwhile.
        settings_form = tr.bind_form(
            tr.form_data_from(data["name"], data["log_types"], data["config"])
        )
        if not settings_form.is_valid():
            messages.error(request, "; ".join(
                f"{field}: {' '.join(errs)}" for field, errs in settings_form.error_dict().items()
            ))  # fmt: skip
            return redirect(
                reverse("sources:new_configure", args=[data["log_type"], data["transport"]])
                + f"?draft={draft}"
            )
        with transaction.atomic():
            source = services.create_source(
                name=data["name"],
                transport=data["transport"],
                log_types=data["log_types"],
                config=data["config"],
                user=request.user,
                alarm_minutes=form.cleaned_data["minutes"],
                verification=run,
            )
        drop_draft(request, draft)
        _reveal_once(request, source)
        messages.success(request, f"Source {source.name} is set up.")
        return redirect(source)
    tr = transports.get(data["transport"])
    settings = _settings_or_none(tr, data["config"])
    context = _wizard(
        5,
        draft_id=draft,
        draft=data,
        run=run,
        form=form,
        transport=tr,
        details=tr.describe(settings) if settings else [],
        log_type=_log_type_or_404(data["log_type"]),
    )
    return render(request, "sources/new_finish.html", context)


# --- A source's page -----------------------------------------------------------------------------
def source_context(request: HttpRequest, source: Source, tab: str, **extra: Any) -> dict[str, Any]:
    """The context of a source's page with its tabs (the Ingestion tab is ingestion's page,
    which renders with this context too)."""
    return {
        "source": source,
        "tab": tab,
        "tabs": [
            ("overview", "Overview", reverse("sources:detail", args=[source.pk])),
            ("health", "Health", reverse("sources:health", args=[source.pk])),
            ("settings", "Settings", reverse("sources:settings", args=[source.pk])),
            ("ingestion", "Ingestion", reverse("ingestion:source", args=[source.pk])),
            ("history", "History", reverse("sources:history", args=[source.pk])),
        ],
        "can_manage": can_manage_sources(request.user),
        "transport": source.transport_impl,
        "backlog": Backlog.from_json(source.backlog),
        **extra,
    }


def render_tab(request: HttpRequest, context: dict[str, Any], template: str) -> HttpResponse:
    if request.htmx and request.htmx.target == "tab-panel":
        return render(request, f"{template}#panel", context)
    return render(request, template, context)


LastObject = Callable[[Source], Any]  # the object ingestion read last for a source, or None


@require_GET
def source_detail(
    request: HttpRequest, pk: int, last_object: LastObject | None = None
) -> HttpResponse:
    """The Overview tab. The last object read is ingestion's (an app above this one): the URL
    conf passes `last_object(source)` in (console/urls.py, as for the audit pages)."""
    from sources.charts import overview_charts

    source = get_object_or_404(Source, pk=pk)
    settings = _settings_or_none(source.transport_impl, source.config)
    context = source_context(
        request,
        source,
        "overview",
        charts=overview_charts(source, last_object=last_object(source) if last_object else None),
        details=source.transport_impl.describe(settings) if settings else [],
        ingest_url=services.ingest_url(source, request),
        secret=_revealed(request, source),
    )
    return render_tab(request, context, "sources/source_overview.html")


@require_GET
def source_health(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=pk)
    context = source_context(request, source, "health", run=source.latest_verification)
    return render_tab(request, context, "sources/source_health.html")


@require_GET
def source_history(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=pk)
    changes = AuditEntry.objects.for_object(source)[:200]
    context = source_context(request, source, "history", changes=changes)
    return render_tab(request, context, "sources/source_history.html")


@require_http_methods(["GET", "POST"])
def source_settings(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=pk)
    tr = source.transport_impl
    editable = can_manage_sources(request.user)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied("Only source admins can change log sources.")
        data, submitted = tr.form_class.rebound(request.POST)
        form = tr.bind_form(data, instance=source)
        alarm = AlarmForm(request.POST, prefix="alarm")
        if not submitted:
            form.without_errors()
        elif form.is_valid() & alarm.is_valid():
            config = tr.config_from(form)
            try:
                config = tr.prepare(form, config)
            except PrepareFailed as exc:
                form.add_error(exc.field, exc.message)
            else:
                reveal = tr.secret_changed(source.config, config)
                services.update_source(
                    source,
                    request.user,
                    name=form.cleaned_data["name"],
                    log_types=tr.log_types_from(form),
                    config=config,
                    alarm_minutes=alarm.cleaned_data["minutes"],
                )
                messages.success(request, "Settings saved. Run Verify again to check them.")
                if reveal:  # its page shows the new secret once
                    _reveal_once(request, source)
                    return redirect(source)
                return redirect("sources:settings", pk=source.pk)
    else:
        form = tr.bind_form(
            config=source.config, name=source.name, log_types=source.log_types, instance=source
        )
        alarm = AlarmForm(prefix="alarm", initial=AlarmForm.initial_for(source.alarm_minutes))
    cloudformation, terraform = _templates(tr, source.name, source.config)
    context = source_context(
        request,
        source,
        "settings",
        public_config=tr.public_config(source.config),
        form=form,
        alarm_form=alarm,
        editable=editable,
        validate_url=reverse("sources:validate_field", args=[tr.key]),
        cloudformation=cloudformation,
        terraform=terraform,
    )
    return render_tab(request, context, "sources/source_settings.html")


def _templates(tr: transports.Transport, name: str, config: dict) -> tuple[str, str]:
    """(CloudFormation, Terraform); empty when the transport has none or the config is partial
    (e.g. edited by hand)."""
    settings = _settings_or_none(tr, config)
    if not tr.has_templates or settings is None:
        return "", ""
    try:
        return tr.cloudformation(name, settings), tr.terraform(name, settings)
    except (SettingsError, ValidationError):
        return "", ""


@require_GET
def source_template(request: HttpRequest, pk: int, filename: str) -> HttpResponse:
    source = get_object_or_404(Source, pk=pk)
    return _template_download(source.name, source.transport, source.config, filename)


@require_POST
@source_admin_required
def source_verify(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=pk)
    services.start_verification(
        transport=source.transport, config=source.config, user=request.user, source=source
    )
    return redirect("sources:health", pk=source.pk)


@require_POST
@source_admin_required
def source_pause(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=pk)
    paused = request.POST.get("paused", "1") == "1"
    services.set_paused(source, paused, request.user)
    messages.success(request, f"{source.name} is {'paused' if paused else 'resumed'}.")
    return redirect(_local_url(request, request.POST.get("next")) or source.get_absolute_url())


def _local_url(request: HttpRequest, url: str | None) -> str | None:
    """`url` when it points into this site; None for another host (no open redirect)."""
    safe = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if safe else None


@require_http_methods(["GET", "POST"])
@source_admin_required
def source_delete(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=pk)
    if request.method == "POST":
        if request.POST.get("confirm_name") != source.name:
            messages.error(request, "Type the source's name exactly to delete it.")
            return render(request, "sources/source_delete.html", {"source": source}, status=400)
        name = source.name
        services.delete_source(source, request.user)
        messages.success(request, f"Source {name} was deleted. Its events are kept.")
        return redirect("sources:list")
    return render(request, "sources/source_delete.html", {"source": source})
