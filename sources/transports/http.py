"""HTTP push: clients (Teleport's event handler, Fluent Bit, curl) POST events to the source's
ingest URL, authenticated by the source's secret.

    POST <ingest_url>                    NDJSON (application/x-ndjson) or JSON (application/json:
    Authorization: Bearer <secret>       an array, an object, or an envelope), optionally
      or X-Sluice-Signature: sha256=<hex HMAC-SHA256 of the raw body>   (auth "hmac")
    Content-Encoding: gzip | zstd        (optional)
    Idempotency-Key: <key>               (optional: else the body's content hash)

The secret is stored encrypted (sources/crypto.py) and shown once. A body's origin version is its
Idempotency-Key, else the hash of its content, so a client retrying a POST stores nothing twice.
The generic endpoint (ingestion/api.py) reads the body within SLUICE_HTTP_MAX_BODY_BYTES, asks
`authenticate_push`, applies the per-source rate limit, asks `decode_push`, and stores the result.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import io
import re
import secrets
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import zstandard
from django import forms

from sources import crypto
from sources.forms import SourceSettingsForm, log_type_choices
from sources.transports.base import (
    Check,
    CheckFailed,
    Push,
    PushBody,
    PushRejected,
    Settings,
    SettingsError,
    Transport,
)

AUTH_CHOICES = [
    ("bearer", "Bearer token: Authorization: Bearer <secret>"),
    ("hmac", "HMAC signature: X-Sluice-Signature: sha256=<HMAC-SHA256 of the body>"),
]
NDJSON_TYPES = {
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
    "application/x-jsonlines",
    "application/jsonlines",
    "text/plain",
}
JSON_TYPES = {"application/json"}
ORIGIN_KEY = "http-push"
IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces


@dataclass(frozen=True, kw_only=True)
class HttpSettings(Settings):
    auth: str = "bearer"  # or "hmac"
    secret_encrypted: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.auth not in dict(AUTH_CHOICES):
            raise SettingsError(f"auth {self.auth!r} is not one of bearer, hmac")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HttpSettings:
        return cls(
            **Settings.common(config),
            auth=str(config.get("auth") or "bearer"),
            secret_encrypted=str(config.get("secret_encrypted") or ""),
        )

    @property
    def secret(self) -> str:
        """The plaintext secret (crypto.SecretUnreadable when it cannot be decrypted)."""
        if not self.secret_encrypted:
            raise crypto.SecretUnreadable("no secret is stored")
        return crypto.decrypt(self.secret_encrypted)


class HttpSourceForm(SourceSettingsForm):
    log_types = forms.MultipleChoiceField(
        label="Log types", choices=log_type_choices, widget=forms.CheckboxSelectMultiple
    )
    auth = forms.ChoiceField(
        label="Authentication",
        choices=AUTH_CHOICES,
        initial="bearer",
        widget=forms.RadioSelect,
    )
    secret = forms.CharField(
        label="Secret",
        required=False,
        min_length=16,
        max_length=256,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to have one generated (new sources) or to keep the current one; it "
        "is stored encrypted and shown once.",
    )

    field_order = ["name", "log_types", "auth", "secret", "stream_type", "envelope"]


class HttpTransport(Transport):
    key = "http"
    label = "HTTP"
    icon = "img/transport-http.svg"
    summary = "Receive events pushed over HTTPS (NDJSON or JSON, gzip or zstd), with a secret."
    settings_class = HttpSettings
    form_class = HttpSourceForm
    form_template = "sources/partials/form_http.html"
    for_every_log_type = True
    accepts_push = True
    no_objects_text = "Events are pushed to the ingest URL; no objects to list."
    permissions_note = (
        "Nothing to deploy: clients POST events to the source's ingest URL with its secret. "
        "Both are on the source's page once it is saved (the secret only once)."
    )

    # --- settings ------------------------------------------------------------------------------
    def settings(self, config) -> HttpSettings:
        return HttpSettings.from_config(config or {})

    # --- forms and config ----------------------------------------------------------------------
    def initial(self, config: dict, name: str, log_types) -> dict[str, Any]:
        settings = self.settings(config)
        return {
            "name": name,
            "log_types": list(log_types),
            "auth": settings.auth,
            "stream_type": settings.stream_type,
            "envelope": settings.envelope or "",
        }

    def config_from(self, form: HttpSourceForm) -> dict[str, Any]:
        data = form.cleaned_data
        if data.get("secret"):
            secret_encrypted = crypto.encrypt(data["secret"])
        elif form.instance is not None and form.instance.transport == self.key:
            secret_encrypted = self.settings(form.instance.config).secret_encrypted
        else:
            secret_encrypted = ""
        if not secret_encrypted:
            secret_encrypted = crypto.encrypt(secrets.token_urlsafe(32))
        return {
            "auth": data["auth"],
            "secret_encrypted": secret_encrypted,
            "stream_type": data["stream_type"],
            "envelope": data["envelope"],
        }

    def log_types_from(self, form: HttpSourceForm) -> list[str]:
        return list(form.cleaned_data["log_types"])

    def form_data_from(self, name: str, log_types: list[str], config: dict) -> dict[str, Any]:
        return {
            "name": name,
            "log_types": list(log_types),
            "auth": config.get("auth") or "bearer",
            "secret": config.get("secret") or "",
            "stream_type": config.get("stream_type") or "auto",
            "envelope": config.get("envelope") or "",
        }

    def admin_refusal(self, form: HttpSourceForm) -> str | None:
        if form.instance is None and not form.cleaned_data.get("secret"):
            return "secret: give one (the admin cannot show a generated secret), or use the wizard."
        return None

    def public_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in config.items() if k not in {"secret", "secret_encrypted"}}

    def reveal(self, settings: HttpSettings) -> str | None:
        try:
            return settings.secret
        except crypto.SecretUnreadable:
            return None

    def secret_changed(self, before: dict[str, Any] | None, after: dict[str, Any]) -> bool:
        return (before or {}).get("secret_encrypted") != after.get("secret_encrypted")

    # --- summary ---------------------------------------------------------------------------------
    def describe(self, settings: HttpSettings) -> list[tuple[str, str]]:
        auth = dict(AUTH_CHOICES)[settings.auth]
        return [("Authentication", auth), *super().describe(settings)]

    def resource(self, settings: HttpSettings) -> str:
        return "its ingest URL"

    def location(self, settings: HttpSettings) -> str:
        return f"HTTP push ({settings.auth})"

    # --- verification --------------------------------------------------------------------------
    def checks(self, settings: HttpSettings) -> Iterator[tuple[str, Check]]:
        def check() -> str:
            try:
                secret = settings.secret
            except crypto.SecretUnreadable as exc:
                raise CheckFailed(
                    f"The secret cannot be read: {exc} — set a new one in the settings."
                ) from exc
            return f"The secret ({len(secret)} characters) is stored encrypted and readable."

        yield "Secret", check

    # --- receiving pushes ----------------------------------------------------------------------
    def authenticate_push(self, source, settings: HttpSettings, push: Push) -> None:
        try:
            secret = settings.secret.encode()
        except crypto.SecretUnreadable as exc:
            raise PushRejected(401, "This source has no readable secret.") from exc
        if settings.auth == "hmac":
            given = push.headers.get("X-Sluice-Signature", "")
            expected = "sha256=" + hmac.new(secret, push.body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(given.strip().lower().encode(), expected.encode()):
                raise PushRejected(
                    401, "Missing or wrong X-Sluice-Signature (sha256=<hex HMAC of the body>)."
                )
            return
        scheme, _, token = push.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), secret):
            raise PushRejected(401, "Missing or wrong Authorization: Bearer <secret>.")

    def decode_push(self, source, settings: HttpSettings, push: Push) -> PushBody:
        media_type = push.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if media_type in NDJSON_TYPES:
            stream_type = "lines"
        elif media_type in JSON_TYPES:
            stream_type = settings.stream_type
        else:
            raise PushRejected(
                415,
                f"Content-Type {media_type or '(none)'} is not accepted: send "
                "application/x-ndjson or application/json.",
            )
        data = _decompressed(push)
        if not data.strip():
            raise PushRejected(400, "The body is empty: nothing to store.")
        key = push.headers.get("Idempotency-Key", "").strip()
        if key and not IDEMPOTENCY_KEY_RE.match(key):
            raise PushRejected(400, "Idempotency-Key: 1 to 200 printable characters, no spaces.")
        version = f"key:{key}" if key else "sha256:" + hashlib.sha256(data).hexdigest()
        return PushBody(data=data, origin_key=ORIGIN_KEY, version=version, stream_type=stream_type)


def _decompressed(push: Push) -> bytes:
    """The body without its Content-Encoding, at most `push.max_bytes` (413 above)."""
    encoding = push.headers.get("Content-Encoding", "").strip().lower()
    if encoding in {"", "identity"}:
        return push.body
    if encoding in {"gzip", "x-gzip"}:
        reader = gzip.GzipFile(fileobj=io.BytesIO(push.body))
        errors: tuple[type[Exception], ...] = (OSError, EOFError, zlib.error)
    elif encoding == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(push.body))
        errors = (zstandard.ZstdError, OSError)
    else:
        raise PushRejected(415, f"Content-Encoding {encoding} is not accepted: gzip or zstd.")
    chunks, size = [], 0
    try:
        with reader:
            while size <= push.max_bytes and (chunk := reader.read(1 << 16)):
                chunks.append(chunk)
                size += len(chunk)
    except errors as exc:
        raise PushRejected(400, f"The {encoding} body cannot be decompressed: {exc}") from exc
    if size > push.max_bytes:
        raise PushRejected(413, f"The body decompresses to more than {push.max_bytes} bytes.")
    return b"".join(chunks)
