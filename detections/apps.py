from django.apps import AppConfig


class DetectionsConfig(AppConfig):
    name = "detections"
    verbose_name = "Detections"

    def ready(self) -> None:
        from detections import search
        from detections.retention import purge_before
        from events.filters import register_field
        from events.retention import expired

        expired.connect(purge_before, dispatch_uid="detections.retention")
        register_field(search.FIELD, search.alert_leaf)
