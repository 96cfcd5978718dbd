from celery import shared_task

from destinations import delivery


@shared_task(name="destinations.deliver")
def deliver(delivery_id: int, attempt: int) -> str:
    return delivery.attempt(delivery_id, attempt)


@shared_task(name="destinations.follow")
def follow() -> int:
    from destinations import hooks

    return hooks.follow()


@shared_task(name="destinations.sweep")
def sweep() -> dict[str, int]:
    return delivery.sweep()


@shared_task(name="destinations.check_system")
def check_system() -> dict[str, int]:
    from destinations import system

    return system.check()
