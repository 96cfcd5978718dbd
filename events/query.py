"""The search query language: a tokenizer and a recursive-descent parser producing an AST.

Pure Python, no Django. Grammar (implicit AND binds tighter than OR):

    query   := or_expr? EOF
    or_expr := and_expr ("OR" and_expr)*
    and_expr:= unary (("AND")? unary)*
    unary   := ("-" | "NOT") unary | primary
    primary := "(" or_expr ")" | term
    term    := NAME op value | value            (a bare value searches the whole event)
    op      := ":" | ">" | ">=" | "<" | "<="
    value   := "quoted string" | word           (in a word, * is a wildcard, \\ escapes)

Examples: `event:user.login success:false`, `user:adm*`, `exitCode>0`, `-event:session.data`,
`(user:alice OR user:bob) login:root`, `ip:10.0.0.1`, `addr.remote:"10.0.0.1:3022"`,
`"exact phrase"`.

Every error is a `QueryError` carrying the character position it points at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_QUERY_LENGTH = 4000
MAX_DEPTH = 32
OPERATORS = (">=", "<=", ":", ">", "<")
_NAME = re.compile(r"[A-Za-z_@][A-Za-z0-9_.@-]*")
_KEYWORDS = {"OR", "AND", "NOT"}


class QueryError(ValueError):
    """An invalid query; `position` is the 0-based character offset the message is about."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return f"{self.message} (at character {self.position + 1})"


# --- AST -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """A term's value. `parts` is set when unquoted `*` wildcards split it: `adm*` → ("adm", "")."""

    text: str
    parts: tuple[str, ...] | None = None
    quoted: bool = False

    @property
    def is_wildcard(self) -> bool:
        return self.parts is not None


@dataclass(frozen=True)
class Term:
    field: str | None  # None: full-text search across the event
    op: str  # ":" (equals / matches) or a comparison
    value: Value
    position: int  # where the term starts
    value_position: int


@dataclass(frozen=True)
class Not:
    child: Node
    position: int


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Term | Not | And | Or


# --- Tokens --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # "(" ")" "-" "OR" "AND" "NOT" "TERM"
    position: int
    term: Term | None = None


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """Read "..." from text[start] == '"'; returns (content, index after the closing quote)."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if char == '"':
            return "".join(out), i + 1
        out.append(char)
        i += 1
    raise QueryError('unterminated quoted value: add the closing "', start)


def _ends_word(char: str) -> bool:
    return char.isspace() or char in '()"'


def _read_word(text: str, start: int) -> tuple[Value, int]:
    """Read an unquoted value: `*` is a wildcard, a backslash makes the next character literal."""
    parts: list[str] = []
    current: list[str] = []
    wildcard = False
    i = start
    while i < len(text) and not _ends_word(text[i]):
        char = text[i]
        if char == "\\":
            if i + 1 >= len(text):
                raise QueryError("a backslash must be followed by the character it escapes", i)
            current.append(text[i + 1])
            i += 2
            continue
        if char == "*":
            wildcard = True
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    parts.append("".join(current))
    literal = "".join(parts) if not wildcard else "*".join(parts)
    return Value(literal, tuple(parts) if wildcard else None), i


def _read_value(text: str, start: int) -> tuple[Value, int]:
    if start < len(text) and text[start] == '"':
        content, end = _read_quoted(text, start)
        return Value(content, quoted=True), end
    value, end = _read_word(text, start)
    if end == start:
        raise QueryError("expected a value here", start)
    return value, end


def _field_operator(text: str, start: int) -> tuple[str, str, int] | None:
    """`name op` at text[start]: (name, op, index after op), or None when this is a bare value."""
    match = _NAME.match(text, start)
    if not match:
        return None
    end = match.end()
    for op in OPERATORS:
        if text.startswith(op, end):
            return match.group(), op, end + len(op)
    return None


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    length = len(text)
    while i < length:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(Token(char, i))
            i += 1
        elif char == "-":
            if i + 1 >= length or text[i + 1].isspace() or text[i + 1] == ")":
                raise QueryError("'-' must be followed by the term it excludes", i)
            tokens.append(Token("-", i))
            i += 1
        else:
            i = _read_term(text, i, tokens)
    return tokens


def _read_term(text: str, start: int, tokens: list[Token]) -> int:
    found = _field_operator(text, start)
    if found:
        name, op, value_start = found
        if value_start >= len(text) or text[value_start].isspace() or text[value_start] in "()":
            raise QueryError(f"expected a value after '{name}{op}'", value_start)
        value, end = _read_value(text, value_start)
        tokens.append(Token("TERM", start, Term(name, op, value, start, value_start)))
        return end
    value, end = _read_value(text, start)
    if not value.quoted and value.text in _KEYWORDS and not value.is_wildcard:
        tokens.append(Token(value.text, start))
    else:
        tokens.append(Token("TERM", start, Term(None, ":", value, start, start)))
    return end


# --- Parser --------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def end_position(self) -> int:
        return len(self.text)

    def parse(self) -> Node | None:
        if not self.tokens:
            return None
        node = self.or_expr()
        token = self.peek()
        if token is not None:
            if token.kind == ")":
                raise QueryError("unbalanced ')': there is no '(' to close", token.position)
            raise QueryError(f"unexpected '{token.kind}'", token.position)
        return node

    def or_expr(self) -> Node:
        children = [self.and_expr()]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.take()
            if self.peek() is None or self.peek().kind in {")", "OR", "AND"}:
                raise QueryError("expected a term after OR", self._next_position())
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self) -> Node:
        children = [self.unary()]
        while (token := self.peek()) is not None and token.kind not in {")", "OR"}:
            if token.kind == "AND":
                self.take()
                if self.peek() is None or self.peek().kind in {")", "OR", "AND"}:
                    raise QueryError("expected a term after AND", self._next_position())
            children.append(self.unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def unary(self) -> Node:
        token = self.peek()
        if token is None:
            raise QueryError("expected a term", self.end_position())
        if token.kind in {"-", "NOT"}:
            self.take()
            if self.peek() is None:
                raise QueryError(f"expected a term after '{token.kind}'", self.end_position())
            with self._nested(token):
                return Not(self.unary(), token.position)
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "TERM":
            return token.term
        if token.kind == "(":
            if (nxt := self.peek()) is None:
                raise _missing_closing(token)
            if nxt.kind == ")":
                raise QueryError("empty parentheses", token.position)
            with self._nested(token):
                node = self.or_expr()
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise _missing_closing(token)
            self.take()
            return node
        if token.kind == ")":
            raise QueryError("unbalanced ')': there is no '(' to close", token.position)
        raise QueryError(f"'{token.kind}' needs a term before it", token.position)

    def _next_position(self) -> int:
        token = self.peek()
        return token.position if token else self.end_position()

    def _nested(self, token: Token):
        parser = self

        class Depth:
            def __enter__(self):
                parser.depth += 1
                if parser.depth > MAX_DEPTH:
                    raise QueryError(f"nested more than {MAX_DEPTH} levels deep", token.position)

            def __exit__(self, *exc):
                parser.depth -= 1
                return False

        return Depth()


def _missing_closing(opening: Token) -> QueryError:
    return QueryError(
        "a closing parenthesis is missing: add ')' to close this '('", opening.position
    )


def parse(text: str) -> Node | None:
    """Parse a query into an AST (None for an empty query); raises QueryError."""
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(f"a query is at most {MAX_QUERY_LENGTH} characters", MAX_QUERY_LENGTH)
    if (nul := text.find("\x00")) >= 0:  # no database text can hold it: refuse it here
        raise QueryError("a query cannot contain the NUL character", nul)
    return _Parser(text, tokenize(text)).parse()


def quote(value: str) -> str:
    """A value as query text that parses back to exactly `value` (for facet links)."""
    plain = re.fullmatch(r"[A-Za-z0-9_.@:/+=,][A-Za-z0-9_.@:/+=,-]*", value or "")
    if plain and value not in _KEYWORDS:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
