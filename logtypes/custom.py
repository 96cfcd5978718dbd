"""Custom log types made in the console: check a schema as it is typed, test it on a sample,
infer one from a sample, and save it as a new version.

Saving writes the schema file into settings.SLUICE_SCHEMAS_DIR (the file the log type already
comes from, or `<name>.yml`), so the one registry (logtypes.registry) hands it to the wizard,
search and the workers on their next look-up, and records the version (text, author, diff) and an
audit entry. A version that would break stored data (a field removed, a type narrowed) is refused.
"""

from __future__ import annotations

import difflib
import io
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from audit import trail
from audit.models import AuditEntry
from logtypes import registry
from logtypes.models import SchemaVersion
from parsers import Origin, ParsedEvent, Schema, SchemaError, compile_schema, load_schema
from parsers.evolve import Problem, breaking_changes, locate
from parsers.infer import Inference, InferenceError, dump_yaml, merge_schema
from parsers.pipeline import parse_stream

CUSTOM_PREFIX = "Custom."
MAX_TEST_RESULTS = 200  # events and failures shown by the tester (all are counted)


class SaveRefused(Exception):
    """The schema cannot be saved; `problems` say why (placed in the text where possible)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


class SaveConflict(SaveRefused):
    """Someone saved a version of the same log type at the same moment (reload, then save)."""


def check(text: str) -> tuple[Schema | None, list[Problem]]:
    """The schema of `text`, or None and its problem with line, column and field path."""
    try:
        return load_schema(text, source_name="schema"), []
    except SchemaError as exc:
        return None, [locate(exc, text)]


def sample_limit() -> int:
    """Largest sample (decompressed bytes) the tester and inference read."""
    return int(settings.SLUICE_SAMPLE_MAX_BYTES)


def read_sample(body: bytes | io.BufferedIOBase, name: str = "") -> bytes:
    """The decompressed sample (gzip/zstd/bzip2 by magic bytes), at most sample_limit() bytes;
    ValueError with a message for the user when it cannot be read or is larger."""
    from parsers.streams import DecompressionError, open_decompressed

    raw = io.BytesIO(body) if isinstance(body, bytes | bytearray) else body
    limit = sample_limit()
    try:
        data = open_decompressed(raw, name=name).read(limit + 1)
    except (DecompressionError, OSError, EOFError) as exc:
        raise ValueError(f"cannot read the sample: {exc}") from None
    if len(data) > limit:
        raise ValueError(f"the sample is larger than {limit:,} bytes decompressed")
    return data


@dataclass
class SampleResult:
    events: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    event_count: int = 0
    failure_count: int = 0
    extra_keys: Counter = field(default_factory=Counter)

    @property
    def extra_key_counts(self) -> list[tuple[str, int]]:
        """(key, lines) of the keys left to p_extra, most frequent first."""
        return self.extra_keys.most_common()

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_count": self.event_count,
            "failure_count": self.failure_count,
            "events": self.events,
            "failures": self.failures,
            "extra_keys": dict(self.extra_keys.most_common()),
        }


def parse_sample(schema: Schema, sample: bytes, stream_type: str = "auto") -> SampleResult:
    """Parse a (decompressed) sample with the schema: events, failures, keys left to p_extra."""
    parser = compile_schema(schema)
    result = SampleResult()
    origin = Origin("tester", "sample", "")
    for parsed in parse_stream(sample, classifier=parser, origin=origin, stream_type=stream_type):
        if type(parsed) is ParsedEvent:
            result.event_count += 1
            if parsed.extra:
                result.extra_keys.update(parsed.extra.keys())
            if len(result.events) < MAX_TEST_RESULTS:
                result.events.append(parsed.to_json_dict())
        else:
            result.failure_count += 1
            if len(result.failures) < MAX_TEST_RESULTS:
                result.failures.append(parsed.to_json_dict())
    return result


def infer(sample: bytes, name: str, stream_type: str = "auto", *, into: str = "") -> str:
    """A schema (YAML) inferred from a decompressed sample; ValueError when there is nothing.
    With `into` (a valid schema's text, e.g. the editor's), the inferred fields are merged into
    it, widening and never narrowing, the person's edits kept (parsers.infer.merge_schema)."""
    inference = Inference()
    inference.add_stream(sample, stream_type=stream_type)
    try:
        inferred = inference.schema(name, f"Inferred from {inference.records} sample records.")
    except InferenceError as exc:
        raise ValueError(str(exc)) from None
    if into and check(into)[0] is not None:
        existing = yaml.safe_load(into)
        merged = merge_schema(existing, inferred)
        misfits = _misfits(merged, sample, stream_type)
        if misfits:  # an int the person chose too narrow for the sample: widened after all
            merged = merge_schema(existing, inferred, widen=misfits)
        return dump_yaml(merged)
    return dump_yaml(inferred)


def _misfits(doc: dict[str, Any], sample: bytes, stream_type: str) -> frozenset[str]:
    """The schema's top-level fields some sample value did not fit (it went to p_extra)."""
    schema, _ = check(dump_yaml(doc))
    if schema is None:
        return frozenset()
    left_out = parse_sample(schema, sample, stream_type).extra_keys
    return frozenset(f.name for f in schema.fields if f.name in left_out)


def editable(name: str) -> bool:
    """Custom log types (new ones, or those from SLUICE_SCHEMAS_DIR) may be edited here."""
    if name.startswith(CUSTOM_PREFIX):
        return True
    return name in registry.current_registry() and _schema_file(name) is not None


def versions(name: str) -> list[SchemaVersion]:
    return list(SchemaVersion.objects.filter(name=name).select_related("author"))


@transaction.atomic
def save(
    text: str, *, user=None, via: str = "console", name: str | None = None, new: bool = False
) -> SchemaVersion:
    """Save `text` as the next version of its log type (`new`: only if there is none yet);
    SaveRefused says why it cannot be. Saves of one log type are serialized: the second of two
    at the same moment waits, then is checked and numbered against the first."""
    schema, problems = check(text)
    if schema is None:
        raise SaveRefused(problems)
    if name is not None and schema.name != name:
        raise SaveRefused([_problem(text, f"the schema is named {schema.name!r}, not {name!r}")])
    _lock(schema.name)
    current = _current(schema.name)
    if current is not None and new:
        raise SaveRefused([_problem(text, f"{schema.name} exists: save a new version of it")])
    if current is None and not schema.name.startswith(CUSTOM_PREFIX):
        raise SaveRefused(
            [_problem(text, f"a new log type's name starts with {CUSTOM_PREFIX!r} (Custom.MyApp)")]
        )
    if current is not None and not editable(schema.name):
        raise SaveRefused([_problem(text, f"{schema.name} is built in and cannot be changed")])
    if current is not None:
        broken = breaking_changes(current.schema, schema)
        if broken:
            raise SaveRefused([Problem(p, "fields", 0, 0) for p in broken])
    previous_text = current.schema.text if current is not None else ""
    last = SchemaVersion.objects.filter(name=schema.name).first()
    number = (last.version + 1) if last else 1
    try:
        with transaction.atomic():
            version = SchemaVersion.objects.create(
                name=schema.name,
                version=number,
                text=text,
                diff=unified_diff(previous_text, text, schema.name),
                author=user if getattr(user, "is_authenticated", False) else None,
                author_label=user.get_username()
                if getattr(user, "is_authenticated", False)
                else "",
            )
    except IntegrityError:  # a database without the lock (SQLite) and a save at the same moment
        message = (
            f"someone saved version {number} of {schema.name} meanwhile; reload and save again"
        )
        raise SaveConflict([_problem(text, message)]) from None
    action = AuditEntry.Action.UPDATED if current is not None else AuditEntry.Action.CREATED
    trail.record(
        action,
        version,
        actor=user,
        via=via,
        object_label=str(version),
        changes={"version": [last.version if last else None, version.version]},
    )
    _write_file(schema.name, text)  # last: a failing write rolls the version back
    return version


def _lock(name: str) -> None:
    """Hold the log type's lock until the transaction ends (PostgreSQL; SQLite writes one at a
    time anyway). A row lock would not do: the first version has no row to lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_SPACE, name])


_LOCK_SPACE = 0x5C4E  # the advisory lock namespace of log type saves


def unified_diff(before: str, after: str, name: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"{name} (before)",
            tofile=f"{name} (this version)",
        )
    )


def _problem(text: str, message: str) -> Problem:
    return locate(SchemaError("schema", "schema", message), text)


def _current(name: str) -> registry.LogType | None:
    reg = registry.current_registry()
    return reg.get(name) if name in reg else None


def _schema_file(name: str) -> Path | None:
    """The file of SLUICE_SCHEMAS_DIR that defines `name`, if one does."""
    folder = Path(settings.SLUICE_SCHEMAS_DIR).resolve()
    current = _current(name)
    if current is None:
        return None
    path = Path(current.schema.source_name)
    return path if path.parent.resolve() == folder and path.exists() else None


def _write_file(name: str, text: str) -> None:
    """Write atomically: a worker reading the folder sees the old file or the new one."""
    folder = Path(settings.SLUICE_SCHEMAS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = _schema_file(name) or folder / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.yml"
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
