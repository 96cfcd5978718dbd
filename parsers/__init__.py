"""Sluice parsers: Panther-format schemas compiled into fast, lossless parsers (no Django)."""

from parsers.classify import Classifier
from parsers.parser import (
    FailureKind,
    Origin,
    ParsedEvent,
    ParseFailure,
    Parser,
    compile_schema,
)
from parsers.pipeline import ParseStats, gc_tuned, parse_stream
from parsers.registry import LogType, Registry, default_registry
from parsers.schema import Field, Schema, SchemaError, column_name, load_schema
from parsers.streams import STREAM_TYPES, RawLine, open_decompressed, split

__all__ = [
    "STREAM_TYPES",
    "Classifier",
    "FailureKind",
    "Field",
    "LogType",
    "Origin",
    "ParseFailure",
    "ParseStats",
    "ParsedEvent",
    "Parser",
    "RawLine",
    "Registry",
    "Schema",
    "SchemaError",
    "column_name",
    "compile_schema",
    "default_registry",
    "gc_tuned",
    "load_schema",
    "open_decompressed",
    "parse_stream",
    "split",
]
