"""Alert destinations (Slack, webhook, email, PagerDuty) and the log of what was sent to them.

A Delivery is one change of one alert for one destination, recorded (in the transaction that
changed the alert) before anything is sent: unique on (destination, alert, seq), and claimed by
the worker that sends it, so a change is sent at most once even when a worker dies mid-send.
Each try is a DeliveryAttempt (time, status code, response excerpt, error).
"""

from __future__ import annotations

from django.db import models
from django.urls import reverse

SEVERITIES = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


class Kind(models.TextChoices):
    SLACK = "slack", "Slack"
    WEBHOOK = "webhook", "Webhook"
    EMAIL = "email", "Email"
    PAGERDUTY = "pagerduty", "PagerDuty"


class Destination(models.Model):
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    enabled = models.BooleanField(default=True)
    min_severity = models.CharField(
        max_length=10, choices=[(s, s.title()) for s in SEVERITIES], default="low"
    )
    log_types = models.JSONField(default=list, blank=True, help_text="Empty: every log type")
    rule_ids = models.JSONField(default=list, blank=True, help_text="Empty: every rule")
    # Not secret: a webhook's URL, PagerDuty's Events API URL (empty: PagerDuty's own).
    url = models.CharField(max_length=2000, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    # Fernet-encrypted JSON of the secret settings (Slack's webhook URL, the HMAC secret, custom
    # headers, PagerDuty's routing key): written, never shown again.
    secrets = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("destinations:detail", args=[self.pk])


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Retrying"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Unknown (worker lost mid-send)"

    class Change(models.TextChoices):
        TRIGGER = "trigger", "New alert"
        UPDATE = "update", "Severity changed"
        RESOLVE = "resolve", "Resolved"
        REOPEN = "reopen", "Reopened"
        TEST = "test", "Test alert"

    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="deliveries"
    )
    # No foreign key: the log outlives an alert (and a test alert has none).
    alert_id = models.BigIntegerField(null=True, blank=True)
    seq = models.PositiveIntegerField(default=1)
    change = models.CharField(max_length=10, choices=Change.choices)
    # The alert as it was at this change (destinations.view.AlertView): what every try sends.
    phase = models.CharField(max_length=10)  # open | resolved
    severity = models.CharField(max_length=10)
    alert = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["destination", "alert_id", "seq"], name="delivery_once_per_change"
            )
        ]
        indexes = [
            models.Index(fields=["alert_id", "destination", "seq"], name="delivery_alert"),
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.destination} alert {self.alert_id} #{self.seq} {self.change}"

    @property
    def title(self) -> str:
        return str(self.alert.get("title", ""))


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="tries")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response = models.TextField(blank=True)
    error = models.TextField(blank=True)
    ok = models.BooleanField(default=False)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="attempt_once")]

    def __str__(self) -> str:
        return f"{self.delivery_id} try {self.number}"
