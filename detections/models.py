"""Detections: matches of rules against stored events, the alerts they group into, rule errors,
the operators' rule settings (enable, severity override) and on-demand rule runs.

The rules themselves are code (detections/rules/ and SLUICE_RULES_DIRS, read by detections.core);
nothing here stores rule logic.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.urls import reverse


class Severity(models.TextChoices):
    INFO = "info", "Info"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


SEVERITY_RANK = {value: rank for rank, value in enumerate(Severity.values)}


def severity_value(text: str | None) -> str:
    """A rule's spelling ("HIGH", "High") as the stored value ("high"); unknown → medium."""
    value = (text or "").strip().lower()
    return value if value in SEVERITY_RANK else Severity.MEDIUM


def dedup_key(rule_id: str, dedup: str) -> str:
    """md5 of (rule, dedup string): the group a match belongs to, short enough to index."""
    text = f"{len(rule_id)}:{rule_id}{dedup}"
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class RuleSetting(models.Model):
    """An operator's override of a rule's YAML: enabled and severity (empty: as the YAML says)."""

    rule_id = models.CharField(max_length=200, primary_key=True)
    enabled = models.BooleanField(null=True, blank=True, help_text="Empty: as the rule's YAML says")
    severity = models.CharField(
        max_length=10, choices=Severity.choices, blank=True, help_text="Empty: as the rule says"
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return self.rule_id


class Alert(models.Model):
    """Matches of one rule with one dedup string within one event-time window that reached the
    rule's threshold (detections/alerting.py keeps these exact)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        TRIAGED = "triaged", "Triaged"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    rule_id = models.CharField(max_length=200, db_index=True)
    dedup = models.TextField()
    dedup_key = models.CharField(max_length=32)
    title = models.TextField()
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    log_type = models.CharField(max_length=100, blank=True)
    first_event_time = models.DateTimeField()
    last_event_time = models.DateTimeField()
    event_count = models.PositiveIntegerField(default=0)
    alert_context = models.JSONField(default=dict, blank=True)
    runbook = models.TextField(blank=True)
    reference = models.TextField(blank=True)
    destinations = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["dedup_key", "first_event_time"], name="alert_window"),
            models.Index(fields=["status", "severity"], name="alert_status_severity"),
            models.Index(fields=["-created_at", "-id"], name="alert_newest"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("detections:alert", args=[self.pk])


class Match(models.Model):
    """One event matched by one rule, at most once: unique on (rule, row id), so reading an object
    again adds nothing. `window_start` and `alert` are the grouping (detections/alerting.py); a
    new match is stored with neither and grouped right after its batch commits."""

    rule_id = models.CharField(max_length=200)
    p_row_id = models.CharField(max_length=32)
    p_event_time = models.DateTimeField()
    p_log_type = models.CharField(max_length=100)
    source = models.ForeignKey(
        "sources.Source", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dedup = models.TextField()
    dedup_key = models.CharField(max_length=32)
    title = models.TextField()
    severity = models.CharField(max_length=10, choices=Severity.choices)
    alert_context = models.JSONField(default=dict, blank=True)
    runbook = models.TextField(blank=True)
    reference = models.TextField(blank=True)
    destinations = models.JSONField(default=list, blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="matches"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["p_event_time", "p_row_id"]
        constraints = [
            models.UniqueConstraint(fields=["rule_id", "p_row_id"], name="match_once_per_rule")
        ]
        indexes = [
            models.Index(fields=["dedup_key", "p_event_time"], name="match_group_time"),
            models.Index(fields=["p_row_id"], name="match_row"),
            # new matches not grouped into windows yet (detections/alerting.py group)
            models.Index(
                fields=["dedup_key"],
                condition=models.Q(window_start__isnull=True),
                name="match_ungrouped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.p_row_id}"


class AlertComment(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:60]


class RuleError(models.Model):
    """A rule that raised: one row per (rule, message), with how often and the last event."""

    rule_id = models.CharField(max_length=200)
    message = models.TextField()
    message_key = models.CharField(max_length=32)
    count = models.PositiveBigIntegerField(default=0)
    last_row_id = models.CharField(max_length=32, blank=True)
    last_event_time = models.DateTimeField(null=True, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_seen", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule_id", "message_key"], name="rule_error_once")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.message[:80]}"


class RuleRun(models.Model):
    """A rule's YAML tests, or a run over stored events (nothing alerted), done by a worker."""

    class Kind(models.TextChoices):
        TESTS = "tests", "Run tests"
        EVENTS = "events", "Test against stored events"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    rule_id = models.CharField(max_length=200, db_index=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    results = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.kind} {self.status}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.processed / self.total) if self.total else 0
