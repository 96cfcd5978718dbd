"""Log sources: where a source's logs live in AWS, which log types they carry, and their health."""

from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

if TYPE_CHECKING:
    from sources.transports import Settings
    from sources.transports import Transport as TransportImpl

ALARM_MIN_MINUTES = 15
ALARM_MAX_MINUTES = 30 * 24 * 60
STALE_AFTER = timedelta(minutes=3)


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
    alarm_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
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
    def transport_impl(self) -> "TransportImpl":
        """This source's transport (sources/transports)."""
        from sources.transports import get

        return get(self.transport)

    @property
    def settings(self) -> "Settings":
        """The transport's typed settings, made from `config` (once per config)."""
        cached = self.__dict__.get("_settings")
        if cached is None or cached[0] is not self.config or cached[1] != self.transport:
            cached = (self.config, self.transport, self.transport_impl.settings(self.config))
            self.__dict__["_settings"] = cached
        return cached[2]

    @property
    def latest_verification(self) -> "VerificationRun | None":
        return self.verifications.order_by("-created_at", "-id").first()


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
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"verification #{self.pk} ({self.status})"

    @property
    def done(self) -> bool:
        return self.status in {self.Status.PASSED, self.Status.FAILED}

    @property
    def stale(self) -> bool:
        """Queued or running for long after any check could take: no worker is answering."""
        return not self.done and timezone.now() - self.created_at > STALE_AFTER

    @property
    def failed_checks(self) -> list[dict]:
        return [check for check in self.checks if not check.get("ok")]
