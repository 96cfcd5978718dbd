"""What every transport declares, and the small contract between a transport and ingestion.

A transport (one module or package under sources/transports/, one entry in the registry) owns:
its typed settings (made once from `Source.config`), its form, its checks, its IAM templates (if
any), its summary text, how it discovers work (`receive_pass`) and how it reads one unit of it
(`handle`). It never imports `ingestion` (the layers go console → ingestion → sources → events →
parsers): what it needs from ingestion it gets through a `Work` object that ingestion passes in.

    beat ──► ingestion.tasks.start_passes ── asks each source's transport `passes(settings)`
                  │ one claim per source (queued or running)
                  ▼
    ingestion.tasks.poll_source ──► transport.receive_pass(source, settings, work)
                  │ work.hand_out(unit) / work.hand_out_object(ref)   (backpressure: keep_going)
                  ▼
    ingestion.tasks.ingest_unit ──► transport.handle(source, settings, unit, work)
    ingestion.tasks.ingest_object_task ──► work.read_object(ref) ──► transport.open_object(...)
    ingestion.api push endpoint ──► transport.authenticate_push(...), decode_push(...)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, ClassVar, Protocol

from parsers import STREAM_TYPES

if TYPE_CHECKING:
    from sources.forms import SourceSettingsForm
    from sources.models import Source


# --- typed settings ------------------------------------------------------------------------------
class SettingsError(ValueError):
    """A stored config that cannot make valid settings (e.g. edited by hand)."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Settings every transport has: how a body is cut into records."""

    stream_type: str = "auto"
    envelope: str | None = None

    def __post_init__(self) -> None:
        if self.stream_type not in STREAM_TYPES:
            raise SettingsError(
                f"stream_type {self.stream_type!r} is not one of {', '.join(STREAM_TYPES)}"
            )

    @staticmethod
    def common(config: Mapping[str, Any]) -> dict[str, Any]:
        """The shared fields of a stored config (missing or empty values take the defaults)."""
        return {
            "stream_type": str(config.get("stream_type") or "auto"),
            "envelope": str(config.get("envelope") or "") or None,
        }


# --- what a transport hands to ingestion and gets back -------------------------------------------
@dataclass(frozen=True)
class ObjectRef:
    """One object version to read. `version` keys the ledger: version id, else the ETag."""

    bucket: str
    key: str
    version: str
    version_id: str | None = None
    size: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ObjectError(Exception):
    """Reading an object or a body failed in one stage; the ledger keeps the message."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage
        self.message = message


@dataclass
class Outcome:
    """What reading one object or body into the store came to."""

    status: str  # done | skipped | excluded | busy | retry | failed
    events: int = 0
    inserted: int = 0
    duplicates: int = 0
    failures: int = 0
    bytes: int = 0
    error: str = ""
    retry_after: int = 0  # busy or retry: seconds before the next attempt is worth making

    @property
    def settled(self) -> bool:
        """True when the message that named the object may be deleted."""
        return self.status not in {"retry", "busy"}


@dataclass(frozen=True)
class LedgerEntry:
    """What the ledger says about one listed object version."""

    settled: bool  # done, or failed for good: a checkpoint may move past it
    due: bool  # not settled, and worth handing out now (never handed out, lost, or backed off)


@dataclass(frozen=True)
class Activity:
    """How health reasons name what a source of this transport does."""

    receiving: str = "Receiving"  # its discovery pass: "Listing the bucket", ...
    reading: str = "Reading objects"  # its get-object stage: "Reading messages", ...


@dataclass(frozen=True)
class QueueCounts:
    """Messages waiting in the queue a source receives from, and those received but not
    yet deleted (in flight)."""

    visible: int
    in_flight: int


@dataclass(frozen=True)
class PassPolicy:
    """How a source of this transport is passed over by the receive workers.

    every_seconds: 0 = a new pass as soon as the last one ended (a receive loop); N = a pass that
    reached its end is followed by the next one N seconds later (one that stopped early, at once).
    lock_seconds: the pass's lock, renewed on every `work.progress()`.
    claim_seconds: a queued pass not started (or silent) this long is assumed lost.
    """

    every_seconds: int
    lock_seconds: int
    claim_seconds: int


@dataclass(frozen=True)
class PassResult:
    handed: int  # units or objects handed out (or read, in a one-off pass)
    complete: bool = True  # reached the end: the next pass can wait for its interval
    noun: str = "units"  # what `handed` counts, for people ("objects", "messages")


# stages of StageError (ingestion.models) a transport reports through `Work`
RECEIVE = "receive"
GET_OBJECT = "get_object"


class Work(Protocol):
    """What ingestion offers a transport while it discovers or reads work for one source."""

    until_empty: bool  # a one-off pass (manage.py ingest --once): drain, short waits, then stop

    # handing out
    def hand_out(self, unit: dict[str, Any]) -> None:
        """Queue one unit (JSON-able) for `transport.handle` on the ingest workers."""

    def hand_out_object(self, ref: ObjectRef) -> None:
        """Queue one object for `ingest_object_task` (read through `transport.open_object`)."""

    # reading into the store (exactly once)
    def read_object(
        self, ref: ObjectRef, *, heartbeat: Callable[[], None] | None = None
    ) -> Outcome:
        """Read one object through the ledger: skipped when done, `busy` when being read."""

    def read_body(
        self,
        body: IO[bytes] | bytes,
        *,
        origin_key: str,
        version: str,
        log_types: list[str] | tuple[str, ...] | None = None,
        size: int | None = None,
    ) -> Outcome:
        """Read a body that is no object (a message): its origin makes row ids deterministic."""

    def store_empty(self, *, origin_key: str, version: str) -> Outcome:
        """A message with nothing in it: one failure, so it is counted instead of vanishing."""

    # the ledger and checkpoints (listings)
    def ledger(self, refs: list[ObjectRef]) -> dict[tuple[str, str], LedgerEntry]:
        """{(key, version): entry} for the listed objects the ledger knows."""

    def mark_dispatched(self, ref: ObjectRef) -> None:
        """The object was handed out now (it is not due again before the dispatch timeout)."""

    def checkpoint(self, prefix: str) -> str:
        """The key a listing of `prefix` starts after ("" at first)."""

    def move_checkpoint(self, prefix: str, start_after: str) -> None: ...

    # health and progress
    def record_error(self, stage: str, message: str) -> None: ...

    def clear_error(self, stage: str) -> None: ...

    def progress(self, *, lag: float = 0.0) -> None:
        """The pass is alive (renews its lock and claim); a receive answered, its oldest message
        having waited `lag` seconds."""

    def keep_going(self) -> bool:
        """Backpressure: False while the ingest workers have enough queued."""


# --- push transports -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Push:
    """One HTTP request to a push transport, as the generic endpoint read it (size-limited)."""

    headers: Mapping[str, str]  # case-insensitive
    body: bytes
    max_bytes: int  # the decoded body may not be larger either


@dataclass(frozen=True)
class PushBody:
    """A push the transport accepted: what to store, and its origin (deterministic row ids)."""

    data: bytes
    origin_key: str
    version: str
    stream_type: str = "auto"


class PushRejected(Exception):
    """The push is refused with an HTTP status (401, 413, 415, 400) and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --- verification --------------------------------------------------------------------------------
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
    """Raised inside a check with the message a user can act on (and the raw error)."""

    def __init__(self, message: str, error: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.error = error


class PrepareFailed(Exception):
    """`prepare` could not do what the user asked (e.g. create a queue): the message goes on
    `field` of the form (the API answers 422 there)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


Check = Callable[[], str]


# --- the transport -------------------------------------------------------------------------------
class Transport:
    """Base of the transports. Subclasses set the class attributes and implement the hooks."""

    key: ClassVar[str]
    label: ClassVar[str]
    icon: ClassVar[str]
    summary: ClassVar[str]
    settings_class: ClassVar[type[Settings]] = Settings
    form_class: ClassVar[type[SourceSettingsForm]]
    form_template: ClassVar[str]  # the transport's own fields (a partial)
    for_every_log_type: ClassVar[bool] = False  # offered for every log type, not only listed ones
    backfill: ClassVar[bool] = False  # can read history again from a date (`list_since`)
    accepts_push: ClassVar[bool] = False  # takes pushes at the generic ingest URL
    no_objects_text: ClassVar[str] = "No object read yet."
    verify_intro: ClassVar[str] = "Sluice checks that it can read"

    # --- settings ------------------------------------------------------------------------------
    def settings(self, config: Mapping[str, Any] | None) -> Settings:
        """Typed settings from a stored config (SettingsError when they cannot be made)."""
        try:
            return self.settings_class(**Settings.common(config or {}))
        except TypeError as exc:
            raise SettingsError(str(exc)) from exc

    def log_types_for(
        self, settings: Settings, key: str, default: list[str]
    ) -> tuple[str, ...] | None:
        """The log types an object (or origin) `key` carries; None when it is not this source's."""
        return tuple(default)

    # --- forms and config ----------------------------------------------------------------------
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
        """POST-shaped data for a config (the API and admin bind the same form as the wizard)."""
        raise NotImplementedError

    def prepare(self, form: SourceSettingsForm, config: dict[str, Any]) -> dict[str, Any]:
        """Side effects the user asked for before the source is saved (e.g. create a queue);
        raises PrepareFailed."""
        return config

    def admin_refusal(self, form: SourceSettingsForm) -> str | None:
        """Why the admin site cannot save these settings (it runs no `prepare`), if it cannot."""
        return None

    def public_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """The config as the API and pages show it (never a secret)."""
        return dict(config)

    def reveal(self, settings: Settings) -> str | None:
        """A secret shown once, right after it was made (None for transports without one)."""
        return None

    def secret_changed(self, before: dict[str, Any] | None, after: dict[str, Any]) -> bool:
        return False

    # --- summary ---------------------------------------------------------------------------------
    def describe(self, settings: Settings) -> list[tuple[str, str]]:
        """(label, value) rows summarising the settings (Finish step, source page)."""
        return [("Stream type", _stream_text(settings))]

    def resource(self, settings: Settings) -> str:
        """What the checks and templates are about, in a few words (e.g. the bucket)."""
        raise NotImplementedError

    def location(self, settings: Settings) -> str:
        """Where the data comes from, in one short value (admin's list)."""
        return self.resource(settings)

    # --- verification --------------------------------------------------------------------------
    def checks(self, settings: Settings) -> Iterator[tuple[str, Check]]:
        return iter(())

    def verify(self, settings: Settings) -> Iterator[CheckResult]:
        """Run the checks in order; a check that fails with `stops` skips the rest."""
        stopped: str | None = None
        for name, check in self.checks(settings):
            if stopped:
                yield CheckResult(name, None, f"Skipped: {stopped}")
                continue
            try:
                yield CheckResult(name, True, check())
            except CheckFailed as exc:
                yield CheckResult(name, False, exc.message, exc.error)
                if getattr(check, "stops", False):
                    stopped = f"'{name}' failed first."
            except Exception as exc:
                failure = self.check_error(exc)
                if failure is None:
                    raise
                yield CheckResult(name, False, failure.message, failure.error)
                if getattr(check, "stops", False):
                    stopped = f"'{name}' failed first."

    def check_error(self, exc: Exception) -> CheckFailed | None:
        """A check's unexpected exception as a failed row (None: let it propagate)."""
        return None

    # --- permissions (IAM templates) -------------------------------------------------------------
    has_templates: ClassVar[bool] = False
    permissions_note: ClassVar[str] = "This transport needs no cloud permissions."

    def cloudformation(self, name: str, settings: Settings) -> str:
        raise NotImplementedError

    def terraform(self, name: str, settings: Settings) -> str:
        raise NotImplementedError

    # --- discovering and reading work ------------------------------------------------------------
    def passes(self, settings: Settings) -> PassPolicy | None:
        """How often a source needs a discovery pass (None: never, e.g. data is pushed)."""
        return None

    def activity(self, settings: Settings) -> Activity:
        """The words health uses for this source's receive and read stages."""
        return Activity()

    def queue_counts(self, settings: Settings) -> QueueCounts | None:
        """The backlog of the queue this source receives from (None: it has none); AWS errors
        propagate (health shows them)."""
        return None

    def receive_pass(self, source: Source, settings: Settings, work: Work) -> PassResult:
        """One discovery pass: hand units or objects to `work` while it says keep going."""
        return PassResult(0)

    def handle(
        self, source: Source, settings: Settings, unit: dict[str, Any], work: Work
    ) -> dict[str, Any]:
        """Read one unit this transport handed out; returns a JSON-able summary (with "events")."""
        raise NotImplementedError(f"{self.key} hands out no units")

    def open_object(
        self, source: Source, settings: Settings, ref: ObjectRef
    ) -> tuple[IO[bytes], int]:
        """(stream, size) of one object; raises ObjectError(GET_OBJECT, message)."""
        raise NotImplementedError(f"{self.key} reads no objects")

    def list_since(self, source: Source, settings: Settings, since: datetime) -> list[ObjectRef]:
        """Every object modified since `since` (for backfills; `backfill` says if supported)."""
        raise NotImplementedError(f"{self.key} cannot backfill")

    def authenticate_push(self, source: Source, settings: Settings, push: Push) -> None:
        """Accept the push's credentials (constant time) or raise PushRejected (401)."""
        raise PushRejected(404, "This source does not accept pushed data.")

    def decode_push(self, source: Source, settings: Settings, push: Push) -> PushBody:
        """An authenticated push as a body to store and its origin (raises PushRejected)."""
        raise PushRejected(404, "This source does not accept pushed data.")


def _stream_text(settings: Settings) -> str:
    text = settings.stream_type
    return f"{text} (envelope {settings.envelope})" if settings.envelope else text
