"""The transports a source can use. To add one: a module with a Transport subclass + an entry."""

from sources.transports.base import CheckResult, Transport
from sources.transports.s3 import S3Transport
from sources.transports.sqs import SqsTransport

REGISTRY: dict[str, Transport] = {t.key: t for t in (S3Transport(), SqsTransport())}


def get(key: str) -> Transport:
    """The transport registered under `key` (KeyError for an unknown one)."""
    return REGISTRY[key]


def all_transports() -> list[Transport]:
    return list(REGISTRY.values())


__all__ = ["REGISTRY", "CheckResult", "Transport", "all_transports", "get"]
