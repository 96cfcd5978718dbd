"""Schema inference: what a person would write, a schema that parses its samples, merging widens."""

from __future__ import annotations

import gzip

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers import Origin, ParsedEvent, compile_schema, load_schema
from parsers.__main__ import main
from parsers.infer import Inference, InferenceError, dump_yaml, infer_records, merge_schema

ORIGIN = Origin("test", "sample.jsonl", "")


def fields_of(*records: dict) -> dict[str, dict]:
    """The inferred fields by name."""
    inference = infer_records(orjson.dumps(r) for r in records)
    return {f["name"]: f for f in inference.fields()}


def parse_all(schema_text: str, lines: list[bytes]) -> list:
    parser = compile_schema(load_schema(schema_text))
    return [parser.parse(line, ORIGIN, n) for n, line in enumerate(lines, 1)]


# --- what a person would write ----------------------------------------------------------------


def test_scalars_get_their_types():
    fields = fields_of(
        {"user": "alice", "count": 3, "ratio": 0.5, "ok": True, "big": 2**63},
        {"user": "bob", "count": -7, "ratio": 1, "ok": False, "big": 2**63 + 1},
    )
    assert fields["user"]["type"] == "string"
    assert fields["count"]["type"] == "bigint"
    assert fields["ratio"]["type"] == "float"
    assert fields["ok"]["type"] == "boolean"
    assert fields["big"]["type"] == "string"  # beyond bigint: kept as text


def test_an_rfc3339_string_is_the_event_time():
    fields = fields_of(
        {"time": "2026-11-27T10:00:00Z", "finished": "2026-11-27T10:00:05.123+01:00"},
        {"time": "2026-11-27T10:00:01.5Z"},
    )
    assert fields["time"] == {
        "name": "time",
        "required": True,
        "type": "timestamp",
        "timeFormats": ["rfc3339"],
        "isEventTime": True,
    }
    assert fields["finished"]["type"] == "timestamp"
    assert "isEventTime" not in fields["finished"]
    assert "required" not in fields["finished"]


@pytest.mark.parametrize(
    ("value", "unit"),
    [(1764237600, "unix"), (1764237600.25, "unix"), (1764237600123, "unix_ms"),
     (1764237600123456, "unix_us"), (1764237600123456789, "unix_ns")],
)  # fmt: skip
def test_numbers_named_like_a_time_in_a_plausible_range_are_unix_times(value, unit):
    fields = fields_of({"created_at": value, "ts": value})
    assert fields["created_at"]["timeFormats"] == [unit]
    assert fields["ts"]["timeFormats"] == [unit]
    assert fields["ts"].get("isEventTime") is True  # "ts" names a time more plainly


def test_numbers_are_not_times_without_the_name_or_the_range():
    fields = fields_of({"bytes": 1764237600, "time_taken": 12})
    assert fields["bytes"]["type"] == "bigint"
    assert fields["time_taken"]["type"] == "bigint"


def test_strings_and_unix_numbers_in_one_time_field_take_both_formats():
    fields = fields_of({"ts": 1764237600}, {"ts": "2026-11-27T10:00:00Z"})
    assert fields["ts"]["timeFormats"] == ["rfc3339", "unix"]


def test_nested_objects_and_arrays():
    fields = fields_of(
        {"req": {"method": "GET", "size": 10}, "tags": ["a", "b"], "hops": [{"ip": "10.0.0.1"}]},
        {"req": {"method": "PUT"}, "tags": [], "hops": [{"ip": "10.0.0.2", "ms": 1.5}]},
    )
    assert fields["req"] == {
        "name": "req",
        "required": True,
        "type": "object",
        "fields": [
            {"name": "method", "required": True, "type": "string"},
            {"name": "size", "type": "bigint"},
        ],
    }
    assert fields["tags"]["element"] == {"type": "string"}
    hop = fields["hops"]["element"]
    assert hop["type"] == "object"
    assert hop["fields"][0] == {
        "name": "ip",
        "required": True,
        "type": "string",
        "indicators": ["ip"],
    }
    assert hop["fields"][1] == {"name": "ms", "type": "float"}


def test_values_whose_type_varies_are_json_or_text():
    fields = fields_of(
        {"detail": {"a": 1}, "code": 0, "mixed": 1},
        {"detail": "text", "code": "E42", "mixed": True},
    )
    assert fields["detail"]["type"] == "json"  # an object or a string
    assert fields["code"]["type"] == "string"  # strings take numbers as text
    assert fields["mixed"]["type"] == "string"  # numbers and booleans: as text


def test_required_means_present_and_not_null_in_every_line():
    fields = fields_of({"a": 1, "b": 1, "c": None}, {"a": 2, "b": None}, {"a": 3})
    assert fields["a"].get("required") is True
    assert "required" not in fields["b"]
    assert fields["c"] == {"name": "c", "type": "string"}  # never a value: nothing to go on


def test_indicators_from_values_and_names():
    fields = fields_of(
        {
            "client": "203.0.113.9",
            "mail": "alice@example.com",
            "link": "https://example.com/x",
            "role": "arn:aws:iam::123456789012:role/admin",
            "site": "login.example.com",
            "digest": "d41d8cd98f00b204e9800998ecf8427e",
            "host": "web-1",
            "user": "alice",
            "account": "123456789012",
            "instance": "i-0123456789abcdef0",
            "note": "hello world",
        }
    )
    indicators = {name: f.get("indicators") for name, f in fields.items()}
    assert indicators == {
        "client": ["ip"],
        "mail": ["email"],
        "link": ["url"],
        "role": ["aws_arn"],
        "site": ["domain"],
        "digest": ["md5"],
        "host": ["hostname"],
        "user": ["username"],
        "account": ["aws_account_id"],
        "instance": ["aws_instance_id"],
        "note": None,
    }


def test_one_value_that_is_no_ip_drops_the_indicator():
    fields = fields_of({"addr": "203.0.113.9"}, {"addr": "unknown"})
    assert "indicators" not in fields["addr"]


def test_fields_keep_the_order_they_first_appear_in():
    fields = fields_of({"z": 1, "a": 1}, {"m": 1, "a": 2})
    assert list(fields) == ["z", "a", "m"]


def test_a_key_whose_column_clashes_stays_out():
    fields = fields_of({"src-ip": "1.2.3.4", "src_ip": "5.6.7.8", "o": {"a-b": 1, "a_b": 2}})
    assert list(fields) == ["src-ip", "o"]
    assert fields["o"]["type"] == "json"


def test_go_zero_time_is_not_a_value():
    fields = fields_of({"t": "2026-11-27T10:00:00Z"}, {"t": "0001-01-01T00:00:00Z"})
    assert fields["t"]["type"] == "timestamp"
    assert "required" not in fields["t"]


def test_nothing_to_infer_from_is_an_error():
    inference = infer_records([b"[1]", b"{}", b"not json"])
    assert inference.skipped == 2
    with pytest.raises(InferenceError, match="nothing to infer"):
        inference.schema("Custom.X")


def test_an_inferred_teleport_schema_parses_the_generated_log():
    from devtools.generate import generate_lines

    lines = list(generate_lines(2000, seed=7))
    text = infer_records(lines).to_yaml("Custom.Teleport")
    schema = load_schema(text)
    by_name = {f.name: f for f in schema.fields}
    assert by_name["time"].is_event_time
    assert by_name["time"].type == "timestamp"
    assert by_name["event"].required
    assert "ip" in by_name["addr.remote"].indicators or by_name["addr.remote"].type == "string"
    results = parse_all(text, lines)
    assert all(type(r) is ParsedEvent and r.warnings == 0 for r in results)


# --- the laws ---------------------------------------------------------------------------------

keys = st.text(min_size=0, max_size=8)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(
        ["2026-11-27T10:00:00Z", "0001-01-01T00:00:00Z", "10.0.0.1", "a@b.io", "example.com", ""]
    )
    | st.integers(min_value=1_000_000_000, max_value=3_999_999_999)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)
time_keys = st.sampled_from(["ts", "time", "created_at", "a", "b"])
records = st.dictionaries(keys | time_keys, json_values, min_size=1, max_size=6)
samples = st.lists(records, min_size=1, max_size=6)


def inferred(sample: list[dict]) -> Inference:
    return infer_records(orjson.dumps(r) for r in sample)


def schema_or_none(inference: Inference) -> str | None:
    try:
        return inference.to_yaml("Custom.Prop")
    except InferenceError:
        return None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples)
def test_any_json_lines_give_a_schema_that_parses_every_one_of_them(sample):
    lines = [orjson.dumps(r) for r in sample]
    text = schema_or_none(inferred(sample))
    if text is None:  # only keys no schema can name (""), or none at all
        return
    for result in parse_all(text, lines):
        assert type(result) is ParsedEvent, result
        assert result.warnings == 0, (text, result)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples, samples)
def test_merging_inferences_is_inferring_from_both_samples(first, second):
    merged = inferred(first).merge(inferred(second))
    assert schema_or_none(merged) == schema_or_none(inferred(first + second))


# A type may only become one that takes every value the old one took.
WIDER = {
    ("bigint", "float"),
    ("bigint", "string"),
    ("float", "string"),
    ("boolean", "string"),
    ("timestamp", "string"),
    ("timestamp", "bigint"),
    ("timestamp", "float"),
}


def assert_widens(old: dict, new: dict, where: str) -> None:
    assert old["name"] == new["name"]
    if not new.get("required"):
        pass
    else:
        assert old.get("required"), f"{where}: required appeared"
    assert_type_widens(old, new, where)


def assert_type_widens(old: dict, new: dict, where: str) -> None:
    a, b = old["type"], new["type"]
    if a == b == "object":
        new_fields = {f["name"]: f for f in new["fields"]}
        for f in old["fields"]:
            assert f["name"] in new_fields, f"{where}.{f['name']} disappeared"
            assert_widens(f, new_fields[f["name"]], f"{where}.{f['name']}")
    elif a == b == "array":
        if old["element"] != {"type": "json"} or new["element"]["type"] == "json":
            assert_type_widens(old["element"], new["element"], f"{where}[]")
    elif a == b == "timestamp":
        assert set(old["timeFormats"]) <= set(new["timeFormats"]), where
    else:
        assert a == b or b == "json" or (a, b) in WIDER, f"{where}: {a} -> {b}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples, samples)
def test_more_samples_never_narrow_a_field(first, second):
    before = inferred(first)
    after = before.merge(inferred(second))
    old = {f["name"]: f for f in before.fields()}
    new = {f["name"]: f for f in after.fields()}
    for name, field in old.items():
        node = before.root.children[name]
        if node.kinds == 0 or (field["type"] == "json" and node.kinds == 16):
            continue  # no evidence yet (only nulls, only empty objects): anything may follow
        if name not in new:  # a clashing key now first: left to p_extra, still not narrowed
            continue
        assert_widens(field, new[name], name)


# --- the command line -------------------------------------------------------------------------


def test_the_command_prints_a_schema_from_compressed_samples(tmp_path, capsys):
    sample = tmp_path / "app.log.gz"
    sample.write_bytes(
        gzip.compress(
            b'{"ts":"2026-11-27T10:00:00Z","level":"info","ip":"10.1.2.3"}\n'
            b'{"ts":"2026-11-27T10:00:01Z","level":"warn","ip":"10.1.2.4","ms":3}\n'
        )
    )
    other = tmp_path / "more.json"
    other.write_bytes(b'[{"ts":"2026-11-27T10:00:02Z","level":"error","ip":"::1","ms":2.5}]')
    assert main(["infer", "--name", "Custom.App", str(sample), str(other)]) == 0
    out, err = capsys.readouterr()
    doc = yaml.safe_load(out)
    assert doc["schema"] == "Custom.App"
    assert [f["name"] for f in doc["fields"]] == ["ts", "level", "ip", "ms"]
    assert doc["fields"][3]["type"] == "float"
    assert load_schema(out).name == "Custom.App"
    assert "records=3" in err


def test_the_command_refuses_a_bad_name(tmp_path, capsys):
    sample = tmp_path / "a.jsonl"
    sample.write_bytes(b'{"a":1}\n')
    assert main(["infer", "--name", "no spaces allowed", str(sample)]) == 2
    assert "invalid log type name" in capsys.readouterr().err


# --- merging an inferred schema into an edited one ------------------------------------------

EDITED = """\
schema: Custom.Edited
description: The person's words.
fields:
  - name: when
    required: true
    type: timestamp
    timeFormats: ["%d/%b/%Y:%H:%M:%S %z"]
    isEventTime: true
  - name: user
    description: Who did it.
    required: true
    type: string
    indicators: [username]
  - name: status
    type: smallint
  - name: ok
    type: boolean
  - name: gone
    required: true
    type: string
"""


def test_merging_into_an_edited_schema_keeps_the_edits_and_only_widens():
    sample = [
        {
            "when": "27/Nov/2026:10:00:00 +0000",
            "user": 7,
            "status": 70000,
            "ok": "yes",
            "ip": "10.0.0.1",
            "ts": "2026-11-27T10:00:00Z",
        },
        {
            "when": "27/Nov/2026:10:00:01 +0000",
            "status": 1.5,
            "ok": True,
            "ip": "10.0.0.2",
            "ts": "2026-11-27T10:00:01Z",
        },
    ]
    merged = merge_schema(yaml.safe_load(EDITED), inferred(sample).schema("Custom.Other"))
    by_name = {f["name"]: f for f in merged["fields"]}
    assert merged["schema"] == "Custom.Edited"
    assert merged["description"] == "The person's words."
    assert list(by_name) == ["when", "user", "status", "ok", "gone", "ip", "ts"]
    # a strftime time the sample's strings fit is the person's knowledge: kept as it was
    assert by_name["when"] == yaml.safe_load(EDITED)["fields"][0]
    # string takes the numbers: kept, with its description and indicators; not in every line
    assert by_name["user"] == {
        "name": "user",
        "description": "Who did it.",
        "type": "string",
        "indicators": ["username"],
    }
    assert by_name["status"]["type"] == "float"  # smallint widened to what the sample needs
    assert by_name["ok"]["type"] == "string"  # true and "yes"
    assert "required" not in by_name["gone"]  # the sample never had it
    # new fields: appended, not required, and the event time stays the person's
    assert by_name["ip"] == {"name": "ip", "type": "string", "indicators": ["ip"]}
    assert "isEventTime" not in by_name["ts"]
    assert "required" not in by_name["ts"]
    lines = [orjson.dumps(r) for r in sample]
    for result in parse_all(yaml.safe_dump(merged, sort_keys=False), lines):
        assert type(result) is ParsedEvent, result
        assert result.warnings == 0, result


def test_merging_never_narrows_a_type_the_person_chose_wider():
    edited = yaml.safe_load(EDITED)
    sample = [{"status": 3, "user": "alice", "ok": False, "when": "27/Nov/2026:10:00:00 +0000"}]
    wide = dict(
        edited,
        fields=[dict(f, type="string") if f["name"] == "status" else f for f in edited["fields"]],
    )
    merged = merge_schema(wide, inferred(sample).schema())
    assert {f["name"]: f["type"] for f in merged["fields"]}["status"] == "string"
    # inference writes bigint for any integers: the person's smallint stays, unless the caller
    # saw a value it does not take
    small = merge_schema(edited, inferred(sample).schema())
    assert {f["name"]: f["type"] for f in small["fields"]}["status"] == "smallint"
    widened = merge_schema(edited, inferred(sample).schema(), widen=frozenset({"status"}))
    assert {f["name"]: f["type"] for f in widened["fields"]}["status"] == "bigint"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples, samples)
def test_an_inferred_schema_merged_into_another_parses_both_samples(first, second):
    try:
        existing = inferred(first).schema("Custom.First")
        seen = inferred(second).schema("Custom.Second")
    except InferenceError:
        return
    text = dump_yaml(merge_schema(existing, seen))
    for sample in (first, second):
        for result in parse_all(text, [orjson.dumps(r) for r in sample]):
            assert type(result) is ParsedEvent, (text, result)
            assert result.warnings == 0, (text, result)
