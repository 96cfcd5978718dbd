"""Specification of the Teleport audit log generator (devtools/generate.py)."""

from __future__ import annotations

import gzip
import random
import re
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from devtools.generate import (
    BUSINESS_DAY,
    OBJECT_KEY_RE,
    events_in,
    generate_breakages,
    generate_events,
    generate_lines,
    generate_objects,
    object_key,
    pack_objects,
    timed_lines,
    write_objects,
)
from tests.availability import unavailable

ROOT = Path(__file__).resolve().parents[2]
CODES_TSV = ROOT / ".." / "shared" / "corpus" / "teleport_event_codes.tsv"
START = datetime(2026, 11, 27, tzinfo=UTC)
SPAN = timedelta(days=1)
SECOND = timedelta(seconds=1)
RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$")


def parse_time(value: object) -> datetime:
    """Strict RFC3339 (UTC, 0-9 fractional digits) -> aware datetime; ValueError otherwise."""
    match = RFC3339.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"not an RFC3339 UTC timestamp: {value!r}")
    whole = datetime.strptime(match[1], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return whole + timedelta(microseconds=int((match[2] or "0").ljust(9, "0")) / 1000)


def strict_event(line: bytes) -> dict:
    """What a parser must accept: UTF-8 JSON object with string event/code and RFC3339 time."""
    event = orjson.loads(line)  # rejects invalid UTF-8 too
    if not isinstance(event, dict):
        raise ValueError("not a JSON object")
    for field in ("event", "code"):
        if not isinstance(event.get(field), str) or not event[field]:
            raise ValueError(f"missing or non-string {field}")
    parse_time(event.get("time"))
    return event


def is_malformed(line: bytes) -> bool:
    try:
        strict_event(line)
    except ValueError:  # orjson.JSONDecodeError is a ValueError
        return True
    return False


@pytest.fixture(scope="module")
def events() -> list[dict]:
    return list(generate_events(6000, seed=11, start=START, span=SPAN))


@pytest.fixture(scope="module")
def lines() -> list[bytes]:
    return list(generate_lines(6000, seed=11, start=START, span=SPAN))


# -- determinism and counts -------------------------------------------------------------------


def test_same_seed_and_start_give_identical_bytes():
    first = list(generate_lines(1500, seed=5, start=START))
    second = list(generate_lines(1500, seed=5, start=START))
    assert first == second


def test_a_different_seed_gives_different_lines():
    assert list(generate_lines(300, seed=5, start=START)) != list(
        generate_lines(300, seed=6, start=START)
    )


@pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 17, 999])
def test_counts_are_exact(count):
    assert len(list(generate_events(count, seed=count, start=START))) == count
    assert len(list(generate_lines(count, seed=count, start=START, malformed_rate=0.3))) == count


def test_negative_count_and_bad_rate_are_rejected():
    with pytest.raises(ValueError, match="count"):
        list(generate_lines(-1))
    with pytest.raises(ValueError, match="malformed_rate"):
        list(generate_lines(10, malformed_rate=1.5))
    with pytest.raises(ValueError, match="span"):
        list(generate_lines(10, span=timedelta(0)))


def test_lines_are_the_json_of_the_events(events, lines):
    assert [orjson.loads(line) for line in lines] == events
    assert all(b"\n" not in line for line in lines)


# -- shape of each event ----------------------------------------------------------------------


def test_every_line_is_valid_json_with_event_code_and_time(lines):
    for line in lines:
        event = strict_event(line)
        assert START <= parse_time(event["time"]) < START + SPAN


def test_events_come_in_time_order(events):
    times = [parse_time(event["time"]) for event in events]
    assert times == sorted(times)
    # spread over the window rather than bunched at its start
    assert times[-1] - times[0] > SPAN * 0.9


def test_default_start_is_one_span_before_now():
    before = datetime.now(UTC)
    times = [parse_time(e["time"]) for e in generate_events(200, span=timedelta(hours=2))]
    assert before - timedelta(hours=2, seconds=1) <= min(times)
    assert max(times) <= datetime.now(UTC)


EXPECTED_CODES = {
    "user.login": {"T1000I", "T1000W", "T1001I", "T1001W"},
    "user.create": {"T1002I"},
    "session.start": {"T2000I"},
    "session.join": {"T2001I"},
    "session.leave": {"T2003I"},
    "session.end": {"T2004I"},
    "session.upload": {"T2005I"},
    "session.data": {"T2006I"},
    "exec": {"T3002I", "T3002E"},
    "port": {"T3003I", "T3003E"},
    "scp": {"T3004I", "T3004E", "T3005I", "T3005E"},
    "auth": {"T3007W"},
    "kube.request": {"T3009I"},
    "session.command": {"T4000I"},
    "session.network": {"T4002I"},
    "access_request.create": {"T5000I"},
    "access_request.review": {"T5002I"},
    "cert.create": {"TC000I"},
    "db.session.start": {"TDB00I", "TDB00W"},
    "db.session.end": {"TDB01I"},
    "db.session.query": {"TDB02I"},
}


def test_event_types_and_codes_match_teleport(events):
    for event in events:
        assert event["code"] in EXPECTED_CODES[event["event"]], event
    # a realistic mix: every type shows up in a few thousand events
    assert {event["event"] for event in events} == set(EXPECTED_CODES)


def test_codes_agree_with_teleports_own_code_table():
    if not CODES_TSV.exists():
        unavailable("../shared corpus not present")
    table = defaultdict(set)
    for row in CODES_TSV.read_text().splitlines()[1:]:
        code, event_type = row.split("\t")[:2]
        table[event_type].add(code)
    for event_type, codes in EXPECTED_CODES.items():
        assert codes <= table[event_type], event_type


def test_logins_include_failures_with_errors(events):
    logins = [e for e in events if e["event"] == "user.login"]
    failures = [e for e in logins if not e["success"]]
    assert 0.05 < len(failures) / len(logins) < 0.6
    assert all(e["code"].endswith("W") and e["error"] for e in failures)
    assert all(e["code"].endswith("I") and "error" not in e for e in logins if e["success"])


def test_addresses_include_ipv4_and_bracketed_ipv6(events):
    remotes = [e["addr.remote"] for e in events if "addr.remote" in e]
    v6 = [a for a in remotes if a.startswith("[")]
    v4 = [a for a in remotes if not a.startswith("[")]
    assert v6
    assert v4
    assert all(re.fullmatch(r"\[[0-9a-f:]+\]:\d+", a) for a in v6)
    assert all(re.fullmatch(r"\d+\.\d+\.\d+\.\d+:\d+", a) for a in v4)


def test_command_events_carry_process_details(events):
    commands = [e for e in events if e["event"] == "session.command"]
    for event in commands:
        assert isinstance(event["argv"], list)
        assert event["path"].startswith("/")
        assert isinstance(event["return_code"], int)
        assert event["ppid"] < event["pid"]
    assert any(e["cgroup_id"] > 2**32 for e in commands)


def test_real_world_type_quirks_are_present(events):
    assert any(isinstance(e.get("exitCode"), str) for e in events)
    ports = [e["dst_port"] for e in events if e["event"] == "session.network"]
    assert any(isinstance(p, str) for p in ports)
    assert any(isinstance(p, int) for p in ports)
    assert any("user_kind" in e for e in events)
    assert any("private_key_policy" in e for e in events)
    assert any("uid" not in e for e in events)
    assert any(e.get("expires") == "0001-01-01T00:00:00Z" for e in events)
    assert any(e.get("ei") == 2147483646 for e in events)


def test_time_has_varied_fractional_digits_like_real_teleport(events):
    digits = {len(RFC3339.match(e["time"])[2] or "") for e in events}
    assert {0, 3, 6, 9} <= digits


def test_lines_average_a_realistic_size(lines):
    average = sum(map(len, lines)) / len(lines)
    assert 400 <= average <= 700


# -- sessions ---------------------------------------------------------------------------------


def sessions(events: list[dict]) -> dict[str, list[dict]]:
    by_sid = defaultdict(list)
    for event in events:
        if event["event"].startswith("session.") and "sid" in event:
            by_sid[event["sid"]].append(event)
    return by_sid


def test_sessions_run_from_start_to_end_in_one_sid(events):
    complete = long_enough = 0
    for sid, group in sessions(events).items():
        names = [e["event"] for e in group]
        if "session.start" not in names or "session.end" not in names:
            continue
        complete += 1
        assert names[0] == "session.start", sid
        start, end = group[0], group[names.index("session.end")]
        assert parse_time(start["time"]) <= parse_time(end["time"])
        for event in group:
            assert parse_time(start["time"]) <= parse_time(event["time"])
            if event["event"] != "session.upload":
                assert parse_time(event["time"]) <= parse_time(end["time"])
        assert parse_time(end["session_start"]) <= parse_time(end["session_stop"])
        long_enough += parse_time(end["session_stop"]) - parse_time(end["session_start"]) > SECOND
        assert start["user"] in end["participants"]
        assert re.fullmatch(r"[0-9a-f-]{36}", sid)
        counters = [e["ei"] for e in group if e["event"] in ("session.command", "session.network")]
        assert counters == sorted(counters)
    assert complete > 100
    assert long_enough > complete * 0.95


@pytest.mark.parametrize("count", [*range(1, 30), 6000])
def test_every_started_session_ends(count):
    # the last scenario is cut to fit the count, but a session keeps its start and end
    events = list(generate_events(count, seed=count, start=START, span=timedelta(minutes=5)))
    assert len(events) == count
    for sid, group in sessions(events).items():
        names = {e["event"] for e in group}
        if "session.start" in names:
            assert "session.end" in names, sid


# -- malformed lines --------------------------------------------------------------------------


def test_malformed_rate_replaces_about_that_share_deterministically():
    clean = list(generate_lines(5000, seed=2, start=START))
    dirty = list(generate_lines(5000, seed=2, start=START, malformed_rate=0.1))
    assert dirty == list(generate_lines(5000, seed=2, start=START, malformed_rate=0.1))
    replaced = [bad for good, bad in zip(clean, dirty, strict=True) if good != bad]
    assert 400 <= len(replaced) <= 600
    assert all(is_malformed(line) for line in replaced)
    assert all(b"\n" not in line for line in replaced)


def test_each_broken_line_says_how_it_was_broken_and_whether_the_schema_rejects_it():
    """The fault suite expects a failure for each twin the generator says the schema rejects:
    that must be what the Teleport parser does, line by line."""
    from parsers import Origin, ParseFailure, default_registry

    parser = default_registry().get("Gravitational.TeleportAudit").parser
    options = {"start": START, "malformed_rate": 0.3}
    clean = list(generate_lines(4000, seed=5, start=START))
    dirty = list(generate_lines(4000, seed=5, **options))
    breakages = list(generate_breakages(4000, seed=5, **options))
    assert [b is not None for b in breakages] == [c != d for c, d in zip(clean, dirty, strict=True)]
    broken = [(line, b) for line, b in zip(dirty, breakages, strict=True) if b is not None]
    for line, breakage in broken:
        failed = isinstance(parser.parse(line, Origin("0", "", ""), 1), ParseFailure)
        assert failed == breakage.rejected_by_schema, (breakage, line)
    assert {b.rejected_by_schema for _, b in broken} == {True, False}  # both kinds were made


def test_malformed_lines_cover_the_kinds_a_pipeline_meets():
    dirty = list(generate_lines(3000, seed=4, start=START, malformed_rate=1.0))
    assert all(is_malformed(line) for line in dirty)

    def failure(line: bytes) -> str:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return "invalid utf-8"
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            return "truncated" if line.startswith(b"{") else "not json"
        if not isinstance(value, dict):
            return "not an object"
        if "event" not in value or "time" not in value or "code" not in value:
            return "missing field"
        if not isinstance(value["time"], str) or not isinstance(value["event"], str):
            return "wrong type"
        return "bad value"

    kinds = {failure(line) for line in dirty}
    assert kinds >= {
        "invalid utf-8",
        "truncated",
        "not json",
        "not an object",
        "missing field",
        "wrong type",
        "bad value",
    }


# -- objects ----------------------------------------------------------------------------------


def test_object_key_follows_the_fluentd_layout():
    key = object_key(datetime(2026, 3, 4, 5, 59, tzinfo=UTC), random.Random(1))
    assert OBJECT_KEY_RE.match(key)
    assert key.startswith("teleport/logs/2026/03/04/05/")
    assert key == object_key(datetime(2026, 3, 4, 5, 0), random.Random(1))  # naive = UTC


def test_objects_hold_gzip_json_lines_of_one_hour():
    objects = list(
        generate_objects(3000, seed=9, events_per_object=250, start=START, malformed_rate=0.02)
    )
    total = 0
    for key, body in objects:
        assert OBJECT_KEY_RE.match(key)
        text = gzip.decompress(body)
        assert text.endswith(b"\n")
        object_lines = text[:-1].split(b"\n")
        assert 1 <= len(object_lines) <= 250
        total += len(object_lines)
        hour = datetime.strptime(key[len("teleport/logs/") :][:13], "%Y/%m/%d/%H")
        for line in object_lines:
            if not is_malformed(line):
                when = parse_time(orjson.loads(line)["time"])
                assert when.replace(minute=0, second=0, microsecond=0, tzinfo=None) == hour
    assert total == 3000
    assert len({key for key, _ in objects}) == len(objects)
    assert objects == list(
        generate_objects(3000, seed=9, events_per_object=250, start=START, malformed_rate=0.02)
    )


def test_write_objects_puts_each_key_under_the_directory(tmp_path):
    paths = write_objects(tmp_path, 1200, seed=3, events_per_object=400, start=START)
    keys = [key for key, _ in generate_objects(1200, seed=3, events_per_object=400, start=START)]
    assert paths == [tmp_path / key for key in keys]
    assert sum(len(gzip.decompress(p.read_bytes()).splitlines()) for p in paths) == 1200


# -- command line -----------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "devtools.generate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_writes_objects_and_prints_a_summary(tmp_path):
    result = run_cli(
        "--events", "2500", "--seed", "1", "--out", str(tmp_path), "--per-object", "500",
        "--start", "2026-11-27T00:00:00Z", "--days", "0.5", "--malformed-rate", "0.01",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    files = sorted(tmp_path.rglob("*.json.gz"))
    summary = result.stdout.strip()
    assert len(summary.splitlines()) == 1
    assert f"objects={len(files)} events=2500 " in summary
    assert f"bytes={sum(f.stat().st_size for f in files)} " in summary
    assert re.search(r"seconds=\d+\.\d+", summary)
    assert all(
        f.relative_to(tmp_path).as_posix().startswith("teleport/logs/2026/11/27/") for f in files
    )
    assert sum(len(gzip.decompress(f.read_bytes()).splitlines()) for f in files) == 2500


def test_cli_rejects_bad_values_with_a_message(tmp_path):
    result = run_cli("--events", "10", "--out", str(tmp_path), "--malformed-rate", "2")
    assert result.returncode == 2
    assert "--malformed-rate" in result.stderr
    assert "between 0 and 1" in result.stderr
    assert not any(tmp_path.iterdir())


# -- a day's shape ------------------------------------------------------------------------------


def test_a_profile_gives_each_hour_its_share_of_the_events():
    per_hour = tuple(100 * w for w in BUSINESS_DAY)
    count = events_in(START, SPAN, per_hour)
    assert count == round(sum(per_hour))
    lines = list(timed_lines(count, seed=3, start=START, span=SPAN, profile=per_hour))
    hours = [0] * 24
    for t, _ in lines:
        hours[(t // 3_600_000_000_000) % 24] += 1
    assert len(lines) == count
    for hour, weight in enumerate(per_hour):  # each hour within a session's spill of its share
        assert abs(hours[hour] - weight) <= max(25, 0.25 * weight), (hour, hours)
    assert min(hours[9:16]) > 5 * max(hours[0:5])


def test_without_a_profile_the_lines_are_those_of_generate_lines():
    timed = list(timed_lines(800, seed=9, start=START, malformed_rate=0.01))
    assert [line for _, line in timed] == list(
        generate_lines(800, seed=9, start=START, malformed_rate=0.01)
    )
    assert [t for t, _ in timed] == sorted(t for t, _ in timed)


def test_pack_objects_is_how_generate_objects_packs():
    timed = timed_lines(700, seed=4, start=START, span=timedelta(hours=3))
    assert list(pack_objects(timed, 4, events_per_object=100)) == list(
        generate_objects(700, 4, events_per_object=100, start=START, span=timedelta(hours=3))
    )


def test_a_profile_is_24_positive_weights():
    for bad in [(1.0,) * 23, (0.0,) + (1.0,) * 23]:
        with pytest.raises(ValueError, match="24 positive weights"):
            list(timed_lines(5, start=START, profile=bad))
