"""Log sources: where a source's logs live in AWS, which log types they carry, and their health."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

ALARM_MIN_MINUTES = 15
ALARM_MAX_MINUTES = 30 * 24 * 60
STALE_AFTER = timedelta(minutes=3)


class Source(models.Model):
    class Transport(models.TextChoices):
        S3 = "s3", "AWS S3 Bucket"
        SQS = "sqs", "Amazon SQS"

    class Health(models.TextChoices):
        HEALTHY = "healthy", "Healthy"
        UNHEALTHY = "unhealthy", "Unhealthy"
        PAUSED = "paused", "Paused"
        WAITING = "waiting", "Waiting for data"

    name = models.CharField(max_length=100, unique=True)
    transport = models.CharField(max_length=8, choices=Transport.choices)
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
    transport = models.CharField(max_length=8, choices=Source.Transport.choices)
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
