"""The Celery application: configured from Django settings (namespace CELERY)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

app = Celery("sluice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _add_worker_pulse() -> None:
    from sources.runtime import WorkerPulse  # no models: safe before Django is set up

    app.steps["consumer"].add(WorkerPulse)


_add_worker_pulse()
