"""Alerts, rule errors and rule settings in the admin: read-only (triage and rule changes go
through detections.services, which audits them: the Alerts and Detections pages or the API)."""

from django.contrib import admin

from detections.models import Alert, RuleError, RuleSetting


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Alert)
class AlertAdmin(ReadOnly):
    list_display = ["title", "rule_id", "severity", "status", "event_count", "created_at"]
    list_filter = ["status", "severity", "rule_id"]
    search_fields = ["title", "rule_id", "dedup"]


@admin.register(RuleError)
class RuleErrorAdmin(ReadOnly):
    list_display = ["rule_id", "message", "count", "last_seen"]
    search_fields = ["rule_id", "message"]


@admin.register(RuleSetting)
class RuleSettingAdmin(ReadOnly):
    list_display = ["rule_id", "enabled", "severity", "updated_by", "updated_at"]
