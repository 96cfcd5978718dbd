"""API tokens (shown once when created, stored only as a SHA-256 digest) and the audit trail."""

import hashlib
import secrets

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
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
        db_table = "console_apitoken"  # made by the console app before audit existed: kept as is
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditEntryQuerySet(models.QuerySet):
    def for_object(self, obj: models.Model) -> "AuditEntryQuerySet":
        return self.filter(object_type=obj._meta.model_name, object_id=str(obj.pk))


class AuditEntry(models.Model):
    """One change to a source, user, group or API token, or one sign-in; written only by
    audit.trail.record and never changed afterwards. Secrets are redacted before they get here."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Changed"
        DELETED = "deleted", "Deleted"
        PAUSED = "paused", "Paused"
        RESUMED = "resumed", "Resumed"
        VERIFIED = "verified", "Ran verification"
        PASSWORD_CHANGED = "password_changed", "Changed password"
        LOGGED_IN = "logged_in", "Signed in"
        LOGGED_OUT = "logged_out", "Signed out"
        LOGIN_FAILED = "login_failed", "Failed sign-in"
        COMMENTED = "commented", "Commented"

    class ObjectType(models.TextChoices):
        # the model's _meta.model_name, so an entry finds its object again
        SOURCE = "source", "Log source"
        USER = "user", "User"
        GROUP = "group", "Group"
        API_TOKEN = "apitoken", "API token"
        ALERT = "alert", "Alert"
        RULE = "rulesetting", "Detection rule"
        SCHEMA_VERSION = "schemaversion", "Log type schema"
        DESTINATION = "destination", "Alert destination"

    class Via(models.TextChoices):
        CONSOLE = "console", "Console"
        API = "api", "API"
        ADMIN = "admin", "Admin"
        COMMAND = "command", "Command"
        SYSTEM = "system", "System"

    at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(
        max_length=150, help_text="The actor's username then, or who acted without a login."
    )
    action = models.CharField(max_length=20, choices=Action.choices, db_index=True)
    object_type = models.CharField(max_length=20, choices=ObjectType.choices)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(
        default=dict, blank=True, encoder=DjangoJSONEncoder, help_text="{field: [before, after]}"
    )
    via = models.CharField(max_length=16, choices=Via.choices)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        db_table = "console_auditentry"  # made by the console app before audit existed: kept as is
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.actor_label}: {self.get_action_display()} {self.object_label}".strip()

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Audit entries are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit entries are immutable.")
