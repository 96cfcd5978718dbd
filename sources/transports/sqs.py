"""Amazon SQS: messages whose bodies are log records (raw events pushed by a producer)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sources import aws
from sources.forms import SqsSourceForm
from sources.transports import iam
from sources.transports.base import (
    Check,
    CheckFailed,
    Transport,
    aws_error,
    error_code,
    partition_of,
    role_name_for,
)


class QueueCreationError(Exception):
    pass


class SqsTransport(Transport):
    key = "sqs"
    label = "Amazon SQS"
    icon = "img/transport-sqs.svg"
    summary = "Receive log records as SQS messages (the console can create the queue)."
    form_class = SqsSourceForm
    form_template = "sources/partials/form_sqs.html"

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
        """Create the queue when the user asked for it; raises QueueCreationError with a message."""
        if form.cleaned_data.get("queue_mode") != "create":
            return config
        name = form.cleaned_data["queue_name"]
        sqs = aws.client("sqs", region=config["region"], role_arn=config.get("role_arn"))
        try:
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            doc = self.queue_policy(arn, config)
            if doc:
                sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(doc)})
        except (ClientError, BotoCoreError) as exc:
            hint = (
                "a queue with that name exists with other settings: use it as an existing queue"
                if error_code(exc) == "QueueAlreadyExists"
                else "check the region and that the console's credentials may sqs:CreateQueue"
            )
            raise QueueCreationError(
                f"Could not create queue {name}: {aws_error(exc)} — {hint}."
            ) from exc
        return {**config, "queue_url": url, "created_by_console": True}

    @staticmethod
    def queue_policy(queue_arn: str, config: dict[str, Any]) -> dict | None:
        """Who may send: the listed principals, and anyone acting for the listed source ARNs."""
        principals = config.get("allowed_principal_arns") or []
        sources = config.get("allowed_source_arns") or []
        statements = []
        if principals:
            statements.append(
                {
                    "Sid": "AllowedPrincipalsSend",
                    "Effect": "Allow",
                    "Principal": {"AWS": principals},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                }
            )
        if sources:
            statements.append(
                {
                    "Sid": "AllowedSourcesSend",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnLike": {"aws:SourceArn": sources}},
                }
            )
        return iam.policy(statements) if statements else None

    def describe(self, config: dict[str, Any]) -> list[tuple[str, str]]:
        created = " (created by the console)" if config.get("created_by_console") else ""
        rows = [
            ("Queue", f"{config.get('queue_url')}{created}"),
            ("Region", config.get("region", "")),
        ]
        senders = [
            *config.get("allowed_principal_arns", []),
            *config.get("allowed_source_arns", []),
        ]
        if senders:
            rows.append(("Allowed senders", ", ".join(senders)))
        return rows

    def resource(self, config: dict[str, Any]) -> str:
        return f"the queue {config.get('queue_url')}"

    # --- verification --------------------------------------------------------------------------
    def checks(self, config: dict[str, Any]) -> Iterator[tuple[str, Check]]:
        if config.get("role_arn"):
            yield "Assume role", self.assume_role_check(config)
        state: dict[str, Any] = {}
        yield "Queue reachable", self._queue_attributes(config, state)
        yield "Queue policy", self._queue_policy(config, state)

    def _sqs(self, config):
        return aws.client("sqs", region=config.get("region"), role_arn=config.get("role_arn"))

    def _queue_attributes(self, config, state) -> Check:
        url = config["queue_url"]

        def check() -> str:
            try:
                attrs = self._sqs(config).get_queue_attributes(
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

    def _queue_policy(self, config, state) -> Check:
        def check() -> str:
            raw = state.get("Policy")
            wanted = [
                *config.get("allowed_principal_arns", []),
                *config.get("allowed_source_arns", []),
            ]
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
    def role_policy(self, config: dict[str, Any]) -> dict:
        arn = iam.queue_arn(config["queue_url"], config["region"], partition_of(config))
        return iam.policy([iam.statement("ReceiveLogMessages", iam.SQS_READ_ACTIONS, [arn])])

    def cloudformation(self, name: str, config: dict[str, Any]) -> str:
        arn = iam.queue_arn(config["queue_url"], config["region"], partition_of(config))
        extra: dict[str, Any] = {}
        doc = self.queue_policy(arn, config)
        if doc:
            extra["SendersQueuePolicy"] = {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {"Queues": [config["queue_url"]], "PolicyDocument": doc},
            }
        return iam.render_cloudformation(
            description=f"Sluice read-only role for log source {name} (queue {arn})",
            role_name=role_name_for(name, config),
            default_principal=f"arn:{partition_of(config)}:iam::{iam.queue_account(config['queue_url'])}:root",
            role_policy=self.role_policy(config),
            extra_resources=extra,
            notes=[f"Sluice: receive log messages from {arn} for the source '{name}'."],
        )

    def terraform(self, name: str, config: dict[str, Any]) -> str:
        arn = iam.queue_arn(config["queue_url"], config["region"], partition_of(config))
        blocks = []
        doc = self.queue_policy(arn, config)
        if doc:
            blocks.append(
                'resource "aws_sqs_queue_policy" "senders" {\n'
                f"  queue_url = {iam.hcl_string(config['queue_url'])}\n"
                f"  policy    = {iam.hcl_policy(doc)}\n}}"
            )
        return iam.render_terraform(
            source_name=name,
            role_name=role_name_for(name, config),
            default_principal=f"arn:{partition_of(config)}:iam::{iam.queue_account(config['queue_url'])}:root",
            region=config.get("region") or "us-east-1",
            role_policy=self.role_policy(config),
            extra_blocks=blocks,
        )
