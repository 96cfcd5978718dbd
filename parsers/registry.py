"""The registry of log types: built-in schemas plus any folder the console adds.

Tile metadata (title, vendor, category, icon, transports) comes from optional top-level keys of a
schema document or from a `catalog.yml` sidecar in the same folder (name -> metadata), so the
vendor's schema text can stay exactly as published.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from parsers.parser import Parser, compile_schema
from parsers.schema import Schema, SchemaError, load_schema

BUILTIN_FOLDER = Path(__file__).resolve().parent / "schemas"
CATALOG_FILE = "catalog.yml"
TRANSPORTS = ("s3", "sqs")


@dataclass(eq=False)
class LogType:
    name: str
    title: str
    vendor: str
    category: str
    description: str
    reference_url: str
    icon: str
    field_count: int
    schema: Schema = field(repr=False)
    transports: tuple[str, ...] = TRANSPORTS
    _parser: Parser | None = field(default=None, repr=False)

    @property
    def parser(self) -> Parser:
        """The compiled parser, built on first use and kept."""
        if self._parser is None:
            self._parser = compile_schema(self.schema)
        return self._parser

    @classmethod
    def from_schema(cls, schema: Schema, metadata: dict[str, Any] | None = None) -> LogType:
        meta = {**schema.metadata, **(metadata or {})}
        vendor_part, _, type_part = schema.name.partition(".")
        title = str(meta.get("title") or type_part or schema.name)
        transports = meta.get("transports") or TRANSPORTS
        if isinstance(transports, str):
            transports = (transports,)
        return cls(
            name=schema.name,
            title=title,
            vendor=str(meta.get("vendor") or vendor_part),
            category=str(meta.get("category") or "Custom"),
            description=schema.description,
            reference_url=schema.reference_url,
            icon=str(meta.get("icon") or _slug(title)),
            field_count=schema.field_count,
            schema=schema,
            transports=tuple(str(t) for t in transports),
        )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "log"


class Registry:
    """Log types by name."""

    def __init__(self, log_types: list[LogType] | None = None) -> None:
        self._types: dict[str, LogType] = {}
        for log_type in log_types or ():
            self.add(log_type)

    def add(self, log_type: LogType, *, replace: bool = False) -> LogType:
        if log_type.name in self._types and not replace:
            existing = self._types[log_type.name].schema.source_name
            raise SchemaError(
                log_type.schema.source_name,
                "schema",
                f"log type {log_type.name!r} is already registered (from {existing})",
            )
        self._types[log_type.name] = log_type
        return log_type

    def add_schema(self, schema: Schema, *, replace: bool = False, **metadata: Any) -> LogType:
        return self.add(LogType.from_schema(schema, metadata), replace=replace)

    def get(self, name: str) -> LogType:
        try:
            return self._types[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._types, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join(self.names()) or "none"
            raise KeyError(f"unknown log type {name!r}{hint} (known: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __len__(self) -> int:
        return len(self._types)

    def names(self) -> list[str]:
        return sorted(self._types)

    def all(self) -> list[LogType]:
        return [self._types[n] for n in self.names()]

    def load_folder(self, path: str | Path, *, replace: bool = False) -> list[LogType]:
        """Register every *.yml / *.yaml schema in a folder (catalog.yml holds tile metadata)."""
        folder = Path(path)
        if not folder.is_dir():
            raise SchemaError(str(folder), "", "not a folder")
        catalog = _load_catalog(folder / CATALOG_FILE)
        loaded = []
        for file in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
            if file.name == CATALOG_FILE:
                continue
            schema = load_schema(file)
            loaded.append(self.add_schema(schema, replace=replace, **catalog.get(schema.name, {})))
        return loaded


def _load_catalog(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SchemaError(str(path), "", f"invalid catalog: {exc}") from None
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise SchemaError(str(path), "", "a catalog maps log type names to metadata mappings")
    return doc


_DEFAULT: Registry | None = None


def default_registry() -> Registry:
    """The built-in log types (parsers/schemas), loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        registry = Registry()
        registry.load_folder(BUILTIN_FOLDER)
        _DEFAULT = registry
    return _DEFAULT
