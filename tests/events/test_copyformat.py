"""The COPY text encoder shared by the events writer and seed_events."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from events.copyformat import EVENT_COLUMNS, array_literal, copy_field, copy_rows
from events.models import Event
from parsers import ParsedEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_copy_text_format_escapes_what_copy_would_misread():
    assert copy_field("a\tb\nc\\d\re") == "a\\tb\\nc\\\\d\\re"
    assert array_literal([]) == "{}"
    assert array_literal(['a"b', "c\\d", "x,y"]) == '{"a\\\\"b","c\\\\\\\\d","x,y"}'


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_copy_rows_round_trip_hostile_values_through_postgresql():
    hostile = 'tab\there "quote" back\\slash\nnewline {brace},comma'
    event = ParsedEvent(
        row_id="0" * 32,
        log_type="Gravitational.TeleportAudit",
        event_time=datetime(2026, 11, 27, 10, tzinfo=UTC),
        parse_time=datetime(2026, 11, 27, 11, tzinfo=UTC),
        fields={"event": hostile, "n": 1},
        extra={"x": hostile},
        indicators={"p_any_usernames": [hostile, "plain"]},
        warnings=0,
        line=7,
    )
    with connection.cursor() as cursor:
        columns = ", ".join(EVENT_COLUMNS)
        with cursor.cursor.copy(f"COPY events_event ({columns}) FROM STDIN") as copy:
            copy.write(copy_rows([event], None, "seed/0.jsonl", ""))
    stored = Event.objects.get(p_row_id="0" * 32)
    assert stored.fields == {"event": hostile, "n": 1}
    assert stored.p_extra == {"x": hostile}
    assert stored.p_any_usernames == [hostile, "plain"]
    assert stored.line == 7
