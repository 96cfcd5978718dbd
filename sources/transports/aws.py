"""What the AWS transports (S3, SQS) share: region and role settings and form fields, the checks'
error handling, role names for the templates, cached clients, and receiving from an SQS queue.

Not a transport itself (the registry lists the transports).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
from botocore.exceptions import BotoCoreError, ClientError
from django import forms
from django.conf import settings as django_settings

from sources import aws
from sources.forms import SourceSettingsForm
from sources.transports.base import (
    RECEIVE,
    Check,
    CheckFailed,
    PassPolicy,
    QueueCounts,
    Settings,
    Transport,
    Work,
)
from sources.validators import validate_role_arn

REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1",
    "eu-south-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1",
    "ap-southeast-2", "me-central-1", "af-south-1",
]  # fmt: skip
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True, kw_only=True)
class AwsSettings(Settings):
    region: str = DEFAULT_REGION
    role_arn: str = ""

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    def client(self, service: str, *, region: str | None = None) -> Any:
        """A boto3 client for this source's account (kept for a while in this process)."""
        return aws.cached_client(service, region=region or self.region, role_arn=self.role_arn)

    def fresh_client(self, service: str, *, region: str | None = None) -> Any:
        """A new client (verification: checks what the role can do now)."""
        return aws.client(service, region=region or self.region, role_arn=self.role_arn or None)


class AwsSourceForm(SourceSettingsForm):
    """Fields every AWS transport has."""

    region = forms.ChoiceField(choices=[(r, r) for r in REGIONS], initial=DEFAULT_REGION)
    role_arn = forms.CharField(
        label="IAM role ARN to assume",
        required=False,
        validators=[validate_role_arn],
        help_text="Optional. Without one, the worker's own AWS credentials are used.",
    )


def aws_error(exc: Exception) -> str:
    """The raw error text shown folded under a failed check."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
        return f"{err.get('Code', 'Error')} (HTTP {status}): {err.get('Message', '') or exc}"
    return f"{type(exc).__name__}: {exc}"


def error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "source"


def role_name_for(name: str, settings: AwsSettings) -> str:
    """The role the templates create: the one named in role_arn, else sluice-<source>-reader."""
    if settings.role_arn:
        return settings.role_arn.rsplit("/", 1)[-1]
    return f"sluice-{slug(name)}-reader"[:64]


class AwsTransport(Transport):
    """Base of the AWS transports: AWS errors fail a check; IAM templates; a role check."""

    has_templates: ClassVar[bool] = True
    permissions_note: ClassVar[str] = (
        "Deploy one of these in the AWS account that owns the data. They create an IAM role "
        "that can only read this source; paste the role ARN they output into the source's "
        "settings, or let the worker use its own credentials."
    )
    verify_intro: ClassVar[str] = "Sluice checks with AWS that it can read"

    def check_error(self, exc: Exception) -> CheckFailed | None:
        if isinstance(exc, ClientError | BotoCoreError):
            return CheckFailed(f"AWS refused: {aws_error(exc)}", aws_error(exc))
        return None

    def describe(self, settings: AwsSettings) -> list[tuple[str, str]]:  # type: ignore[override]
        return [
            *super().describe(settings),
            ("Role", settings.role_arn or "the worker's own credentials"),
        ]

    def assume_role_check(self, settings: AwsSettings) -> Check:
        role_arn = settings.role_arn

        def check() -> str:
            try:
                settings.fresh_client("sts").get_caller_identity()
            except (ClientError, BotoCoreError) as exc:
                raise CheckFailed(
                    f"Could not assume role {role_arn} — check that the role exists and its trust "
                    "policy lets the Sluice worker's principal call sts:AssumeRole.",
                    aws_error(exc),
                ) from exc
            return f"Assumed role {role_arn}."

        check.stops = True  # type: ignore[attr-defined]
        return check


# --- receiving from an SQS queue (S3 notifications and raw events) -------------------------------
def region_of_queue(queue_url: str) -> str:
    host = queue_url.split("//", 1)[-1].split("/", 1)[0]
    parts = host.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "sqs" else ""


def queue_name(queue_url: str) -> str:
    return queue_url.rstrip("/").rsplit("/", 1)[-1]


def visibility_seconds() -> int:
    return int(django_settings.SLUICE_SQS_VISIBILITY_SECONDS)


def queue_counts(client: Any, queue_url: str) -> QueueCounts:
    """The backlog of a queue (one GetQueueAttributes call)."""
    attributes = client.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return QueueCounts(
        visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
    )


def receive_policy() -> PassPolicy:
    """A receive loop: the next pass as soon as one ends. Its lock outlives one long poll by a
    margin and is renewed after each receive, so a receiver killed mid-pass holds its source back
    for that long, not for the whole pass; a queued pass not started within the claim is lost."""
    lock = 2 * int(django_settings.SLUICE_SQS_WAIT_SECONDS) + 10
    return PassPolicy(
        every_seconds=0,
        lock_seconds=lock,
        claim_seconds=int(django_settings.SLUICE_SQS_POLL_SECONDS) + lock + 30,
    )


@dataclass(frozen=True)
class Message:
    message_id: str
    receipt_handle: str
    body: str
    receive_count: int = 1
    sent_at: float = 0.0  # Unix time SQS accepted the message (SentTimestamp)

    def as_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "receipt_handle": self.receipt_handle,
            "body": self.body,
            "receive_count": self.receive_count,
            "sent_at": self.sent_at,
        }


def receive_batch(client: Any, queue_url: str, *, wait: int) -> list[Message]:
    response = client.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=max(0, min(20, wait)),
        VisibilityTimeout=visibility_seconds(),
        MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
    )
    return [_message(m) for m in response.get("Messages", [])]


def _message(raw: dict[str, Any]) -> Message:
    attributes = raw.get("Attributes") or {}
    return Message(
        raw["MessageId"],
        raw["ReceiptHandle"],
        raw["Body"],
        int(attributes.get("ApproximateReceiveCount", 1)),
        int(attributes.get("SentTimestamp", 0)) / 1000,
    )


def oldest_age(batch: list[Message]) -> float:
    """Seconds the oldest message of a receive waited in its queue (0 for an empty receive)."""
    sent = [m.sent_at for m in batch if m.sent_at]
    return max(0.0, time.time() - min(sent)) if sent else 0.0


def receive_for(client: Any, queue_url: str, work: Work) -> Iterator[list[Message]]:
    """Batches of messages, long polling for SLUICE_SQS_POLL_SECONDS (a one-off pass: until the
    first empty receive), or until `work.keep_going()` says the workers have enough. Every
    receive, empty or not, reports progress (the receiver renews its lock and notes its lag)."""
    if work.until_empty:
        seconds, wait = 3600.0, 1
    else:
        seconds = float(django_settings.SLUICE_SQS_POLL_SECONDS)
        wait = int(django_settings.SLUICE_SQS_WAIT_SECONDS)
    deadline = time.monotonic() + seconds
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not work.keep_going():
            return
        batch = receive_batch(client, queue_url, wait=min(wait, int(remaining)))
        work.progress(lag=oldest_age(batch))
        if batch:
            yield batch
        elif work.until_empty:
            return


def receive_pass(client: Any, queue_url: str, work: Work, hand_out) -> int:
    """Receive for one pass, `hand_out(batch)` returning how many units it handed out; a receive
    error is the source's RECEIVE stage error until a pass succeeds."""
    count = 0
    try:
        for batch in receive_for(client, queue_url, work):
            count += hand_out(batch)
    except Exception as exc:
        work.record_error(RECEIVE, f"{type(exc).__name__}: {exc}")
        raise
    work.clear_error(RECEIVE)
    return count


def delete(client: Any, queue_url: str, receipt_handles: list[str]) -> None:
    for start in range(0, len(receipt_handles), 10):
        chunk = receipt_handles[start : start + 10]
        client.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(chunk)],
        )


def postpone(client: Any, queue_url: str, receipt_handle: str, seconds: int) -> None:
    """Make the message visible again after `seconds` (backoff before the next attempt)."""
    client.change_message_visibility(
        QueueUrl=queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=max(0, seconds)
    )


class VisibilityHeartbeat:
    """Called between batches: keeps a long object's message hidden while it is being read."""

    def __init__(self, client: Any, queue_url: str, receipt_handle: str) -> None:
        self.client = client
        self.queue_url = queue_url
        self.receipt_handle = receipt_handle
        self.timeout = visibility_seconds()
        self.last = time.monotonic()

    def __call__(self) -> None:
        now = time.monotonic()
        if now - self.last >= self.timeout / 3:
            postpone(self.client, self.queue_url, self.receipt_handle, self.timeout)
            self.last = now


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
