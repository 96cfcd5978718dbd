from django.contrib import admin

from sources.models import Source


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "transport", "health", "paused", "last_event_at"]
    list_filter = ["transport", "health", "paused"]
    search_fields = ["name"]
