from django.apps import AppConfig


class DetectionsConfig(AppConfig):
    name = "detections"
    verbose_name = "Detections"

    def ready(self) -> None:
        from detections.retention import purge_before
        from events.retention import expired

        expired.connect(purge_before, dispatch_uid="detections.retention")
