"""The Log Sources table's filters (django-filter): text, log type, transport, health."""

import django_filters
from django.db.models import Q

from sources.forms import log_type_choices
from sources.models import Source, transport_choices


class SourceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_text", label="Search sources")
    log_type = django_filters.ChoiceFilter(
        choices=log_type_choices, method="filter_log_type", label="Log type", empty_label="Any"
    )
    transport = django_filters.ChoiceFilter(choices=transport_choices, empty_label="Any")
    health = django_filters.ChoiceFilter(choices=Source.Health.choices, empty_label="Any")

    class Meta:
        model = Source
        fields = ["q", "log_type", "transport", "health"]

    def filter_text(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(health_reason__icontains=value))

    def filter_log_type(self, queryset, name, value):
        # JSON list of names: match the quoted name in its text form (SQLite and PostgreSQL alike).
        return queryset.filter(log_types__icontains=f'"{value}"')
