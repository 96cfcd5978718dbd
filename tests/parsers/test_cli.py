"""The command line, run as a user runs it: a subprocess."""

import gzip
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "event": "user.login",
    "code": "T1000I",
    "time": "2024-03-01T00:00:00.5+01:00",
    "user": "alice",
    "addr.remote": "10.0.0.1:5555",
}


def run(*args, stdin: bytes = b""):
    return subprocess.run(
        [sys.executable, "-m", "parsers", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_parse_prints_events_and_writes_failures(tmp_path):
    body = orjson.dumps(GOOD) + b"\n\n{broken\n" + b'{"event":"x"}\r\n' + b"\xff\xfe\n"
    source = tmp_path / "in.json.gz"
    source.write_bytes(gzip.compress(body))
    failures = tmp_path / "failures.jsonl"
    done = run(
        "parse",
        "--log-type",
        "Gravitational.TeleportAudit",
        "--failures",
        str(failures),
        str(source),
    )
    assert done.returncode == 0, done.stderr
    events = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert len(events) == 1
    assert events[0]["time"] == "2024-02-29T23:00:00.500000Z"
    assert events[0]["p_event_time"] == "2024-02-29T23:00:00.500000Z"
    assert events[0]["addr_remote"] == "10.0.0.1:5555"
    assert events[0]["p_any_ip_addresses"] == ["10.0.0.1"]
    assert len(events[0]["p_row_id"]) == 32
    kept = [orjson.loads(line) for line in failures.read_bytes().splitlines()]
    first = len(orjson.dumps(GOOD)) + 2
    assert [(f["line"], f["offset"]) for f in kept] == [(3, first), (4, first + 8), (5, first + 23)]
    assert kept[0]["raw"] == "{broken"
    assert kept[0]["error"].startswith("invalid JSON")
    assert kept[1]["error"] == "required field 'code' is missing"
    assert kept[2]["raw_base64"] == "//4="
    assert "raw" in kept[2]
    summary = done.stderr.decode().strip().splitlines()
    assert len(summary) == 1
    assert summary[0].startswith("events=1 failures=3 warnings=0 seconds=")


def test_parse_reads_stdin_and_keeps_input_order():
    lines = [orjson.dumps({**GOOD, "uid": str(i)}) for i in range(50)]
    done = run("parse", "--log-type", "Gravitational.TeleportAudit", "-", stdin=b"\n".join(lines))
    assert done.returncode == 0
    assert [orjson.loads(x)["uid"] for x in done.stdout.splitlines()] == [str(i) for i in range(50)]


def test_parse_with_an_explicit_stream_type():
    body = b"[" + orjson.dumps(GOOD) + b"," + orjson.dumps(GOOD) + b"]"
    done = run(
        "parse",
        "--log-type",
        "Gravitational.TeleportAudit",
        "--stream-type",
        "json_array",
        stdin=body,
    )
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("parse", "--log-type", "Teleport", "-"), "unknown log type 'Teleport'"),
        (("parse", "--log-type", "Gravitational.TeleportAudit", "/no/such/file"), "cannot read"),
        (("parse", "-"), "--log-type"),
        (
            ("parse", "--log-type", "Gravitational.TeleportAudit", "--stream-type", "xml", "-"),
            "invalid choice",
        ),
        (("frobnicate",), "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args, message):
    done = run(*args)
    assert done.returncode == 2
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0]
    assert done.stdout == b""


def test_schemas_lists_the_log_types():
    done = run("schemas")
    assert done.returncode == 0
    rows = [line.split("\t") for line in done.stdout.decode().splitlines()]
    assert [row[:2] for row in rows] == [
        ["Gravitational.TeleportAudit", "168 fields"],
        ["Sluice.SSHAuth", "14 fields"],
    ]
    assert rows[0][2].startswith("Teleport logs events like successful user logins")


def test_schemas_lists_a_folders_schemas_beside_the_consoles_tile_catalog(tmp_path):
    (tmp_path / "mine.yml").write_text(
        "schema: My.Log\ntitle: Mine\nfields:\n  - name: msg\n    type: string\n"
    )
    (tmp_path / "catalog.yml").write_text("My.Log:\n  vendor: Me\n")
    done = run("schemas", "--schemas", str(tmp_path))
    assert done.returncode == 0, done.stderr
    rows = [line.split("\t") for line in done.stdout.decode().splitlines()]
    assert ["My.Log", "1 fields", ""] in rows


def test_the_bench_command_moved_to_bench_parse_py():
    done = run("bench")
    assert done.returncode == 2
    assert "invalid choice: 'bench'" in done.stderr.decode()


def test_validate_accepts_a_good_schema_and_rejects_a_bad_one(tmp_path):
    good = ROOT / "parsers" / "schemas" / "sluice_ssh_auth.yml"
    done = run("validate", str(good))
    assert done.returncode == 0
    assert b"ok: Sluice.SSHAuth (14 fields)" in done.stdout
    bad = tmp_path / "bad.yml"
    bad.write_text("schema: Bad.One\nfields:\n  - name: when\n    type: timestamp\n")
    done = run("validate", str(bad))
    assert done.returncode == 2
    assert done.stderr.decode().strip() == (
        f"error: {bad}: fields[0] (when).timeFormats: a timestamp needs timeFormats (e.g. rfc3339)"
    )


def test_parse_with_a_custom_schema_folder(tmp_path):
    (tmp_path / "mine.yml").write_text(
        "schema: My.Log\nfields:\n  - name: msg\n    required: true\n    type: string\n"
    )
    done = run("parse", "--schemas", str(tmp_path), "--log-type", "My.Log", stdin=b'{"msg":1}')
    assert done.returncode == 0
    event = orjson.loads(done.stdout)
    assert event["msg"] == "1"
    assert event["p_log_type"] == "My.Log"


def test_parse_with_an_invalid_schema_folder_exits_2(tmp_path):
    (tmp_path / "bad.yml").write_text("schema: My.Log\nfields:\n  - name: n\n    type: integer\n")
    done = run("parse", "--schemas", str(tmp_path), "--log-type", "My.Log", stdin=b"{}")
    assert done.returncode == 2
    (line,) = done.stderr.decode().strip().splitlines()
    assert line.startswith(f"error: {tmp_path / 'bad.yml'}: fields[0] (n).type: unknown type")
