"""Teleport.LongLivedCerts: a certificate valid for longer than usual was issued.

Validity = identity.expires - time. Sluice's events carry RFC 3339 times (upstream parsed
Panther's display format "2023-09-17 21:00:00.000000", which Sluice never stores).
An allowance's expiry date is compared with the event's time rather than the clock, so a
backfill of old logs is judged by the allowances of its day.
"""

from datetime import UTC, datetime, timedelta

SLUICE_DISPATCH = {"event": ["cert.create"]}

# Tune to the longest session TTL your roles normally grant.
MAXIMUM_NORMAL_VALIDITY_INTERVAL = timedelta(hours=12)
# Time between a request being authorized and the certificate being generated.
ISSUANCE_GRACE_PERIOD = timedelta(seconds=5)

# Longer validities allowed per cluster and role, each until an expiry date:
#   {"teleport.example.com": {"ci-bot": (timedelta(hours=720), datetime(2027, 1, 1, tzinfo=UTC))}}
CLUSTER_ROLE_MAX_VALIDITIES: dict[str, dict[str, tuple[timedelta, datetime]]] = {}


def parse_time(value):
    """An RFC 3339 time (0-9 fractional digits, Z or an offset) as an aware datetime; None for
    anything else and for Go's zero time (0001-01-01T00:00:00Z: unset)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return None if parsed.year <= 1 else parsed


def validity_interval(event):
    issued = parse_time(event.get("time"))
    expires = parse_time(event.deep_get("identity", "expires"))
    if issued is None or expires is None:
        return None
    return expires - issued


def maximum_validity(event, issued):
    allowed = MAXIMUM_NORMAL_VALIDITY_INTERVAL + ISSUANCE_GRACE_PERIOD
    allowances = CLUSTER_ROLE_MAX_VALIDITIES.get(event.get("cluster_name"), {})
    for role in event.deep_get("identity", "roles", default=()):
        validity, until = allowances.get(role, (None, None))
        if until is not None and until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        if validity and until and issued < until:
            allowed = max(allowed, validity)
    return allowed


def rule(event):
    if event.get("event") != "cert.create":
        return False
    interval = validity_interval(event)
    if interval is None:
        return False
    return interval > maximum_validity(event, parse_time(event.get("time")))


def title(event):
    user = event.deep_get("identity", "user", default="<Cert with no User!?>")
    cluster = event.get("cluster_name", "<UNKNOWN_CLUSTER>")
    return (
        f"Teleport Alert: Long-lived Certificate issued for [{user}] "
        f"on cluster [{cluster}] with validity period: {validity_interval(event)}"
    )


def alert_context(event):
    return {
        "user": event.deep_get("identity", "user"),
        "roles": event.deep_get("identity", "roles"),
        "expires": event.deep_get("identity", "expires"),
        "validity_seconds": validity_interval(event).total_seconds(),
    }
