"""The query language: each syntax element parses to the AST it means; bad input is a QueryError
that points at the right character, and nothing else is ever raised."""

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.query import And, Not, Or, QueryError, Value, parse, quote


def test_empty_query_is_no_filter():
    assert parse("") is None
    assert parse("   ") is None


def test_field_value():
    node = parse("event:user.login")
    assert (node.field, node.op, node.value) == ("event", ":", Value("user.login"))


def test_quoted_value_keeps_spaces_and_escapes():
    node = parse(r'user_agent:"Mozilla/5.0 (X11; \"Linux\")"')
    assert node.value == Value('Mozilla/5.0 (X11; "Linux")', quoted=True)


def test_values_may_contain_colons():
    assert parse("ip:2001:db8::1").value.text == "2001:db8::1"
    assert parse("addr.remote:10.0.0.1:3022").value.text == "10.0.0.1:3022"


@pytest.mark.parametrize("op", [">", ">=", "<", "<="])
def test_comparisons(op):
    node = parse(f"exitCode{op}0")
    assert (node.field, node.op, node.value.text) == ("exitCode", op, "0")


def test_wildcard_splits_value_into_parts():
    node = parse("user:adm*")
    assert node.value.is_wildcard
    assert node.value.parts == ("adm", "")


def test_escaped_star_is_literal_and_quoted_star_too():
    assert parse(r"path:a\*b").value == Value("a*b")
    assert not parse('path:"a*b"').value.is_wildcard


def test_negation_with_minus_and_not():
    for text in ("-event:session.data", "NOT event:session.data"):
        node = parse(text)
        assert isinstance(node, Not)
        assert node.child.field == "event"


def test_implicit_and_explicit_and_or_and_precedence():
    node = parse("a b OR c AND d")
    assert isinstance(node, Or)
    left, right = node.children
    assert isinstance(left, And)
    assert [t.value.text for t in left.children] == ["a", "b"]
    assert isinstance(right, And)
    assert [t.value.text for t in right.children] == ["c", "d"]


def test_parentheses_group():
    node = parse("(user:alice OR user:bob) login:root")
    assert isinstance(node, And)
    group, login = node.children
    assert isinstance(group, Or)
    assert login.field == "login"


def test_bare_words_and_phrases_are_full_text_terms():
    node = parse('ubuntu "exact phrase"')
    assert [(t.field, t.value.text) for t in node.children] == [
        (None, "ubuntu"),
        (None, "exact phrase"),
    ]


def test_keywords_as_values_stay_values():
    assert parse("user:OR").value.text == "OR"
    assert parse('"OR"').value.text == "OR"


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("(user:alice", 0, "a closing parenthesis is missing"),
        ("event:user.login AND (", 21, "a closing parenthesis is missing"),
        ("event:user.login (", 17, "a closing parenthesis is missing"),
        ("a (b OR (c)", 2, "a closing parenthesis is missing"),
        ("user:alice)", 10, "unbalanced ')'"),
        ("user: x", 5, "expected a value after 'user:'"),
        ('user:"alice', 5, "unterminated"),
        ("user:alice OR", 13, "expected a term after OR"),
        ("OR user:alice", 0, "needs a term before it"),
        ("- user", 0, "must be followed"),
        ("()", 0, "empty parentheses"),
        ("a\\", 1, "backslash"),
        ("(" * 40 + "a" + ")" * 40, 32, "nested"),
        ("user:al\x00ice", 7, "NUL character"),
    ],
)
def test_errors_point_at_the_position(text, position, words):
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert caught.value.position == position
    assert words in caught.value.message


def test_overlong_query_is_refused():
    with pytest.raises(QueryError, match="at most"):
        parse("a " * 3000)


@pytest.mark.parametrize(
    "value", ["alice", "user.login", "10.0.0.1:3022", "has space", 'q"uote', "a*b", "OR", "-x", ""]
)
def test_quote_round_trips(value):
    node = parse(f"field:{quote(value)}")
    assert node.value.text == value
    assert not node.value.is_wildcard


QUERY_ALPHABET = st.sampled_from(
    [*list('abcXYZ019 :"\\()*-<>=._@'), "OR", "AND", "NOT", " OR ", "user:", "ip:", "\t", "é"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(QUERY_ALPHABET, max_size=40).map("".join))
def test_parser_raises_nothing_but_query_error(text):
    error = None
    try:
        parse(text)
    except QueryError as caught:
        error = caught
    if error is not None:
        assert 0 <= error.position <= len(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_parser_survives_arbitrary_text(text):
    with contextlib.suppress(QueryError):
        parse(text)
