"""Indicator scanners: pull IPs, domains, trace ids, ARNs... out of field values.

Each scanner takes a string and the event's accumulator (column -> set) and adds what it finds,
following the rules of Panther's scanners. Empty strings add nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import lru_cache
from socket import AF_INET, AF_INET6, inet_pton
from urllib.parse import urlsplit

IP = "p_any_ip_addresses"
DOMAIN = "p_any_domain_names"
TRACE_ID = "p_any_trace_ids"
USERNAME = "p_any_usernames"
EMAIL = "p_any_emails"
AWS_ARN = "p_any_aws_arns"
AWS_ACCOUNT_ID = "p_any_aws_account_ids"
AWS_INSTANCE_ID = "p_any_aws_instance_ids"
AWS_TAG = "p_any_aws_tags"
MD5 = "p_any_md5_hashes"
SHA1 = "p_any_sha1_hashes"
SHA256 = "p_any_sha256_hashes"

INDICATOR_COLUMNS = (
    IP,
    DOMAIN,
    TRACE_ID,
    USERNAME,
    EMAIL,
    AWS_ARN,
    AWS_ACCOUNT_ID,
    AWS_INSTANCE_ID,
    AWS_TAG,
    MD5,
    SHA1,
    SHA256,
)

# The search name of each indicator column: stored together as one array of "kind:value" entries
# (p_any), so one index serves every indicator lookup.
INDICATOR_KINDS = {
    IP: "ip",
    DOMAIN: "domain",
    TRACE_ID: "trace_id",
    USERNAME: "username",
    EMAIL: "email",
    AWS_ARN: "aws_arn",
    AWS_ACCOUNT_ID: "aws_account_id",
    AWS_INSTANCE_ID: "aws_instance_id",
    AWS_TAG: "aws_tag",
    MD5: "md5",
    SHA1: "sha1",
    SHA256: "sha256",
}
_PREFIXES = tuple((column, kind + ":") for column, kind in INDICATOR_KINDS.items())


def indicator_entry(column: str, value: str) -> str:
    """The p_any entry of one value of one indicator column: "ip:10.0.0.1"."""
    return f"{INDICATOR_KINDS[column]}:{value}"


def indicator_entries(indicators: dict[str, list[str]]) -> list[str]:
    """Every indicator of an event as p_any entries, in column order, each column's sorted."""
    entries: list[str] = []
    for column, prefix in _PREFIXES:
        values = indicators.get(column)
        if values:
            entries += [prefix + value for value in values]
    return entries


def column_values(entries: list[str], column: str) -> list[str]:
    """One indicator column's values out of p_any entries (the inverse of indicator_entries)."""
    prefix = INDICATOR_KINDS[column] + ":"
    size = len(prefix)
    return [entry[size:] for entry in entries if entry.startswith(prefix)]


Accumulator = dict[str, list[str]]  # column -> values found (deduplicated and sorted by finish)
Found = tuple[tuple[str, str], ...]  # (column, value) pairs one value yields
Scanner = Callable[[str], Found]
_NOTHING: Found = ()
_MEMO_SIZE = 1 << 16


@lru_cache(maxsize=65536)
def ip_version(text: str) -> int:
    """4 or 6 when text is an IP address, else 0 (cached: the same hosts repeat in logs).

    The C-level inet_pton accepts exactly what `ipaddress` does (no leading zeros, no spaces,
    ASCII digits only: tests/parsers/test_indicators.py checks it against `ipaddress` on random
    text) without building an address object; only scoped IPv6 (`fe80::1%eth0`), which inet_pton
    refuses, goes to `ipaddress`."""
    if not text:
        return 0
    if ":" not in text:
        if not ("0" <= text[0] <= "9"):
            return 0
        try:
            inet_pton(AF_INET, text)
        except (OSError, ValueError, UnicodeError):
            return 0
        return 4
    if "%" in text:
        return _ip_version_slow(text)
    try:
        inet_pton(AF_INET6, text)
    except (OSError, ValueError, UnicodeError):
        return 0
    return 6


def _ip_version_slow(text: str) -> int:
    try:
        return ipaddress.ip_address(text).version
    except ValueError:
        return 0


def split_host(addr: str) -> str:
    """The host of 'host:port', '[v6]:port', a bare host or a bare IPv6 address."""
    if addr.startswith("["):
        end = addr.find("]")
        return addr[1:end] if end > 0 else addr[1:]
    if addr.count(":") == 1:
        return addr.partition(":")[0]
    return addr


def scan_hostname(value: str) -> Found:
    host = value.strip()
    if not host:
        return _NOTHING
    return ((IP if ip_version(host) else DOMAIN, host),)


def scan_net_addr(value: str) -> Found:
    return scan_hostname(split_host(value.strip()))


def scan_url(value: str) -> Found:
    value = value.strip()
    if "://" in value:
        try:
            host = urlsplit(value).hostname or ""
        except ValueError:
            return _NOTHING
        return scan_hostname(host)
    # Teleport writes endpoints without a scheme: "db.example.com:5432/path"
    return scan_net_addr(value.partition("/")[0])


def scan_ip(value: str) -> Found:
    value = value.strip()
    return ((IP, value),) if ip_version(value) else _NOTHING


def _is_account_id(text: str) -> bool:
    return len(text) == 12 and text.isascii() and text.isdigit()


def scan_aws_arn(value: str) -> Found:
    value = value.strip()
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return _NOTHING
    found = [(AWS_ARN, value)]
    if _is_account_id(parts[4]):
        found.append((AWS_ACCOUNT_ID, parts[4]))
    if parts[2] == "ec2" and parts[5].startswith("instance/") and len(parts[5]) > 9:
        found.append((AWS_INSTANCE_ID, parts[5][len("instance/") :]))
    return tuple(found)


def scan_aws_account_id(value: str) -> Found:
    value = value.strip()
    return ((AWS_ACCOUNT_ID, value),) if _is_account_id(value) else _NOTHING


def _plain(column: str) -> Scanner:
    def scan(value: str) -> Found:
        value = value.strip()
        return ((column, value),) if value else _NOTHING

    scan.__name__ = f"scan_{column}"
    return scan


SCANNERS: dict[str, Scanner] = {
    "ip": scan_ip,
    "domain": _plain(DOMAIN),
    "hostname": scan_hostname,
    "net_addr": scan_net_addr,
    "url": scan_url,
    "trace_id": _plain(TRACE_ID),
    "username": _plain(USERNAME),
    "email": _plain(EMAIL),
    "aws_arn": scan_aws_arn,
    "aws_account_id": scan_aws_account_id,
    "aws_instance_id": _plain(AWS_INSTANCE_ID),
    "aws_tag": _plain(AWS_TAG),
    "md5": _plain(MD5),
    "sha1": _plain(SHA1),
    "sha256": _plain(SHA256),
}


def compile_scanners(names: tuple[str, ...]) -> Scanner | None:
    """One memoized scanner running each named indicator over a value."""
    scanners = [SCANNERS[n] for n in names]
    if not scanners:
        return None
    memo: dict[str, Found] = {}

    def scan(value: str) -> Found:
        found = memo.get(value)
        if found is None:
            found = tuple(pair for each in scanners for pair in each(value))
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            memo[value] = found
        return found

    scan.memo = memo  # type: ignore[attr-defined]  # generated code looks values up directly
    # each scanner above yields a column at most once per value: with one of them, what one value
    # yields needs no dedupe
    scan.distinct_columns = len(scanners) == 1  # type: ignore[attr-defined]
    return scan


def collect(acc: Accumulator, found: Found) -> None:
    for column, value in found:
        values = acc.get(column)
        if values is None:
            acc[column] = [value]
        else:
            values.append(value)


def finish(acc: Accumulator) -> dict[str, list[str]]:
    """Sorted, unique lists (in place); only non-empty columns."""
    for values in acc.values():
        if len(values) > 1:
            values[:] = sorted(set(values))
    return acc


def scan_values(names: tuple[str, ...], values: list[str]) -> dict[str, list[str]]:
    """Indicator columns for some values (handy for tests and the console)."""
    scan = compile_scanners(names)
    acc: Accumulator = {}
    if scan is not None:
        for value in values:
            collect(acc, scan(value))
    return finish(acc)
