"""The text parsers' generated per-schema path (parse) answers exactly as the reference path
(cut into a dict, then the JSON normalization: parse_reference) on any line; fastmatch's
compiled expression cuts a line as a left-to-right find does."""

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers import Origin, ParsedEvent, ParseFailure, compile_schema, load_schema
from parsers.text import _FASTMATCH_REF, build_splitter

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ORIGIN = Origin("prop", "key", "v1")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

FIELDS = """
fields:
  - {name: time, type: timestamp, timeFormats: [rfc3339, unix], isEventTime: true}
  - {name: seen, type: timestamp, timeFormats: ["%d/%b/%Y:%H:%M:%S %z"], isEventTime: true}
  - {name: user, type: string, required: true}
  - {name: src, type: string, indicators: [ip]}
  - {name: host, type: string, indicators: [hostname, domain]}
  - {name: port, type: smallint}
  - {name: bytes, type: bigint}
  - {name: ok, type: boolean}
  - {name: ratio, type: float}
  - {name: meta, type: json}
  - {name: tags, type: array, element: {type: string}}
  - {name: code, type: int, indicators: [aws_account_id]}
  - {name: role, type: string, validate: {allow: [admin, dev]}}
"""
NAMES = ["time", "seen", "user", "src", "host", "port", "bytes", "ok", "ratio", "meta", "tags"]
NAMES += ["code", "role", "unknown"]


def csv_schema(names: list[str], options: str = "") -> str:
    return (
        f"schema: Custom.P\nparser:\n  csv:\n    columns: [{', '.join(names)}]{options}\n{FIELDS}"
    )


values = st.one_of(
    st.sampled_from(
        [
            "",
            "-",
            " ",
            "2026-11-27T10:00:00Z",
            "2026-11-27T10:00:00.123+01:00",
            "0001-01-01T00:00:00Z",
            "2026-02-30T10:00:00Z",
            "1700000000",
            "27/Nov/2026:10:00:00 +0100",
            "27/Nov/2026:10:00:00 +9900",
            "10.0.0.1",
            "2001:db8::1",
            "example.com",
            "42",
            "0042",
            " 7 ",
            "-3",
            "+5",
            "32768",
            "99999999999999999999",
            "1.5",
            "2.0",
            "1e3",
            "true",
            "False",
            "١٢",
            "1_000",
            "admin",
            "root",
            '"quoted, value"',
            "123456789012",
            "[1]",
        ]
    ),
    st.text(alphabet=st.characters(blacklist_characters="\r\n"), max_size=12),
)


def same(fast, reference) -> None:
    assert type(fast) is type(reference)
    if type(fast) is ParseFailure:
        assert fast == reference
        return
    assert type(fast) is ParsedEvent
    assert fast.to_json_dict() == reference.to_json_dict()
    assert (fast.warnings, fast.extra, fast.event_time) == (
        reference.warnings,
        reference.extra,
        reference.event_time,
    )


def both(parser, raw: bytes, line: int = 1):
    fast = parser.parse(raw, ORIGIN, line, parse_time=NOW)
    reference = parser.parse_reference(raw, ORIGIN, line, parse_time=NOW)
    return fast, reference


@st.composite
def csv_cases(draw):
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=8, unique=True))
    options = draw(
        st.sampled_from(
            ["", "\n    emptyValues: ['-']", "\n    trimSpace: true\n    emptyValues: ['', '-']"]
        )
    )
    row = [draw(values) for _ in range(draw(st.integers(len(names) - 1, len(names) + 1)))]
    return names, options, ",".join(row)


@SETTINGS
@given(case=csv_cases())
def test_csv_fast_path_equals_the_reference(case):
    names, options, line = case
    parser = compile_schema(load_schema(csv_schema(names, options)))
    assert parser._fast is not None
    same(*both(parser, line.encode("utf-8", "surrogatepass")))


NGINX = '%{remote_addr} - %{user} [%{seen}] "%{request}" %{port} %{bytes} "%{_referer}" "%{host}"'
REGEX = (
    r"(?P<src>\S+) (?:(?P<user>\w+)|-(?P<role>\w*)) \[(?P<time>[^\]]*)\] "
    r"(?:%{INT:port}|%{WORD:user}) (?P<meta>.*)"
)


@st.composite
def pattern_lines(draw):
    words = [draw(values) for _ in range(8)]
    return draw(
        st.sampled_from(
            [
                '{0} - {1} [{2}] "{3}" {4} {5} "{6}" "{7}"',
                "{0} {1} [{2}] {4} {3}",
                "{0} -{1} [{2}] {4} {7}",
                '{0} - {1} [{2}] "{3}"',
            ]
        )
    ).format(*words)


@SETTINGS
@given(line=pattern_lines(), kind=st.sampled_from(["fastmatch", "regex"]))
def test_regex_and_fastmatch_fast_paths_equal_the_reference(line, kind):
    pattern = NGINX if kind == "fastmatch" else REGEX
    text = (
        f"schema: Custom.P\nparser:\n  {kind}:\n    emptyValues: ['-']\n    match:\n"
        f"      - '{pattern.replace(chr(39), chr(39) * 2)}'\n{FIELDS}"
    )
    parser = compile_schema(load_schema(text))
    assert parser._fast is not None
    same(*both(parser, line.encode("utf-8", "surrogatepass")))


def test_a_learned_header_gets_its_own_fast_path():
    schema = csv_schema(["user"]).replace("columns: [user]", "hasHeader: true")
    parser = compile_schema(load_schema(schema))
    assert parser.parse(b"user,port,src", ORIGIN, 1) is None
    fast, reference = both(parser, b"alice,22,10.0.0.1", line=2)
    same(fast, reference)
    assert fast.fields == {"user": "alice", "port": 22, "src": "10.0.0.1"}
    assert parser._headers[2] is not None


def test_lines_the_fast_path_leaves_get_the_reference_answer():
    parser = compile_schema(load_schema(csv_schema(["user", "port"])))
    for raw in (b'alice,"22', b"\xff,1", b"a,b,c", b'"bob, jr",7'):
        same(*both(parser, raw))


# --- fastmatch: the compiled expression against a find, step by step ------------------------


def find_cut(pattern: str, text: str) -> dict[str, str] | None:
    """Fastmatch as Panther describes it: each field up to the first occurrence of the literal
    after it; the last literal ends the line."""
    parts = _FASTMATCH_REF.split(pattern)
    prefix, rest = parts[0], parts[1:]
    if not text.startswith(prefix):
        return None
    values: dict[str, str] = {}
    pos = len(prefix)
    for index in range(0, len(rest), 2):
        name, literal = rest[index], rest[index + 1]
        if index + 2 == len(rest):
            if not text.endswith(literal) or len(text) - len(literal) < pos:
                return None
            end = len(text) - len(literal)
        else:
            end = text.find(literal, pos)
            if end < 0:
                return None
        if name and not name.startswith("_"):
            values.setdefault(name, text[pos:end])
        pos = end + len(literal)
    return values


alphabet = st.sampled_from(list("ab -[]\"'\\^."))
literals = st.text(alphabet=alphabet, min_size=1, max_size=3)


@st.composite
def fastmatch_cases(draw):
    count = draw(st.integers(1, 4))
    names = [f"f{i}" if draw(st.booleans()) else "_" for i in range(count)]
    pattern = draw(st.text(alphabet=alphabet, max_size=2))
    for index, name in enumerate(names):
        last = index == count - 1
        literal = draw(st.text(alphabet=alphabet, max_size=3) if last else literals)
        pattern += f"%{{{name}}}{literal}"
    text = draw(st.text(alphabet=alphabet, max_size=24))
    return pattern, text


@SETTINGS
@given(case=fastmatch_cases())
def test_fastmatch_cuts_as_a_find_would(case):
    from parsers.schema import ParserSpec

    pattern, text = case
    spec = ParserSpec("fastmatch", (("match", (pattern,)), ("emptyValues", ("\x00",))))
    splitter = build_splitter(spec)
    expected = find_cut(pattern, text)
    got = splitter(text)
    if expected is None:
        assert got is None
    else:
        assert got == {k: v for k, v in expected.items() if v}
