"""The log types workers parse with: the built-in schemas plus the console's schema folder."""

from functools import lru_cache
from pathlib import Path

from django.conf import settings

from parsers import Classifier, Registry, default_registry


def _folder_stamp(folder: Path) -> float:
    if not folder.is_dir():
        return 0.0
    return max([folder.stat().st_mtime, *(p.stat().st_mtime for p in folder.glob("*.y*ml"))])


@lru_cache(maxsize=4)
def _registry(stamp: float) -> Registry:
    folder = Path(settings.SLUICE_SCHEMAS_DIR)
    if not stamp:
        return default_registry()
    registry = Registry(default_registry().all())
    registry.load_folder(folder, replace=True)
    return registry


def current_registry() -> Registry:
    """Reloaded when a schema file in SLUICE_SCHEMAS_DIR changes (after a schema fix)."""
    return _registry(_folder_stamp(Path(settings.SLUICE_SCHEMAS_DIR)))


def classifier_for(log_types: list[str] | tuple[str, ...]) -> Classifier:
    """A classifier over the named log types; unknown names are an error the caller reports."""
    registry = current_registry()
    return Classifier([registry.get(name) for name in log_types])
