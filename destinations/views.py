"""Configure > Destinations: list, create, settings, send a test alert, delete; the delivery log of
an alert (a partial the alert page includes) and of a destination. Everyone signed in reads;
source admins change."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from destinations import queries, services
from destinations.forms import DestinationForm, initial_from
from destinations.models import Destination, Kind
from destinations.sealed import which_are_set
from sources.permissions import can_manage_sources, source_admin_required

# the form's fields shown for each type (the others do not apply)
KIND_FIELDS = {
    Kind.SLACK: ("webhook_url",),
    Kind.WEBHOOK: ("url", "hmac_secret", "headers"),
    Kind.EMAIL: ("recipients",),
    Kind.PAGERDUTY: ("routing_key", "url"),
}
COMMON = ("name", "kind", "enabled", "min_severity", "log_types", "rule_ids")


def _form_context(form: DestinationForm, kind: str) -> dict:
    kind = kind if kind in KIND_FIELDS else Kind.WEBHOOK
    return {
        "form": form,
        "common": [form[name] for name in COMMON],
        "specific": [form[name] for name in KIND_FIELDS[kind]],
        "kind": kind,
    }


@require_GET
def destination_list(request: HttpRequest) -> HttpResponse:
    context = {
        "rows": queries.health(Destination.objects.all()),
        "can_manage": can_manage_sources(request.user),
    }
    template = "destinations/list.html#table" if request.htmx else "destinations/list.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@source_admin_required
def destination_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = DestinationForm(request.POST)
        if form.is_valid():
            destination = services.save(form, actor=request.user)
            messages.success(request, "Destination created. Send a test alert to check it.")
            return redirect(destination)
        kind = request.POST.get("kind", "")
    else:
        kind = request.GET.get("kind", Kind.WEBHOOK)
        form = DestinationForm(initial={"kind": kind, "enabled": True, "min_severity": "low"})
        form.fields["kind"].initial = kind
    context = _form_context(form, kind)
    if request.htmx and request.method == "GET":
        return render(request, "destinations/partials/form_fields.html", context)
    return render(request, "destinations/new.html", context)


@require_http_methods(["GET", "POST"])
def destination_detail(request: HttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(Destination, pk=pk)
    editable = can_manage_sources(request.user)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied("Only source admins can change destinations.")
        form = DestinationForm(request.POST, instance=destination)
        if form.is_valid():
            services.save(form, actor=request.user)
            messages.success(request, "Settings saved.")
            return redirect(destination)
    else:
        form = DestinationForm(initial=initial_from(destination), instance=destination)
    [health] = queries.health([destination])
    context = {
        "destination": destination,
        "editable": editable,
        "health": health,
        "secrets_set": which_are_set(destination.secrets),
        "deliveries": destination.deliveries.prefetch_related("tries")[:50],
        **_form_context(form, destination.kind),
    }
    if request.htmx and request.htmx.target == "deliveries":
        return render(request, "destinations/detail.html#deliveries", context)
    return render(request, "destinations/detail.html", context)


@require_POST
@source_admin_required
def destination_test(request: HttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(Destination, pk=pk)
    delivery = services.send_test(destination)
    if request.htmx:
        return render(request, "destinations/partials/test_result.html", {"delivery": delivery})
    attempt = delivery.tries.last()
    if delivery.status == "delivered":
        messages.success(request, f"Test alert delivered ({attempt.status_code}).")
    else:
        messages.error(request, f"Test alert failed: {attempt.error or attempt.status_code}")
    return redirect(destination)


@require_POST
@source_admin_required
def destination_delete(request: HttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(Destination, pk=pk)
    services.delete(destination, actor=request.user)
    messages.success(request, f"Destination {destination.name} deleted.")
    return redirect("destinations:list")


@require_GET
def alert_deliveries(request: HttpRequest, alert_id: int) -> HttpResponse:
    """The delivery log of one alert: the partial the alert page loads (hx-get), or a page."""
    context = {"deliveries": queries.for_alert(alert_id), "alert_id": alert_id}
    if request.htmx:
        return render(request, "destinations/partials/alert_deliveries.html", context)
    return render(request, "destinations/alert_deliveries.html", context)
