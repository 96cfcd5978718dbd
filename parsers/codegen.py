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


def compile_plan(plan: _Plan, parser: Parser, shape: tuple[str, ...]) -> Callable[..., Any]:
    from parsers import parser as p

    env: dict[str, Any] = {
        "MISFIT": MISFIT,
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
    # (origin, prefix) is read and replaced as one tuple: safe when threads share the parser
    emit("    last = state[0]")
    emit("    if last[0] is not origin:")
    emit("        last = state[0] = (origin, row_template(origin))")
    emit("    if parse_time is None:")
    emit("        parse_time = now(UTC)")
    emit("    return ParsedEvent(")
    emit("        last[1] % line")
    emit("        if 0 <= line < 0x100000000 else row_id(origin, line),")
    emit("        LOG_TYPE, event_time or parse_time, parse_time, obj, extra,")
    emit("        acc, warnings, line)")
    source = "\n".join(out) + "\n"
    exec(compile(source, f"<plan {parser.log_type}>", "exec"), env)  # noqa: S102 - our own code
    build = env["build"]
    build.source = source
    return build


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
