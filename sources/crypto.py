"""Secrets stored encrypted (Fernet: AES-128-CBC with HMAC-SHA256) in a source's config.

The key is derived from SLUICE_SECRETS_KEY, or from SECRET_KEY when that is not set: set
SLUICE_SECRETS_KEY to rotate SECRET_KEY without losing the stored secrets.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted (the key changed, or the value was edited)."""


def _fernet() -> Fernet:
    material = settings.SLUICE_SECRETS_KEY or settings.SECRET_KEY
    digest = hashlib.sha256(b"sluice.sources.crypto\0" + material.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise SecretUnreadable(
            "the stored secret cannot be decrypted (SLUICE_SECRETS_KEY or SECRET_KEY changed?)"
        ) from exc
