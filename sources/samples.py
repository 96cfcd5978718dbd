"""Samples for the schema tester (Configure > Schemas): the first object under a prefix of an
existing S3 source, read with the source's own settings (its role, its region)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from sources.models import Source
from sources.transports.s3.settings import S3Settings

MAX_KEYS = 50  # objects looked at under the prefix for one that fits the size limit


def s3_choices() -> list[tuple[str, str]]:
    """(source id, label) of the S3 sources."""
    return [
        (str(s.pk), f"{s.name} (s3://{s.config.get('bucket', '')})")
        for s in Source.objects.filter(transport="s3").order_by("name")
    ]


def read_s3_sample(source_id: str, prefix: str, limit: int) -> tuple[str, bytes]:
    """(key, bytes) of the first non-empty object under `prefix` of at most `limit` bytes;
    ValueError with a message for the user otherwise."""
    source = (
        Source.objects.filter(transport="s3", pk=int(source_id)).first()
        if source_id.isdigit()
        else None
    )
    if source is None:
        raise ValueError("pick one of the S3 sources")
    settings = S3Settings.from_config(source.config)
    client = settings.client("s3")
    try:
        listed = client.list_objects_v2(Bucket=settings.bucket, Prefix=prefix, MaxKeys=MAX_KEYS)
        objects = [o for o in listed.get("Contents", []) if 0 < o.get("Size", 0) <= limit]
        if not objects:
            raise ValueError(
                f"no object of 1 to {limit:,} bytes under s3://{settings.bucket}/{prefix}"
            )
        key = objects[0]["Key"]
        body = client.get_object(Bucket=settings.bucket, Key=key)["Body"].read(limit)
    except (ClientError, BotoCoreError) as exc:
        raise ValueError(f"cannot read s3://{settings.bucket}/{prefix}: {exc}") from None
    return key, body
