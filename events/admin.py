"""Events and failed lines in the admin: read and delete; ingestion writes them, never a form
(no Add, and the change page only shows them)."""

from django.contrib import admin

from events.models import Event, Failure


class WrittenByIngestion:
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(WrittenByIngestion, admin.ModelAdmin):
    list_display = ["p_event_time", "p_log_type", "source", "p_row_id"]
    list_filter = ["p_log_type"]
    search_fields = ["p_row_id"]
    show_full_result_count = False


@admin.register(Failure)
class FailureAdmin(WrittenByIngestion, admin.ModelAdmin):
    list_display = ["created_at", "source", "object_key", "line", "error"]
    list_filter = ["source"]
