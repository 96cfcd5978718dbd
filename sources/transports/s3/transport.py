"""AWS S3 Bucket: objects under prefixes, found by S3 event notifications or periodic listing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError
from django.template.defaultfilters import filesizeformat

from sources.transports import iam
from sources.transports.aws import (
    AwsTransport,
    aws_error,
    error_code,
    queue_counts,
    receive_policy,
    role_name_for,
)
from sources.transports.base import (
    GET_OBJECT,
    Activity,
    Check,
    CheckFailed,
    ObjectError,
    ObjectRef,
    PassPolicy,
    PassResult,
    QueueCounts,
    SettingsError,
    Work,
)
from sources.transports.s3 import listing, notifications
from sources.transports.s3.forms import S3SourceForm
from sources.transports.s3.settings import PrefixRule, S3Settings, rule_for_key

LIST_PAGE = 100
LIST_LOCK_SECONDS = 30  # renewed after every page and every object handed out


class S3Transport(AwsTransport):
    key = "s3"
    label = "AWS S3 Bucket"
    icon = "img/transport-s3.svg"
    summary = "Read log files as they land in a bucket (event notifications or listing)."
    form_class = S3SourceForm
    form_template = "sources/partials/form_s3.html"
    settings_class = S3Settings
    backfill = True
    permissions_note = (
        "Deploy one of these in the AWS account that owns the bucket. They create an IAM role "
        "that can only read this source's prefixes (and decrypt with its KMS key, and receive "
        "from its notification queue, when it has them). Paste the role ARN they output into "
        "the source's settings, or let the worker use its own credentials."
    )

    # --- settings ------------------------------------------------------------------------------
    def settings(self, config) -> S3Settings:
        return S3Settings.from_config(config or {})

    def log_types_for(self, settings: S3Settings, key: str, default) -> tuple[str, ...] | None:
        rule = rule_for_key(settings.rules(default), key)
        return rule.log_types if rule else None

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

    def describe(self, settings: S3Settings) -> list[tuple[str, str]]:
        prefixes = [
            f"{rule.prefix or '(whole bucket)'} → {', '.join(rule.log_types)}"
            + (f" excluding {', '.join(rule.exclude)}" if rule.exclude else "")
            for rule in settings.prefixes
        ]
        found = (
            f"S3 event notifications via {settings.queue_url}"
            if settings.discovery == "notifications"
            else f"listing every {settings.list_interval_minutes} minutes"
        )
        rows = [
            ("Bucket", f"s3://{settings.bucket} in {settings.region}"),
            ("Account", settings.account_id),
            ("Prefixes", "; ".join(prefixes)),
            ("New objects", found),
        ]
        if settings.kms_key_arn:
            rows.append(("KMS key", settings.kms_key_arn))
        return rows + super().describe(settings)

    def resource(self, settings: S3Settings) -> str:
        return f"the bucket s3://{settings.bucket}"

    def location(self, settings: S3Settings) -> str:
        return settings.bucket

    # --- discovering and reading -------------------------------------------------------------
    def passes(self, settings: S3Settings) -> PassPolicy | None:
        if settings.listing:
            return PassPolicy(
                every_seconds=settings.list_interval_minutes * 60,
                lock_seconds=LIST_LOCK_SECONDS,
                claim_seconds=2 * LIST_LOCK_SECONDS,
            )
        if settings.notifications:
            return receive_policy()
        return None

    def activity(self, settings: S3Settings) -> Activity:
        if settings.listing:
            return Activity(receiving="Listing the bucket")
        return Activity(receiving="Receiving notifications from the queue")

    def queue_counts(self, settings: S3Settings) -> QueueCounts | None:
        if not (settings.notifications and settings.queue_url):
            return None
        return queue_counts(settings.client("sqs"), settings.queue_url)

    def receive_pass(self, source, settings: S3Settings, work: Work) -> PassResult:
        if settings.listing:
            return listing.list_new_objects(source, settings, work)
        return notifications.receive(source, settings, work)

    def handle(self, source, settings: S3Settings, unit: dict[str, Any], work: Work) -> dict:
        return notifications.handle_message(source, settings, unit, work)

    def open_object(self, source, settings: S3Settings, ref: ObjectRef) -> tuple[IO[bytes], int]:
        params = {"Bucket": ref.bucket, "Key": ref.key}
        if ref.version_id:
            params["VersionId"] = ref.version_id
        try:
            response = settings.client("s3").get_object(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise ObjectError(
                GET_OBJECT,
                f"{error.get('Code', 'Error')}: {error.get('Message') or exc} "
                f"(s3://{ref.bucket}/{ref.key})",
            ) from exc
        except BotoCoreError as exc:
            raise ObjectError(GET_OBJECT, str(exc)) from exc
        return response["Body"], int(response.get("ContentLength") or 0)

    def list_since(self, source, settings: S3Settings, since: datetime) -> list[ObjectRef]:
        return listing.list_since(source, settings, since)

    # --- verification --------------------------------------------------------------------------
    def checks(self, settings: S3Settings) -> Iterator[tuple[str, Check]]:
        bucket = settings.bucket
        if settings.role_arn:
            yield "Assume role", self.assume_role_check(settings)
        yield "Bucket exists", self._bucket_exists(settings)
        yield "Bucket region", self._bucket_region(settings)
        for rule in settings.prefix_rows:
            label = f"Prefix '{rule.prefix}'" if rule.prefix else f"Whole bucket {bucket}"
            yield f"{label}: read one object", self._prefix_readable(settings, rule)
        if settings.kms_key_arn:
            yield "KMS key", self._kms_key(settings)
        if settings.notifications:
            yield "Notification queue reachable", self._queue_reachable(settings)
            yield "Bucket notifications point at the queue", self._notifications(settings)

    def _bucket_exists(self, settings: S3Settings) -> Check:
        bucket, account = settings.bucket, settings.account_id

        def check() -> str:
            try:
                settings.fresh_client("s3").head_bucket(Bucket=bucket)
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

    def _bucket_region(self, settings: S3Settings) -> Check:
        bucket, region = settings.bucket, settings.region

        def check() -> str:
            location = settings.fresh_client("s3").get_bucket_location(Bucket=bucket)
            actual = location.get("LocationConstraint") or "us-east-1"
            if actual == "EU":
                actual = "eu-west-1"
            if actual != region:
                raise CheckFailed(
                    f"Bucket {bucket} is in {actual}, not {region} — choose {actual} as the region."
                )
            return f"Bucket {bucket} is in {region}."

        return check

    def _prefix_readable(self, settings: S3Settings, rule: PrefixRule) -> Check:
        bucket, prefix = settings.bucket, rule.prefix

        def check() -> str:
            s3 = settings.fresh_client("s3")
            key = self._first_key(s3, bucket, rule)
            if key is None:
                where = f"under prefix '{prefix}'" if prefix else f"in bucket {bucket}"
                hint = "check the prefix" if prefix else "check the bucket"
                extra = " and the exclusion filters" if rule.exclude else ""
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
    def _first_key(s3, bucket: str, rule: PrefixRule) -> str | None:
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket,
            Prefix=rule.prefix,
            PaginationConfig={"PageSize": LIST_PAGE, "MaxItems": 1000},
        )
        for page in pages:
            for item in page.get("Contents", []):
                if not item["Key"].endswith("/") and not rule.excludes(item["Key"]):
                    return item["Key"]
        return None

    def _kms_key(self, settings: S3Settings) -> Check:
        key_arn = settings.kms_key_arn

        def check() -> str:
            region = key_arn.split(":")[3]
            kms = settings.fresh_client("kms", region=region)
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

    def _queue_reachable(self, settings: S3Settings) -> Check:
        url = settings.queue_url

        def check() -> str:
            sqs = settings.fresh_client("sqs")
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

    def _notifications(self, settings: S3Settings) -> Check:
        bucket, url = settings.bucket, settings.queue_url

        def check() -> str:
            arn = iam.queue_arn(url, settings.region, settings.partition)
            notif = settings.fresh_client("s3").get_bucket_notification_configuration(Bucket=bucket)
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
    def role_policy(self, settings: S3Settings) -> dict:
        _require(settings)
        bucket_arn = f"arn:{settings.partition}:s3:::{settings.bucket}"
        prefixes = [rule.prefix for rule in settings.prefix_rows]
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
        if settings.kms_key_arn:
            statements.append(
                iam.statement("DecryptLogObjects", ["kms:Decrypt"], [settings.kms_key_arn])
            )
        if settings.notifications:
            arn = iam.queue_arn(settings.queue_url, settings.region, settings.partition)
            statements.append(iam.statement("ReadNotifications", iam.SQS_READ_ACTIONS, [arn]))
        return iam.policy(statements)

    def _notification_queue_policy(self, settings: S3Settings) -> dict:
        part = settings.partition
        arn = iam.queue_arn(settings.queue_url, settings.region, part)
        return iam.policy(
            [
                {
                    "Sid": "BucketSendsNotifications",
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": arn,
                    "Condition": {
                        "ArnEquals": {"aws:SourceArn": f"arn:{part}:s3:::{settings.bucket}"},
                        "StringEquals": {"aws:SourceAccount": settings.account_id},
                    },
                }
            ]
        )

    def cloudformation(self, name: str, settings: S3Settings) -> str:
        _require(settings)
        extra: dict[str, Any] = {}
        notes = [f"Sluice: read-only access to s3://{settings.bucket} for the source '{name}'."]
        if settings.notifications:
            extra["NotificationQueuePolicy"] = {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {
                    "Queues": [settings.queue_url],
                    "PolicyDocument": self._notification_queue_policy(settings),
                },
            }
            notes.append(
                "CloudFormation cannot add a notification to an existing bucket: add an "
                "s3:ObjectCreated:* event notification to the queue on the bucket (or use the "
                "Terraform file, which does)."
            )
        return iam.render_cloudformation(
            description=f"Sluice read-only role for log source {name} (bucket {settings.bucket})",
            role_name=role_name_for(name, settings),
            default_principal=f"arn:{settings.partition}:iam::{settings.account_id}:root",
            role_policy=self.role_policy(settings),
            extra_resources=extra,
            notes=notes,
        )

    def terraform(self, name: str, settings: S3Settings) -> str:
        _require(settings)
        blocks = []
        if settings.notifications:
            arn = iam.queue_arn(settings.queue_url, settings.region, settings.partition)
            blocks.append(
                'resource "aws_sqs_queue_policy" "bucket_notifications" {\n'
                f"  queue_url = {iam.hcl_string(settings.queue_url)}\n"
                f"  policy    = {iam.hcl_policy(self._notification_queue_policy(settings))}\n}}"
            )
            prefixes = [rule.prefix for rule in settings.prefix_rows]
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
                f"  bucket = {iam.hcl_string(settings.bucket)}\n"
                f"{queues}"
                "  depends_on = [aws_sqs_queue_policy.bucket_notifications]\n}"
            )
        return iam.render_terraform(
            source_name=name,
            role_name=role_name_for(name, settings),
            default_principal=f"arn:{settings.partition}:iam::{settings.account_id}:root",
            region=settings.region,
            role_policy=self.role_policy(settings),
            extra_blocks=blocks,
        )


def _require(settings: S3Settings) -> None:
    if not settings.bucket or not settings.account_id:
        raise SettingsError("the bucket and the account are needed for the templates")
