"""Fixtures for the parser tests: a small test schema covering every type, an origin, corpora."""

from pathlib import Path

import orjson
import pytest

from parsers import Origin, compile_schema, load_schema
from tests.availability import unavailable

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / ".." / "shared" / "corpus"

ALL_TYPES_SCHEMA = """
schema: Test.AllTypes
description: every field type
fields:
  - name: when
    required: true
    type: timestamp
    timeFormats: [rfc3339, unix]
    isEventTime: true
  - name: later
    type: timestamp
    timeFormats: [rfc3339]
    isEventTime: true
  - name: text
    type: string
  - name: small
    type: smallint
  - name: count
    type: int
  - name: big
    type: bigint
  - name: ratio
    type: float
  - name: flag
    type: boolean
  - name: blob
    type: json
  - name: embedded
    type: json
    isEmbeddedJSON: true
  - name: tags
    type: array
    element:
      type: string
  - name: ports
    type: array
    element:
      type: int
  - name: peer
    type: object
    fields:
      - name: ip
        required: true
        type: string
        indicators: [ip]
      - name: port
        type: int
  - name: addr.remote
    type: string
    indicators: [net_addr]
  - name: method
    type: string
    validate:
      allow: [password, publickey]
  - name: client_ip
    type: string
    validate:
      ip: ipv4
  - name: ms
    type: timestamp
    timeFormat: unix_ms
  - name: clock
    type: timestamp
    timeFormat: "%Y-%m-%d %H:%M:%S"
"""


@pytest.fixture(scope="session")
def all_types_parser():
    return compile_schema(load_schema(ALL_TYPES_SCHEMA, source_name="all_types.yml"))


@pytest.fixture
def origin():
    return Origin("source-1", "logs/2024/03/01/a.json.gz", "etag-1")


@pytest.fixture
def parse_all(all_types_parser, origin):
    """Parse one event of Test.AllTypes given as a dict."""

    def parse(event: dict, line: int = 1):
        return all_types_parser.parse(orjson.dumps(event), origin, line)

    return parse


def corpus_file(name: str) -> Path:
    path = CORPUS / name
    if not path.exists():
        unavailable(f"{path} absent (the shared corpus is not part of a fresh clone)")
    return path
