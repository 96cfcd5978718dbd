import json

from django.contrib import admin
from django.utils.html import format_html

from audit.models import ApiToken, AuditEntry


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are listed by their first characters only; the digest is never shown."""

    list_display = ["name", "user", "prefix", "created_at", "last_used_at"]
    search_fields = ["name", "user__username", "prefix"]
    fields = ["user", "name", "prefix", "created_at", "last_used_at"]
    readonly_fields = ["user", "prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only for every staff member, superusers included: entries are never added, changed
    or deleted by hand."""

    list_display = ["at", "actor_label", "action", "object_type", "object_label", "via", "ip"]
    list_filter = [
        "action",
        "object_type",
        "via",
        ("actor", admin.RelatedOnlyFieldListFilter),
        "at",
    ]
    search_fields = ["actor_label", "object_label", "object_id", "ip", "user_agent"]
    date_hierarchy = "at"
    fields = [
        "at", "actor", "actor_label", "action", "object_type", "object_id", "object_label",
        "changes_view", "via", "ip", "user_agent",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="Changes")
    def changes_view(self, entry: AuditEntry) -> str:
        return format_html("<pre>{}</pre>", json.dumps(entry.changes, indent=2, default=str))

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
