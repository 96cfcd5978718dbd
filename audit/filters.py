"""The audit log page's filters: who, action, object type and door, and a free-text search."""

import django_filters
from django.db.models import Q

from audit.models import AuditEntry


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
