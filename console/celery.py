"""The Celery application: configured from Django settings (namespace CELERY)."""

import os

from celery import Celery
from celery.signals import worker_process_init
from kombu.transport import redis as kombu_redis
from kombu.transport import virtual as kombu_virtual

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

app = Celery("sluice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class _RedisQoS(kombu_redis.QoS):
    """kombu 5.7's Redis QoS, made to survive a Redis restart while a worker holds unacknowledged
    messages (acks_late: always, while a task runs). Both cases were seen in the fault suite.

    - On the restart kombu closes the channel and tries to put the messages back through the
      connection it has just dropped (AttributeError: ... 'hostname'): the consumer dies while
      the process stays up. Leave them in the broker's unacked set instead: they come back after
      the visibility timeout (SLUICE_BROKER_VISIBILITY_SECONDS), as a dead worker's messages do.
    - A task that was running during the restart then finishes and its message is acknowledged on
      the closed channel (AttributeError: ... 'client'): "Unrecoverable error", the worker exits.
      Forget it locally instead; if the broker kept it, it is redelivered after the visibility
      timeout, and every task here is idempotent.
    """

    restore_at_shutdown = False

    def ack(self, delivery_tag):
        if self._channel_closed():
            return kombu_virtual.QoS.ack(self, delivery_tag)
        return super().ack(delivery_tag)

    def reject(self, delivery_tag, requeue=False):
        if self._channel_closed():
            return kombu_virtual.QoS.ack(self, delivery_tag)
        return super().reject(delivery_tag, requeue=requeue)

    def _channel_closed(self) -> bool:
        return self.channel.connection is None


kombu_redis.Channel.QoS = _RedisQoS


@worker_process_init.connect
def _leave_the_process_group(**_kwargs) -> None:
    """A pool child leaves its worker's process group: a supervisor's SIGTERM to the group (honcho
    on Ctrl-C: killpg) then reaches only the parent, whose warm shutdown lets the running tasks
    finish and stops its children; the children used to die mid-task (a WorkerLostError traceback
    each). A child still dies with its parent (Celery sets its parent-death signal)."""
    os.setpgid(0, 0)


def _add_worker_pulse() -> None:
    from sources.runtime import WorkerPulse  # no models: safe before Django is set up

    app.steps["consumer"].add(WorkerPulse)


_add_worker_pulse()
