"""The transports a source can use: the one list the wizard, the settings page, the API, the admin,
beat and the workers ask. To add one: a module (or package) with a Transport subclass, one entry."""

from sources.transports.base import CheckResult, Settings, SettingsError, Transport
from sources.transports.http import HttpTransport
from sources.transports.s3 import S3Transport
from sources.transports.sqs import SqsTransport

REGISTRY: dict[str, Transport] = {
    t.key: t for t in (S3Transport(), SqsTransport(), HttpTransport())
}


def get(key: str) -> Transport:
    """The transport registered under `key` (KeyError for an unknown one)."""
    return REGISTRY[key]


def choices() -> list[tuple[str, str]]:
    """(key, label) of every transport: `Source.transport`'s choices."""
    return [(key, transport.label) for key, transport in REGISTRY.items()]


__all__ = ["REGISTRY", "CheckResult", "Settings", "SettingsError", "Transport", "choices", "get"]
