"""Loading Panther-format schemas, and the errors a wrong schema gets."""

from pathlib import Path

import pytest

from parsers import SchemaError, default_registry, load_schema
from parsers.registry import BUILTIN_FOLDER
from tests.availability import unavailable

SEED = Path(__file__).resolve().parents[2] / ".." / "shared" / "seed" / "panther-teleport-logs.txt"


def test_teleport_schema_is_built_in_with_all_its_fields():
    schema = default_registry().get("Gravitational.TeleportAudit").schema
    assert schema.field_count == 168
    time = next(f for f in schema.fields if f.name == "time")
    assert (time.type, time.required, time.is_event_time, time.time_formats) == (
        "timestamp",
        True,
        True,
        ("rfc3339",),
    )
    local = next(f for f in schema.fields if f.name == "addr.local")
    assert (local.column, local.indicators) == ("addr_local", ("net_addr",))
    argv = next(f for f in schema.fields if f.name == "argv")
    assert argv.element is not None
    assert argv.element.type == "string"
    assert [f.name for f in schema.fields if f.required] == ["event", "code", "time"]


def test_builtin_teleport_yaml_is_the_seed_text_verbatim():
    if not SEED.exists():
        unavailable("../shared/seed document absent")
    text = (BUILTIN_FOLDER / "gravitational_teleport_audit.yml").read_text()
    assert text.strip() in SEED.read_text()


def test_load_from_path_and_text_agree(tmp_path):
    text = "schema: A.B\nfields:\n  - name: x\n    type: string\n"
    path = tmp_path / "a_b.yml"
    path.write_text(text)
    assert load_schema(path).fields == load_schema(text).fields
    assert load_schema(path).source_name == str(path)


def test_old_single_time_format_is_accepted():
    schema = load_schema(
        "schema: A.B\nfields:\n  - name: t\n    type: timestamp\n    timeFormat: unix_ms\n"
    )
    assert schema.fields[0].time_formats == ("unix_ms",)


def test_nested_object_fields_get_columns_and_paths():
    schema = load_schema(
        "schema: A.B\nfields:\n  - name: o\n    type: object\n    fields:\n"
        "      - name: a-b\n        type: int\n"
    )
    inner = schema.fields[0].fields[0]
    assert (inner.column, inner.path) == ("a_b", "fields[0] (o).fields[0] (a-b)")


BAD_SCHEMAS = [
    ("schema: A.B\nfields: []\n", "fields", "non-empty list"),
    ("fields:\n  - name: x\n    type: string\n", "schema", "missing"),
    ("schema: A.B\nfields:\n  - name: x\n    type: strin\n", "fields[0] (x).type", "unknown type"),
    ("schema: A.B\nfields:\n  - type: string\n", "fields[0].name", "missing"),
    (
        "schema: A.B\nfields:\n  - name: t\n    type: timestamp\n",
        "fields[0] (t).timeFormats",
        "needs timeFormats",
    ),
    (
        "schema: A.B\nfields:\n  - name: t\n    type: timestamp\n    timeFormats: [iso]\n",
        "fields[0] (t).timeFormats",
        "unknown time format 'iso'",
    ),
    (
        "schema: A.B\nfields:\n  - name: a\n    type: array\n",
        "fields[0] (a).element",
        "needs an 'element'",
    ),
    (
        "schema: A.B\nfields:\n  - name: o\n    type: object\n",
        "fields[0] (o).fields",
        "non-empty 'fields'",
    ),
    (
        "schema: A.B\nfields:\n  - name: s\n    type: string\n    indicators: [ipv4]\n",
        "fields[0] (s).indicators",
        "unknown indicator 'ipv4'",
    ),
    (
        "schema: A.B\nfields:\n  - name: s\n    type: string\n    isEventTime: true\n",
        "fields[0] (s).isEventTime",
        "only a timestamp",
    ),
    (
        "schema: A.B\nfields:\n  - name: s\n    type: string\n    required: yes please\n",
        "fields[0] (s).required",
        "true or false",
    ),
    (
        "schema: A.B\nfields:\n  - name: s\n    type: string\n    colour: red\n",
        "fields[0] (s)",
        "unknown key(s): colour",
    ),
    (
        "schema: A.B\nfields:\n  - name: a.b\n    type: string\n  - name: a_b\n    type: int\n",
        "fields[1] (a_b)",
        "clashes",
    ),
    (
        "schema: A.B\nfields:\n  - name: n\n    type: int\n    validate:\n      allow: [1]\n",
        "fields[0] (n).validate",
        "string fields only",
    ),
    (
        "schema: A.B\nfields:\n  - name: s\n    type: string\n    validate:\n      ip: ipv5\n",
        "fields[0] (s).validate.ip",
        "must be one of",
    ),
    (
        "schema: A.B\nfields:\n  - name: o\n    type: object\n    fields:\n      - name: x\n"
        "        type: nope\n",
        "fields[0] (o).fields[0] (x).type",
        "unknown type 'nope'",
    ),
    ("schema: A.B\nfields: [\n", "line", "invalid YAML"),
    ("- just\n- a list\n", "", "must be a YAML mapping"),
    ("schema: not a name!\nfields:\n  - name: x\n    type: string\n", "schema", "invalid log type"),
]


@pytest.mark.parametrize(("text", "path", "problem"), BAD_SCHEMAS)
def test_a_wrong_schema_names_file_field_path_and_problem(text, path, problem):
    with pytest.raises(SchemaError) as caught:
        load_schema(text, source_name="custom.yml")
    error = caught.value
    assert error.source == "custom.yml"
    assert error.path.startswith(path)
    assert problem in error.problem
    assert str(error).startswith("custom.yml: ")


def test_unreadable_schema_file_is_a_schema_error(tmp_path):
    with pytest.raises(SchemaError, match="cannot read"):
        load_schema(tmp_path / "missing.yml")
