"""Schema evolution and editing aids: which changes would break stored data, and where in the
YAML text a schema problem is (line and column of the field path a SchemaError names).

A new version of a log type may add fields and widen types; removing a field or changing its
type so stored values no longer fit is refused, as Panther does: events already stored keep the
old columns, and search must keep finding them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from parsers.schema import Field, Schema, SchemaError

# type -> the types its stored values still fit in
_WIDER = {
    "smallint": {"int", "bigint", "float", "string", "json"},
    "int": {"bigint", "float", "string", "json"},
    "bigint": {"float", "string", "json"},
    "float": {"string", "json"},
    "boolean": {"string", "json"},
    "timestamp": {"string", "json"},
    "string": {"json"},
    "object": {"json"},
    "array": {"json"},
}


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Why `new` cannot replace `old` (empty when it can): removed fields, narrowed types."""
    if old.name != new.name:
        return [f"the log type's name cannot change ({old.name!r} to {new.name!r})"]
    return _compare_fields(old.fields, new.fields, "")


def _compare_fields(old: tuple[Field, ...], new: tuple[Field, ...], prefix: str) -> list[str]:
    problems: list[str] = []
    by_name = {f.name: f for f in new}
    for field in old:
        path = f"{prefix}{field.name}"
        if field.name not in by_name:
            problems.append(f"field {path!r} was removed: stored events have it")
            continue
        problems.extend(_compare_field(field, by_name[field.name], path))
    return problems


def _compare_field(old: Field, new: Field, path: str) -> list[str]:
    if old.type == new.type:
        if old.type == "object":
            return _compare_fields(old.fields, new.fields, f"{path}.")
        if old.type == "array" and old.element is not None and new.element is not None:
            return _compare_field(old.element, new.element, f"{path}[]")
        return []
    if new.type in _WIDER.get(old.type, ()):
        return []
    return [
        f"field {path!r} changes type from {old.type} to {new.type}: "
        "stored values would not fit (add a new field instead)"
    ]


@dataclass(frozen=True)
class Problem:
    """A schema problem placed in the text: 1-based line and column (0 when unknown)."""

    message: str
    path: str
    line: int
    column: int

    def as_dict(self) -> dict[str, object]:
        return {
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
        }


_STEP = re.compile(r"([A-Za-z]+)(?:\[(\d+)\])?(?: \([^)]*\))?\.?")
_LINE = re.compile(r"line (\d+)")


def locate(error: SchemaError, text: str) -> Problem:
    """Where in `text` the problem `error` names is (the node of its field path)."""
    found = _LINE.fullmatch(error.path or "")
    if found:  # invalid YAML: the parser gave the line
        return Problem(error.problem, "", int(found.group(1)), 1)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        node = None
    line, column = _walk(node, error.path) if node is not None else (0, 0)
    return Problem(error.problem, error.path, line, column)


def _walk(node: yaml.Node, path: str) -> tuple[int, int]:
    """The deepest node of `path` (e.g. 'fields[3] (addr).element.type') that exists."""
    mark = node.start_mark
    for key, index in _STEP.findall(path):
        child = _child(node, key)
        if child is None:
            break
        key_node, node = child
        mark = key_node.start_mark
        if index:
            items = node.value if isinstance(node, yaml.SequenceNode) else []
            if int(index) >= len(items):
                break
            node = items[int(index)]
            mark = node.start_mark
    return mark.line + 1, mark.column + 1


def _child(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None
