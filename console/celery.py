"""The Celery application: configured from Django settings (namespace CELERY)."""

import os

from celery import Celery
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

app = Celery("sluice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# When Redis goes away while a worker holds unacknowledged messages (acks_late: always, while a
# task runs), kombu 5.7 closes the channel and tries to put them back through the connection it
# has just dropped (AttributeError: 'NoneType' object has no attribute 'hostname'): the worker's
# consumer dies for good while the process stays up (seen in the fault suite's Redis restart).
# Leave them in the broker's unacked set instead: they come back after the visibility timeout
# (SLUICE_BROKER_VISIBILITY_SECONDS), as a dead worker's messages do.
kombu_redis.QoS.restore_at_shutdown = False


def _add_worker_pulse() -> None:
    from sources.runtime import WorkerPulse  # no models: safe before Django is set up

    app.steps["consumer"].add(WorkerPulse)


_add_worker_pulse()
