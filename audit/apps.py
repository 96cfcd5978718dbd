from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit and API tokens"

    def ready(self) -> None:
        from audit import signals

        signals.connect()
