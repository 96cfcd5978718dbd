"""Reading SQS bodies: S3 notifications plain and SNS-wrapped, test events, encoded keys."""

import json

import pytest

from sources.transports.aws import unwrap_sns
from sources.transports.base import ObjectRef
from sources.transports.s3.notifications import NotANotification, dedupe, parse_s3_notification


def s3_event(key: str, *, etag: str = "abc123", version_id: str | None = None, name="Put"):
    obj = {"key": key, "size": 42, "eTag": etag}
    if version_id:
        obj["versionId"] = version_id
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": f"ObjectCreated:{name}",
                "s3": {"bucket": {"name": "teleport-audit"}, "object": obj},
            }
        ]
    }


def sns(message: dict) -> str:
    return json.dumps({"Type": "Notification", "MessageId": "m-1", "Message": json.dumps(message)})


def test_a_plain_notification_names_the_object_with_its_key_decoded():
    refs = parse_s3_notification(json.dumps(s3_event("teleport/2026/11/27/a+b%3Dc.json.gz")))

    assert refs == [
        ObjectRef("teleport-audit", "teleport/2026/11/27/a b=c.json.gz", "abc123", None, 42)
    ]


def test_an_sns_wrapped_notification_is_unwrapped():
    refs = parse_s3_notification(sns(s3_event("teleport/x.json")))

    assert [r.key for r in refs] == ["teleport/x.json"]


def test_the_version_id_keys_the_object_when_the_bucket_is_versioned():
    (ref,) = parse_s3_notification(json.dumps(s3_event("k", version_id="v7")))

    assert (ref.version, ref.version_id) == ("v7", "v7")


def test_the_s3_test_event_names_no_object():
    body = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "teleport-audit"}

    assert parse_s3_notification(json.dumps(body)) == []
    assert parse_s3_notification(sns(body)) == []


def test_removal_events_name_no_object():
    event = s3_event("k")
    event["Records"][0]["eventName"] = "ObjectRemoved:Delete"

    assert parse_s3_notification(json.dumps(event)) == []


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"hello": "world"}'])
def test_a_body_that_is_no_notification_is_refused_with_a_reason(body):
    with pytest.raises(NotANotification):
        parse_s3_notification(body)


def test_repeated_notifications_of_one_version_collapse():
    refs = parse_s3_notification(json.dumps(s3_event("k"))) * 2
    refs += parse_s3_notification(json.dumps(s3_event("k", etag="other")))

    assert [r.version for r in dedupe(refs)] == ["abc123", "other"]


def test_unwrap_sns_leaves_other_bodies_alone():
    assert unwrap_sns('{"event": "user.login"}') == '{"event": "user.login"}'
    assert unwrap_sns("a line\nanother") == "a line\nanother"
    assert unwrap_sns(sns({"event": "x"})) == '{"event": "x"}'
