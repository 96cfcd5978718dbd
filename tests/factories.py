"""factory_boy factories for the models tests need."""

import hashlib
from datetime import UTC, datetime

import factory
from django.contrib.auth import get_user_model

from events.models import Event, Failure
from sources.models import Source


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct-horse-battery")


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    name = factory.Sequence(lambda n: f"teleport-{n}")
    transport = "s3"
    log_types = factory.LazyFunction(lambda: ["Gravitational.TeleportAudit"])
    config = factory.LazyFunction(
        lambda: {"account_id": "123456789012", "bucket": "teleport-audit", "region": "us-east-1"}
    )


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    p_row_id = factory.Sequence(
        lambda n: hashlib.blake2b(str(n).encode(), digest_size=16).hexdigest()
    )
    p_log_type = "Gravitational.TeleportAudit"
    source = factory.SubFactory(SourceFactory)
    p_event_time = factory.LazyFunction(lambda: datetime.now(UTC))
    p_parse_time = factory.LazyFunction(lambda: datetime.now(UTC))
    fields = factory.LazyFunction(
        lambda: {"event": "user.login", "code": "T1000I", "user": "alice"}
    )


class FailureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Failure

    source = factory.SubFactory(SourceFactory)
    object_key = "teleport/logs/2026/11/27/10/bad.json.gz"
    line = factory.Sequence(lambda n: n + 1)
    error = "invalid JSON: unexpected end of data"
    raw = b'{"event": "user.lo'


class AlertFactory(factory.django.DjangoModelFactory):
    """An alert of Teleport.RootLogin holding one event (made with its event and match)."""

    class Meta:
        model = "detections.Alert"
        skip_postgeneration_save = True

    rule_id = "Teleport.RootLogin"
    title = factory.Sequence(lambda n: f"User [alice] logged into [db-{n}] as root")
    dedup = factory.LazyAttribute(lambda a: a.title)
    dedup_key = factory.Sequence(
        lambda n: hashlib.blake2b(str(n).encode(), digest_size=16).hexdigest()
    )
    severity = "medium"
    log_type = "Gravitational.TeleportAudit"
    first_event_time = factory.LazyFunction(lambda: datetime.now(UTC))
    last_event_time = factory.LazyAttribute(lambda a: a.first_event_time)
    event_count = 1

    @factory.post_generation
    def events(alert, create, extracted, **kwargs):
        """`events=[Event, ...]` (default: one session.start as root) become its matches."""
        if not create:
            return
        from detections.models import Match

        events = extracted or [
            EventFactory(
                p_event_time=alert.first_event_time,
                fields={
                    "event": "session.start",
                    "user": "alice",
                    "login": "root",
                    "sid": f"sid-{alert.dedup_key[:8]}",
                },
            )
        ]
        for event in events:
            Match.objects.create(
                rule_id=alert.rule_id,
                p_row_id=event.p_row_id,
                p_event_time=event.p_event_time,
                p_log_type=event.p_log_type,
                source=event.source,
                dedup=alert.dedup,
                dedup_key=alert.dedup_key,
                title=alert.title,
                severity=alert.severity,
                window_start=alert.first_event_time,
                alert=alert,
            )


class DestinationFactory(factory.django.DjangoModelFactory):
    """A destination; pass `secret={...}` for its sealed settings (e.g. {"hmac_secret": "s"})."""

    class Meta:
        model = "destinations.Destination"

    name = factory.Sequence(lambda n: f"destination-{n}")
    kind = "webhook"
    url = "https://hooks.example.com/sluice"
    min_severity = "info"

    @classmethod
    def _create(cls, model_class, *args, secret=None, **kwargs):
        from destinations.sealed import seal

        kwargs["secrets"] = seal(secret or {})
        return super()._create(model_class, *args, **kwargs)


def alert_view(**overrides):
    """An AlertView of a rule alert (destinations.view), for deliveries without detections."""
    from destinations.view import AlertView

    values = {
        "id": 4242,
        "rule_id": "Teleport.SSHActivity",
        "title": "root logged in to prod-db-1",
        "severity": "high",
        "status": "open",
        "first_event_time": "2026-11-30T10:00:00+00:00",
        "last_event_time": "2026-11-30T10:05:00+00:00",
        "event_count": 3,
        "url": "http://127.0.0.1:8000/alerts/4242/",
        "log_types": ["Gravitational.TeleportAudit"],
        "events": [{"event": "session.start", "user": "root", "server_hostname": "prod-db-1"}],
    }
    values.update(overrides)
    return AlertView(**values)
