"""The one place that builds boto3 clients.

Endpoints come only from settings/the environment (`AWS_ENDPOINT_URL`, read by boto3 itself), never
from user input. Retries use botocore's adaptive mode: throttling and 5xx back off with jitter.
"""

from functools import lru_cache

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
