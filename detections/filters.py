"""The alerts list's filters (django-filter), shared by the Alerts page and /api/v1/alerts."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef

from detections.models import Alert, Match, Severity
from sources.models import Source


def rule_choices() -> list[tuple[str, str]]:
    from detections import ruleset

    ids = {rule.meta.rule_id for rule in ruleset.current().rules()}
    ids.update(Alert.objects.values_list("rule_id", flat=True).distinct())
    return [(rule_id, rule_id) for rule_id in sorted(ids)]


class AlertFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Alert.Status.choices, empty_label="Any")
    severity = django_filters.ChoiceFilter(choices=Severity.choices, empty_label="Any")
    rule_id = django_filters.ChoiceFilter(choices=rule_choices, label="Rule", empty_label="Any")
    source = django_filters.ModelChoiceFilter(
        queryset=Source.objects.order_by("name"),
        method="filter_source",
        label="Source",
        empty_label="Any",
    )
    start = django_filters.IsoDateTimeFilter(
        field_name="last_event_time", lookup_expr="gte", label="Events from"
    )
    end = django_filters.IsoDateTimeFilter(
        field_name="first_event_time", lookup_expr="lt", label="Events before"
    )

    class Meta:
        model = Alert
        fields = ["status", "severity", "rule_id", "source", "start", "end"]

    def filter_source(self, queryset, name, value):
        return queryset.filter(Exists(Match.objects.filter(alert=OuterRef("pk"), source=value)))


def field_errors(filterset: AlertFilter) -> dict[str, str]:
    """{field: first message} of an invalid filter form."""
    return {name: errors[0] for name, errors in filterset.form.errors.items()}
