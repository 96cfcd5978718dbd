"""boto3 clients per source, reused within a worker process (built by sources.aws only)."""

from __future__ import annotations

import threading
import time
from typing import Any

from sources import aws
from sources.models import Source

CLIENT_TTL_SECONDS = 30 * 60  # below the 1 h lifetime of assumed-role credentials
_lock = threading.Lock()
_cache: dict[tuple[str, str, str, str | None], tuple[float, Any]] = {}


def _cached(service: str, region: str, role_arn: str) -> Any:
    from django.conf import settings

    key = (service, region, role_arn, getattr(settings, "AWS_ENDPOINT_URL", None))
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
        if hit and now - hit[0] < CLIENT_TTL_SECONDS:
            return hit[1]
    made = aws.client(service, region=region or None, role_arn=role_arn or None)
    with _lock:
        _cache[key] = (now, made)
    return made


def s3_client(source: Source) -> Any:
    return _cached("s3", source.config.get("region", ""), source.config.get("role_arn", ""))


def sqs_client(source: Source, queue_url: str) -> Any:
    region = source.config.get("region") or _region_of_queue(queue_url)
    return _cached("sqs", region, source.config.get("role_arn", ""))


def _region_of_queue(queue_url: str) -> str:
    host = queue_url.split("//", 1)[-1].split("/", 1)[0]
    parts = host.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "sqs" else ""


def clear() -> None:
    with _lock:
        _cache.clear()
