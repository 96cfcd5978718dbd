from django.apps import AppConfig
from django.db.backends.signals import connection_created


def disable_jit(sender, connection, **kwargs) -> None:
    """PostgreSQL's JIT compiles search queries whose cost it overestimates (an index walk that
    stops after 50 rows looks expensive on paper): ~60-250 ms of compiling for <1 ms of work."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events"

    def ready(self) -> None:
        connection_created.connect(disable_jit, dispatch_uid="events.disable_jit")
