"""What every transport declares: label, icon, form, config, verification checks, IAM templates."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from botocore.exceptions import BotoCoreError, ClientError

from sources import aws
from sources.forms import SourceSettingsForm


@dataclass
class CheckResult:
    """One verification row. ok is None when the check was skipped."""

    name: str
    ok: bool | None
    message: str
    error: str = ""
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class CheckFailed(Exception):
    """Raised inside a check with the message a user can act on (and the raw AWS error)."""

    def __init__(self, message: str, error: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.error = error


def aws_error(exc: Exception) -> str:
    """The raw error text shown folded under a failed check."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
        return f"{err.get('Code', 'Error')} (HTTP {status}): {err.get('Message', '') or exc}"
    return f"{type(exc).__name__}: {exc}"


def error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


Check = Callable[[], str]


class Transport:
    """Base of the transports. Subclasses set the class attributes and implement the hooks."""

    key: ClassVar[str]
    label: ClassVar[str]
    icon: ClassVar[str]
    summary: ClassVar[str]
    form_class: ClassVar[type[SourceSettingsForm]]
    form_template: ClassVar[str]  # the transport-specific fields

    # --- forms and config --------------------------------------------------------------------
    def bind_form(
        self, data=None, *, config: dict | None = None, name: str = "", log_types=(), instance=None
    ) -> SourceSettingsForm:
        """The settings form, bound to POST data or filled from a saved config."""
        return self.form_class(data, initial=self.initial(config or {}, name, log_types),
                               instance=instance)  # fmt: skip

    def initial(self, config: dict, name: str, log_types) -> dict[str, Any]:
        return {"name": name, **config}

    def config_from(self, form: SourceSettingsForm) -> dict[str, Any]:
        raise NotImplementedError

    def log_types_from(self, form: SourceSettingsForm) -> list[str]:
        raise NotImplementedError

    def form_data_from(self, name: str, log_types: list[str], config: dict) -> dict[str, Any]:
        """POST-shaped data for a config (the API binds the same form as the wizard)."""
        raise NotImplementedError

    def describe(self, config: dict[str, Any]) -> list[tuple[str, str]]:
        """(label, value) rows summarising the settings (Finish step, source page)."""
        raise NotImplementedError

    def resource(self, config: dict[str, Any]) -> str:
        """What the checks and templates are about, in a few words (e.g. the bucket)."""
        raise NotImplementedError

    def prepare(self, form: SourceSettingsForm, config: dict[str, Any]) -> dict[str, Any]:
        """Side effects the user asked for before the source exists (e.g. create a queue)."""
        return config

    # --- verification --------------------------------------------------------------------------
    def checks(self, config: dict[str, Any]) -> Iterator[tuple[str, Check]]:
        raise NotImplementedError

    def verify(self, config: dict[str, Any]) -> Iterator[CheckResult]:
        """Run the checks in order; a check that fails with `stops` skips the rest."""
        stopped: str | None = None
        for name, check in self.checks(config):
            if stopped:
                yield CheckResult(name, None, f"Skipped: {stopped}")
                continue
            try:
                yield CheckResult(name, True, check())
            except CheckFailed as exc:
                yield CheckResult(name, False, exc.message, exc.error)
                if getattr(check, "stops", False):
                    stopped = f"'{name}' failed first."
            except (ClientError, BotoCoreError) as exc:
                yield CheckResult(name, False, f"AWS refused: {aws_error(exc)}", aws_error(exc))
                if getattr(check, "stops", False):
                    stopped = f"'{name}' failed first."

    def assume_role_check(self, config: dict[str, Any]) -> Check:
        role_arn = config.get("role_arn")

        def check() -> str:
            try:
                aws.client(
                    "sts", region=config.get("region"), role_arn=role_arn
                ).get_caller_identity()
            except (ClientError, BotoCoreError) as exc:
                raise CheckFailed(
                    f"Could not assume role {role_arn} — check that the role exists and its trust "
                    "policy lets the Sluice worker's principal call sts:AssumeRole.",
                    aws_error(exc),
                ) from exc
            return f"Assumed role {role_arn}."

        check.stops = True  # type: ignore[attr-defined]
        return check

    # --- IAM templates -------------------------------------------------------------------------
    def cloudformation(self, name: str, config: dict[str, Any]) -> str:
        raise NotImplementedError

    def terraform(self, name: str, config: dict[str, Any]) -> str:
        raise NotImplementedError


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "source"


def role_name_for(name: str, config: dict[str, Any]) -> str:
    """The role the templates create: the one named in role_arn, else sluice-<source>-reader."""
    role_arn = config.get("role_arn") or ""
    if role_arn:
        return role_arn.rsplit("/", 1)[-1]
    return f"sluice-{slug(name)}-reader"[:64]


def partition_of(config: dict[str, Any]) -> str:
    region = config.get("region") or ""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
