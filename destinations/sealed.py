"""A destination's secret settings: one Fernet-encrypted JSON object (sources/crypto.py's key)."""

from __future__ import annotations

from typing import Any

import orjson

from sources import crypto

SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "slack": ("webhook_url",),
    "webhook": ("hmac_secret", "headers"),
    "pagerduty": ("routing_key",),
    "email": (),
}


def seal(values: dict[str, Any]) -> str:
    kept = {k: v for k, v in values.items() if v not in (None, "", {})}
    return crypto.encrypt(orjson.dumps(kept).decode()) if kept else ""


def unseal(token: str) -> dict[str, Any]:
    return orjson.loads(crypto.decrypt(token)) if token else {}


def which_are_set(token: str) -> list[str]:
    """The names of the secret settings stored (never their values), for pages and the API."""
    try:
        return sorted(unseal(token))
    except crypto.SecretUnreadable:
        return []
