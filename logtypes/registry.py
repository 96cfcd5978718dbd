"""The one registry of log types, for everyone: the wizard's tiles, the settings form and the API,
search (columns, field types) and the workers.

A log type is a schema (parsers/schemas, then the `*.yml` / `*.yaml` files of
settings.SLUICE_SCHEMAS_DIR, which may replace a built-in one of the same name) plus what the
console shows on its tile: title, vendor, category, icon and transports. Tile metadata comes, last
one winning, from `logtypes/catalog.yml` (the built-in log types), optional top-level keys of the
schema document, and a `catalog.yml` in SLUICE_SCHEMAS_DIR (name -> metadata), so a vendor's
schema text can stay exactly as published. A catalog entry may also name search's default
`columns` for the log type; without them they come from its schema (`LogType.default_columns`).

The registry is reloaded when a file of that folder changes, is added or goes away: every process
(web or worker) picks up a new or fixed schema on its next look-up, without a restart. A schema
file that does not load is left out (and logged, and listed in `problems`); the others stay usable.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

import parsers
from parsers import (
    Classifier,
    Parser,
    Schema,
    SchemaError,
    column_name,
    default_registry,
    load_schema,
)
from parsers.registry import schema_files

log = logging.getLogger(__name__)

CATALOG_FILE = "catalog.yml"
BUILTIN_CATALOG = Path(__file__).resolve().parent / CATALOG_FILE
TRANSPORTS = ("s3", "sqs")
DEFAULT_CATEGORY = "Custom"
SCALAR_TYPES = frozenset({"string", "smallint", "int", "bigint", "float", "boolean", "timestamp"})
DEFAULT_COLUMN_COUNT = 6
FALLBACK_COLUMNS = ("event", "user")  # an unknown log type, or one without a scalar field


@dataclass(frozen=True, eq=False)
class LogType:
    """One log type as the console knows it: its tile, its schema, its parser."""

    name: str
    title: str
    vendor: str
    category: str
    icon: str
    transports: tuple[str, ...]
    parsed: parsers.LogType = field(repr=False)
    columns: tuple[str, ...] = ()  # search's default columns when the metadata names them

    @property
    def default_columns(self) -> tuple[str, ...]:
        """The columns search shows for this log type until the user picks some: the metadata's
        `columns`, else the first top-level scalar fields, required ones first (the event time
        is the row's own time column already)."""
        if self.columns:
            return self.columns
        fields = self.schema.fields
        scalars = [f for f in fields if f.type in SCALAR_TYPES and not f.is_event_time]
        ordered = [f for f in scalars if f.required] + [f for f in scalars if not f.required]
        return tuple(f.column for f in ordered[:DEFAULT_COLUMN_COUNT]) or FALLBACK_COLUMNS

    @property
    def schema(self) -> Schema:
        return self.parsed.schema

    @property
    def description(self) -> str:
        return self.parsed.description

    @property
    def reference_url(self) -> str:
        return self.parsed.reference_url

    @property
    def field_count(self) -> int:
        return self.parsed.field_count

    @property
    def parser(self) -> Parser:
        """The compiled parser (compiled once per process, on first use)."""
        return self.parsed.parser

    @classmethod
    def build(cls, parsed: parsers.LogType, *metadata: Mapping[str, Any]) -> LogType:
        """The tile of a schema; later metadata mappings win over earlier ones and the schema's."""
        meta: dict[str, Any] = {}
        for layer in (*metadata[:1], parsed.schema.metadata, *metadata[1:]):
            meta.update(layer)
        vendor_part, _, type_part = parsed.name.partition(".")
        title = str(meta.get("title") or type_part or parsed.name)
        transports = meta.get("transports") or TRANSPORTS
        if isinstance(transports, str):
            transports = (transports,)
        columns = meta.get("columns") or ()
        if isinstance(columns, str):
            columns = (columns,)
        return cls(
            name=parsed.name,
            title=title,
            vendor=str(meta.get("vendor") or vendor_part),
            category=str(meta.get("category") or DEFAULT_CATEGORY),
            icon=str(meta.get("icon") or _slug(title)),
            transports=tuple(str(t) for t in transports),
            parsed=parsed,
            columns=tuple(column_name(str(c)) for c in columns),
        )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "log"


class Registry:
    """Log types by name, sorted by name."""

    def __init__(self, log_types: Iterable[LogType], problems: Iterable[str] = ()) -> None:
        self._types = {t.name: t for t in sorted(log_types, key=lambda t: t.name)}
        self.problems: tuple[str, ...] = tuple(problems)

    def get(self, name: str) -> LogType:
        """The log type; KeyError (naming the closest known name) when there is none."""
        try:
            return self._types[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._types, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join(self._types) or "none"
            raise KeyError(f"unknown log type {name!r}{hint} (known: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __len__(self) -> int:
        return len(self._types)

    def names(self) -> list[str]:
        return list(self._types)

    def all(self) -> list[LogType]:
        return list(self._types.values())

    def classifier(self, log_types: Iterable[str]) -> Classifier:
        """A classifier over the named log types; unknown names raise KeyError."""
        return Classifier([self.get(name).parser for name in log_types])


def load_catalog(path: Path) -> dict[str, dict[str, Any]]:
    """A catalog file: log type name -> tile metadata ({} when the file does not exist)."""
    if not path.exists():
        return {}
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SchemaError(str(path), "", f"invalid catalog: {exc}") from None
    if not isinstance(doc, dict) or any(not isinstance(v, dict) for v in doc.values()):
        raise SchemaError(str(path), "", "a catalog maps log type names to metadata mappings")
    return doc


def load(folder: str | Path | None) -> Registry:
    """The built-in log types plus those of `folder` (None or a missing folder: built-ins only)."""
    builtin_catalog = load_catalog(BUILTIN_CATALOG)
    schemas = {t.name: t for t in default_registry().all()}
    folder_catalog: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    if folder is not None and Path(folder).is_dir():
        try:
            folder_catalog = load_catalog(Path(folder) / CATALOG_FILE)
        except SchemaError as exc:
            problems.append(str(exc))
        from_folder: dict[str, Path] = {}
        for file in schema_files(folder, ignore={CATALOG_FILE}):
            try:
                schema = load_schema(file)
            except SchemaError as exc:
                problems.append(str(exc))
                continue
            if schema.name in from_folder:
                problems.append(
                    f"{file}: schema: log type {schema.name!r} is already defined "
                    f"in {from_folder[schema.name]}; this file is ignored"
                )
                continue
            from_folder[schema.name] = file
            schemas[schema.name] = parsers.LogType(schema)
    for problem in problems:
        log.error("log type left out: %s", problem)
    return Registry(
        (
            LogType.build(parsed, builtin_catalog.get(name, {}), folder_catalog.get(name, {}))
            for name, parsed in schemas.items()
        ),
        problems,
    )


def _folder_stamp(folder: Path) -> tuple:
    """Changes whenever a schema or catalog file of the folder is added, removed or rewritten."""
    try:
        files = [p for p in folder.iterdir() if p.suffix in {".yml", ".yaml"}]
        return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files))
    except OSError:  # no folder (yet), or a file removed while looking
        return ()


@lru_cache(maxsize=4)
def _load(folder: str, stamp: tuple) -> Registry:
    return load(Path(folder) if stamp else None)


def current_registry() -> Registry:
    """The log types now: reloaded when a file in settings.SLUICE_SCHEMAS_DIR changes."""
    folder = Path(settings.SLUICE_SCHEMAS_DIR)
    return _load(str(folder), _folder_stamp(folder))


def get(name: str) -> LogType:
    """The log type named `name`; KeyError when there is none."""
    return current_registry().get(name)


def all() -> list[LogType]:  # shadows the built-in all() in this module: do not use that here
    return current_registry().all()


def names() -> list[str]:
    return current_registry().names()


def default_columns(name: str) -> tuple[str, ...]:
    """Search's columns for a log type until the user picks some (any name: unknown ones too)."""
    reg = current_registry()
    return reg.get(name).default_columns if name in reg else FALLBACK_COLUMNS


def classifier_for(log_types: Iterable[str]) -> Classifier:
    """A classifier over the named log types; unknown names are a KeyError the caller reports."""
    return current_registry().classifier(log_types)
