"""API tokens: shown once when created, stored only as a SHA-256 digest."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "slc_"  # noqa: S105 - a marker, not a secret


def digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


class ApiTokenManager(models.Manager):
    def issue(self, user, name: str = "") -> tuple["ApiToken", str]:
        """A new token for `user`: (row, raw token). The raw token exists only in this return."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = self.create(
            user=user, name=name or "API token", prefix=raw[:10], digest=digest(raw)
        )
        return token, raw

    def authenticate(self, raw_token: str) -> "ApiToken | None":
        token = (
            self.select_related("user")
            .filter(digest=digest(raw_token), user__is_active=True)
            .first()
        )
        if token is not None:
            self.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise it.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
