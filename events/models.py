"""The events store: every parsed event, and every line that failed to parse."""

from django.db import models
from django.urls import reverse

from events.fields import IndicatorArrayField

INDICATOR_COLUMNS = (
    "p_any_ip_addresses",
    "p_any_domain_names",
    "p_any_trace_ids",
    "p_any_usernames",
    "p_any_emails",
    "p_any_aws_arns",
    "p_any_aws_account_ids",
    "p_any_aws_instance_ids",
    "p_any_aws_tags",
    "p_any_md5_hashes",
    "p_any_sha1_hashes",
    "p_any_sha256_hashes",
)


class Event(models.Model):
    """One normalized event. `fields` holds the typed schema columns; `p_extra` everything else."""

    p_row_id = models.CharField(max_length=32, unique=True)
    p_log_type = models.CharField(max_length=100, db_index=True)
    source = models.ForeignKey(
        "sources.Source", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    p_event_time = models.DateTimeField(db_index=True)
    p_parse_time = models.DateTimeField()
    fields = models.JSONField(default=dict)
    p_extra = models.JSONField(default=dict, blank=True)
    object_key = models.CharField(max_length=1024, blank=True)
    object_version = models.CharField(max_length=256, blank=True)
    line = models.PositiveIntegerField(default=0)

    p_any_ip_addresses = IndicatorArrayField()
    p_any_domain_names = IndicatorArrayField()
    p_any_trace_ids = IndicatorArrayField()
    p_any_usernames = IndicatorArrayField()
    p_any_emails = IndicatorArrayField()
    p_any_aws_arns = IndicatorArrayField()
    p_any_aws_account_ids = IndicatorArrayField()
    p_any_aws_instance_ids = IndicatorArrayField()
    p_any_aws_tags = IndicatorArrayField()
    p_any_md5_hashes = IndicatorArrayField()
    p_any_sha1_hashes = IndicatorArrayField()
    p_any_sha256_hashes = IndicatorArrayField()

    class Meta:
        ordering = ["-p_event_time", "-id"]

    def __str__(self) -> str:
        return f"{self.p_log_type} {self.p_row_id}"

    def get_absolute_url(self) -> str:
        return reverse("events:detail", args=[self.p_row_id])


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
