"""Deterministic generator of hostile input: malformed lines by category, and gzip bombs.

Use it to check that a pipeline counts everything and crashes on nothing: every line is one
record (no newline inside), none is blank, and the same seed gives the same bytes on every run.
Lines are derived from the realistic events of ``devtools.generate`` and then broken, so they look
like what a damaged log shipper, a bad proxy or an attacker would write.

CLI: ``python -m devtools.hostile --out DIR [--seed S] [--scale N]`` writes one
``<category>.jsonl.gz`` per category, ``bomb-lines.json.gz`` and ``bomb-zeros.json.gz``, and prints
the line count of each.
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from devtools.generate import generate_events

__all__ = ["CATEGORIES", "COUNTS", "corpus", "gzip_bomb", "hostile_lines", "main"]

MB = 1 << 20
START = datetime(2026, 11, 27, tzinfo=UTC)  # fixed, so a seed gives the same bytes every run
Breaker = Callable[[random.Random, dict[str, Any], int], bytes]  # (rng, event, index)


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def _event_bytes(event: dict[str, Any]) -> bytes:
    return _dumps(event)


# --- categories: each turns one good event into one hostile line -------------------------------


def truncated_json(rng: random.Random, event: dict[str, Any], n: int) -> bytes:
    line = _event_bytes(event)
    return line[: rng.randint(1, len(line) - 1)]


_WRONG_TYPES: dict[str, tuple[Any, ...]] = {
    "time": (1764238530, 1764238530.25, True, [], {"seconds": 1}, ["2026-11-27T10:00:00Z"]),
    "event": (42, [], {"type": "user.login"}, False, 1.5),
    "code": (1000, ["T1000I"], {"c": 1}, True),
    "ei": ("five", [], {"n": 5}, "1e3", True),
    "uid": (7, [1, 2], {"id": "x"}),
    "addr.remote": ({"ip": "10.0.0.1"}, 3022, ["10.0.0.1:3022"], "not an address"),
    "success": ("yes", 1, "false", [], {"ok": True}),
    "login": (["root"], 0, {"name": "root"}),
    "server_labels": ("env=prod", [["env", "prod"]], 5),
    "user": (["alice"], 17, {"name": "alice"}, False),
}


def wrong_types(rng: random.Random, event: dict[str, Any], n: int) -> bytes:
    broken = dict(event)
    for _ in range(rng.randint(1, 3)):
        name = rng.choice(sorted(_WRONG_TYPES))
        broken[name] = rng.choice(_WRONG_TYPES[name])
    return _dumps(broken)


_BAD_UTF8 = (
    b"\xff",
    b"\xfe\xff",
    b"\xc0\xaf",  # overlong '/'
    b"\xe0\x80\xaf",  # overlong, three bytes
    b"\xed\xa0\x80",  # a UTF-16 surrogate encoded as UTF-8
    b"\xf4\x90\x80\x80",  # beyond U+10FFFF
    b"\x80",  # stray continuation byte
    b"\xe9t\xe9",  # Latin-1 text
    b"\xc3",  # a sequence cut short
)


def invalid_utf8(rng: random.Random, event: dict[str, Any], n: int) -> bytes:
    line = bytearray(_event_bytes(event))
    bad = rng.choice(_BAD_UTF8)
    where = rng.choice(("in_string", "anywhere", "key"))
    if where == "in_string":
        at = line.find(b'":"') + 3
    elif where == "key":
        at = 2
    else:
        at = rng.randint(1, len(line) - 1)
    line[at:at] = bad
    return bytes(line)


def nul_bytes(rng: random.Random, event: dict[str, Any], n: int) -> bytes:
    line = _event_bytes(event)
    kind = rng.randrange(6)
    if kind == 0:  # a raw NUL inside a string value
        return line.replace(b'":"', b'":"\x00', 1)
    if kind == 1:  # the escaped NUL: valid JSON, a NUL in the value
        return line.replace(b'":"', b'":"a\\u0000b', 1)
    if kind == 2:  # an escaped NUL in a key
        return line.replace(b'{"', b'{"k\\u0000ey":1,"', 1)
    if kind == 3:  # NUL padding, as a crashed writer leaves on disk
        return b"\x00" * rng.randint(1, 4096)
    if kind == 4:  # NUL between tokens
        return line.replace(b",", b",\x00", 1)
    return _dumps({**event, "time": "2026-11-27T10:00:00\u0000Z"})  # NUL in a required field


def bad_timestamps(rng: random.Random, event: dict[str, Any], n: int) -> bytes:
    bad = rng.choice(
        (
            "2026-13-45T99:99:99Z",
            "2026-02-30T10:00:00Z",
            "0000-01-01T00:00:00Z",
            "99999-01-01T00:00:00Z",
            "-2026-11-27T10:00:00Z",
            "2026-11-27T10:00:00+25:00",
            "2026-11-27T10:00:00.1234567890123456789Z",
            "2026-11-27 10:00:00",
            "27/Nov/2026:10:00:00 +0000",
            "1764238530",
            "",
            " ",
            "T",
            "now",
            "2026-11-27T10:00:00Z" * 50,
            "9" * 400,
            "2026-11-27T10:00:00\u202eZ",
        )
    )
    value: Any = bad
    if rng.random() < 0.2:
        value = rng.choice((-(2**63), 2**63, 1e308, -1.5, 0))
    return _dumps({**event, "time": value})


def huge_integers(rng: random.Random, event: dict[str, Any], n: int) -> bytes:
    number = rng.choice(
        (
            b"18446744073709551616",  # 2**64
            b"-9223372036854775809",  # -2**63 - 1
            b"123456789012345678901234567890",
            b"1" + b"0" * 400,  # beyond double: infinity
            b"9" * 5000,  # beyond Python's default int-to-text limit
            b"-" + b"9" * 20000,
            b"1e400",
            b"-1e400",
            b"1e-400",
            b"0." + b"0" * 1000 + b"1",
        )
    )
    field = rng.choice((b"ei", b"bytes_sent", b"x_count", b"exitCode", b"time", b"pid"))
    line = _event_bytes({k: v for k, v in event.items() if k.encode() != field})
    return line[:-1] + b',"' + field + b'":' + number + b"}"


def deep_nesting(rng: random.Random, event: dict[str, Any], n: int) -> bytes:
    depth = rng.choice((64, 500, 1023, 1024, 1025, 5000, 50_000))
    if rng.random() < 0.5:
        nested = b"[" * depth + b"1" + b"]" * depth
    else:
        nested = b'{"a":' * depth + b"1" + b"}" * depth
    if rng.random() < 0.2:
        nested = nested[: len(nested) // 2]  # unbalanced
    line = _event_bytes(event)
    if rng.random() < 0.3:
        return nested
    return line[:-1] + b',"nested":' + nested + b"}"


def bad_escapes(rng: random.Random, event: dict[str, Any], n: int) -> bytes:
    escape = rng.choice(
        (
            b"\\ud800",  # lone high surrogate
            b"\\udc80",  # lone low surrogate
            b"\\ud800\\u0041",
            b"\\x41",
            b"\\u12",
            b"\\",
            b"\\uZZZZ",
            b"\x01\x02\x1f",  # raw control characters
            b"\t",
            b"\\\\\\",
        )
    )
    return _event_bytes(event).replace(b'":"', b'":"' + escape, 1)


def not_objects(rng: random.Random, event: dict[str, Any], n: int) -> bytes:
    return rng.choice(
        (
            b"null",
            b"true",
            b"0",
            b"-0.0e-0",
            b'"user.login"',
            b"[]",
            b"{}",
            b"[" + _event_bytes(event) + b"]",
            _event_bytes(event) + _event_bytes(event),
            _event_bytes(event) + b" trailing",
            b"{" + b"}" * 3,
            b"{,}",
            b'{"event":}',
            b"NaN",
            b"Infinity",
            b"{'event': 'user.login'}",
            b'{"event":"user.login",}',
        )
    )


def garbage(rng: random.Random, event: dict[str, Any], n: int) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 512)))
    if kind == 1:
        return b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    if kind == 2:
        return b",".join(str(v).encode() for v in event.values())
    return b"\x1f\x8b\x08\x00" + bytes(rng.randrange(256) for _ in range(64))  # stray gzip magic


def odd_keys(rng: random.Random, event: dict[str, Any], n: int) -> bytes:
    line = _event_bytes(event)
    kind = rng.randrange(5)
    if kind == 0:  # duplicate keys: the last one wins in every decoder we use
        return line[:-1] + b',"event":"session.start","event":42}'
    if kind == 1:
        return line[:-1] + b',"":"empty key"}'
    if kind == 2:
        return line[:-1] + b',"' + b"k" * rng.randint(1000, 100_000) + b'":1}'
    if kind == 3:  # thousands of keys
        keys = b",".join(b'"k%d":%d' % (i, i) for i in range(rng.randint(1000, 5000)))
        return line[:-1] + b"," + keys + b"}"
    return line[:-1] + b',"p_row_id":"forged","p_event_time":"1970-01-01T00:00:00Z"}'


def huge_lines(rng: random.Random, event: dict[str, Any], n: int) -> bytes:
    """Lines of 10 MB (valid events with a huge value, and huge garbage) and of 20 MB (beyond
    the default SLUICE_MAX_LINE_BYTES of 16 MB)."""
    kind = n % 6
    size = (20 if kind >= 4 else 10) * MB + rng.randint(0, 1000)
    if kind in (0, 4):
        return _dumps({**event, "blob": "A" * size})
    if kind == 1:
        return _dumps({**event, "argv": ["x" * 64] * (size // 67)})
    if kind == 2:
        return _event_bytes(event)[:-1] + b',"blob":"' + b"B" * size  # unterminated
    return b"x" * size


CATEGORIES: dict[str, Breaker] = {
    "truncated_json": truncated_json,
    "wrong_types": wrong_types,
    "invalid_utf8": invalid_utf8,
    "nul_bytes": nul_bytes,
    "bad_timestamps": bad_timestamps,
    "huge_integers": huge_integers,
    "deep_nesting": deep_nesting,
    "bad_escapes": bad_escapes,
    "not_objects": not_objects,
    "garbage": garbage,
    "odd_keys": odd_keys,
    "huge_lines": huge_lines,
}
# lines per category at scale 1 (at least 10,000 in all)
COUNTS = {name: 1000 for name in CATEGORIES} | {"deep_nesting": 600, "odd_keys": 600}
COUNTS["huge_lines"] = 6


def hostile_lines(category: str, count: int, seed: int = 0) -> Iterator[bytes]:
    """`count` hostile lines of one category: never blank, never holding a newline."""
    breaker = CATEGORIES[category]
    rng = random.Random(f"sluice-hostile:{category}:{seed}")
    for n, event in enumerate(generate_events(count, seed=seed, start=START)):
        line = breaker(rng, event, n).replace(b"\n", b" ").replace(b"\r", b" ")
        if line.startswith(b"\xef\xbb\xbf") or not line.strip():
            line = b"x" + line  # a leading BOM is dropped and a blank line is not a record
        yield line


def corpus(seed: int = 0, scale: int = 1) -> dict[str, list[bytes]]:
    """Every category's lines (COUNTS times scale); at scale 1, 10,206 lines."""
    return {name: list(hostile_lines(name, count * scale, seed)) for name, count in COUNTS.items()}


def gzip_bomb(size: int, fill: bytes = b"\x00") -> bytes:
    """Gzip data inflating to `fill` repeated to about `size` bytes (a thousand-fold or more)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
    block = fill * max(1, MB // len(fill))  # whole copies: a line never straddles two blocks
    parts = []
    for _ in range(max(1, size // len(block))):
        parts.append(compressor.compress(block))
    parts.append(compressor.flush())
    return b"".join(parts)


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(prog="python -m devtools.hostile", description=__doc__)
    cli.add_argument("--out", type=Path, required=True, help="folder for the gzip objects")
    cli.add_argument("--seed", type=int, default=0)
    cli.add_argument("--scale", type=int, default=1, help="multiply every category's count")
    cli.add_argument("--bomb-mb", type=int, default=1024, help="decompressed size of each bomb")
    args = cli.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    total = 0
    for name, lines in corpus(args.seed, args.scale).items():
        (args.out / f"{name}.jsonl.gz").write_bytes(gzip.compress(b"\n".join(lines) + b"\n", 1))
        print(f"{name:16} {len(lines):>7} lines")
        total += len(lines)
    good = next(iter(generate_events(1, seed=args.seed, start=START)))
    bombs = {"bomb-lines": _dumps(good) + b"\n", "bomb-zeros": b"\x00"}
    for name, fill in bombs.items():
        (args.out / f"{name}.json.gz").write_bytes(gzip_bomb(args.bomb_mb * MB, fill))
        print(f"{name:16} {args.bomb_mb:>7} MB decompressed")
    print(f"{'total':16} {total:>7} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
