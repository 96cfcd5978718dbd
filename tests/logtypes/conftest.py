"""A console schema folder (settings.SLUICE_SCHEMAS_DIR) holding one custom log type."""

from pathlib import Path

import pytest

FIREWALL = "Acme.Firewall"
FIREWALL_SCHEMA = """\
schema: Acme.Firewall
description: Connections the Acme edge firewall allowed or denied.
referenceURL: https://acme.example/docs/firewall-log
fields:
  - name: time
    required: true
    type: timestamp
    timeFormats: [rfc3339]
    isEventTime: true
  - name: action
    required: true
    type: string
  - name: rule
    required: true
    type: string
  - name: src.ip
    type: string
    indicators: [ip]
  - name: dst.port
    type: int
  - name: dst.zone
    type: string
  - name: conn.opened
    type: timestamp
    timeFormats: [unix]
  - name: allowed
    type: boolean
"""
FIREWALL_CATALOG = """\
Acme.Firewall:
  title: Acme Firewall
  vendor: Acme
  category: Network
  icon: acme-firewall
"""


@pytest.fixture
def schemas_dir(settings, tmp_path) -> Path:
    """An empty SLUICE_SCHEMAS_DIR of this test's own."""
    folder = tmp_path / "schemas"
    folder.mkdir()
    settings.SLUICE_SCHEMAS_DIR = folder
    return folder


@pytest.fixture
def firewall(schemas_dir) -> Path:
    """Acme.Firewall dropped into SLUICE_SCHEMAS_DIR, with its tile in the folder's catalog."""
    (schemas_dir / "acme_firewall.yml").write_text(FIREWALL_SCHEMA)
    (schemas_dir / "catalog.yml").write_text(FIREWALL_CATALOG)
    return schemas_dir / "acme_firewall.yml"
