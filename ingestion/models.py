"""Ingestion bookkeeping: what was read (ledger), where listing resumes, the last error per stage,
backfills. (A source's throughput per hour, HourlyStats, is the sources app's.)"""

from django.conf import settings
from django.db import models


class ObjectLedger(models.Model):
    """One S3 object version (or one SQS message of raw events) and how reading it went."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    source = models.ForeignKey("sources.Source", on_delete=models.CASCADE, related_name="ledger")
    bucket = models.CharField(max_length=255, blank=True)
    key = models.CharField(max_length=1024)
    version = models.CharField(max_length=256, blank=True, help_text="ETag or version id.")
    size = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    events = models.BigIntegerField(default=0)
    failures = models.BigIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "bucket", "key", "version"], name="ledger_unique_object"
            )
        ]
        indexes = [models.Index(fields=["source", "status"], name="ledger_source_status")]

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key} ({self.status})"


class StageError(models.Model):
    """The last error a source hit in one stage of ingestion (one row per source and stage)."""

    class Stage(models.TextChoices):
        RECEIVE = "receive", "Receive"
        GET_OBJECT = "get_object", "Get object"
        PARSE = "parse", "Parse"
        STORE = "store", "Store"

    source = models.ForeignKey(
        "sources.Source", on_delete=models.CASCADE, related_name="stage_errors"
    )
    stage = models.CharField(max_length=16, choices=Stage.choices)
    message = models.TextField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["stage"]
        constraints = [
            models.UniqueConstraint(fields=["source", "stage"], name="stageerror_unique_stage")
        ]

    def __str__(self) -> str:
        return f"{self.stage}: {self.message}"


class Checkpoint(models.Model):
    """Where listing a prefix resumes: the last key handed to ingestion (S3 lists in key order)."""

    source = models.ForeignKey(
        "sources.Source", on_delete=models.CASCADE, related_name="checkpoints"
    )
    prefix = models.CharField(max_length=1024, blank=True)
    start_after = models.CharField(max_length=1024, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "prefix"], name="checkpoint_unique_prefix")
        ]

    def __str__(self) -> str:
        return f"{self.prefix} after {self.start_after!r}"


class BackfillRun(models.Model):
    """A "Backfill from date" run: lists every prefix and ingests objects modified since `since`."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        LISTING = "listing", "Listing objects"
        RUNNING = "running", "Ingesting"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    source = models.ForeignKey("sources.Source", on_delete=models.CASCADE, related_name="backfills")
    since = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    objects_total = models.PositiveIntegerField(default=0)
    objects_done = models.PositiveIntegerField(default=0)
    events = models.BigIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"backfill {self.source_id} since {self.since:%Y-%m-%d} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}

    @property
    def percent(self) -> int:
        if not self.objects_total:
            return 100 if self.finished else 0
        return min(100, round(100 * self.objects_done / self.objects_total))
