"""Deterministic generator of realistic Teleport audit logs.

Produces events shaped like a real Teleport cluster's audit log (logins and failures, SSH sessions
with enhanced-recording commands and network events, scp, exec, port forwarding, database sessions,
access requests, certificates, Kubernetes requests, user management), as dicts, JSON lines, or gzip
objects laid out like Teleport's event handler writes them through fluentd:
``teleport/logs/YYYY/MM/DD/HH/<uuid4>.json.gz``.

Everything is derived from ``random.Random(seed)``: with an explicit ``start`` the output is the
same bytes on every run. Malformed lines are drawn from a second generator, so the good lines of a
stream are identical whatever ``malformed_rate`` is.

CLI: ``python -m devtools.generate --events N --seed S --out DIR``.
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import heapq
import itertools
import random
import re
import sys
import time as _time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

__all__ = [
    "BUSINESS_DAY",
    "OBJECT_KEY_RE",
    "events_in",
    "generate_events",
    "generate_lines",
    "generate_objects",
    "main",
    "object_key",
    "pack_objects",
    "timed_lines",
    "write_objects",
]

NS = 1_000_000_000
HOUR_NS = 3600 * NS
DEFAULT_SPAN = timedelta(days=1)
DEFAULT_EVENTS_PER_OBJECT = 1000
ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time: how Teleport writes an unset expiry
SESSION_DATA_EI = 2147483646  # Teleport gives session.data / session.upload fixed huge indexes
SESSION_UPLOAD_EI = 2147483647
OBJECT_KEY_RE = re.compile(
    r"^teleport/logs/\d{4}/\d{2}/\d{2}/\d{2}/"
    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.json\.gz$"
)

Event = dict[str, Any]
Timed = list[Event]  # each carries its epoch-ns time under TIME_NS until emitted
TIME_NS = "\x00time_ns"  # private key: a JSON log line can never carry it (popped before use)
QUANTUM = {0: NS, 3: 1_000_000, 6: 1_000, 9: 1}

# --------------------------------------------------------------------------------------------
# Static pools
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    name: str
    kind: int  # Teleport's user_kind: 1 human, 2 bot
    logins: tuple[str, ...]
    roles: tuple[str, ...]
    weight: int


USERS = (
    User("alice@example.com", 1, ("ubuntu", "root"), ("access", "editor"), 9),
    User("bob@example.com", 1, ("ubuntu", "ec2-user"), ("access",), 8),
    User("alice", 1, ("alice", "ubuntu"), ("access",), 3),
    User("admin", 1, ("root",), ("editor", "access", "auditor"), 3),
    User("teleport-admin", 1, ("root", "ubuntu", "ec2-user"), ("access", "editor"), 4),
    User("carol.nguyen@example.com", 1, ("ec2-user", "ubuntu"), ("access", "dba"), 6),
    User("dave@example.com", 1, ("ubuntu",), ("access", "dev"), 5),
    User("erin.oconnor@example.com", 1, ("root", "ubuntu"), ("access", "sre"), 5),
    User("frank", 1, ("frank", "ubuntu"), ("access",), 2),
    User("bot-ci-deployer", 2, ("deploy",), ("bot-ci-deployer",), 3),
    User("bot-backup", 2, ("root",), ("bot-backup",), 1),
)
HUMANS = tuple(u for u in USERS if u.kind == 1)
ADMINS = tuple(u for u in USERS if "editor" in u.roles)
UNKNOWN_LOGIN_NAMES = ("root", "test", "oracle", "postgres", "administrator", "guest", "ubnt")

CLIENT_V4_PREFIXES = (
    "175.16.199.",
    "81.2.69.",
    "89.160.20.",
    "216.160.83.",
    "67.43.156.",
    "203.0.113.",
    "198.51.100.",
)
CLIENT_V6_PREFIXES = ("2a02:cf40:0:", "2001:db8:85a3:", "2600:1f18:4a3:", "2601:602:8700:")
ATTACKER_V4_PREFIXES = ("89.160.20.", "216.160.83.", "192.0.2.")

CLUSTERS = (("teleport.example.com", 6), ("prod.example.com", 3), ("staging.example.com", 1))
ENVS = ("prod", "prod", "staging", "dev")
ROLES = ("web", "api", "worker", "db-bastion", "jump", "batch", "cache")
REGIONS = ("us-east-2", "us-west-2", "eu-central-1")
BASH_STARTUP = (
    ("groups", "/usr/bin/groups", ()),
    ("lesspipe", "/usr/bin/lesspipe", ()),
    ("basename", "/usr/bin/basename", ("/usr/bin/lesspipe",)),
    ("dirname", "/usr/bin/dirname", ("/usr/bin/lesspipe",)),
)
COMMANDS = (
    ("ls", "/usr/bin/ls", ("--color=auto", "-la")),
    ("ls", "/usr/bin/ls", ("--color=auto", "/var/log")),
    ("cat", "/usr/bin/cat", ("/etc/os-release",)),
    ("cat", "/usr/bin/cat", ("/etc/hosts",)),
    ("tail", "/usr/bin/tail", ("-n", "200", "/var/log/syslog")),
    ("grep", "/usr/bin/grep", ("-i", "error", "/var/log/app/app.log")),
    ("ps", "/usr/bin/ps", ("aux",)),
    ("df", "/usr/bin/df", ("-h",)),
    ("free", "/usr/bin/free", ("-m",)),
    ("uptime", "/usr/bin/uptime", ()),
    ("whoami", "/usr/bin/whoami", ()),
    ("sudo", "/usr/bin/sudo", ("systemctl", "restart", "nginx")),
    ("systemctl", "/usr/bin/systemctl", ("status", "teleport")),
    ("journalctl", "/usr/bin/journalctl", ("-u", "teleport", "--since", "-1h")),
    ("docker", "/usr/bin/docker", ("ps", "-a")),
    ("docker", "/usr/bin/docker", ("logs", "--tail", "100", "api")),
    ("vim", "/usr/bin/vim.basic", ("/etc/nginx/sites-enabled/default",)),
    ("git", "/usr/bin/git", ("status",)),
    ("python3", "/usr/bin/python3.10", ("manage.py", "migrate")),
    ("top", "/usr/bin/top", ()),
    ("id", "/usr/bin/id", ()),
    ("hostname", "/usr/bin/hostname", ("-f",)),
    ("find", "/usr/bin/find", ("/srv/cache", "-mtime", "+7", "-delete")),
    ("chmod", "/usr/bin/chmod", ("600", "/home/ubuntu/.ssh/authorized_keys")),
    ("history", "/usr/bin/bash", ("-c", "history")),
)
# (program, path, argv, destinations as (ip, port)) - commands that open connections
NETWORK_COMMANDS = (
    ("curl", "/usr/bin/curl", ("-sS", "https://api.github.com/meta"), (("140.82.112.6", 443),)),
    ("curl", "/usr/bin/curl", ("-I", "http://example.com"), (("93.184.216.34", 80),)),
    (
        "curl",
        "/usr/bin/curl",
        ("-s", "https://www.google.com"),
        (("2607:f8b0:400a:801::200e", 443),),
    ),
    (
        "wget",
        "/usr/bin/wget",
        ("https://dl.google.com/go/go1.22.1.linux-amd64.tar.gz",),
        (("142.250.72.206", 443),),
    ),
    (
        "apt-get",
        "/usr/bin/apt-get",
        ("update",),
        (("185.125.190.36", 80), ("2620:2d:4000:1::19", 80)),
    ),
    ("pip", "/usr/bin/pip3", ("install", "requests"), (("151.101.0.223", 443),)),
    ("psql", "/usr/bin/psql", ("-h", "10.0.3.15", "-U", "app", "app"), (("10.0.3.15", 5432),)),
    ("ssh", "/usr/bin/ssh", ("git@github.com",), (("140.82.113.3", 22),)),
    ("nc", "/usr/bin/nc", ("-zv", "10.0.7.21", "6379"), (("10.0.7.21", 6379),)),
    ("node", "/usr/bin/node", ("server.js",), (("10.0.5.9", 3000),)),
)
SCP_PATHS = (
    "/var/log/nginx/access.log",
    "/home/ubuntu/backup-2026.tar.gz",
    "~/report.csv",
    "/etc/nginx/nginx.conf",
    "/opt/app/heapdump.hprof",
    "~/.bashrc",
    "/opt/app/config.yaml",
)
EXEC_COMMANDS = (
    "uptime",
    "df -h /",
    "sudo systemctl restart app",
    "cat /etc/os-release",
    "docker compose pull && docker compose up -d",
    "ls /var/backups",
    "/opt/deploy/bin/release --tag v2.14.3",
)
PORT_TARGETS = (
    "localhost:5432",
    "localhost:8080",
    "127.0.0.1:6379",
    "10.0.3.15:5432",
    "localhost:3000",
)
LOGIN_FAILURES_LOCAL = (
    "invalid username or password",
    "invalid one time token, please try again",
    "failed to validate MFA response",
    "user account is locked",
)
LOGIN_FAILURES_SSO = (
    "role clusteradmin is not found",
    "unable to map claims to role for connector: okta",
    "invalid state token",
)
AUTH_FAILURE = (
    'ssh: principal "{login}" not in the set of valid principals for given certificate: {logins}'
)
SSO_METHODS = ("github", "oidc", "saml")
USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/121.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "tsh/15.0.2 grpc-go/1.60.1",
    "tsh/16.4.6 grpc-go/1.66.2",
)


@dataclass(frozen=True)
class Database:
    protocol: str
    service: str
    uri: str
    db_type: str
    names: tuple[str, ...]
    users: tuple[str, ...]
    queries: tuple[str, ...]


DATABASES = (
    Database(
        "postgres",
        "pg-prod",
        "pg-prod.cluster-c9x2akq1.us-east-2.rds.amazonaws.com:5432",
        "rds",
        ("app", "billing", "postgres"),
        ("app_ro", "alice", "postgres"),
        (
            "SELECT id, email, created_at FROM users WHERE id = $1",
            "SELECT count(*) FROM invoices WHERE paid = false",
            "UPDATE orders SET status = $1 WHERE id = $2",
            "INSERT INTO audit_log (actor, action, created_at)\n\tVALUES ($1, $2, now())",
            "BEGIN",
            "COMMIT",
            "SELECT pid, state, query FROM pg_stat_activity WHERE state <> 'idle'",
            "DELETE FROM sessions WHERE expires_at < now()",
            "\\dt",
        ),
    ),
    Database(
        "mysql",
        "mysql-analytics",
        "analytics.mysql.example.internal:3306",
        "self-hosted",
        ("analytics", "mysql"),
        ("readonly", "analyst"),
        (
            "SHOW TABLES",
            "SELECT user_id, SUM(amount) FROM payments GROUP BY user_id LIMIT 50",
            "select @@version_comment limit 1",
            "DESCRIBE events",
        ),
    ),
    Database(
        "mongodb",
        "mongo-primary",
        "mongodb://mongo-1:27017,mongo-2:27018/?replicaSet=rs0",
        "self-hosted",
        ("shop", "admin"),
        ("alice", "reporting"),
        (
            '{"find": "orders","filter": {"status": "open"},"limit": 20,"$db": "shop"}',
            '{"aggregate": "orders","pipeline": [{"$group": {"_id": "$status","n": {"$sum": 1}}}],'
            '"$db": "shop"}',
            '{"listCollections": 1,"$db": "shop"}',
        ),
    ),
)

KUBE_CLUSTERS = ("prod-eks", "staging-gke", "gke_teleport-a")
KUBE_NAMESPACES = ("default", "payments", "web", "monitoring", "kube-system")
# (HTTP verb, path template, api group, kind, name-suffixed path?)
KUBE_REQUESTS = (
    ("GET", "/api/v1/namespaces/{ns}/pods", "core/v1", "pods", False),
    ("GET", "/api/v1/namespaces/{ns}/pods/{name}", "core/v1", "pods", True),
    ("GET", "/api/v1/namespaces/{ns}/pods/{name}/log", "core/v1", "pods", True),
    ("GET", "/apis/apps/v1/namespaces/{ns}/deployments", "apps/v1", "deployments", False),
    ("PATCH", "/apis/apps/v1/namespaces/{ns}/deployments/{name}", "apps/v1", "deployments", True),
    ("DELETE", "/api/v1/namespaces/{ns}/pods/{name}", "core/v1", "pods", True),
    ("GET", "/api/v1/namespaces/{ns}/secrets/{name}", "core/v1", "secrets", True),
    ("POST", "/apis/batch/v1/namespaces/{ns}/jobs", "batch/v1", "jobs", False),
    ("GET", "/api/v1/namespaces", "core/v1", "namespaces", False),
)
KUBE_WORKLOADS = ("api", "web", "worker", "redis", "prometheus", "checkout")
ACCESS_ROLES = (("prod-access",), ("dba",), ("admin",), ("prod-access", "dba"), ("kube-admin",))
ACCESS_REASONS = (
    "INC-4821 investigating elevated 5xx on checkout",
    "deploy hotfix for billing job",
    "quarterly access review",
    "on-call: disk pressure on db-bastion",
    "",
)
NEW_USER_NAMES = ("grace@example.com", "heidi@example.com", "ivan", "judy@example.com", "bot-etl")

# --------------------------------------------------------------------------------------------
# Small fast helpers
# --------------------------------------------------------------------------------------------

_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def _uuid4(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE_CACHE: dict[int, str] = {}
_SECONDS = tuple(f"{second:02d}" for second in range(60))
_MILLIS = tuple(f".{ms:03d}".rstrip("0").rstrip(".") for ms in range(1000))  # Go-style trim


def _minute_prefix(minute: int) -> str:
    """'YYYY-MM-DDTHH:MM:' for a minute since the epoch (cached: events cluster in time)."""
    prefix = _MINUTE_CACHE.get(minute)
    if prefix is None:
        if len(_MINUTE_CACHE) > 65536:
            _MINUTE_CACHE.clear()
        d = _EPOCH + timedelta(minutes=minute)
        prefix = f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:"
        _MINUTE_CACHE[minute] = prefix
    return prefix


def rfc3339(ns: int, digits: int = 9, *, trim: bool = True) -> str:
    """Format epoch nanoseconds as RFC3339 UTC with up to ``digits`` fractional digits.

    ``trim`` drops trailing zeros like Go's time.RFC3339Nano (which Teleport uses).
    """
    sec, frac = divmod(ns, NS)
    minute, second = divmod(sec, 60)
    text = _minute_prefix(minute) + _SECONDS[second]
    if digits == 3 and trim:
        return f"{text}{_MILLIS[frac // 1_000_000]}Z"
    if digits:
        fraction = f"{frac:09d}"[:digits]
        if trim:
            fraction = fraction.rstrip("0")
        if fraction:
            return f"{text}.{fraction}Z"
    return text + "Z"


def _to_ns(when: datetime) -> int:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = when - _EPOCH
    return (delta.days * 86400 + delta.seconds) * NS + delta.microseconds * 1000


def _span_ns(span: timedelta) -> int:
    ns = (span.days * 86400 + span.seconds) * NS + span.microseconds * 1000
    if ns <= 0:
        raise ValueError(f"span must be positive, got {span!r}")
    return ns


def _resolve_window(start: datetime | None, span: timedelta) -> tuple[int, int]:
    span_ns = _span_ns(span)
    start_dt = datetime.now(UTC) - span if start is None else start
    return _to_ns(start_dt), span_ns


def _email(name: str) -> str:
    return name if "@" in name else f"{name}@example.com"


def _check_count(count: int) -> None:
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")


def _check_rate(rate: float) -> None:
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"malformed_rate must be between 0 and 1, got {rate}")


def _weighted_table(pairs: Any, size: int = 200) -> tuple:
    """Expand (item, weight) pairs into a table where rng.choice honours the weights."""
    total = sum(w for _, w in pairs)
    table: list = []
    for item, weight in pairs:
        table.extend([item] * max(1, round(size * weight / total)))
    return tuple(table)


# Activity per UTC hour of the day, relative to the busiest: a team's working day (logins and
# sessions from 07:00, a lunch dip, bots and a little on-call work at night).
BUSINESS_DAY = (
    0.08, 0.06, 0.05, 0.05, 0.06, 0.10, 0.20, 0.45, 0.80, 1.00, 1.00, 0.95,
    0.70, 0.90, 1.00, 1.00, 0.90, 0.70, 0.45, 0.30, 0.22, 0.16, 0.12, 0.10,
)  # fmt: skip
Profile = tuple[float, ...]  # 24 weights, one per UTC hour of the day


def _check_profile(profile: Profile) -> None:
    if len(profile) != 24 or min(profile) <= 0:
        raise ValueError("a profile is 24 positive weights, one per UTC hour of the day")


def events_in(start: datetime, span: timedelta, per_hour: Profile) -> int:
    """Events a window holds at `per_hour[h]` events an hour during UTC hour h of each day."""
    start_ns, span_ns = _resolve_window(start, span)
    return round(sum(w * (b - a) for a, b, w in _segments(start_ns, span_ns, per_hour)) / HOUR_NS)


def _segments(start_ns: int, span_ns: int, profile: Profile) -> list[tuple[int, int, float]]:
    """The window cut at UTC hour boundaries: (from, to, weight of that hour of the day)."""
    segments, t, end = [], start_ns, start_ns + span_ns
    while t < end:
        hour_end = min(end, t - t % HOUR_NS + HOUR_NS)
        segments.append((t, hour_end, profile[(t // HOUR_NS) % 24]))
        t = hour_end
    return segments


class _Clock:
    """Maps the share of a window's events created so far to a time, uniformly (no profile) or
    denser in the profile's busy hours (the inverse of its cumulative weight)."""

    def __init__(self, start_ns: int, span_ns: int, profile: Profile | None) -> None:
        self.start_ns, self.span_ns = start_ns, span_ns
        self.segments = _segments(start_ns, span_ns, profile) if profile else []
        self.cumulative = list(itertools.accumulate(w * (b - a) for a, b, w in self.segments))

    def at(self, numerator: int, denominator: int) -> int:
        """The time at share numerator/denominator of the window's events."""
        if not self.segments:
            return self.start_ns + numerator // denominator
        target = self.cumulative[-1] * numerator / (denominator * self.span_ns)
        index = min(bisect.bisect_right(self.cumulative, target), len(self.segments) - 1)
        a, b, weight = self.segments[index]
        before = self.cumulative[index - 1] if index else 0.0
        return min(b - 1, a + int((target - before) / weight))


# --------------------------------------------------------------------------------------------
# The simulated cluster
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    server_id: str
    hostname: str
    cluster: str
    ip: str
    labels: dict[str, str]
    addr_local: str


@dataclass(frozen=True)
class Client:
    ips: tuple[str, ...]


def _client_ip(rng: random.Random, v6_share: float, v4_prefixes: tuple[str, ...]) -> str:
    if rng.random() < v6_share:
        groups = ":".join(f"{rng.getrandbits(16):x}" for _ in range(5))
        return rng.choice(CLIENT_V6_PREFIXES) + groups
    return rng.choice(v4_prefixes) + str(rng.randint(2, 254))


def _build_servers(rng: random.Random, cluster_table: tuple) -> tuple[Server, ...]:
    servers = []
    for index in range(24):
        cluster = rng.choice(cluster_table)
        octets = (rng.randint(0, 31), rng.randint(0, 255), rng.randint(2, 254))
        ip = f"10.{octets[0]}.{octets[1]}.{octets[2]}"
        role = ROLES[index % len(ROLES)]
        env = rng.choice(ENVS)
        region = rng.choice(REGIONS)
        if index % 3 == 0:
            hostname = f"ip-10-{octets[0]}-{octets[1]}-{octets[2]}.{region}.compute.internal"
        else:
            hostname = f"{role}-{index:02d}.{env}.example.com"
        labels = {"env": env, "role": role, "region": region, "hostname": hostname}
        if index % 2:
            labels["teleport.dev/origin"] = "config"
        else:
            labels["teleport.internal/resource-id"] = _uuid4(rng)
        addr_local = f"{ip}:3022" if index % 7 else f"[fd00:10:{octets[0]:x}::{octets[2]:x}]:3022"
        servers.append(Server(_uuid4(rng), hostname, cluster, ip, labels, addr_local))
    return tuple(servers)


class _Cluster:
    """Per-seed world (servers, client addresses) and the event builders."""

    def __init__(self, rng: random.Random, start_ns: int, end_ns: int) -> None:
        self.rng = rng
        self.random = rng.random
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.cluster_table = _weighted_table(CLUSTERS)
        self.main_cluster = CLUSTERS[0][0]
        self.servers = _build_servers(rng, self.cluster_table)
        self.user_table = _weighted_table([(u, u.weight) for u in USERS])
        self.human_table = _weighted_table([(u, u.weight) for u in HUMANS])
        self.clients = {
            u.name: tuple(_client_ip(rng, 0.3, CLIENT_V4_PREFIXES) for _ in range(2)) for u in USERS
        }
        self.attackers = tuple(_client_ip(rng, 0.15, ATTACKER_V4_PREFIXES) for _ in range(12))
        # fractional digits of `time`; one emitter (scenario) writes one precision
        self.time_digits = _weighted_table([(3, 80), (9, 10), (6, 6), (0, 4)])
        self.digits = 3
        self.scenarios: tuple[Callable[[int, int], Timed], ...] = _weighted_table(
            [
                (self.ssh_session, 24),
                (self.login, 20),
                (self.login_burst, 1.5),
                (self.cert_only, 5),
                (self.kube_requests, 10),
                (self.db_session, 6),
                (self.scp, 5),
                (self.exec, 5),
                (self.port_forward, 2),
                (self.auth_failure, 3),
                (self.access_request, 3),
                (self.user_create, 1),
            ],
            size=400,
        )
        self.single_event_scenarios = (
            self.cert_only,
            self.scp,
            self.exec,
            self.port_forward,
            self.auth_failure,
            self.user_create,
        )

    # -- primitives ---------------------------------------------------------------------------

    def pick(self, seq: Any) -> Any:
        return seq[int(self.random() * len(seq))]

    def randint(self, low: int, high: int) -> int:
        return low + int(self.random() * (high - low + 1))

    def uuid(self) -> str:
        return _uuid4(self.rng)

    def stamp(self, t: int) -> tuple[int, str]:
        """Event time at the scenario's precision: (ns value written, RFC3339 text)."""
        digits = self.digits
        quantized = t - t % QUANTUM[digits]
        if quantized < self.start_ns:  # rounding down must not leave the window
            return t, rfc3339(t, 9)
        return quantized, rfc3339(quantized, digits)

    def remote(self, ip: str) -> str:
        port = self.randint(32768, 60999)
        return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"

    def client_addr(self, user: User) -> str:
        return self.remote(self.pick(self.clients[user.name]))

    def times(self, t0: int, offsets: list[int]) -> list[int]:
        """Absolute times for offsets (seconds*NS), squeezed to stay inside the window."""
        last = offsets[-1]
        room = self.end_ns - 1 - t0
        if last > room:
            return [t0 + off * room // last for off in offsets]
        return [t0 + off for off in offsets]

    def head(self, event: str, code: str, t: int, cluster: str, ei: int = 0) -> Event:
        ns, text = self.stamp(t)
        return {
            "ei": ei,
            "event": event,
            "uid": self.uuid(),
            "code": code,
            "time": text,
            "cluster_name": cluster,
            TIME_NS: ns,
        }

    def identity(self, user: User, event: Event) -> Event:
        event["user"] = user.name
        event["user_kind"] = user.kind
        return event

    def seconds(self, low: float, high: float) -> int:
        return int(self.rng.uniform(low, high) * NS)

    # -- scenarios: each returns [(t_ns, event)] with at most `budget` events ----------------

    def login(self, t0: int, budget: int) -> Timed:
        rng = self.rng
        user = self.pick(self.human_table)
        cluster = self.main_cluster
        addr = self.client_addr(user)
        sso = rng.random() < 0.35
        failed = rng.random() < 0.18
        code = ("T1001" if sso else "T1000") + ("W" if failed else "I")
        event = self.identity(user, self.head("user.login", code, t0, cluster))
        event["success"] = not failed
        event["method"] = self.pick(SSO_METHODS) if sso else "local"
        if failed:
            event["error"] = self.pick(LOGIN_FAILURES_SSO if sso else LOGIN_FAILURES_LOCAL)
        elif sso:
            event["attributes"] = {"email": _email(user.name), "groups": list(user.roles)}
        else:
            event["required_private_key_policy"] = "none"
            if rng.random() < 0.5:
                event["mfa_device"] = {
                    "mfa_device_name": "otp-device",
                    "mfa_device_uuid": self.uuid(),
                    "mfa_device_type": self.pick(("TOTP", "WebAuthn")),
                }
        event["user_agent"] = self.pick(USER_AGENTS)
        event["addr.remote"] = addr
        timed: Timed = [event]
        if not failed and budget > 1:
            t1 = self.times(t0, [0, self.seconds(0.01, 0.08)])[1]
            timed.append(self.cert_event(t1, user, addr.rsplit(":", 1)[0].strip("[]")))
        return timed

    def login_burst(self, t0: int, budget: int) -> Timed:
        """Password spraying from one address: several failed local logins seconds apart."""
        ip = self.pick(self.attackers)
        count = min(budget, self.randint(3, 9))
        offsets = list(itertools.accumulate([0] + [self.seconds(0.5, 6) for _ in range(count - 1)]))
        timed: Timed = []
        for t in self.times(t0, offsets):
            name = self.pick((*UNKNOWN_LOGIN_NAMES, "alice", "admin"))
            event = self.head("user.login", "T1000W", t, self.main_cluster)
            event["user"] = name
            event["success"] = False
            event["method"] = "local"
            event["error"] = (
                f'user(name="{name}") not found'
                if name in UNKNOWN_LOGIN_NAMES
                else "invalid username or password"
            )
            event["user_agent"] = USER_AGENTS[0]
            event["addr.remote"] = self.remote(ip)
            timed.append(event)
        return timed

    def cert_event(self, t: int, user: User, client_ip: str) -> Event:
        rng = self.rng
        cluster = self.main_cluster
        event = self.head("cert.create", "TC000I", t, cluster)
        if rng.random() < 0.2:
            del event["uid"]  # older auth servers emit cert.create without uid
        event["cert_type"] = "user"
        event["identity"] = {
            "user": user.name,
            "roles": list(user.roles),
            "logins": [*user.logins, "-teleport-internal-join"],
            "expires": rfc3339(t + 12 * HOUR_NS + self.randint(0, 999_999), 9),
            "route_to_cluster": cluster,
            "traits": {"logins": list(user.logins), "kubernetes_groups": None, "db_users": None},
            "teleport_cluster": cluster,
            "client_ip": client_ip,
            "prev_identity_expires": ZERO_TIME,
            "private_key_policy": "none",
        }
        if rng.random() < 0.5:
            event["user_agent"] = self.pick(USER_AGENTS[2:])
        return event

    def cert_only(self, t0: int, budget: int) -> Timed:
        user = self.pick(self.user_table)
        ip = self.pick(self.clients[user.name])
        return [self.cert_event(t0, user, ip)]

    def session_base(self, user: User, login: str, server: Server, sid: str) -> Event:
        """Fields shared by every event of one SSH session (after the head)."""
        base: Event = {
            "user": user.name,
            "login": login,
            "user_kind": user.kind,
            "sid": sid,
        }
        if self.rng.random() < 0.6:
            base["private_key_policy"] = "none"
        base["namespace"] = "default"
        base["server_id"] = server.server_id
        base["server_hostname"] = server.hostname
        return base

    def ssh_session(self, t0: int, budget: int) -> Timed:
        rng = self.rng
        user = self.pick(self.human_table) if rng.random() < 0.9 else self.pick(self.user_table)
        login = self.pick(user.logins)
        server = self.pick(self.servers)
        sid = self.uuid()
        base = self.session_base(user, login, server, sid)
        addr_remote = self.client_addr(user)
        interactive = rng.random() < 0.85
        enhanced = rng.random() < 0.8
        cgroup_id = self.randint(4294967296, 4295099999)
        pid = self.randint(1200, 60000)

        # middle events: (event name, payload builder input)
        middle: list[tuple[str, tuple]] = []
        if enhanced:
            if interactive and rng.random() < 0.6:
                middle.extend(("cmd", c) for c in BASH_STARTUP)
            for _ in range(int(rng.expovariate(1 / 5))):
                if rng.random() < 0.2:
                    net = self.pick(NETWORK_COMMANDS)
                    middle.append(("cmd", net[:3]))
                    middle.extend(("net", (net[0], dst)) for dst in net[3])
                else:
                    middle.append(("cmd", self.pick(COMMANDS)))
        joiner = None
        if interactive and rng.random() < 0.08:
            joiner = self.pick(self.human_table)
            if joiner is not user:
                middle.insert(len(middle) // 2, ("join", ()))
                middle.append(("leave_joiner", ()))
            else:
                joiner = None
        trailer = ["data", "leave", "end", "upload"]
        # keep start and end; shed middle events, then trailing extras, to fit the budget
        while 2 + len(middle) + len(trailer) - 1 > budget and middle:
            middle.pop()
        if joiner and ("leave_joiner", ()) not in middle:
            middle = [m for m in middle if m[0] != "join"]
            joiner = None
        for extra in ("upload", "data", "leave"):
            if 1 + len(middle) + len(trailer) > budget:
                trailer.remove(extra)

        offsets = [0]
        for kind, _ in middle:
            gap = self.seconds(0.001, 0.05) if kind == "net" else self.seconds(1, 45)
            offsets.append(offsets[-1] + gap)
        for kind in trailer:
            gap = self.seconds(2, 120) if kind == "data" else self.seconds(0.001, 0.5)
            offsets.append(offsets[-1] + gap)
        times = self.times(t0, offsets)

        ei = 0
        timed: Timed = []
        start_event = self.head("session.start", "T2000I", times[0], server.cluster)
        start_event.update(base)
        start_event["server_labels"] = server.labels
        start_event["addr.local"] = server.addr_local
        start_event["addr.remote"] = addr_remote
        start_event["proto"] = "ssh"
        start_event["size"] = self.pick(("80:25", "120:40", "211:52", "157:38"))
        if not interactive:
            start_event["initial_command"] = [self.pick(EXEC_COMMANDS)]
        start_event["session_recording"] = "node"
        timed.append(start_event)

        for (kind, payload), t in zip(middle, times[1 : 1 + len(middle)], strict=True):
            ei += self.randint(1, 4)
            if kind == "cmd":
                program, path, argv = payload
                event = self.head("session.command", "T4000I", t, server.cluster, ei)
                event.update(base)
                pid += self.randint(1, 40)
                event["pid"] = pid
                event["ppid"] = pid - self.randint(1, 9)
                event["cgroup_id"] = cgroup_id
                event["program"] = program
                event["path"] = path
                event["argv"] = list(argv)
                event["return_code"] = 0 if rng.random() < 0.92 else self.pick((1, 2, 127, 130))
            elif kind == "net":
                program, (dst, port) = payload
                v6 = ":" in dst
                event = self.head("session.network", "T4002I", t, server.cluster, ei)
                event.update(base)
                event["pid"] = pid
                event["cgroup_id"] = cgroup_id
                event["program"] = program
                event["src_addr"] = "fd00:10::5" if v6 else server.ip
                event["dst_addr"] = dst
                event["dst_port"] = str(port) if rng.random() < 0.05 else port
                event["version"] = 6 if v6 else 4
                event["operation"] = 0
                event["action"] = 0 if rng.random() < 0.93 else 1
            else:
                assert joiner is not None
                name = "session.join" if kind == "join" else "session.leave"
                event = self.head(
                    name, "T2001I" if kind == "join" else "T2003I", t, server.cluster, ei
                )
                event.update(base)
                event["user"] = joiner.name
                if kind == "join":
                    event["addr.local"] = server.addr_local
                    event["addr.remote"] = self.client_addr(joiner)
            timed.append(event)

        for kind, t in zip(trailer, times[1 + len(middle) :], strict=True):
            if kind == "data":
                event = self.head("session.data", "T2006I", t, server.cluster, SESSION_DATA_EI)
                event.update(base)
                event["addr.local"] = server.addr_local
                event["addr.remote"] = addr_remote
                event["tx"] = self.randint(2000, 5_000_000)
                event["rx"] = self.randint(500, 200_000)
            elif kind == "leave":
                ei += 1
                event = self.head("session.leave", "T2003I", t, server.cluster, ei)
                event.update(base)
                event["server_labels"] = server.labels
            elif kind == "end":
                ei += 1
                event = self.head("session.end", "T2004I", t, server.cluster, ei)
                event.update(base)
                event["server_labels"] = server.labels
                event["addr.remote"] = addr_remote
                event["proto"] = "ssh"
                event["enhanced_recording"] = enhanced
                event["interactive"] = interactive
                participants = [user.name] + ([joiner.name] if joiner else [])
                event["participants"] = participants
                event["session_start"] = rfc3339(times[0], 9)
                event["session_stop"] = rfc3339(t, 9)
                event["session_recording"] = "node"
            else:
                event = self.head("session.upload", "T2005I", t, server.cluster, SESSION_UPLOAD_EI)
                event["sid"] = sid
                event["url"] = f"file:///var/lib/teleport/log/records/multi/{sid}"
            timed.append(event)
        return timed

    def scp(self, t0: int, budget: int) -> Timed:
        rng = self.rng
        user = self.pick(self.human_table)
        server = self.pick(self.servers)
        login = self.pick(user.logins)
        upload = rng.random() < 0.4
        failed = rng.random() < 0.1
        code = ("T3005" if upload else "T3004") + ("E" if failed else "I")
        event = self.head("scp", code, t0, server.cluster)
        event.update(self.session_base(user, login, server, self.uuid()))
        path = self.pick(SCP_PATHS)
        event["addr.local"] = server.addr_local
        event["addr.remote"] = self.client_addr(user)
        event["action"] = "upload" if upload else "download"
        event["path"] = path
        event["len"] = 0 if failed else self.randint(120, 250_000_000)
        event["command"] = f"scp {'-t' if upload else '-f'} {path}"
        event["exitCode"] = "1" if failed else "0"  # Teleport writes exit codes as strings
        if failed:
            event["exitError"] = "exit status 1"
        return [event]

    def exec(self, t0: int, budget: int) -> Timed:
        rng = self.rng
        user = self.pick(self.user_table)
        server = self.pick(self.servers)
        failed = rng.random() < 0.12
        event = self.head("exec", "T3002E" if failed else "T3002I", t0, server.cluster)
        event.update(self.session_base(user, self.pick(user.logins), server, self.uuid()))
        event["addr.local"] = server.addr_local
        event["addr.remote"] = self.client_addr(user)
        event["command"] = self.pick(EXEC_COMMANDS)
        event["exitCode"] = self.pick(("1", "127")) if failed else "0"
        if failed:
            event["exitError"] = f"exit status {event['exitCode']}"
        return [event]

    def port_forward(self, t0: int, budget: int) -> Timed:
        rng = self.rng
        user = self.pick(self.human_table)
        server = self.pick(self.servers)
        failed = rng.random() < 0.15
        event = self.identity(
            user, self.head("port", "T3003E" if failed else "T3003I", t0, server.cluster)
        )
        event["login"] = self.pick(user.logins)
        event["addr.local"] = server.addr_local
        event["addr.remote"] = self.client_addr(user)
        event["addr"] = self.pick(PORT_TARGETS)
        event["success"] = not failed
        if failed:
            event["error"] = (
                "port forwarding not allowed by role set: roles access,default-implicit-role"
            )
        return [event]

    def auth_failure(self, t0: int, budget: int) -> Timed:
        user = self.pick(self.user_table)
        wanted = self.pick(("root", "admin", "postgres", "jack", *user.logins))
        event = self.identity(user, self.head("auth", "T3007W", t0, self.main_cluster))
        event["success"] = False
        event["error"] = AUTH_FAILURE.format(
            login=wanted, logins=orjson.dumps(list(user.logins)).decode()
        )
        event["addr.remote"] = self.client_addr(user)
        return [event]

    def kube_requests(self, t0: int, budget: int) -> Timed:
        rng = self.rng
        user = self.pick(self.user_table)
        server = self.pick(self.servers)
        kube = self.pick(KUBE_CLUSTERS)
        addr_remote = self.client_addr(user)
        count = min(budget, 1 + int(rng.expovariate(1 / 2)))
        offsets = list(
            itertools.accumulate([0] + [self.seconds(0.05, 20) for _ in range(count - 1)])
        )
        timed: Timed = []
        for t in self.times(t0, offsets):
            verb, template, group, kind, named = self.pick(KUBE_REQUESTS)
            ns = self.pick(KUBE_NAMESPACES)
            name = f"{self.pick(KUBE_WORKLOADS)}-{rng.getrandbits(32):08x}"[:18]
            event = self.identity(user, self.head("kube.request", "T3009I", t, server.cluster))
            event["login"] = user.name
            event["namespace"] = "default"
            event["server_id"] = server.server_id
            event["addr.local"] = "127.0.0.1:3027"
            event["addr.remote"] = addr_remote
            event["proto"] = "kube"
            event["kubernetes_cluster"] = kube
            event["kubernetes_users"] = [user.name]
            event["kubernetes_groups"] = ["system:authenticated", "developers"]
            event["request_path"] = template.format(ns=ns, name=name)
            event["verb"] = verb
            event["resource_api_group"] = group
            event["resource_kind"] = kind
            event["resource_namespace"] = ns
            if named:
                event["resource_name"] = name
            forbidden = kind == "secrets" and rng.random() < 0.6
            event["response_code"] = 403 if forbidden else (201 if verb == "POST" else 200)
            timed.append(event)
        return timed

    def db_session(self, t0: int, budget: int) -> Timed:
        rng = self.rng
        user = self.pick(self.human_table)
        db = self.pick(DATABASES)
        server = self.pick(self.servers)
        sid = self.uuid()
        denied = rng.random() < 0.08
        common: Event = {
            "user": user.name,
            "user_kind": user.kind,
            "sid": sid,
            "namespace": "default",
            "server_id": server.server_id,
            "db_service": db.service,
            "db_protocol": db.protocol,
            "db_uri": db.uri,
            "db_user": self.pick(db.users),
            "db_name": self.pick(db.names),
        }
        start = self.head("db.session.start", "TDB00W" if denied else "TDB00I", t0, server.cluster)
        start.update(common)
        start["success"] = not denied
        start["db_type"] = db.db_type
        start["db_origin"] = "config-file"
        if denied:
            reason = "access to db denied. User does not have permissions."
            start["error"] = reason
            start["message"] = reason
            return [start]
        queries = min(budget - 2, int(rng.expovariate(1 / 4)) + 1) if budget > 2 else 0
        offsets = list(itertools.accumulate([0] + [self.seconds(0.01, 30) for _ in range(queries)]))
        if budget > 1:
            offsets.append(offsets[-1] + self.seconds(0.1, 60))
        times = self.times(t0, offsets)
        timed: Timed = [start]
        for index, t in enumerate(times[1 : 1 + queries], start=1):
            event = self.head("db.session.query", "TDB02I", t, server.cluster, index)
            event.update(common)
            event["db_query"] = self.pick(db.queries)
            if "$1" in event["db_query"]:
                event["db_query_parameters"] = [str(self.randint(1, 99999)), "open"][
                    : event["db_query"].count("$")
                ]
            event["success"] = True
            timed.append(event)
        if budget > 1:
            end = self.head("db.session.end", "TDB01I", times[-1], server.cluster, queries + 1)
            end.update(common)
            timed.append(end)
        return timed

    def access_request(self, t0: int, budget: int) -> Timed:
        rng = self.rng
        user = self.pick(self.human_table)
        request_id = self.uuid()
        roles = list(self.pick(ACCESS_ROLES))
        reason = self.pick(ACCESS_REASONS)
        create = self.identity(
            user, self.head("access_request.create", "T5000I", t0, self.main_cluster)
        )
        create["id"] = request_id
        create["roles"] = roles
        create["state"] = "PENDING"
        create["reason"] = reason
        create["max_duration"] = rfc3339(t0 + 8 * HOUR_NS, 3)
        create["expires"] = rfc3339(t0 + HOUR_NS, 3)
        timed: Timed = [create]
        if budget > 1 and rng.random() < 0.9:
            t1 = self.times(t0, [0, self.seconds(20, 1800)])[1]
            approved = rng.random() < 0.8
            state = "APPROVED" if approved else "DENIED"
            reviewer = self.pick([a for a in ADMINS if a is not user] or ADMINS)
            review = self.head("access_request.review", "T5002I", t1, self.main_cluster)
            review["id"] = request_id
            review["reviewer"] = reviewer.name
            review["proposed_state"] = state
            review["state"] = state
            review["roles"] = roles
            review["reason"] = "approved, ticket linked" if approved else "use the runbook instead"
            timed.append(review)
        return timed

    def user_create(self, t0: int, budget: int) -> Timed:
        creator = self.pick(ADMINS)
        event = self.identity(creator, self.head("user.create", "T1002I", t0, self.main_cluster))
        event["name"] = self.pick(NEW_USER_NAMES)
        event["roles"] = [*self.pick(ACCESS_ROLES), "access"]
        event["connector"] = self.pick(("local", "github", "okta"))
        event["expires"] = ZERO_TIME
        return [event]

    def scenario(self, t0: int, budget: int) -> Timed:
        self.digits = self.pick(self.time_digits)
        if budget < 3:
            return self.pick(self.single_event_scenarios)(t0, budget)
        return self.pick(self.scenarios)(t0, budget)


# --------------------------------------------------------------------------------------------
# Streams
# --------------------------------------------------------------------------------------------


def _timed_events(
    count: int, seed: int, start_ns: int, span_ns: int, profile: Profile | None = None
) -> Iterator[tuple[int, Event]]:
    """Events with their epoch-ns time, in time order, all inside [start, start+span).

    Scenario start times advance with the share of events created so far (through the profile's
    busy and quiet hours when there is one); events of running scenarios wait in a heap until no
    later-starting scenario can precede them. Written times are rounded down to at most whole
    seconds, hence the one-second safety margin.
    """
    _check_count(count)
    if profile is not None:
        _check_profile(profile)
    rng = random.Random(seed)
    cluster = _Cluster(rng, start_ns, start_ns + span_ns)
    clock = _Clock(start_ns, span_ns, profile)
    heap: list[tuple[int, int, Event]] = []
    sequence = itertools.count()
    pop, push = heapq.heappop, heapq.heappush
    created = 0
    while created < count:
        t_start = clock.at(span_ns * created + int(rng.random() * span_ns), count)
        safe = t_start - t_start % NS
        while heap and heap[0][0] <= safe:
            t, _, event = pop(heap)
            yield t, event
        timed = cluster.scenario(t_start, count - created)
        for event in timed:
            push(heap, (event.pop(TIME_NS), next(sequence), event))
        created += len(timed)
    while heap:
        t, _, event = pop(heap)
        yield t, event


@dataclass(frozen=True)
class Breakage:
    """How the generator broke a line: the kind (the _Malformer method), and for a field it
    removed, retyped or re-timed, that field and the value it wrote (MISSING when removed)."""

    kind: str
    field: str | None = None
    value: Any = None

    @property
    def rejected_by_schema(self) -> bool:
        """Whether the Teleport schema refuses the line, by the rules it documents
        (parsers/README.md): a string field takes any JSON value but null (null is absent), so a
        retyped `event` or `code` still parses; every other break (truncated JSON, invalid
        UTF-8, not JSON, not an object, a required field missing or null, a time that is not
        RFC 3339 text) makes the line a failure."""
        retyped_string = self.kind == "wrong_type" and self.field in {"event", "code"}
        return not (retyped_string and self.value is not None)


class _Malformer:
    """Turns good lines into the kinds of broken lines a log pipeline meets."""

    BAD_TIMES = (
        "2026-13-01T00:00:00Z",
        "2026-02-30T10:00:00Z",
        "2026-11-27T25:61:00Z",
        "27/Nov/2026:10:15:30 +0000",
        "not-a-time",
        "",
        "2026-11-27T10:15:30.123456789123Z",
    )
    NOT_OBJECTS = (b"null", b'["session.start","T2000I"]', b'"session.start"', b"42", b"{}")

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"sluice-malformed:{seed}")
        self.kinds = (
            self.truncated,
            self.truncated,
            self.missing_required,
            self.wrong_type,
            self.bad_time,
            self.invalid_utf8,
            self.non_json,
            self.not_object,
        )

    def should_break(self, rate: float) -> bool:
        return self.rng.random() < rate

    def corrupt(self, t: int, event: Event, line: bytes) -> bytes:
        return self.corrupt_labelled(t, event, line)[0]

    def corrupt_labelled(self, t: int, event: Event, line: bytes) -> tuple[bytes, Breakage]:
        kind = self.rng.choice(self.kinds)
        self.changed: tuple[str | None, Any] = (None, None)
        broken = kind(t, event, line)
        return broken, Breakage(kind.__name__, *self.changed)

    def truncated(self, t: int, event: Event, line: bytes) -> bytes:
        return line[: self.rng.randint(1, len(line) - 2)]

    def missing_required(self, t: int, event: Event, line: bytes) -> bytes:
        broken = dict(event)
        field = self.rng.choice(("event", "time", "code", "event", "time"))
        del broken[field]
        self.changed = (field, None)
        return orjson.dumps(broken)

    def wrong_type(self, t: int, event: Event, line: bytes) -> bytes:
        broken = dict(event)
        field = self.rng.choice(("time", "event", "code"))
        broken[field] = self.rng.choice(
            {
                "time": (t // NS, t / NS, None, {"seconds": t // NS}),
                "event": (42, None, [event["event"]], True),
                "code": (1000, None, ["T1000I"]),
            }[field]
        )
        self.changed = (field, broken[field])
        return orjson.dumps(broken)

    def bad_time(self, t: int, event: Event, line: bytes) -> bytes:
        broken = dict(event)
        broken["time"] = self.rng.choice(self.BAD_TIMES)
        self.changed = ("time", broken["time"])
        return orjson.dumps(broken)

    def invalid_utf8(self, t: int, event: Event, line: bytes) -> bytes:
        # Latin-1 bytes and a stray continuation byte inside the event type string
        return line.replace(b'"event":"', b'"event":"\xe9\xff', 1)

    def non_json(self, t: int, event: Event, line: bytes) -> bytes:
        stamp = rfc3339(t, 0)[:-1].replace("T", " ")
        return self.rng.choice(
            (
                f"{stamp} +0000 [warn]: #0 failed to flush the buffer. retry_times=3 "
                f'next_retry_time={stamp} chunk="5f1c0a2b3d4e" error_class=Aws::S3::Errors',
                f"{stamp} teleport[{self.rng.randint(900, 40000)}]: ERRO [AUDIT] "
                "Failed to emit audit event. error:[context deadline exceeded]",
                "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
                f"INFO {stamp} session.start user=alice login=root",
            )
        ).encode()

    def not_object(self, t: int, event: Event, line: bytes) -> bytes:
        return self.rng.choice(self.NOT_OBJECTS)


def _timed_lines(
    count: int,
    seed: int,
    start_ns: int,
    span_ns: int,
    malformed_rate: float,
    profile: Profile | None = None,
) -> Iterator[tuple[int, bytes]]:
    for t, line, _ in _labelled_lines(count, seed, start_ns, span_ns, malformed_rate, profile):
        yield t, line


def _labelled_lines(
    count: int,
    seed: int,
    start_ns: int,
    span_ns: int,
    malformed_rate: float,
    profile: Profile | None = None,
) -> Iterator[tuple[int, bytes, Breakage | None]]:
    _check_rate(malformed_rate)
    dumps = orjson.dumps
    malformer = _Malformer(seed) if malformed_rate > 0 else None
    for t, event in _timed_events(count, seed, start_ns, span_ns, profile):
        line, breakage = dumps(event), None
        if malformer is not None and malformer.should_break(malformed_rate):
            line, breakage = malformer.corrupt_labelled(t, event, line)
        yield t, line, breakage


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def generate_events(
    count: int,
    seed: int = 0,
    *,
    start: datetime | None = None,
    span: timedelta = DEFAULT_SPAN,
) -> Iterator[Event]:
    """Yield ``count`` realistic Teleport audit events in time order within [start, start+span).

    ``start`` defaults to now - span (UTC); naive datetimes are taken as UTC. With an explicit
    start the output depends only on (count, seed, start, span).
    """
    start_ns, span_ns = _resolve_window(start, span)
    for _, event in _timed_events(count, seed, start_ns, span_ns):
        yield event


def generate_lines(
    count: int,
    seed: int = 0,
    *,
    start: datetime | None = None,
    span: timedelta = DEFAULT_SPAN,
    malformed_rate: float = 0.0,
) -> Iterator[bytes]:
    """Yield ``count`` JSON lines (no trailing newline); a ``malformed_rate`` share is broken."""
    start_ns, span_ns = _resolve_window(start, span)
    for _, line in _timed_lines(count, seed, start_ns, span_ns, malformed_rate):
        yield line


def timed_lines(
    count: int,
    seed: int = 0,
    *,
    start: datetime | None = None,
    span: timedelta = DEFAULT_SPAN,
    malformed_rate: float = 0.0,
    profile: Profile | None = None,
) -> Iterator[tuple[int, bytes]]:
    """(epoch ns, line) for the lines `generate_lines` yields, lazily: a feed can hand out each
    line when its time comes. With a `profile` (e.g. BUSINESS_DAY) the events follow its hours."""
    start_ns, span_ns = _resolve_window(start, span)
    yield from _timed_lines(count, seed, start_ns, span_ns, malformed_rate, profile)


def generate_breakages(
    count: int,
    seed: int = 0,
    *,
    start: datetime | None = None,
    span: timedelta = DEFAULT_SPAN,
    malformed_rate: float = 0.0,
) -> Iterator[Breakage | None]:
    """For each line `generate_lines` (and `generate_objects`, in order) yields with the same
    arguments: how it was broken, or None for a good line."""
    start_ns, span_ns = _resolve_window(start, span)
    for _, _, breakage in _labelled_lines(count, seed, start_ns, span_ns, malformed_rate):
        yield breakage


def object_key(when: datetime, rng: random.Random) -> str:
    """S3 key like Teleport's event handler writes via fluentd: hour folder + uuid4 file."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    return f"teleport/logs/{when:%Y/%m/%d/%H}/{_uuid4(rng)}.json.gz"


def _pack(hour: int, lines: list[bytes], key_rng: random.Random) -> tuple[str, bytes]:
    key = object_key(_EPOCH + timedelta(hours=hour), key_rng)
    body = b"\n".join(lines) + b"\n"
    # mtime=0 keeps the bytes reproducible; level 1 is twice as fast as 6 for 25% more bytes
    return key, gzip.compress(body, compresslevel=1, mtime=0)


def generate_objects(
    count: int,
    seed: int = 0,
    *,
    events_per_object: int = DEFAULT_EVENTS_PER_OBJECT,
    start: datetime | None = None,
    span: timedelta = DEFAULT_SPAN,
    malformed_rate: float = 0.0,
) -> Iterator[tuple[str, bytes]]:
    """Yield (key, gzip bytes) objects holding ``count`` lines in total.

    An object holds at most ``events_per_object`` newline-terminated lines, all from one UTC hour
    (the hour in its key), so an hour boundary also starts a new object.
    """
    start_ns, span_ns = _resolve_window(start, span)
    lines = _timed_lines(count, seed, start_ns, span_ns, malformed_rate)
    yield from pack_objects(lines, seed, events_per_object=events_per_object)


def pack_objects(
    lines: Iterable[tuple[int, bytes]],
    seed: int = 0,
    *,
    events_per_object: int = DEFAULT_EVENTS_PER_OBJECT,
) -> Iterator[tuple[str, bytes]]:
    """(key, gzip bytes) objects of time-ordered (epoch ns, line) pairs: at most
    ``events_per_object`` lines each, all from the UTC hour in the key. Keys are drawn from
    ``seed``: give each call its own seed, or keys repeat."""
    if events_per_object < 1:
        raise ValueError(f"events_per_object must be >= 1, got {events_per_object}")
    key_rng = random.Random(f"sluice-object-keys:{seed}")
    batch: list[bytes] = []
    batch_hour = 0
    for t, line in lines:
        hour = t // HOUR_NS
        if batch and (hour != batch_hour or len(batch) >= events_per_object):
            yield _pack(batch_hour, batch, key_rng)
            batch = []
        batch_hour = hour
        batch.append(line)
    if batch:
        yield _pack(batch_hour, batch, key_rng)


def write_objects(
    out_dir: Path,
    count: int,
    seed: int = 0,
    *,
    events_per_object: int = DEFAULT_EVENTS_PER_OBJECT,
    start: datetime | None = None,
    span: timedelta = DEFAULT_SPAN,
    malformed_rate: float = 0.0,
) -> list[Path]:
    """Write generate_objects(...) under ``out_dir`` (key = relative path); return the paths."""
    out_dir = Path(out_dir)
    paths = []
    for key, body in generate_objects(
        count,
        seed,
        events_per_object=events_per_object,
        start=start,
        span=span,
        malformed_rate=malformed_rate,
    ):
        path = out_dir / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        paths.append(path)
    return paths


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def _iso_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date/time: {text!r}") from error
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.generate",
        description="Write realistic Teleport audit logs as gzip JSON-lines objects laid out like "
        "Teleport's fluentd event handler: DIR/teleport/logs/YYYY/MM/DD/HH/<uuid>.json.gz",
    )
    parser.add_argument("--events", type=_non_negative_int, required=True, help="lines in total")
    parser.add_argument("--seed", type=int, default=0, help="same seed + start = same bytes")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--per-object",
        type=_positive_int,
        default=DEFAULT_EVENTS_PER_OBJECT,
        help="max lines per object (default %(default)s)",
    )
    parser.add_argument(
        "--malformed-rate", type=_rate, default=0.0, help="share of broken lines, 0..1"
    )
    parser.add_argument(
        "--start", type=_iso_datetime, default=None, help="ISO 8601 start (default: now - days)"
    )
    parser.add_argument("--days", type=_positive_float, default=1.0, help="time span in days")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    began = _time.perf_counter()
    paths = write_objects(
        args.out,
        args.events,
        args.seed,
        events_per_object=args.per_object,
        start=args.start,
        span=timedelta(days=args.days),
        malformed_rate=args.malformed_rate,
    )
    seconds = _time.perf_counter() - began
    size = sum(path.stat().st_size for path in paths)
    print(
        f"objects={len(paths)} events={args.events} bytes={size} seconds={seconds:.2f} "
        f"out={args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
