"""Log sources: where a source's logs live in AWS, which log types they carry, and their health."""

from django.conf import settings
from django.db import models
from django.urls import reverse


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
