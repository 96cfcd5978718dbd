"""Celery tasks of the detections app (on the interactive queue: answered within seconds)."""

from celery import shared_task

from detections import alerting, runs
from detections.models import RuleRun


@shared_task(name="detections.run_rule", acks_late=True, soft_time_limit=600, time_limit=660)
def run_rule(run_id: int) -> str:
    run = RuleRun.objects.get(pk=run_id)
    runs.execute(run)
    run.refresh_from_db(fields=["status"])
    return run.status


@shared_task(name="detections.group_pending", acks_late=True)
def group_pending() -> int:
    """Group new matches a crash left ungrouped (between a batch's commit and its grouping)."""
    return alerting.group_pending()
