"""Command line: `python -m parsers parse|schemas|validate|infer`.

Exit 0 when the input was read (failures or not), 2 for usage errors with a one-line message.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, NoReturn

import orjson

from parsers.classify import Classifier
from parsers.infer import Inference, InferenceError
from parsers.parser import Origin, ParsedEvent, ParseFailure
from parsers.pipeline import ParseStats, gc_tuned, parse_stream
from parsers.registry import Registry, default_registry
from parsers.schema import SchemaError, load_schema, valid_log_type_name
from parsers.streams import STREAM_TYPES, DecompressionError, open_decompressed

USAGE_ERROR = 2


class UsageError(Exception):
    pass


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _build_cli() -> argparse.ArgumentParser:
    cli = _ArgumentParser(prog="python -m parsers", description="Sluice log parsers")
    commands = cli.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser)

    parse = commands.add_parser("parse", help="parse a log file into normalized JSON lines")
    parse.add_argument(
        "--log-type", required=True, action="append", help="log type (repeat to classify)"
    )
    parse.add_argument("--stream-type", default="auto", choices=STREAM_TYPES)
    parse.add_argument("--envelope", help="field holding the array for json_array (e.g. Records)")
    parse.add_argument("--failures", type=Path, help="write failures as JSON lines here")
    parse.add_argument("--schemas", type=Path, help="folder with more schemas to register")
    parse.add_argument("file", nargs="?", default="-", help="input file (any compression) or -")

    schemas = commands.add_parser("schemas", help="list the log types")
    schemas.add_argument("--schemas", type=Path, help="folder with more schemas to register")

    validate = commands.add_parser("validate", help="check a schema file")
    validate.add_argument("file", type=Path)

    infer = commands.add_parser("infer", help="print a schema inferred from sample files")
    infer.add_argument("--name", default="Custom.Inferred", help="log type name (Custom.X)")
    infer.add_argument("--stream-type", default="auto", choices=STREAM_TYPES)
    infer.add_argument("--envelope", help="field holding the array for json_array (e.g. Records)")
    infer.add_argument("files", nargs="+", help="sample files (any compression) or -")

    return cli


# A folder like the console's SLUICE_SCHEMAS_DIR may hold the console's tile catalog beside the
# schemas: not a schema, so not loaded here.
NOT_SCHEMAS = ("catalog.yml",)


def _registry(extra_folder: Path | None) -> Registry:
    registry = default_registry()
    if extra_folder is not None:
        registry = Registry(registry.all())
        registry.load_folder(extra_folder, replace=True, ignore=NOT_SCHEMAS)
    return registry


def _open_input(name: str) -> IO[bytes]:
    if name == "-":
        return sys.stdin.buffer
    try:
        return open(name, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from None


def _open_failures(path: Path | None) -> IO[bytes] | None:
    if path is None:
        return None
    try:
        return path.open("wb")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


WRITE_EVERY = 512  # results joined into one write: a write call per line costs ~15% of the run


def _write_results(
    results: Iterable[ParsedEvent | ParseFailure],
    stats: ParseStats,
    out: IO[bytes],
    failures_out: IO[bytes] | None,
) -> None:
    """Events as JSON lines to `out`, failures to `failures_out`, in batches of writes."""
    dumps = orjson.dumps
    newline = orjson.OPT_APPEND_NEWLINE
    add = stats.add
    events: list[bytes] = []
    failures: list[bytes] = []
    for result in results:
        add(result)
        if type(result) is ParsedEvent:
            events.append(dumps(result.to_json_dict(), option=newline))
            if len(events) >= WRITE_EVERY:
                out.write(b"".join(events))
                events.clear()
        elif failures_out is not None:
            failures.append(dumps(result.to_json_dict(), option=newline))
            if len(failures) >= WRITE_EVERY:
                failures_out.write(b"".join(failures))
                failures.clear()
    out.write(b"".join(events))
    if failures_out is not None:
        failures_out.write(b"".join(failures))


def cmd_parse(args: argparse.Namespace) -> int:
    registry = _registry(args.schemas)
    try:
        log_types = [registry.get(name) for name in args.log_type]
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    classifier = Classifier(log_types)
    source = _open_input(args.file)
    failures_out = _open_failures(args.failures)
    origin = Origin("cli", "-" if args.file == "-" else str(Path(args.file).resolve()), "")
    stats = ParseStats()
    out = sys.stdout.buffer
    started = time.perf_counter()
    try:
        with gc_tuned():
            results = parse_stream(
                source,
                classifier=classifier,
                origin=origin,
                stream_type=args.stream_type,
                envelope=args.envelope,
            )
            _write_results(results, stats, out, failures_out)
    finally:
        out.flush()
        if failures_out is not None:
            failures_out.close()
        if source is not sys.stdin.buffer:
            source.close()
    elapsed = time.perf_counter() - started
    hint = "" if failures_out is not None or not stats.failures else " (use --failures PATH)"
    print(
        f"events={stats.events} failures={stats.failures} warnings={stats.warnings} "
        f"seconds={elapsed:.3f}{hint}",
        file=sys.stderr,
    )
    return 0


def cmd_schemas(args: argparse.Namespace) -> int:
    for log_type in _registry(args.schemas).all():
        print(f"{log_type.name}\t{log_type.field_count} fields\t{log_type.description}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    schema = load_schema(args.file)
    print(f"{args.file}: ok: {schema.name} ({schema.field_count} fields)")
    return 0


def cmd_infer(args: argparse.Namespace) -> int:
    if not valid_log_type_name(args.name):
        raise UsageError(f"invalid log type name {args.name!r} (e.g. Custom.MyApp)")
    inference = Inference()
    started = time.perf_counter()
    for name in args.files:
        source = _open_input(name)
        try:
            body = open_decompressed(source, name="" if name == "-" else name)
            inference.add_stream(body, stream_type=args.stream_type, envelope=args.envelope)
        except DecompressionError as exc:
            raise UsageError(f"cannot read {name}: {exc}") from None
        finally:
            if source is not sys.stdin.buffer:
                source.close()
    sources = ", ".join(Path(n).name for n in args.files)
    try:
        text = inference.to_yaml(
            args.name, f"Inferred from {inference.records} records of {sources}."
        )
    except InferenceError as exc:
        raise UsageError(str(exc)) from None
    sys.stdout.write(text)
    print(
        f"records={inference.records} skipped={inference.skipped} "
        f"seconds={time.perf_counter() - started:.3f}",
        file=sys.stderr,
    )
    return 0


COMMANDS = {
    "parse": cmd_parse,
    "schemas": cmd_schemas,
    "validate": cmd_validate,
    "infer": cmd_infer,
}


def main(argv: list[str] | None = None) -> int:
    try:
        args = _build_cli().parse_args(argv)
        return COMMANDS[args.command](args)
    except (UsageError, SchemaError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:  # `... | head`: stop quietly
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
