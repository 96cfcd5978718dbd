"""Rule folders written for a test: a Panther-format .yml and .py per rule."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

TELEPORT = "Gravitational.TeleportAudit"

WriteRule = Callable[..., Path]


def rule_spec(rule_id: str, filename: str, **keys: Any) -> dict[str, Any]:
    """The .yml of a rule with the keys a rule needs, overridden by `keys` (None: left out)."""
    spec = {
        "AnalysisType": "rule",
        "Filename": filename,
        "RuleID": rule_id,
        "DisplayName": f"{rule_id} display name",
        "Enabled": True,
        "LogTypes": [TELEPORT],
        "Severity": "Medium",
    }
    spec.update(keys)
    return {k: v for k, v in spec.items() if v is not None}


def rule_writer(root: Path) -> WriteRule:
    """write_rule(rule_id, python_source, folder="rules", **yaml_keys) → the rule's folder."""

    def write(rule_id: str, source: str, *, folder: str = "rules", **keys: Any) -> Path:
        target = root / folder
        target.mkdir(parents=True, exist_ok=True)
        stem = rule_id.lower().replace(".", "_")
        spec = rule_spec(rule_id, f"{stem}.py", **keys)
        (target / f"{stem}.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
        (target / f"{stem}.py").write_text(textwrap.dedent(source))
        return target

    return write
