"""Celery tasks of the sources app: verification runs (ingestion's tasks live in ingestion/)."""

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from sources import health, transports
from sources.models import VerificationRun


@shared_task(name="sources.run_verification", acks_late=True, soft_time_limit=120, time_limit=180)
def run_verification(run_id: int) -> str:
    """Run a transport's checks, saving each row as it finishes so the page shows progress."""
    run = VerificationRun.objects.get(pk=run_id)
    run.status = VerificationRun.Status.RUNNING
    run.checks = []
    run.started_at = timezone.now()
    run.save(update_fields=["status", "checks", "started_at"])
    transport = transports.get(run.transport)
    try:
        results = transport.verify(transport.settings(run.config))
    except transports.SettingsError as exc:
        results = iter([transports.CheckResult("Settings", False, f"Not valid: {exc}")])
    for result in results:
        run.checks.append(result.as_dict())
        run.save(update_fields=["checks"])
    failed = any(check["ok"] is False for check in run.checks)
    run.status = VerificationRun.Status.FAILED if failed else VerificationRun.Status.PASSED
    run.finished_at = timezone.now()
    with transaction.atomic():
        run.save(update_fields=["status", "finished_at"])
        # The wizard may have saved the source while the checks ran: read the link afresh.
        run.source_id = VerificationRun.objects.values_list("source_id", flat=True).get(pk=run.pk)
        if run.source_id:
            health.verification_finished(run)
    return run.status
