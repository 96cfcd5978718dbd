"""events.store.write_batch: one writer, idempotent by row id, on SQLite and PostgreSQL."""

import pytest

from events.models import Event, Failure
from events.store import write_batch
from parsers import Classifier, Origin, ParsedEvent, default_registry, parse_stream
from tests.factories import SourceFactory

GOOD = (
    b'{"event":"user.login","code":"T1000I","time":"2026-11-27T10:00:00Z",'
    b'"user":"alice","addr.remote":"203.0.113.7:51234","success":true,"uid":"u-1"}\n'
)
BAD = b'{"event": "user.lo\n'


def parse(body: bytes, source_id: int, key: str = "k.json", version: str = "v1"):
    classifier = Classifier([default_registry().get("Gravitational.TeleportAudit")])
    results = list(
        parse_stream(body, classifier=classifier, origin=Origin(str(source_id), key, version))
    )
    events = [r for r in results if isinstance(r, ParsedEvent)]
    failures = [r for r in results if not isinstance(r, ParsedEvent)]
    return events, failures


@pytest.fixture
def source(db):
    return SourceFactory()


def test_a_batch_stores_its_events_and_failures(source):
    events, failures = parse(GOOD * 3 + BAD, source.pk)

    result = write_batch(
        events, failures, source_id=source.pk, object_key="k.json", object_version="v1"
    )

    assert (result.inserted, result.duplicates, result.failures) == (3, 0, 1)
    assert result.by_log_type == {"Gravitational.TeleportAudit": 3}
    assert Event.objects.filter(source=source).count() == 3
    stored = Event.objects.order_by("line").first()
    assert stored.fields["user"] == "alice"
    assert stored.object_key == "k.json"
    assert "203.0.113.7" in stored.p_any_ip_addresses
    assert Event.objects.filter(p_any__has="ip:203.0.113.7").count() == 3
    failure = Failure.objects.get()
    assert (failure.line, failure.raw_text) == (4, BAD.decode().strip())


def test_writing_the_same_batch_again_changes_nothing(source):
    events, failures = parse(GOOD * 3 + BAD, source.pk)
    write_batch(events, failures, source_id=source.pk, object_key="k.json", object_version="v1")

    again = write_batch(
        events, failures, source_id=source.pk, object_key="k.json", object_version="v1"
    )

    assert (again.inserted, again.duplicates, again.failures) == (0, 3, 0)
    assert Event.objects.count() == 3
    assert Failure.objects.count() == 1


def test_a_partly_stored_batch_inserts_only_what_is_missing(source):
    events, _ = parse(GOOD * 5, source.pk)
    write_batch(events[:2], [], source_id=source.pk, object_key="k.json", object_version="v1")

    result = write_batch(events, [], source_id=source.pk, object_key="k.json", object_version="v1")

    assert (result.inserted, result.duplicates) == (3, 2)
    assert sorted(Event.objects.values_list("line", flat=True)) == [1, 2, 3, 4, 5]


def test_another_object_version_is_a_different_event(source):
    first, _ = parse(GOOD, source.pk, version="v1")
    second, _ = parse(GOOD, source.pk, version="v2")

    write_batch(first, [], source_id=source.pk, object_key="k.json", object_version="v1")
    result = write_batch(second, [], source_id=source.pk, object_key="k.json", object_version="v2")

    assert result.inserted == 1
    assert Event.objects.count() == 2


def test_awkward_text_survives_the_copy_format(source):
    from datetime import UTC, datetime

    awkward = 'tab\there "quoted" back\\slash\nnew line {braces},comma'
    event = ParsedEvent(
        row_id="f" * 32,
        log_type="Gravitational.TeleportAudit",
        event_time=datetime(2026, 11, 27, 10, tzinfo=UTC),
        parse_time=datetime(2026, 11, 27, 10, 1, tzinfo=UTC),
        fields={"user": awkward, "login": "root"},
        extra={"note": "back\\slash"},
        indicators={"p_any_usernames": sorted([awkward, "root"]), "p_any_emails": []},
        warnings=0,
        line=1,
    )

    write_batch([event], [], source_id=source.pk, object_key="odd\tkey", object_version="v\\1")

    stored = Event.objects.get()
    assert stored.fields["user"] == awkward
    assert stored.p_extra == {"note": "back\\slash"}
    assert stored.p_any_usernames == sorted([awkward, "root"])
    assert (stored.object_key, stored.object_version) == ("odd\tkey", "v\\1")
    assert Event.objects.filter(p_any__has=f"username:{awkward}").count() == 1
