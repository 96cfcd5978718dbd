"""Per-shape code generation: one straight-line Python function per key order ("shape").

A plan (parsers.parser._Plan) says, for one shape, which keys are unknown, which columns are
already typed, which need renaming and which need real work. Turning it into Python source and
compiling it once removes the interpretive overhead of walking the plan for every event: no
loops over plan tuples, constants inlined, required fields present by construction skipped.

The generated function takes (obj, raw, origin, line, offset, parse_time) and returns a
ParsedEvent, a ParseFailure, or MISFIT (a typed column did not have its type: nothing was
modified, the caller demotes the offending keys to one-by-one coercion and tries again).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from parsers.timestamps import ZERO_TIME

if TYPE_CHECKING:
    from parsers.parser import Parser, _Plan

MISFIT = object()
NOFAST = object()  # a line plan leaves the line to the reference path


def compile_plan(plan: _Plan, parser: Parser, shape: tuple[str, ...]) -> Callable[..., Any]:
    from parsers import parser as p

    env: dict[str, Any] = {
        **_common_env(parser),
        "MISFIT": MISFIT,
        "typed_get": plan.typed_get,
        "typed_types": plan.typed_types,
        "json_get": plan.json_get,
    }
    out: list[str] = ["def build(obj, raw, origin, line, offset, parse_time):"]
    emit = out.append

    # 1. checks, before anything is modified
    if plan.typed_get is not None:
        emit("    if tuple(map(type, typed_get(obj))) != typed_types:")
        emit("        return MISFIT")
    for key, lo, hi in plan.int_ranges:
        emit(f"    if not {lo} <= obj[{key!r}] <= {hi}:")
        emit("        return MISFIT")
    if plan.json_get is not None:
        emit("    if None in json_get(obj):")
        emit("        return MISFIT")

    # 2. unknown keys to extra, renames
    if plan.unknown:
        items = ", ".join(f"{k!r}: obj.pop({k!r})" for k in plan.unknown)
        emit(f"    extra = {{{items}}}")
    else:
        emit("    extra = {}")
    for key, column in plan.renames:
        emit(f"    obj[{column!r}] = obj.pop({key!r})")
    emit("    acc = {}")
    emit("    warnings = 0")
    emit("    event_time = None")
    emit("    event_rank = 1 << 30")

    # 3. columns needing real work
    ranks = [e[3][1] for _, _, e in plan.others if e[0] == p._TIMESTAMP and e[3][1] is not None]
    env["single_event_time"] = len(ranks) <= 1
    for index, (key, column, entry) in enumerate(plan.others):
        _emit_other(emit, env, index, key, column, entry)

    # 4. indicators of typed string columns
    # With one source of indicators yielding each column at most once, the lists need neither
    # appending nor the final sort/dedupe.
    collecting_others = [k for k, _, e in plan.others if k in parser._collecting]
    single_source = (
        not collecting_others and len(plan.scans) == 1 and plan.scans[0][1].distinct_columns
    )
    for index, (column, scan) in enumerate(plan.scans):
        env[f"scan{index}"] = scan
        env[f"memo{index}"] = scan.memo.get
        emit(f"    text = obj[{column!r}]")
        emit(f"    pairs = memo{index}(text)")
        emit("    if pairs is None:")
        emit(f"        pairs = scan{index}(text)")
        emit("    for found, value in pairs:")
        if single_source:
            emit("        acc[found] = [value]")
            continue
        emit("        values = acc.get(found)")
        emit("        if values is None:")
        emit("            acc[found] = [value]")
        emit("        else:")
        emit("            values.append(value)")
    if not single_source and (plan.scans or collecting_others):
        emit("    for values in acc.values():")  # finish(): sorted, unique
        emit("        if len(values) > 1:")
        emit("            values[:] = sorted(set(values))")

    # 5. required fields: typed ones are present by construction
    present = set(shape)
    checked_columns = {column for _, column, _ in plan.others}
    for name, column in parser._required:
        if name not in present:
            emit(f"    return fail_required({name!r}, extra, raw, line, offset)")
            break
        if column in checked_columns:
            emit(f"    if {column!r} not in obj:")
            emit(f"        return fail_required({name!r}, extra, raw, line, offset)")

    # 6. the event
    _emit_event(emit, "obj")
    return _compiled(out, env, f"<plan {parser.log_type}>")


def _emit_event(emit: Callable[[str], None], fields: str) -> None:
    # (origin, prefix) is read and replaced as one tuple: safe when threads share the parser
    emit("    last = state[0]")
    emit("    if last[0] is not origin:")
    emit("        last = state[0] = (origin, row_template(origin))")
    emit("    if parse_time is None:")
    emit("        parse_time = now(UTC)")
    emit("    return ParsedEvent(")
    emit("        last[1] % line")
    emit("        if 0 <= line < 0x100000000 else row_id(origin, line),")
    emit(f"        LOG_TYPE, event_time or parse_time, parse_time, {fields}, extra,")
    emit("        acc, warnings, line)")


def _compiled(out: list[str], env: dict[str, Any], name: str) -> Callable[..., Any]:
    source = "\n".join(out) + "\n"
    exec(compile(source, name, "exec"), env)  # noqa: S102 - our own code
    build = env["build"]
    build.source = source
    return build


def _common_env(parser: Parser) -> dict[str, Any]:
    from parsers import parser as p

    return {
        "INVALID": p.INVALID,
        "ABSENT": p.ABSENT,
        "ZERO": ZERO_TIME,
        "ParsedEvent": p.ParsedEvent,
        "row_template": p._row_template,
        "row_id": p._row_id,
        "now": datetime.now,
        "UTC": UTC,
        "fail_required": parser._required_failure,
        "state": parser._row_state,
        "LOG_TYPE": parser.log_type,
    }


def _emit_other(
    emit: Callable[[str], None], env: dict, index: int, key: str, column: str, entry: tuple
) -> None:
    from parsers import parser as p

    kind = entry[0]
    take = f"obj.pop({key!r})" if key != column else f"obj[{key!r}]"
    emit(f"    value = {take}")
    emit("    if value is None:")
    emit(f"        obj.pop({key!r}, None)")
    emit("    else:")
    if kind == p._TIMESTAMP:
        parse, rank = entry[3]
        env[f"ts{index}"] = parse
        emit(f"        result = ts{index}(value)")
        emit("        if result is None:")
        emit(f"            obj.pop({key!r}, None)")
        emit(f"            extra[{key!r}] = value")
        emit("            warnings += 1")
        emit("        elif result is ZERO:")
        emit(f"            obj.pop({key!r}, None)")
        emit("        else:")
        emit(f"            obj[{column!r}] = result[0]")
        if rank is not None and env["single_event_time"]:
            emit("            event_time = result[1]")
        elif rank is not None:
            emit(f"            if event_rank > {rank}:")
            emit(f"                event_rank = {rank}")
            emit("                event_time = result[1]")
        return
    env[f"coerce{index}"] = entry[2]
    if kind == p._STRING:
        emit(f"        coerced = value if type(value) is str else coerce{index}(value, acc)")
    else:
        emit(f"        coerced = coerce{index}(value, acc)")
    emit("        if coerced is INVALID:")
    emit(f"            obj.pop({key!r}, None)")
    emit(f"            extra[{key!r}] = value")
    emit("            warnings += 1")
    emit("        elif coerced is ABSENT:")
    emit(f"            obj.pop({key!r}, None)")
    emit("        else:")
    emit(f"            obj[{column!r}] = coerced")


# --- text logs: one function per schema, from the cut line to the event ---------------------


def compile_line_plan(
    parser: Parser,
    cut: list[str],
    env: dict[str, Any],
    slots: tuple[str, ...],
    *,
    trim: bool,
    empty: frozenset[str],
) -> Callable[..., Any]:
    """build(text, raw, origin, line, offset, parse_time) -> ParsedEvent, ParseFailure or NOFAST.

    `cut` sets v0..vN, the text values of the fields named in `slots` (None: no value); each is
    coerced inline by its column's kind, straight into the event's fields, as the reference path
    (dict of values, then Parser._build) would."""
    from parsers import parser as p

    env = {**_common_env(parser), **env, "NOFAST": NOFAST, "EMPTY": empty}
    out: list[str] = ["def build(text, raw, origin, line, offset, parse_time):", *cut]
    emit = out.append
    for name in ("fields", "extra", "acc"):
        emit(f"    {name} = {{}}")
    emit("    warnings = 0")
    emit("    event_time = None")
    emit("    event_rank = 1 << 30")
    table = parser._table
    entries = [table.get(name) for name in slots]
    ranks = [
        e[3][1] for e in entries if e is not None and e[0] == p._TIMESTAMP and e[3][1] is not None
    ]
    env["single_event_time"] = len(ranks) <= 1
    collecting = [name for name in slots if name in parser._collecting]
    single_source = len(collecting) == 1 and (
        (entry := table[collecting[0]])[0] == p._STRING_SCAN and entry[3].distinct_columns
    )
    for index, (name, entry) in enumerate(zip(slots, entries, strict=True)):
        value = f"v{index}"
        if trim:
            emit(f"    if {value}:")
            emit(f"        {value} = {value}.strip()")
        emit(f"    if {value} and {value} not in EMPTY:" if empty else f"    if {value}:")
        if entry is None:
            emit(f"        extra[{name!r}] = {value}")
        else:
            _emit_text_column(emit, env, index, name, entry, single_source)
    if collecting and not single_source:
        emit("    for values in acc.values():")  # finish(): sorted, unique
        emit("        if len(values) > 1:")
        emit("            values[:] = sorted(set(values))")
    for name, column in parser._required:
        if name not in slots:
            emit(f"    return fail_required({name!r}, extra, raw, line, offset)")
            break
        emit(f"    if {column!r} not in fields:")
        emit(f"        return fail_required({name!r}, extra, raw, line, offset)")
    _emit_event(emit, "fields")
    return _compiled(out, env, f"<line plan {parser.log_type}>")


def _emit_text_column(
    emit: Callable[[str], None], env: dict, index: int, key: str, entry: tuple, single: bool
) -> None:
    """One text value into its column (indented under `if vN:`)."""
    from parsers import parser as p

    kind, column, value = entry[0], entry[1], f"v{index}"
    invalid = [f"        extra[{key!r}] = {value}", "        warnings += 1"]
    if kind in (p._STRING, p._JSON):
        emit(f"        fields[{column!r}] = {value}")
    elif kind == p._STRING_SCAN:
        env[f"scan{index}"] = entry[3]
        env[f"memo{index}"] = entry[3].memo.get
        emit(f"        fields[{column!r}] = {value}")
        emit(f"        pairs = memo{index}({value})")
        emit("        if pairs is None:")
        emit(f"            pairs = scan{index}({value})")
        emit("        for found, value in pairs:")
        if single:
            emit("            acc[found] = [value]")
        else:
            emit("            values = acc.get(found)")
            emit("            if values is None:")
            emit("                acc[found] = [value]")
            emit("            else:")
            emit("                values.append(value)")
    elif kind == p._TIMESTAMP:
        parse, rank = entry[3]
        env[f"ts{index}"] = parse
        emit(f"        result = ts{index}({value})")
        emit("        if result is None:")
        for line in invalid:
            emit("    " + line)
        emit("        elif result is not ZERO:")
        emit(f"            fields[{column!r}] = result[0]")
        if rank is not None and env["single_event_time"]:
            emit("            event_time = result[1]")
        elif rank is not None:
            emit(f"            if event_rank > {rank}:")
            emit(f"                event_rank = {rank}")
            emit("                event_time = result[1]")
    else:
        env[f"coerce{index}"] = entry[2]
        group = entry[3]
        if kind == p._OTHER_GROUPED and type(group) is tuple:  # an int column: digits, in range
            hi = group[2]  # digits alone are never below the range
            emit(f"        if {value}.isdigit() and {value}.isascii():")
            emit(f"            number = int({value})")
            emit(f"            if number <= {hi}:")
            emit(f"                fields[{column!r}] = number")
            emit("            else:")
            for line in invalid:
                emit("        " + line)
            emit("        else:")
            emit(f"            coerced = coerce{index}({value}, acc)")
        else:
            emit(f"        coerced = coerce{index}({value}, acc)")
        pad = "    " if kind == p._OTHER_GROUPED and type(group) is tuple else ""
        emit(f"{pad}        if coerced is INVALID:")
        for line in invalid:
            emit(pad + "    " + line)
        emit(f"{pad}        elif coerced is not ABSENT:")
        emit(f"{pad}            fields[{column!r}] = coerced")
