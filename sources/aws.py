"""The one place that builds boto3 clients.

Endpoints come only from settings/the environment (`AWS_ENDPOINT_URL`, read by boto3 itself), never
from user input. Retries use botocore's adaptive mode: throttling and 5xx back off with jitter.
"""

import threading
import time
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

CLIENT_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 8},
    connect_timeout=5,
    read_timeout=30,
)


@lru_cache(maxsize=8)
def _base_session() -> boto3.session.Session:
    return boto3.session.Session()


def client(
    service: str,
    *,
    region: str | None = None,
    role_arn: str | None = None,
    session_name: str = "sluice",
):
    """A boto3 client for `service`, assuming `role_arn` first when one is given."""
    session = _base_session()
    if role_arn:
        creds = session.client("sts", config=CLIENT_CONFIG).assume_role(
            RoleArn=role_arn, RoleSessionName=session_name
        )["Credentials"]
        session = boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
    return session.client(service, region_name=region or None, config=CLIENT_CONFIG)


# --- clients reused within a process ------------------------------------------------------------
CLIENT_TTL_SECONDS = 30 * 60  # below the 1 h lifetime of assumed-role credentials
_lock = threading.Lock()
_cache: dict[tuple[str, str, str, str | None], tuple[float, Any]] = {}


def cached_client(service: str, *, region: str = "", role_arn: str = "") -> Any:
    """`client(...)`, kept for a while per (service, region, role, endpoint) in this process (a
    worker reads many objects of one source: one role assumption, one connection pool)."""
    from django.conf import settings

    key = (service, region, role_arn, getattr(settings, "AWS_ENDPOINT_URL", None))
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
        if hit and now - hit[0] < CLIENT_TTL_SECONDS:
            return hit[1]
    made = client(service, region=region or None, role_arn=role_arn or None)
    with _lock:
        _cache[key] = (now, made)
    return made


def clear_cache() -> None:
    with _lock:
        _cache.clear()
