"""PantherEvent: a read-only mapping with Panther's get/deep_get over the normalized event."""

import json

import pytest

from detections.core import ImmutableDict, ImmutableList, PantherEvent, deep_get

EVENT = {
    "event": "cert.create",
    "identity": {"user": "alice", "roles": ["access", "editor"], "traits": {"logins": None}},
    "argv": ["-l", "-p", "80"],
    "empty": None,
}


def test_get_returns_scalars_and_the_default_for_a_missing_key():
    event = PantherEvent(EVENT)
    assert event.get("event") == "cert.create"
    assert event["event"] == "cert.create"
    assert event.get("missing") is None
    assert event.get("missing", "<UNKNOWN>") == "<UNKNOWN>"
    assert "event" in event
    assert len(event) == len(EVENT)


def test_nested_objects_and_arrays_are_read_only_views():
    event = PantherEvent(EVENT)
    identity = event.get("identity")
    argv = event.get("argv")
    assert isinstance(identity, ImmutableDict)
    assert isinstance(argv, ImmutableList)
    with pytest.raises(TypeError):
        identity["user"] = "mallory"
    with pytest.raises(AttributeError):
        argv.append("x")
    with pytest.raises(TypeError):
        event["event"] = "other"
    assert EVENT["identity"]["user"] == "alice"


def test_arrays_compare_equal_to_lists_and_support_membership():
    argv = PantherEvent(EVENT).get("argv")
    assert argv == ["-l", "-p", "80"]
    assert argv != ["-l"]
    assert "-l" in argv
    assert PantherEvent({"argv": []}).get("argv") == []
    assert not PantherEvent({"argv": []}).get("argv")


def test_deep_get_walks_objects_and_gives_the_default_for_missing_or_null():
    event = PantherEvent(EVENT)
    assert event.deep_get("identity", "user") == "alice"
    assert event.deep_get("identity", "roles") == ["access", "editor"]
    assert event.deep_get("identity", "missing", default="x") == "x"
    assert event.deep_get("identity", "traits", "logins", default=()) == ()
    assert event.deep_get("argv", "0", default="not an object") == "not an object"
    assert event.get("identity").deep_get("traits", "logins") is None
    assert deep_get(EVENT, "identity", "user") == "alice"


def test_to_dict_gives_plain_json_ready_data():
    copy = PantherEvent(EVENT).get("identity").to_dict()
    assert copy == EVENT["identity"]
    assert json.loads(json.dumps(copy)) == copy
    copy["user"] = "changed"
    assert EVENT["identity"]["user"] == "alice"
