"""The Audit log page (/audit/, staff only): every audit entry, newest first, with filters."""

import django_filters
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console.models import AuditEntry
from sources.models import Source

PAGE_SIZE = 50


def actor_choices() -> list[tuple[str, str]]:
    labels = AuditEntry.objects.order_by("actor_label").values_list("actor_label", flat=True)
    return [(label, label) for label in labels.distinct()]


class AuditFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_text", label="Search")
    actor = django_filters.ChoiceFilter(
        field_name="actor_label", choices=actor_choices, label="Who", empty_label="Anyone"
    )
    action = django_filters.ChoiceFilter(choices=AuditEntry.Action.choices, empty_label="Any")
    object_type = django_filters.ChoiceFilter(
        choices=AuditEntry.ObjectType.choices, label="Object", empty_label="Any"
    )
    via = django_filters.ChoiceFilter(choices=AuditEntry.Via.choices, empty_label="Any")

    class Meta:
        model = AuditEntry
        fields = ["q", "actor", "action", "object_type", "via"]

    def filter_text(self, queryset, name, value):
        return queryset.filter(
            Q(actor_label__icontains=value)
            | Q(object_label__icontains=value)
            | Q(object_id=value)
            | Q(ip__startswith=value)
        )


@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    if not (request.user.is_active and request.user.is_staff):
        raise PermissionDenied("Only staff can read the audit log.")
    filterset = AuditFilter(request.GET, queryset=AuditEntry.objects.all())
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filter": filterset, "page": page, "live_sources": _live_sources(page)}
    return render(request, "console/audit_log.html", context)


def _live_sources(entries) -> set[str]:
    """Ids of the page's sources that still exist (those get a link to their page)."""
    ids = {e.object_id for e in entries if e.object_type == AuditEntry.ObjectType.SOURCE}
    existing = Source.objects.filter(pk__in=[i for i in ids if i.isdigit()])
    return {str(pk) for pk in existing.values_list("pk", flat=True)}
