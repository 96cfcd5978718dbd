"""The events store: every parsed event, and every line that failed to parse."""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.fields.json import KeyTransform
from django.urls import reverse

from events.fields import IndicatorArrayField
from parsers.indicators import INDICATOR_COLUMNS, column_values, indicator_entries

__all__ = ["INDICATOR_COLUMNS", "Event", "Failure"]


# Teleport fields searched often enough to keep a (field, time) b-tree each. Every expression
# index costs a stored row about as much as the row itself (bench/indexes.py --each), so `code`
# (one event type and its outcome: `event:` and `success:` find the same events) has none since
# migration 0008. `login` keeps its own: a rare login (an attacker's guess) over 30 days would
# otherwise walk every event of the window (minutes at 10M events).
HOT_FIELDS = ("event", "user", "login", "sid")


def _failed() -> Q:
    """fields -> 'success' = false, written as the search filters write it (events/filters.py
    json_leaf), so the planner can prove that a `success:false` query implies the predicate."""
    key = KeyTransform("success", "fields")
    return Q(key.get_lookup("exact")(key, Value(False, output_field=models.JSONField())))


class Event(models.Model):
    """One normalized event. `fields` holds the typed schema columns; `p_extra` everything else."""

    # Unique on SQLite. PostgreSQL partitions the table by p_event_time (migration 0004), where the
    # key is (p_row_id, p_event_time) and the writer keeps row ids unique (events/store.py).
    p_row_id = models.CharField(max_length=32, unique=True)
    p_log_type = models.CharField(max_length=100, db_index=True)
    source = models.ForeignKey(
        "sources.Source", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    p_event_time = models.DateTimeField()  # indexed with id below: newest-first keyset pages
    p_parse_time = models.DateTimeField()
    fields = models.JSONField(default=dict)
    p_extra = models.JSONField(default=dict, blank=True)
    object_key = models.CharField(max_length=1024, blank=True)
    object_version = models.CharField(max_length=256, blank=True)
    line = models.PositiveIntegerField(default=0)

    # Every indicator as one "kind:value" entry ("ip:10.0.0.1"), so one index serves every
    # indicator lookup; the per-kind p_any_* lists are read from it (properties below).
    p_any = IndicatorArrayField()

    class Meta:
        ordering = ["-p_event_time", "-id"]
        # The hot Teleport fields, each with time so "field = x, newest first" is one index walk;
        # failed events (success false, a few percent) by event type, so "event:x success:false"
        # is one walk too. The GIN index on p_any is PostgreSQL-only: see migration 0007.
        indexes = [
            models.Index(F("p_event_time").desc(), F("id").desc(), name="event_time_id_desc"),
            *(
                models.Index(
                    KeyTransform(name, "fields"),
                    F("p_event_time").desc(),
                    name=f"event_{name}_time",
                )
                for name in HOT_FIELDS
            ),
            models.Index(
                KeyTransform("event", "fields"),
                F("p_event_time").desc(),
                name="event_failed_time",
                condition=_failed(),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.p_log_type} {self.p_row_id}"

    def get_absolute_url(self) -> str:
        return reverse("events:detail", args=[self.p_row_id])


def _indicator_column(column: str) -> property:
    def values(event: Event) -> list[str]:
        return column_values(event.p_any, column)

    def replace(event: Event, new: list[str]) -> None:
        current = {c: column_values(event.p_any, c) for c in INDICATOR_COLUMNS}
        event.p_any = indicator_entries({**current, column: list(new)})

    values.__doc__ = f"The {column} indicators of the event (kept in p_any)."
    return property(values, replace)


for _column in INDICATOR_COLUMNS:
    setattr(Event, _column, _indicator_column(_column))


def source_model() -> type[models.Model]:
    """The log source model (sources.Source), reached through Event.source: events are stored
    below sources, so this app names it only in its foreign keys and imports none of its code."""
    return Event._meta.get_field("source").related_model


class Failure(models.Model):
    """A line that did not parse, kept verbatim (bytes: invalid UTF-8 and NUL survive)."""

    source = models.ForeignKey(
        "sources.Source", null=True, blank=True, on_delete=models.CASCADE, related_name="failures"
    )
    log_types = models.JSONField(default=list, blank=True)
    object_key = models.CharField(max_length=1024, blank=True)
    object_version = models.CharField(max_length=256, blank=True)
    line = models.PositiveIntegerField(default=0)
    offset = models.PositiveBigIntegerField(default=0)
    error = models.TextField()
    raw = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "object_key", "object_version", "line"],
                name="failure_unique_origin",
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_key}:{self.line} {self.error}"

    @property
    def raw_text(self) -> str:
        return bytes(self.raw).decode("utf-8", errors="backslashreplace")


class SavedSearch(models.Model):
    """A named search state (the search page's query string), private or shared with everyone."""

    name = models.CharField(max_length=120)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches"
    )
    query_string = models.TextField(blank=True, help_text="The search page's URL query string")
    shared = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_search_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        base = reverse("events:search")
        return f"{base}?{self.query_string}" if self.query_string else base


class EventMinuteCount(models.Model):
    """Events per UTC minute, log type and source: the histogram of an unfiltered search reads
    this instead of counting millions of rows. On PostgreSQL, statement triggers on events_event
    keep it exact (inserts add, deletes subtract, truncate empties; migration 0003); elsewhere it
    stays empty and histograms count the events table."""

    minute = models.DateTimeField()
    p_log_type = models.CharField(max_length=100)
    source_id = models.BigIntegerField(default=0)  # 0: no source
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["minute", "p_log_type", "source_id"], name="event_minute_count_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} {self.p_log_type} {self.count}"


class EventOrigin(models.Model):
    """Where the events of one origin (source, object, version) were stored: the earliest and
    latest p_event_time written so far. Used by the PostgreSQL writer only: the partitioned events
    table is unique on (p_row_id, p_event_time), not on p_row_id alone, and an event without a
    timestamp field takes its parse time, so a re-read of the same line can carry another time.
    The writer looks for an origin's stored row ids only within this range (the partitions that
    can hold them), and a fresh origin costs no lookup at all. `key` is origin_key() below."""

    key = models.CharField(max_length=32, primary_key=True)
    first_time = models.DateTimeField()
    last_time = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key} {self.first_time:%Y-%m-%d %H:%M}–{self.last_time:%Y-%m-%d %H:%M}"


def origin_key(source_id: int | None, object_key: str, object_version: str) -> str:
    """md5 of the origin; migration 0004 computed the same in SQL for the events it found."""
    text = f"{source_id or 0}:{len(object_key)}:{object_key}{object_version}"
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
