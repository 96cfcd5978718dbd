"""Reading SQS message bodies: S3 event notifications (plain or SNS-wrapped) and raw events."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import unquote_plus

import orjson


class NotANotification(ValueError):
    """The body is not an S3 event notification (the message is left for the redrive policy)."""


@dataclass(frozen=True)
class ObjectRef:
    """One object version to read. `version` keys the ledger: version id, else the ETag."""

    bucket: str
    key: str
    version: str
    version_id: str | None = None
    size: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def unwrap_sns(body: bytes | str) -> bytes | str:
    """The `Message` of an SNS notification envelope (raw delivery off), else the body itself."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    if isinstance(doc, dict) and doc.get("Type") == "Notification":
        message = doc.get("Message")
        if isinstance(message, str):  # anything else is not an envelope: keep the body
            return message
    return body


def parse_s3_notification(body: bytes | str) -> list[ObjectRef]:
    """Created objects named by an S3 notification; [] for s3:TestEvent and non-create events."""
    inner = unwrap_sns(body)
    try:
        doc = orjson.loads(inner)
    except orjson.JSONDecodeError as exc:
        raise NotANotification(f"message body is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise NotANotification("message body is not a JSON object")
    if doc.get("Event") == "s3:TestEvent":
        return []
    records = doc.get("Records")
    if not isinstance(records, list):
        raise NotANotification("message has no S3 event Records")
    refs = []
    for record in records:
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record.get("s3") or {}
        obj = s3.get("object") or {}
        bucket = (s3.get("bucket") or {}).get("name")
        key = obj.get("key")
        if not bucket or key is None:
            raise NotANotification("S3 record without bucket name or object key")
        version_id = obj.get("versionId") or None
        etag = str(obj.get("eTag") or "").strip('"')
        refs.append(
            ObjectRef(
                bucket=bucket,
                key=unquote_plus(key),
                version=version_id or etag or str(obj.get("sequencer") or ""),
                version_id=version_id,
                size=obj.get("size"),
            )
        )
    return refs


def dedupe(refs: list[ObjectRef]) -> list[ObjectRef]:
    """One ref per object version (multipart uploads announce the same key twice)."""
    seen: dict[tuple[str, str, str], ObjectRef] = {}
    for ref in refs:
        seen.setdefault((ref.bucket, ref.key, ref.version), ref)
    return list(seen.values())
