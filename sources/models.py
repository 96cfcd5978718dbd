"""Log sources: where a source's logs live in AWS, which log types they carry, and their health.

Health is decided and written by sources/health.py only (every 30 s by beat's check_health, and
at once when data arrives, a verification ends, or the source is paused or resumed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

import redis
from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from sources import runtime

if TYPE_CHECKING:
    from sources.transports import Settings
    from sources.transports import Transport as TransportImpl

ALARM_MIN_MINUTES = 15
ALARM_MAX_MINUTES = 30 * 24 * 60
DEFAULT_ALARM_MINUTES = 60  # new sources: no data for an hour is worth an alarm
STALE_AFTER = timedelta(minutes=3)  # longer than run_verification's time limit
HEALTH_CHECK_OVERDUE = timedelta(minutes=2)  # beat checks every 30 s
VERIFICATION_TASK = "sources.run_verification"


def transport_choices() -> list[tuple[str, str]]:
    """The registered transports (sources/transports): a callable, so the registry is the list."""
    from sources.transports import choices

    return choices()


class Source(models.Model):
    class Health(models.TextChoices):
        HEALTHY = "healthy", "Healthy"
        UNHEALTHY = "unhealthy", "Unhealthy"
        PAUSED = "paused", "Paused"
        WAITING = "waiting", "Waiting for data"

    name = models.CharField(max_length=100, unique=True)
    transport = models.CharField(max_length=8, choices=transport_choices)
    log_types = models.JSONField(
        default=list, help_text="Names of the log types this source carries."
    )
    config = models.JSONField(default=dict, blank=True, help_text="Transport settings.")
    paused = models.BooleanField(default=False)
    health = models.CharField(max_length=16, choices=Health.choices, default=Health.WAITING)
    health_reason = models.TextField(blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    health_rule = models.CharField(
        max_length=24,
        blank=True,
        editable=False,
        help_text="Which rule of sources/health.py decided the health (see health.Rule).",
    )
    health_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    backlog = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="What waited to be read at the last health check (sources.health.Backlog).",
    )
    alarm_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=DEFAULT_ALARM_MINUTES,
        help_text="Mark the source unhealthy when no data arrives for this many minutes.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("sources:detail", args=[self.pk])

    @property
    def transport_impl(self) -> TransportImpl:
        """This source's transport (sources/transports)."""
        from sources.transports import get

        return get(self.transport)

    @property
    def settings(self) -> Settings:
        """The transport's typed settings, made from `config` (once per config)."""
        cached = self.__dict__.get("_settings")
        if cached is None or cached[0] is not self.config or cached[1] != self.transport:
            cached = (self.config, self.transport, self.transport_impl.settings(self.config))
            self.__dict__["_settings"] = cached
        return cached[2]

    @property
    def latest_verification(self) -> VerificationRun | None:
        return self.verifications.order_by("-created_at", "-id").first()

    @property
    def health_check_overdue(self) -> bool:
        """No health check for a while: beat or the interactive worker is not running, so the
        health shown may be out of date."""
        since = self.health_checked_at or self.created_at
        return since is not None and timezone.now() - since > HEALTH_CHECK_OVERDUE


@dataclass(frozen=True)
class QueueWait:
    """Where a queued verification stands: does a live worker serve its queue, and how many
    tasks wait before it (None: it is no longer in the queue, a worker has taken it)."""

    served: bool
    ahead: int | None


class VerificationRun(models.Model):
    """One run of a transport's checks against AWS, for a saved source or a wizard draft."""

    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        RUNNING = "running", "Running"
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"

    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.CASCADE, related_name="verifications"
    )
    transport = models.CharField(max_length=8, choices=transport_choices)
    config = models.JSONField(default=dict, help_text="The settings checked (a copy).")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    checks = models.JSONField(
        default=list, blank=True, help_text="[{name, ok, message, error, at}] in run order."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"verification #{self.pk} ({self.status})"

    @property
    def done(self) -> bool:
        return self.status in {self.Status.PASSED, self.Status.FAILED}

    @cached_property
    def queue_wait(self) -> QueueWait | None:
        """For a queued run, what the workers say (None once started, or when Redis is away)."""
        if self.status != self.Status.PENDING:
            return None
        queue = settings.CELERY_TASK_ROUTES[VERIFICATION_TASK]["queue"]
        try:
            served = bool(runtime.serving(queue))
            ahead = runtime.tasks_ahead(queue, VERIFICATION_TASK, [self.pk])
        except redis.RedisError:
            return None
        return QueueWait(served=served, ahead=ahead)

    @property
    def stale(self) -> bool:
        """It will not finish by itself: running for longer than its time limit (the worker
        died), or queued long ago and gone from a served queue (the broker lost it)."""
        if self.done:
            return False
        since = self.started_at or self.created_at
        if timezone.now() - since <= STALE_AFTER:
            return False
        if self.status == self.Status.RUNNING:
            return True
        wait = self.queue_wait
        return wait is not None and wait.served and wait.ahead is None

    @property
    def failed_checks(self) -> list[dict]:
        """Checks that failed (ok false); a check skipped after a failure has ok null."""
        return [check for check in self.checks if check.get("ok") is False]

    @property
    def skipped_checks(self) -> list[dict]:
        return [check for check in self.checks if check.get("ok") is None]


class HourlyStats(models.Model):
    """Events, bytes and failures ingested per source, log type and hour (ingestion time): a
    source's throughput, written by ingestion (ingestion.health.add_hourly), read by the sources
    list and a source's page (sources.stats). The table kept its name when the model moved here
    from the ingestion app."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="hourly_stats")
    log_type = models.CharField(max_length=100, blank=True)
    hour = models.DateTimeField()
    events = models.BigIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)
    failures = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-hour"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "log_type", "hour"], name="hourlystats_unique_hour"
            )
        ]
        verbose_name_plural = "hourly stats"
        db_table = "ingestion_hourlystats"

    def __str__(self) -> str:
        return f"{self.source_id} {self.log_type} {self.hour:%Y-%m-%d %H}h: {self.events}"
