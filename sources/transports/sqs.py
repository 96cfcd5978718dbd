"""Amazon SQS: messages whose bodies are log records (raw events pushed by a producer).

Each message is its own origin (queue name + message id), so redelivered messages store nothing
twice; a batch's messages are deleted in one call after they are committed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django import forms

from sources.forms import ListField, log_type_choices
from sources.transports import aws, iam
from sources.transports.aws import (
    AwsSettings,
    AwsSourceForm,
    AwsTransport,
    aws_error,
    error_code,
    role_name_for,
)
from sources.transports.base import (
    Activity,
    Check,
    CheckFailed,
    PassPolicy,
    PassResult,
    PrepareFailed,
    QueueCounts,
    Settings,
    SettingsError,
    Work,
)
from sources.validators import (
    parse_queue_url,
    validate_principal_or_source_arn,
    validate_queue_name,
)


# --- settings ------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class SqsSettings(AwsSettings):
    queue_url: str = ""
    created_by_console: bool = False
    allowed_principal_arns: tuple[str, ...] = ()
    allowed_source_arns: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SqsSettings:
        queue_url = str(config.get("queue_url") or "")
        try:
            return cls(
                **Settings.common(config),
                region=str(
                    config.get("region") or aws.region_of_queue(queue_url) or aws.DEFAULT_REGION
                ),
                role_arn=str(config.get("role_arn") or ""),
                queue_url=queue_url,
                created_by_console=bool(config.get("created_by_console")),
                allowed_principal_arns=tuple(config.get("allowed_principal_arns") or ()),
                allowed_source_arns=tuple(config.get("allowed_source_arns") or ()),
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, SettingsError):
                raise
            raise SettingsError(f"SQS settings: {exc}") from exc

    @property
    def senders(self) -> list[str]:
        return [*self.allowed_principal_arns, *self.allowed_source_arns]


# --- form ----------------------------------------------------------------------------------------
class SqsSourceForm(AwsSourceForm):
    log_types = forms.MultipleChoiceField(
        label="Log types", choices=log_type_choices, widget=forms.CheckboxSelectMultiple
    )
    queue_mode = forms.ChoiceField(
        label="Queue",
        choices=[("existing", "Use an existing queue"), ("create", "Create the queue for me")],
        initial="existing",
        widget=forms.RadioSelect,
    )
    queue_url = forms.CharField(label="Queue URL", required=False)
    queue_name = forms.CharField(
        label="New queue name",
        required=False,
        max_length=80,
        validators=[validate_queue_name],
        help_text="The console creates it in the region above when you continue.",
    )
    allowed_principal_arns = ListField(
        label="AWS principals allowed to send",
        item_validator=validate_principal_or_source_arn,
        help_text="One ARN or account ID per line; written into the queue policy.",
    )
    allowed_source_arns = ListField(
        label="Source ARNs allowed to send",
        item_validator=validate_principal_or_source_arn,
        help_text="One ARN per line, e.g. an SNS topic or S3 bucket (aws:SourceArn condition).",
    )

    CONDITIONAL = ("envelope", "queue_url", "queue_name")
    field_order = [
        "name", "log_types", "queue_mode", "queue_url", "queue_name", "region", "role_arn",
        "stream_type", "envelope", "allowed_principal_arns", "allowed_source_arns",
    ]  # fmt: skip

    def clean_queue_url(self) -> str:
        url = self.cleaned_data.get("queue_url", "").strip()
        if url:
            region, _account, _name = parse_queue_url(url)
            self._queue_region = region
        return url

    def clean(self):
        cleaned = super().clean()
        mode = cleaned.get("queue_mode")
        if mode == "existing" and not cleaned.get("queue_url") and "queue_url" not in self.errors:
            self.add_error("queue_url", "Enter the URL of the queue, or let the console create it.")
        if mode == "create" and not cleaned.get("queue_name") and "queue_name" not in self.errors:
            self.add_error("queue_name", "Name the queue the console should create.")
        region = getattr(self, "_queue_region", None)
        if mode == "existing" and region and cleaned.get("region") and region != cleaned["region"]:
            self.add_error("region", f"The queue URL is in {region}: pick {region}.")
        return cleaned


# --- the transport -------------------------------------------------------------------------------
class SqsTransport(AwsTransport):
    key = "sqs"
    label = "Amazon SQS"
    icon = "img/transport-sqs.svg"
    summary = "Receive log records as SQS messages (the console can create the queue)."
    form_class = SqsSourceForm
    form_template = "sources/partials/form_sqs.html"
    settings_class = SqsSettings
    no_objects_text = "Messages are read as they arrive; no objects to list."
    permissions_note = (
        "Deploy one of these in the AWS account that owns the queue. They create an IAM role "
        "that can only receive from this source's queue. Paste the role ARN they output into the "
        "source's settings, or let the worker use its own credentials."
    )

    # --- settings ------------------------------------------------------------------------------
    def settings(self, config) -> SqsSettings:
        return SqsSettings.from_config(config or {})

    # --- forms and config ----------------------------------------------------------------------
    def initial(self, config: dict, name: str, log_types) -> dict[str, Any]:
        return {
            "name": name,
            "log_types": list(log_types),
            "queue_mode": "existing",
            **{k: v for k, v in config.items() if k != "created_by_console"},
        }

    def config_from(self, form: SqsSourceForm) -> dict[str, Any]:
        data = form.cleaned_data
        return {
            "queue_url": data["queue_url"],
            "region": data["region"],
            "role_arn": data["role_arn"],
            "stream_type": data["stream_type"],
            "envelope": data["envelope"],
            "created_by_console": False,
            "allowed_principal_arns": data["allowed_principal_arns"],
            "allowed_source_arns": data["allowed_source_arns"],
        }

    def log_types_from(self, form: SqsSourceForm) -> list[str]:
        return list(form.cleaned_data["log_types"])

    def form_data_from(self, name: str, log_types: list[str], config: dict) -> dict[str, Any]:
        create = bool(config.get("queue_name")) and not config.get("queue_url")
        return {
            "name": name,
            "log_types": list(log_types),
            "queue_mode": "create" if create else "existing",
            "queue_url": config.get("queue_url", ""),
            "queue_name": config.get("queue_name", ""),
            "region": config.get("region", "us-east-1"),
            "role_arn": config.get("role_arn", ""),
            "stream_type": config.get("stream_type", "auto"),
            "envelope": config.get("envelope", ""),
            "allowed_principal_arns": "\n".join(config.get("allowed_principal_arns") or []),
            "allowed_source_arns": "\n".join(config.get("allowed_source_arns") or []),
        }

    def prepare(self, form: SqsSourceForm, config: dict[str, Any]) -> dict[str, Any]:
        """Create the queue when the user asked for it (PrepareFailed on `queue_name` if not)."""
        if form.cleaned_data.get("queue_mode") != "create":
            return config
        name = form.cleaned_data["queue_name"]
        settings = self.settings(config)
        sqs = settings.fresh_client("sqs")
        try:
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            doc = self.queue_policy(arn, settings)
            if doc:
                sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(doc)})
        except (ClientError, BotoCoreError) as exc:
            hint = (
                "a queue with that name exists with other settings: use it as an existing queue"
                if error_code(exc) == "QueueAlreadyExists"
                else "check the region and that the console's credentials may sqs:CreateQueue"
            )
            raise PrepareFailed(
                "queue_name", f"Could not create queue {name}: {aws_error(exc)} — {hint}."
            ) from exc
        return {**config, "queue_url": url, "created_by_console": True}

    def admin_refusal(self, form: SqsSourceForm) -> str | None:
        if not form.cleaned_data.get("queue_url"):
            return "queue_url: the admin cannot create queues; use the wizard."
        return None

    @staticmethod
    def queue_policy(queue_arn: str, settings: SqsSettings) -> dict | None:
        """Who may send: the listed principals, and anyone acting for the listed source ARNs."""
        statements = []
        if settings.allowed_principal_arns:
            statements.append(
                {
                    "Sid": "AllowedPrincipalsSend",
                    "Effect": "Allow",
                    "Principal": {"AWS": list(settings.allowed_principal_arns)},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                }
            )
        if settings.allowed_source_arns:
            statements.append(
                {
                    "Sid": "AllowedSourcesSend",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnLike": {"aws:SourceArn": list(settings.allowed_source_arns)}},
                }
            )
        return iam.policy(statements) if statements else None

    def describe(self, settings: SqsSettings) -> list[tuple[str, str]]:
        created = " (created by the console)" if settings.created_by_console else ""
        rows = [("Queue", f"{settings.queue_url}{created}"), ("Region", settings.region)]
        if settings.senders:
            rows.append(("Allowed senders", ", ".join(settings.senders)))
        return rows + super().describe(settings)

    def resource(self, settings: SqsSettings) -> str:
        return f"the queue {settings.queue_url}"

    def location(self, settings: SqsSettings) -> str:
        return settings.queue_url

    # --- discovering and reading -------------------------------------------------------------
    def passes(self, settings: SqsSettings) -> PassPolicy | None:
        return aws.receive_policy() if settings.queue_url else None

    def activity(self, settings: SqsSettings) -> Activity:
        return Activity(receiving="Receiving from the queue", reading="Reading messages")

    def queue_counts(self, settings: SqsSettings) -> QueueCounts | None:
        if not settings.queue_url:
            return None
        return aws.queue_counts(settings.client("sqs"), settings.queue_url)

    def receive_pass(self, source, settings: SqsSettings, work: Work) -> PassResult:
        """Receive batches of messages and hand each batch out as one unit."""
        queue_url = settings.queue_url

        def hand_out(batch: list[aws.Message]) -> int:
            work.hand_out({"queue_url": queue_url, "messages": [m.as_dict() for m in batch]})
            return len(batch)

        client = settings.client("sqs")
        return PassResult(aws.receive_pass(client, queue_url, work, hand_out), noun="messages")

    def handle(self, source, settings: SqsSettings, unit: dict[str, Any], work: Work) -> dict:
        """Store the events of each message of a batch, then delete them all."""
        queue_url, messages = unit["queue_url"], unit["messages"]
        events = 0
        origin_key = f"sqs://{aws.queue_name(queue_url)}"
        for message in messages:
            body = aws.unwrap_sns(message["body"])
            data = body.encode("utf-8", "surrogateescape") if isinstance(body, str) else body
            if not data.strip():
                work.store_empty(origin_key=origin_key, version=message["message_id"])
                continue
            outcome = work.read_body(
                data,
                origin_key=origin_key,
                version=message["message_id"],
                log_types=source.log_types,
            )
            events += outcome.events
        aws.delete(settings.client("sqs"), queue_url, [m["receipt_handle"] for m in messages])
        return {"messages": len(messages), "events": events}

    # --- verification --------------------------------------------------------------------------
    def checks(self, settings: SqsSettings) -> Iterator[tuple[str, Check]]:
        if settings.role_arn:
            yield "Assume role", self.assume_role_check(settings)
        state: dict[str, Any] = {}
        yield "Queue reachable", self._queue_attributes(settings, state)
        yield "Queue policy", self._queue_policy(settings, state)

    def _queue_attributes(self, settings: SqsSettings, state) -> Check:
        url = settings.queue_url

        def check() -> str:
            try:
                attrs = settings.fresh_client("sqs").get_queue_attributes(
                    QueueUrl=url, AttributeNames=["All"]
                )["Attributes"]
            except (ClientError, BotoCoreError) as exc:
                code = error_code(exc)
                if code in {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}:
                    message = f"Queue {url} does not exist — check the URL and the region."
                else:
                    message = (
                        f"Queue {url} is not reachable — check the URL, the region and the "
                        "role's sqs:GetQueueAttributes permission."
                    )
                raise CheckFailed(message, aws_error(exc)) from exc
            state.update(attrs)
            waiting = attrs.get("ApproximateNumberOfMessages", "0")
            return f"Queue {attrs.get('QueueArn')} is reachable ({waiting} messages waiting)."

        check.stops = True  # type: ignore[attr-defined]
        return check

    def _queue_policy(self, settings: SqsSettings, state) -> Check:
        def check() -> str:
            raw = state.get("Policy")
            wanted = settings.senders
            if not raw:
                if wanted:
                    raise CheckFailed(
                        "The queue has no access policy, so "
                        + ", ".join(wanted)
                        + " cannot send to it — add the queue policy from the templates."
                    )
                return "No queue policy: only principals of the queue's own account can send."
            text = json.dumps(json.loads(raw))
            missing = [arn for arn in wanted if arn not in text]
            if missing:
                raise CheckFailed(
                    "The queue policy does not mention "
                    + ", ".join(missing)
                    + " — they cannot send; update the queue policy."
                )
            return (
                "The queue policy lets "
                + (", ".join(wanted) or "its statements' principals")
                + " send."
            )

        return check

    # --- IAM templates -------------------------------------------------------------------------
    def _queue_arn(self, settings: SqsSettings) -> str:
        if not settings.queue_url:
            raise SettingsError("the queue URL is needed for the templates")
        return iam.queue_arn(settings.queue_url, settings.region, settings.partition)

    def _principal(self, settings: SqsSettings) -> str:
        return f"arn:{settings.partition}:iam::{iam.queue_account(settings.queue_url)}:root"

    def role_policy(self, settings: SqsSettings) -> dict:
        arn = self._queue_arn(settings)
        return iam.policy([iam.statement("ReceiveLogMessages", iam.SQS_READ_ACTIONS, [arn])])

    def cloudformation(self, name: str, settings: SqsSettings) -> str:
        arn = self._queue_arn(settings)
        extra: dict[str, Any] = {}
        doc = self.queue_policy(arn, settings)
        if doc:
            extra["SendersQueuePolicy"] = {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {"Queues": [settings.queue_url], "PolicyDocument": doc},
            }
        return iam.render_cloudformation(
            description=f"Sluice read-only role for log source {name} (queue {arn})",
            role_name=role_name_for(name, settings),
            default_principal=self._principal(settings),
            role_policy=self.role_policy(settings),
            extra_resources=extra,
            notes=[f"Sluice: receive log messages from {arn} for the source '{name}'."],
        )

    def terraform(self, name: str, settings: SqsSettings) -> str:
        arn = self._queue_arn(settings)
        blocks = []
        doc = self.queue_policy(arn, settings)
        if doc:
            blocks.append(
                'resource "aws_sqs_queue_policy" "senders" {\n'
                f"  queue_url = {iam.hcl_string(settings.queue_url)}\n"
                f"  policy    = {iam.hcl_policy(doc)}\n}}"
            )
        return iam.render_terraform(
            source_name=name,
            role_name=role_name_for(name, settings),
            default_principal=self._principal(settings),
            region=settings.region,
            role_policy=self.role_policy(settings),
            extra_blocks=blocks,
        )
