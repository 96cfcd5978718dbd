"""End to end: hostile objects and messages go through a moto bucket, S3 notifications and a real
Celery worker into the store. Every line is counted (events + failures == lines, matching a local
parse line for line), failed lines keep their exact bytes, and the worker survives all of it."""

import bz2
import gzip
import zlib

import pytest
import zstandard

from devtools.hostile import MB, corpus, gzip_bomb
from events.filters import query_q
from events.models import Event, Failure
from ingestion.models import ObjectLedger
from ingestion.tasks import poll_source
from parsers import Origin, ParsedEvent, default_registry, parse_stream
from sources.models import HourlyStats
from tests.conftest import wait_until
from tests.events import oracle
from tests.factories import SourceFactory
from tests.ingestion.conftest import BUCKET, good_lines, gz, queue_is_empty

from .conftest import report

pytestmark = pytest.mark.e2e
TELEPORT = default_registry().get("Gravitational.TeleportAudit").parser
PREFIX = "hostile/"


@pytest.fixture
def hostile_source(notified_bucket):
    """A Teleport source over the notified bucket, reading JSON lines (so lines can be counted)."""
    return SourceFactory(
        name="hostile",
        config={
            "account_id": "123456789012",
            "bucket": BUCKET,
            "region": "us-east-1",
            "prefixes": [{"prefix": PREFIX, "log_types": ["Gravitational.TeleportAudit"]}],
            "stream_type": "lines",
            "discovery": "notifications",
            "queue_url": notified_bucket,
        },
    )


def put_and_drain(source, s3, sqs, objects: dict[str, bytes]) -> dict[str, ObjectLedger]:
    """Put the objects, then ask the worker for receive passes until every one is settled."""
    expected = ObjectLedger.objects.filter(source=source).count() + len(objects)
    for name, body in objects.items():
        s3.put_object(Bucket=BUCKET, Key=PREFIX + name, Body=body)
    passes = []

    def settled() -> bool:
        ledger = ObjectLedger.objects.filter(source=source).exclude(status="pending")
        if ledger.count() == expected and queue_is_empty(sqs, source.config["queue_url"]):
            return True
        if not passes or passes[-1].ready():
            passes.append(poll_source.delay(source.pk))
        return False

    # 80 MB of huge lines and retries of the wrong-magic object: generous on a loaded CI machine
    wait_until(settled, timeout=300, interval=0.5, what="every hostile object to be settled")
    return {row.key.removeprefix(PREFIX): row for row in ObjectLedger.objects.filter(source=source)}


def local_parse(key: str, body: bytes, **limits):
    """What the parser alone makes of the body: the store must hold exactly this."""
    return list(
        parse_stream(
            body,
            classifier=TELEPORT,
            origin=Origin("local", PREFIX + key, ""),
            stream_type="lines",
            **limits,
        )
    )


def assert_stored_as_parsed(key: str, expected) -> tuple[int, int]:
    events = set(Event.objects.filter(object_key=PREFIX + key).values_list("line", flat=True))
    failures = {f.line: f for f in Failure.objects.filter(object_key=PREFIX + key)}
    assert events == {r.line for r in expected if type(r) is ParsedEvent}
    assert set(failures) == {r.line for r in expected if type(r) is not ParsedEvent}
    for result in expected:
        if type(result) is not ParsedEvent:
            stored = failures[result.line]
            assert bytes(stored.raw) == result.raw  # NUL and invalid UTF-8 survive
            assert (stored.offset, stored.error) == (
                result.offset,
                result.error.replace("\x00", "\\x00"),
            )
    return len(events), len(failures)


HOSTILE_SEARCHES = [
    "user.login",
    "nested:1",
    "x_count>5",
    "ei>=18446744073709551615",
    "time>2026-11-27T00:00:00Z",
    "k0:0",
    r'"\u0000"',  # a NUL is stored as this text
    "-event:* OR p_any_ip_addresses:10.0.0.1",
]


def assert_worker_alive(workers) -> None:
    assert workers.proc.poll() is None
    assert len(workers.children()) == 2  # no pool process died either


def test_every_hostile_line_is_counted_and_kept(workers, hostile_source, s3, sqs):
    workers.start()
    lines = corpus()
    bodies = {f"{name}.jsonl.gz": gz(category) for name, category in lines.items()}
    ledger = put_and_drain(hostile_source, s3, sqs, bodies)

    total_events = total_failures = 0
    for name, category in lines.items():
        key = f"{name}.jsonl.gz"
        row = ledger[key]
        assert row.status == "done", row.error
        events, failures = assert_stored_as_parsed(key, local_parse(key, bodies[key]))
        assert events + failures == len(category) == row.events + row.failures
        total_events += events
        total_failures += failures
        report(
            "corpus",
            name,
            lines=len(category),
            events=events,
            failures=failures,
            outcome="every line counted, failed bytes kept",
        )
    assert total_events + total_failures == sum(map(len, lines.values())) >= 10_000
    over_limit = Failure.objects.filter(error__contains="SLUICE_MAX_LINE_BYTES")
    assert over_limit.count() == 2  # the 20 MB lines, cut to 16 MB and saying their length
    assert all(len(bytes(f.raw)) == 16 * MB for f in over_limit)
    stats = HourlyStats.objects.filter(source=hostile_source)
    assert sum(stats.values_list("events", flat=True)) == total_events
    assert sum(stats.values_list("failures", flat=True)) == total_failures
    stored = list(Event.objects.all())
    for text in HOSTILE_SEARCHES:  # search still answers right over the hostile events stored
        assert Event.objects.filter(query_q(text)).count() == oracle.count(text, stored), text
    assert Event.objects.filter(query_q("blob:A*")).count() == 1  # the 10 MB value is searchable
    assert_worker_alive(workers)


def test_bombs_long_lines_wrong_magic_and_empty_objects(
    workers, hostile_source, s3, sqs, monkeypatch
):
    monkeypatch.setenv("SLUICE_MAX_OBJECT_BYTES", str(4 * MB))
    monkeypatch.setenv("SLUICE_MAX_LINE_BYTES", str(1 * MB))
    workers.start()
    good = good_lines(3, seed=5)
    long_line = b'{"event":"user.login","blob":"' + b"L" * (3 * MB) + b'"}'
    bodies = {
        "bomb-lines.json.gz": gzip_bomb(256 * MB, good[0] + b"\n"),
        "bomb-zeros.json.gz": gzip_bomb(256 * MB),
        "long-line.json.gz": gz([*good, long_line, *good]),
        "wrong-magic.json.gz": b"PK\x03\x04\x14\x00\x00\x00" + bytes(range(256)),
        "empty.json.gz": b"",
        "empty-gzip.json.gz": gzip.compress(b""),
    }
    ledger = put_and_drain(hostile_source, s3, sqs, bodies)
    limits = {"max_object_bytes": 4 * MB, "max_line_bytes": 1 * MB}

    bomb = local_parse("bomb-lines.json.gz", bodies["bomb-lines.json.gz"], **limits)
    events, failures = assert_stored_as_parsed("bomb-lines.json.gz", bomb)
    stopped = Failure.objects.get(object_key=PREFIX + "bomb-lines.json.gz")
    assert stopped.offset == 4 * MB
    assert "SLUICE_MAX_OBJECT_BYTES" in stopped.error
    assert PREFIX + "bomb-lines.json.gz" in stopped.error
    assert events == 4 * MB // len(good[0] + b"\n")
    assert failures == 1
    report(
        "limits",
        "gzip bomb, event lines (256 MB → 4 MB limit)",
        lines=f"{events:,} + the rest",
        events=events,
        failures=failures,
        outcome=f"read to the limit, then 1 failure at offset {stopped.offset}",
    )

    zeros = Failure.objects.get(object_key=PREFIX + "bomb-zeros.json.gz")
    assert (zeros.offset, ledger["bomb-zeros.json.gz"].status) == (4 * MB, "done")
    report(
        "limits",
        "gzip bomb, NUL bytes (256 MB → 4 MB limit)",
        events=0,
        failures=1,
        outcome=f"1 failure at offset {zeros.offset}",
    )

    long = local_parse("long-line.json.gz", bodies["long-line.json.gz"], **limits)
    assert assert_stored_as_parsed("long-line.json.gz", long) == (6, 1)
    cut = Failure.objects.get(object_key=PREFIX + "long-line.json.gz")
    assert (cut.line, bytes(cut.raw)) == (4, long_line[: 1 * MB])
    assert f"record of {len(long_line)} bytes" in cut.error
    assert "long-line.json.gz" in cut.error
    report(
        "limits",
        "3 MB line (1 MB limit)",
        lines=7,
        events=6,
        failures=1,
        outcome="1 failure: first 1 MB kept, real length in the error",
    )

    magic = ledger["wrong-magic.json.gz"]
    assert magic.status == "failed"
    assert "is not gzip data" in magic.error
    assert "50 4b 03 04" in magic.error
    report(
        "objects",
        ".gz key holding zip bytes",
        outcome=f"object failed after {magic.attempts} attempts, the ledger says: not gzip data",
    )

    for key in ("empty.json.gz", "empty-gzip.json.gz"):
        assert (ledger[key].status, ledger[key].events, ledger[key].failures) == ("done", 0, 0)
        report(
            "objects",
            f"empty object ({key})",
            lines=0,
            events=0,
            failures=0,
            outcome="done, counted in the ledger",
        )

    put_and_drain(hostile_source, s3, sqs, {"after.json.gz": gz(good_lines(50, seed=6))})
    assert Event.objects.filter(object_key=PREFIX + "after.json.gz").count() == 50
    assert_worker_alive(workers)


TRUNCATED = {  # compression: (compress, an independent decoder of a cut stream, key suffix)
    "gzip": (
        lambda data: zlib.compress(data, 6, wbits=31),
        lambda data: zlib.decompressobj(wbits=31).decompress(data),
        "gz",
    ),
    "zstd": (
        lambda data: zstandard.ZstdCompressor().compress(data),
        lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
        "zst",
    ),
    "bzip2": (
        lambda data: bz2.compress(data, 1),
        lambda data: bz2.BZ2Decompressor().decompress(data),
        "bz2",
    ),
}


def test_truncated_compressed_objects_keep_every_decodable_line(workers, hostile_source, s3, sqs):
    """Objects cut at several points: events + failures = decodable lines + 1, the object done
    (not retried), the one failure holding the partial last line and the offset of the cut."""
    workers.start()
    text = b"\n".join(good_lines(3000, seed=8)) + b"\n"
    bodies, decodable, cases = {}, {}, {}
    for compression, (compress, decode, suffix) in TRUNCATED.items():
        data = compress(text)
        for percent in (3, 50, 97):
            key = f"cut-{percent}.jsonl.{suffix}"
            bodies[key] = data[: len(data) * percent // 100]
            decodable[key] = decode(bodies[key])
            cases[key] = f"{compression} object of 3,000 lines cut at {percent}%"
    ledger = put_and_drain(hostile_source, s3, sqs, bodies)

    for key, decoded in decodable.items():
        lines = decoded.count(b"\n")
        row = ledger[key]
        assert (row.status, row.attempts) == ("done", 1), row.error
        events, failures = assert_stored_as_parsed(key, local_parse(key, bodies[key]))
        assert events + failures == lines + 1 == row.events + row.failures
        assert events == lines  # every line was a good event
        failure = Failure.objects.get(object_key=PREFIX + key)
        assert bytes(failure.raw) == decoded[decoded.rfind(b"\n") + 1 :]
        assert (failure.line, failure.offset) == (lines + 1, len(decoded))
        assert "data ends early" in failure.error
        report(
            "objects",
            cases[key],
            lines=f"{lines:,} decodable",
            events=events,
            failures=failures,
            outcome="done: every decodable line kept, the cut is 1 failure (partial line, offset)",
        )
    assert_worker_alive(workers)


def test_empty_sqs_messages_are_counted_and_deleted(workers, sqs):
    queue_url = sqs.create_queue(QueueName="hostile-events")["QueueUrl"]
    source = SourceFactory(
        transport="sqs",
        config={"queue_url": queue_url, "region": "us-east-1", "stream_type": "auto"},
    )
    workers.start()
    bodies = [
        '{"Type": "Notification", "Message": ""}',  # SQS refuses an empty body; SNS can carry one
        " \n ",
        '{"Type": "Notification", "Message": 5}',
        '{"Type": "Notification", "Message": null}',
        good_lines(1, seed=7)[0].decode(),
    ]
    for body in bodies:
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)

    def settled() -> bool:
        if (
            Event.objects.filter(source=source).count()
            + Failure.objects.filter(source=source).count()
            >= 5
        ):
            return queue_is_empty(sqs, queue_url)
        poll_source.delay(source.pk).get(timeout=30)
        return False

    wait_until(
        settled, timeout=90, interval=0.5, what="the hostile messages to be read and deleted"
    )
    assert Event.objects.filter(source=source).count() == 1
    failures = Failure.objects.filter(source=source)
    assert failures.filter(error__startswith="empty message").count() == 2
    assert failures.count() == 4
    assert sum(HourlyStats.objects.filter(source=source).values_list("failures", flat=True)) == 4
    report(
        "messages",
        "SQS: empty (SNS), blank, non-string SNS Message ×2, 1 good",
        lines=5,
        events=1,
        failures=4,
        outcome="counted and deleted from the queue",
    )
    assert_worker_alive(workers)
