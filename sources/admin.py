"""Admin: sources with their transport's settings form and verification runs (history: Audit
entries). Sources are created by the console's wizard, not in the admin.

Changing sources in the admin follows the same rule as the console: staff or "Source admins".
"""

import json

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from audit.trail import is_secret
from sources import health, services, transports
from sources.models import Source, VerificationRun
from sources.permissions import can_manage_sources

MASK = "••••••"


def masked(config: dict) -> dict:
    """The config with anything secret-looking masked (Sluice stores role ARNs, not keys)."""
    return {k: (MASK if is_secret(k) and v else v) for k, v in (config or {}).items()}


class SourceAdminForm(forms.ModelForm):
    """Paused and the alarm, plus the transport's own settings form (the one of the wizard, the
    Settings tab and the API: `settings_form`), bound to the same POST and saved with them."""

    class Meta:
        model = Source
        fields = ["paused", "alarm_minutes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        source, tr = self.instance, self.instance.transport_impl
        self.settings_submitted = True
        if self.is_bound:
            data, self.settings_submitted = tr.form_class.rebound(self.data)
            self.settings_form = tr.bind_form(data, instance=source)
        else:
            self.settings_form = tr.bind_form(
                config=source.config, name=source.name, log_types=source.log_types, instance=source
            )
        self.settings: dict = {}

    def clean(self):
        cleaned = super().clean()
        tr, form = self.instance.transport_impl, self.settings_form
        if not self.settings_submitted:  # "+ Add prefix": the form again with one more row
            form.without_errors()
            raise forms.ValidationError("A prefix row was added: fill it in, then save.")
        if not form.is_valid():
            raise forms.ValidationError("Correct the transport settings below.")
        refusal = tr.admin_refusal(form)
        if refusal:
            raise forms.ValidationError(refusal)
        self.settings = {
            "name": form.cleaned_data["name"],
            "log_types": tr.log_types_from(form),
            "config": tr.config_from(form),
        }
        return cleaned


class SourceAdminPermissions:
    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_change_permission(self, request, obj=None):
        return can_manage_sources(request.user)

    def has_delete_permission(self, request, obj=None):
        return can_manage_sources(request.user)


class VerificationInline(admin.TabularInline):
    model = VerificationRun
    extra = 0
    fields = ["created_at", "status", "checks_summary"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True
    ordering = ["-created_at"]

    def checks_summary(self, run):
        marks = {True: "✓", False: "✗", None: "–"}  # None: skipped after a failure
        return "; ".join(f"{marks[c.get('ok')]} {c['name']}" for c in run.checks)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Source)
class SourceAdmin(SourceAdminPermissions, admin.ModelAdmin):
    form = SourceAdminForm
    list_display = [
        "name", "transport", "log_types_list", "health", "paused_label", "last_event_at",
        "location",
    ]  # fmt: skip
    list_filter = ["transport", "health", "paused", "created_at"]

    change_form_template = "admin/sources/source/change_form.html"

    @admin.display(description="Paused", ordering="paused")
    def paused_label(self, source: Source) -> str:
        """Only a paused source is marked (a boolean column drew a red cross on every other)."""
        return "Paused" if source.paused else ""

    search_fields = ["name", "health_reason", "config"]
    readonly_fields = [
        "transport", "settings_view", "created_by", "created_at", "updated_at", "last_event_at",
        "health", "health_reason", "health_checked_at", "backlog_view",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["transport", "paused", "alarm_minutes"]}),
        (
            "Health (decided by the health checks)",
            {"fields": ["health", "health_reason", "health_checked_at", "backlog_view"]},
        ),
        ("Data", {"fields": ["last_event_at"]}),
        ("Stored settings", {"fields": ["settings_view"], "classes": ["collapse"]}),
        ("Record", {"fields": ["created_by", "created_at", "updated_at"]}),
    ]
    actions = ["pause", "resume", "verify_now"]
    inlines = [VerificationInline]

    @admin.display(description="Log types")
    def log_types_list(self, source):
        return ", ".join(source.log_types)

    @admin.display(description="Reads from")
    def location(self, source):
        try:
            return source.transport_impl.location(source.settings) or "—"
        except (KeyError, transports.SettingsError):
            return "—"

    @admin.display(description="Backlog")
    def backlog_view(self, source):
        backlog = health.Backlog.from_json(source.backlog)
        return backlog.summary if backlog else "not measured yet"

    @admin.display(description="Settings (secrets masked)")
    def settings_view(self, source):
        return format_html(
            "<pre>{}</pre>", json.dumps(masked(source.config), indent=2, ensure_ascii=False)
        )

    def has_add_permission(self, request, *args):
        """A source is created by the wizard (it picks the transport, runs the checks, can make
        the queue), not here."""
        return False

    def save_model(self, request, obj, form, change):
        changed = {f: form.cleaned_data[f] for f in form.changed_data if f in form.cleaned_data}
        fresh = Source.objects.get(pk=obj.pk)
        services.update_source(fresh, request.user, via="admin", **form.settings, **changed)
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.delete_source(obj, request.user, via="admin")

    def delete_queryset(self, request, queryset):
        for source in queryset:
            services.delete_source(source, request.user, via="admin")

    @admin.action(description="Pause selected sources")
    def pause(self, request, queryset):
        for source in queryset:
            services.set_paused(source, True, request.user, via="admin")
        messages.success(request, f"Paused {queryset.count()} source(s).")

    @admin.action(description="Resume selected sources")
    def resume(self, request, queryset):
        for source in queryset:
            services.set_paused(source, False, request.user, via="admin")
        messages.success(request, f"Resumed {queryset.count()} source(s).")

    @admin.action(description="Verify now")
    def verify_now(self, request, queryset):
        for source in queryset:
            services.start_verification(
                transport=source.transport,
                config=source.config,
                user=request.user,
                source=source,
                via="admin",
            )
        messages.success(request, f"Verification queued for {queryset.count()} source(s).")

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not can_manage_sources(request.user):
            return {}
        return actions


@admin.register(VerificationRun)
class VerificationRunAdmin(SourceAdminPermissions, admin.ModelAdmin):
    list_display = ["id", "source", "transport", "status", "created_at", "finished_at"]
    list_filter = ["status", "transport"]
    search_fields = ["source__name"]
    readonly_fields = [f.name for f in VerificationRun._meta.fields]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False
