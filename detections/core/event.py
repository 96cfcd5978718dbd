"""The read-only event a rule sees, as Panther's: `.get()`, `.deep_get()`, `[key]`.

A batch's event dicts are shared by every rule and then stored, so a rule must not change
them: nested objects come back as `ImmutableDict` and arrays as `ImmutableList` (a tuple that
also equals the list it holds), wrapped only when a rule reads them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import reduce
from typing import Any

CONTAINERS = frozenset({dict, list})


def freeze(value: Any) -> Any:
    """A read-only view of a JSON value (dicts and lists wrapped, scalars as they are)."""
    kind = type(value)
    if kind is dict:
        return ImmutableDict(value)
    if kind is list:
        return ImmutableList(value)
    return value


def thaw(value: Any) -> Any:
    """Plain JSON-ready data again (for alert context): views unwrapped, recursively."""
    if isinstance(value, ImmutableDict):
        value = value._data
    if isinstance(value, Mapping):
        return {str(k): thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [thaw(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def deep_get(data: Any, *keys: Any, default: Any = None) -> Any:
    """Walk nested mappings by keys; `default` when a step is missing or the value is None."""
    out = reduce(
        lambda node, key: node.get(key, default) if isinstance(node, Mapping) else default,
        keys,
        data,
    )
    return default if out is None else out


class ImmutableList(tuple):
    """A JSON array a rule cannot change; `== [..]` compares with lists too."""

    __slots__ = ()

    def __new__(cls, values: Any = ()) -> ImmutableList:
        return super().__new__(cls, (freeze(v) for v in values))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list):
            other = tuple(other)
        return tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = tuple.__hash__


class ImmutableDict(Mapping[str, Any]):
    """A JSON object a rule cannot change."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return freeze(self._data[key])

    def get(self, key: str, default: Any = None) -> Any:
        value = self._data.get(key, default)
        # inline: most values are scalars, and this runs for every field a rule reads
        return freeze(value) if type(value) in CONTAINERS else value

    def deep_get(self, *keys: Any, default: Any = None) -> Any:
        return freeze(deep_get(self._data, *keys, default=default))

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ImmutableDict):
            other = other._data
        return self._data == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def to_dict(self) -> dict[str, Any]:
        """A plain copy (JSON-ready) to keep or change."""
        return thaw(self)


class PantherEvent(ImmutableDict):
    """The normalized event given to `rule(event)` and the other rule functions."""

    __slots__ = ()
