"""Versions of the custom log types saved in the console (the text of each, who saved it, when,
and its diff against the one before). The current version's text is also the schema file in
settings.SLUICE_SCHEMAS_DIR that the registry, the workers and `python -m parsers` read."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SchemaVersion(models.Model):
    name = models.CharField(max_length=128, db_index=True, help_text="The log type, Custom.X")
    version = models.PositiveIntegerField()
    text = models.TextField(help_text="The Panther-format YAML schema of this version")
    diff = models.TextField(blank=True, help_text="Unified diff against the previous version")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="logtype_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
