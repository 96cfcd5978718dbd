"""Several log types on one source: try each candidate, the one that matched last first."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from parsers.parser import (
    ParsedEvent,
    ParseFailure,
    Parser,
    _as_bytes,
    _describe_json,
    _loads,
    nesting_error,
)

if TYPE_CHECKING:
    from parsers.parser import Origin
    from parsers.registry import LogType


class Classifier:
    """Decodes each line once and hands the object to the candidate parsers in turn."""

    def __init__(self, log_types: Iterable[LogType | Parser]) -> None:
        self.parsers: list[Parser] = [t if isinstance(t, Parser) else t.parser for t in log_types]
        if not self.parsers:
            raise ValueError("a classifier needs at least one log type")
        self._last = 0
        # a csv/regex/fastmatch log type among them: each parser gets the raw line in turn
        self._text = any(getattr(p, "takes_text", False) for p in self.parsers)
        self.line_based = all(getattr(p, "line_based", False) for p in self.parsers)
        self.matches: dict[str, int] = {p.log_type: 0 for p in self.parsers}

    @property
    def log_types(self) -> list[str]:
        return [p.log_type for p in self.parsers]

    def parse(
        self,
        raw: bytes | str,
        origin: Origin,
        line: int,
        *,
        offset: int = 0,
        parse_time: datetime | None = None,
    ) -> ParsedEvent | ParseFailure:
        """The event of the first log type that accepts the line, or a failure naming why."""
        if len(self.parsers) == 1:  # the usual source: the parser's own path, nothing in between
            only = self.parsers[0]
            result = only.parse(raw, origin, line, offset=offset, parse_time=parse_time)
            if type(result) is ParsedEvent:
                self.matches[only.log_type] += 1
            return result
        if self._text:
            return self._parse_text(raw, origin, line, offset, parse_time)
        try:
            obj = _loads(raw)
        except (ValueError, TypeError, RecursionError) as exc:
            return ParseFailure(line, offset, f"invalid JSON: {exc}", _as_bytes(raw))
        if type(obj) is not dict:
            return ParseFailure(
                line, offset, f"expected a JSON object, got {_describe_json(obj)}", _as_bytes(raw)
            )
        if (error := nesting_error(raw, obj)) is not None:
            return ParseFailure(line, offset, error, _as_bytes(raw))
        parsers = self.parsers
        first = parsers[self._last]
        result = first.parse_object(
            obj, raw, origin, line, offset=offset, parse_time=parse_time, owned=len(parsers) == 1
        )
        if type(result) is ParsedEvent or len(parsers) == 1:
            if type(result) is ParsedEvent:
                self.matches[first.log_type] += 1
            return result
        errors = [f"{first.log_type}: {result.error}"]
        for index, parser in enumerate(parsers):
            if index == self._last:
                continue
            attempt = parser.parse_object(
                obj,
                raw,
                origin,
                line,
                offset=offset,
                parse_time=parse_time,
                owned=len(parsers) == 1,
            )
            if type(attempt) is ParsedEvent:
                self._last = index
                self.matches[parser.log_type] += 1
                return attempt
            errors.append(f"{parser.log_type}: {attempt.error}")  # type: ignore[union-attr]
        return ParseFailure(
            line, offset, "no log type matched (" + "; ".join(errors) + ")", _as_bytes(raw)
        )

    def _parse_text(
        self,
        raw: bytes | str,
        origin: Origin,
        line: int,
        offset: int,
        parse_time: datetime | None,
    ) -> ParsedEvent | ParseFailure | None:
        order = [self._last, *(i for i in range(len(self.parsers)) if i != self._last)]
        errors = []
        for index in order:
            parser = self.parsers[index]
            result = parser.parse(raw, origin, line, offset=offset, parse_time=parse_time)
            if result is None or type(result) is ParsedEvent:
                if result is not None:
                    self._last = index
                    self.matches[parser.log_type] += 1
                return result
            errors.append(f"{parser.log_type}: {result.error}")
        return ParseFailure(
            line, offset, "no log type matched: " + "; ".join(errors), _as_bytes(raw)
        )
