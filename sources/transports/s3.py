"""AWS S3 Bucket: objects under prefixes, found by S3 event notifications or periodic listing."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.template.defaultfilters import filesizeformat

from sources import aws
from sources.forms import S3SourceForm
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

LIST_PAGE = 100


def is_excluded(key: str, patterns: list[str]) -> bool:
    """Exclusion filters match the whole key or its file name; `*` is the only wildcard."""
    name = key.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(key, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


class S3Transport(Transport):
    key = "s3"
    label = "AWS S3 Bucket"
    icon = "img/transport-s3.svg"
    summary = "Read log files as they land in a bucket (event notifications or listing)."
    form_class = S3SourceForm
    form_template = "sources/partials/form_s3.html"

    # --- forms and config ----------------------------------------------------------------------
    def bind_form(self, data=None, *, config=None, name="", log_types=(), instance=None):
        config = config or {}
        prefixes = config.get("prefixes") or [{"prefix": "", "log_types": list(log_types)}]
        return S3SourceForm(
            data,
            initial=self.initial(config, name, log_types),
            prefixes_initial=prefixes,
            instance=instance,
        )

    def config_from(self, form: S3SourceForm) -> dict[str, Any]:
        data = form.cleaned_data
        listing = data["discovery"] == "listing"
        return {
            "account_id": data["account_id"],
            "bucket": data["bucket"],
            "region": data["region"],
            "kms_key_arn": data["kms_key_arn"],
            "role_arn": data["role_arn"],
            "prefixes": form.prefix_rows(),
            "stream_type": data["stream_type"],
            "envelope": data["envelope"],
            "discovery": data["discovery"],
            "queue_url": "" if listing else data["queue_url"],
            "list_interval_minutes": data["list_interval_minutes"] or 5,
        }

    def log_types_from(self, form: S3SourceForm) -> list[str]:
        names: list[str] = []
        for row in form.prefix_rows():
            names += [n for n in row["log_types"] if n not in names]
        return names

    def form_data_from(self, name: str, log_types: list[str], config: dict) -> dict[str, Any]:
        prefixes = config.get("prefixes") or [{"prefix": "", "log_types": log_types}]
        data: dict[str, Any] = {
            "name": name,
            **{
                key: config.get(key, default)
                for key, default in [
                    ("account_id", ""),
                    ("bucket", ""),
                    ("region", "us-east-1"),
                    ("kms_key_arn", ""),
                    ("role_arn", ""),
                    ("stream_type", "auto"),
                    ("envelope", ""),
                    ("discovery", "listing" if not config.get("queue_url") else "notifications"),
                    ("queue_url", ""),
                    ("list_interval_minutes", 5),
                ]
            },
            "prefixes-TOTAL_FORMS": str(len(prefixes)),
            "prefixes-INITIAL_FORMS": "0",
        }
        for i, row in enumerate(prefixes):
            row = row if isinstance(row, dict) else {"prefix": str(row)}
            data[f"prefixes-{i}-prefix"] = row.get("prefix", "")
            data[f"prefixes-{i}-log_types"] = list(row.get("log_types") or log_types)
            exclude = row.get("exclude") or []
            data[f"prefixes-{i}-exclude"] = (
                "\n".join(exclude) if isinstance(exclude, list) else exclude
            )
        return {k: ("" if v is None else v) for k, v in data.items()}

    def describe(self, config: dict[str, Any]) -> list[tuple[str, str]]:
        prefixes = [
            f"{row.get('prefix') or '(whole bucket)'} → {', '.join(row.get('log_types') or [])}"
            + (f" excluding {', '.join(row['exclude'])}" if row.get("exclude") else "")
            for row in config.get("prefixes") or []
        ]
        found = (
            f"S3 event notifications via {config.get('queue_url')}"
            if config.get("discovery") == "notifications"
            else f"listing every {config.get('list_interval_minutes') or 5} minutes"
        )
        rows = [
            ("Bucket", f"s3://{config.get('bucket')} in {config.get('region')}"),
            ("Account", config.get("account_id", "")),
            ("Prefixes", "; ".join(prefixes)),
            ("New objects", found),
        ]
        if config.get("kms_key_arn"):
            rows.append(("KMS key", config["kms_key_arn"]))
        return rows

    def resource(self, config: dict[str, Any]) -> str:
        return f"the bucket s3://{config.get('bucket')}"

    # --- verification --------------------------------------------------------------------------
    def checks(self, config: dict[str, Any]) -> Iterator[tuple[str, Check]]:
        bucket = config["bucket"]
        if config.get("role_arn"):
            yield "Assume role", self.assume_role_check(config)
        yield "Bucket exists", self._bucket_exists(config)
        yield "Bucket region", self._bucket_region(config)
        for row in config.get("prefixes") or [{"prefix": ""}]:
            label = f"Prefix '{row['prefix']}'" if row.get("prefix") else f"Whole bucket {bucket}"
            yield f"{label}: read one object", self._prefix_readable(config, row)
        if config.get("kms_key_arn"):
            yield "KMS key", self._kms_key(config)
        if config.get("discovery") == "notifications" and config.get("queue_url"):
            yield "Notification queue reachable", self._queue_reachable(config)
            yield "Bucket notifications point at the queue", self._notifications(config)

    def _s3(self, config):
        return aws.client("s3", region=config.get("region"), role_arn=config.get("role_arn"))

    def _bucket_exists(self, config) -> Check:
        bucket, account = config["bucket"], config.get("account_id", "")

        def check() -> str:
            try:
                self._s3(config).head_bucket(Bucket=bucket)
            except ClientError as exc:
                code = error_code(exc)
                if code in {"404", "NoSuchBucket", "NotFound"}:
                    raise CheckFailed(
                        f"Bucket {bucket} does not exist in account {account} — check the name.",
                        aws_error(exc),
                    ) from exc
                if code in {"403", "AccessDenied"}:
                    raise CheckFailed(
                        f"Access to bucket {bucket} is denied — check the role's s3:ListBucket "
                        "permission and the bucket policy.",
                        aws_error(exc),
                    ) from exc
                raise
            return f"Bucket {bucket} exists and can be listed."

        check.stops = True  # type: ignore[attr-defined]
        return check

    def _bucket_region(self, config) -> Check:
        bucket, region = config["bucket"], config.get("region") or "us-east-1"

        def check() -> str:
            location = self._s3(config).get_bucket_location(Bucket=bucket)
            actual = location.get("LocationConstraint") or "us-east-1"
            if actual == "EU":
                actual = "eu-west-1"
            if actual != region:
                raise CheckFailed(
                    f"Bucket {bucket} is in {actual}, not {region} — choose {actual} as the region."
                )
            return f"Bucket {bucket} is in {region}."

        return check

    def _prefix_readable(self, config, row: dict) -> Check:
        bucket, prefix = config["bucket"], row.get("prefix", "")
        exclude = row.get("exclude") or []

        def check() -> str:
            s3 = self._s3(config)
            key = self._first_key(s3, bucket, prefix, exclude)
            if key is None:
                where = f"under prefix '{prefix}'" if prefix else f"in bucket {bucket}"
                hint = "check the prefix" if prefix else "check the bucket"
                extra = " and the exclusion filters" if exclude else ""
                raise CheckFailed(
                    f"No object {where} — {hint}{extra} (or wait until the first log file is "
                    "written)."
                )
            try:
                head = s3.head_object(Bucket=bucket, Key=key)
            except ClientError as exc:
                raise CheckFailed(
                    f"Found {key} but cannot read it — check s3:GetObject on "
                    f"arn:aws:s3:::{bucket}/{prefix}* (and kms:Decrypt if it is encrypted).",
                    aws_error(exc),
                ) from exc
            size = filesizeformat(head.get("ContentLength", 0))
            return f"Read {key} ({size}, {head.get('ContentType') or 'no content type'})."

        return check

    @staticmethod
    def _first_key(s3, bucket: str, prefix: str, exclude: list[str]) -> str | None:
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": LIST_PAGE, "MaxItems": 1000}
        )
        for page in pages:
            for item in page.get("Contents", []):
                if not item["Key"].endswith("/") and not is_excluded(item["Key"], exclude):
                    return item["Key"]
        return None

    def _kms_key(self, config) -> Check:
        key_arn = config["kms_key_arn"]

        def check() -> str:
            region = key_arn.split(":")[3]
            kms = aws.client("kms", region=region, role_arn=config.get("role_arn"))
            try:
                meta = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
            except ClientError as exc:
                raise CheckFailed(
                    f"KMS key {key_arn} cannot be described — check the ARN and that the role may "
                    "use it (kms:Decrypt, kms:DescribeKey in the key policy).",
                    aws_error(exc),
                ) from exc
            if not meta.get("Enabled") or meta.get("KeyState") != "Enabled":
                raise CheckFailed(
                    f"KMS key {key_arn} is {meta.get('KeyState')} — enable it, or objects "
                    "encrypted with it cannot be read."
                )
            return f"KMS key {meta.get('KeyId')} is enabled."

        return check

    def _queue_reachable(self, config) -> Check:
        url = config["queue_url"]

        def check() -> str:
            sqs = aws.client("sqs", region=config.get("region"), role_arn=config.get("role_arn"))
            try:
                attrs = sqs.get_queue_attributes(
                    QueueUrl=url, AttributeNames=["QueueArn", "ApproximateNumberOfMessages"]
                )["Attributes"]
            except (ClientError, BotoCoreError) as exc:
                raise CheckFailed(
                    f"Queue {url} is not reachable — check the URL, the region and the role's "
                    "sqs:GetQueueAttributes permission.",
                    aws_error(exc),
                ) from exc
            waiting = attrs.get("ApproximateNumberOfMessages", "0")
            return f"Queue {attrs['QueueArn']} is reachable ({waiting} messages waiting)."

        check.stops = False  # type: ignore[attr-defined]
        return check

    def _notifications(self, config) -> Check:
        bucket, url = config["bucket"], config["queue_url"]

        def check() -> str:
            arn = iam.queue_arn(url, config.get("region") or "us-east-1", partition_of(config))
            notif = self._s3(config).get_bucket_notification_configuration(Bucket=bucket)
            for entry in notif.get("QueueConfigurations", []):
                events = entry.get("Events", [])
                created = any(e.startswith("s3:ObjectCreated:") for e in events)
                if entry.get("QueueArn") == arn and created:
                    return f"Bucket {bucket} sends ObjectCreated notifications to {arn}."
            raise CheckFailed(
                f"Bucket {bucket} sends no ObjectCreated notifications to {arn} — add an event "
                "notification to the queue (the Terraform template includes one), or choose "
                "listing instead."
            )

        return check

    # --- IAM templates -------------------------------------------------------------------------
    def role_policy(self, config: dict[str, Any]) -> dict:
        part = partition_of(config)
        bucket_arn = f"arn:{part}:s3:::{config['bucket']}"
        prefixes = [row.get("prefix", "") for row in config.get("prefixes") or [{"prefix": ""}]]
        whole = "" in prefixes
        statements = [iam.statement("BucketLocation", ["s3:GetBucketLocation"], [bucket_arn])]
        list_statement = iam.statement("ListLogPrefixes", ["s3:ListBucket"], [bucket_arn])
        if not whole:
            list_statement["Condition"] = {
                "StringLike": {"s3:prefix": sorted({*prefixes, *(p + "*" for p in prefixes)})}
            }
        statements.append(list_statement)
        objects = [f"{bucket_arn}/*"] if whole else [f"{bucket_arn}/{p}*" for p in prefixes]
        statements.append(iam.statement("ReadLogObjects", ["s3:GetObject"], objects))
        if config.get("kms_key_arn"):
            statements.append(
                iam.statement("DecryptLogObjects", ["kms:Decrypt"], [config["kms_key_arn"]])
            )
        if config.get("discovery") == "notifications" and config.get("queue_url"):
            arn = iam.queue_arn(config["queue_url"], config["region"], part)
            statements.append(iam.statement("ReadNotifications", iam.SQS_READ_ACTIONS, [arn]))
        return iam.policy(statements)

    def _notification_queue_policy(self, config: dict[str, Any]) -> dict:
        part = partition_of(config)
        arn = iam.queue_arn(config["queue_url"], config["region"], part)
        return iam.policy(
            [
                {
                    "Sid": "BucketSendsNotifications",
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": arn,
                    "Condition": {
                        "ArnEquals": {"aws:SourceArn": f"arn:{part}:s3:::{config['bucket']}"},
                        "StringEquals": {"aws:SourceAccount": config["account_id"]},
                    },
                }
            ]
        )

    def _with_notification(self, config) -> bool:
        return config.get("discovery") == "notifications" and bool(config.get("queue_url"))

    def cloudformation(self, name: str, config: dict[str, Any]) -> str:
        extra: dict[str, Any] = {}
        notes = [f"Sluice: read-only access to s3://{config['bucket']} for the source '{name}'."]
        if self._with_notification(config):
            extra["NotificationQueuePolicy"] = {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {
                    "Queues": [config["queue_url"]],
                    "PolicyDocument": self._notification_queue_policy(config),
                },
            }
            notes.append(
                "CloudFormation cannot add a notification to an existing bucket: add an "
                "s3:ObjectCreated:* event notification to the queue on the bucket (or use the "
                "Terraform file, which does)."
            )
        return iam.render_cloudformation(
            description=f"Sluice read-only role for log source {name} (bucket {config['bucket']})",
            role_name=role_name_for(name, config),
            default_principal=f"arn:{partition_of(config)}:iam::{config['account_id']}:root",
            role_policy=self.role_policy(config),
            extra_resources=extra,
            notes=notes,
        )

    def terraform(self, name: str, config: dict[str, Any]) -> str:
        blocks = []
        if self._with_notification(config):
            part = partition_of(config)
            arn = iam.queue_arn(config["queue_url"], config["region"], part)
            blocks.append(
                'resource "aws_sqs_queue_policy" "bucket_notifications" {\n'
                f"  queue_url = {iam.hcl_string(config['queue_url'])}\n"
                f"  policy    = {iam.hcl_policy(self._notification_queue_policy(config))}\n}}"
            )
            prefixes = [r.get("prefix", "") for r in config.get("prefixes") or [{"prefix": ""}]]
            if "" in prefixes:
                prefixes = [""]
            queues = "".join(
                "\n  queue {\n"
                f"    queue_arn     = {iam.hcl_string(arn)}\n"
                '    events        = ["s3:ObjectCreated:*"]\n'
                + (f"    filter_prefix = {iam.hcl_string(p)}\n" if p else "")
                + "  }\n"
                for p in prefixes
            )
            blocks.append(
                'resource "aws_s3_bucket_notification" "sluice" {\n'
                f"  bucket = {iam.hcl_string(config['bucket'])}\n"
                f"{queues}"
                "  depends_on = [aws_sqs_queue_policy.bucket_notifications]\n}"
            )
        return iam.render_terraform(
            source_name=name,
            role_name=role_name_for(name, config),
            default_principal=f"arn:{partition_of(config)}:iam::{config['account_id']}:root",
            region=config.get("region") or "us-east-1",
            role_policy=self.role_policy(config),
            extra_blocks=blocks,
        )
