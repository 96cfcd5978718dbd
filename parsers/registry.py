"""Schemas by log type name: the built-in schemas plus any folder a caller adds.

Only schemas and their parsers live here; what the console shows about a log type (title, vendor,
category, icon, transports) is the console's business (the `logtypes` app).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from parsers.parser import Parser, compile_schema
from parsers.schema import Schema, SchemaError, load_schema

BUILTIN_FOLDER = Path(__file__).resolve().parent / "schemas"


@dataclass(eq=False)
class LogType:
    """A schema and its parser, compiled on first use."""

    schema: Schema = field(repr=False)
    _parser: Parser | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.schema.name

    @property
    def description(self) -> str:
        return self.schema.description

    @property
    def reference_url(self) -> str:
        return self.schema.reference_url

    @property
    def field_count(self) -> int:
        return self.schema.field_count

    @property
    def parser(self) -> Parser:
        """The compiled parser, built on first use and kept."""
        if self._parser is None:
            self._parser = compile_schema(self.schema)
        return self._parser


def schema_files(folder: str | Path, *, ignore: Collection[str] = ()) -> list[Path]:
    """The *.yml / *.yaml files of a folder, sorted, without the names in `ignore`."""
    found = [*Path(folder).glob("*.yml"), *Path(folder).glob("*.yaml")]
    return sorted(file for file in found if file.name not in ignore)


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

    def add_schema(self, schema: Schema, *, replace: bool = False) -> LogType:
        return self.add(LogType(schema), replace=replace)

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

    def load_folder(
        self, path: str | Path, *, replace: bool = False, ignore: Collection[str] = ()
    ) -> list[LogType]:
        """Register every *.yml / *.yaml schema in a folder (except the file names in `ignore`)."""
        folder = Path(path)
        if not folder.is_dir():
            raise SchemaError(str(folder), "", "not a folder")
        return [
            self.add_schema(load_schema(file), replace=replace)
            for file in schema_files(folder, ignore=ignore)
        ]


_DEFAULT: Registry | None = None


def default_registry() -> Registry:
    """The built-in log types (parsers/schemas), loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        registry = Registry()
        registry.load_folder(BUILTIN_FOLDER)
        _DEFAULT = registry
    return _DEFAULT
