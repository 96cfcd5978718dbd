"""Load Panther-format rules (a .yml + a .py each) from a folder, never raising.

A folder may be a whole panther-analysis checkout: only `AnalysisType: rule` files become
rules; `AnalysisType: global` helpers (`panther_base_helpers`, ...) become importable by their
GlobalID for the rules that import them; every other file (policies, data models, packs,
schemas, CI config) is skipped. A file that cannot load becomes a problem (path: message).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from detections.core.model import (
    DEFAULT_DEDUP_MINUTES,
    DEFAULT_THRESHOLD,
    SEVERITIES,
    RuleMeta,
    RuleTest,
)
from detections.core.rule import DISPATCH_NAME, FieldFilter, Rule, describe

YAML_SUFFIXES = (".yml", ".yaml")


class RuleSpecError(ValueError):
    """The .yml of a rule says something the engine cannot use."""


@dataclass(slots=True)
class Loaded:
    """What one folder gave: rules in file order, and problems as `path: message`."""

    rules: list[Rule] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def load_folder(folder: Path) -> Loaded:
    """Every rule under `folder` (recursively; hidden folders skipped)."""
    loaded = Loaded()
    if not folder.is_dir():
        loaded.problems.append(f"{folder}: not a folder")
        return loaded
    specs: list[tuple[Path, dict[str, Any]]] = []
    for path in _yaml_files(folder):
        try:
            spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            loaded.problems.append(f"{path}: {describe(exc)}")
            continue
        if not isinstance(spec, dict):
            continue
        if spec.get("AnalysisType") == "global":
            _register_global(path, spec)
        elif spec.get("AnalysisType") == "rule":
            specs.append((path, spec))
    seen: set[str] = set()
    for path, spec in specs:  # after the globals: a rule may import any of them
        try:
            rule = load_rule(path, spec)
        except Exception as exc:  # a broken rule must not hide the others
            loaded.problems.append(f"{path}: {describe(exc)}")
            continue
        if rule.rule_id in seen:
            loaded.problems.append(f"{path}: RuleID {rule.rule_id} is defined twice in {folder}")
            continue
        seen.add(rule.rule_id)
        loaded.rules.append(rule)
    return loaded


def load_rule(path: Path, spec: Mapping[str, Any] | None = None) -> Rule:
    """One rule from its .yml (and the .py its `Filename` names); raises on any problem."""
    if spec is None:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(spec, dict):
            raise RuleSpecError("not a YAML mapping")
    meta = parse_meta(spec, path)
    filename = spec.get("Filename")
    if not isinstance(filename, str) or not filename.endswith(".py"):
        raise RuleSpecError("Filename: must name the rule's .py file")
    module = _load_module(path.parent / filename, f"rule_{meta.rule_id}")
    if not callable(getattr(module, "rule", None)):
        raise RuleSpecError(f"{filename} defines no rule(event) function")
    return Rule(meta, module, parse_dispatch(getattr(module, DISPATCH_NAME, None)))


def parse_meta(spec: Mapping[str, Any], path: Path | None = None) -> RuleMeta:
    """A RuleMeta from the YAML keys; RuleSpecError names the first bad key."""
    rule_id = _required_text(spec, "RuleID")
    log_types = spec.get("LogTypes")
    if not _is_text_list(log_types) or not log_types:
        raise RuleSpecError("LogTypes: must be a non-empty list of log type names")
    severity = spec.get("Severity")
    if not isinstance(severity, str) or severity.upper() not in SEVERITIES:
        raise RuleSpecError(f"Severity: must be one of {', '.join(s.title() for s in SEVERITIES)}")
    enabled = spec.get("Enabled", True)
    if not isinstance(enabled, bool):
        raise RuleSpecError("Enabled: must be true or false")
    tags = spec.get("Tags") or []
    if not _is_text_list(tags):
        raise RuleSpecError("Tags: must be a list of text")
    return RuleMeta(
        rule_id=rule_id,
        display_name=_optional_text(spec, "DisplayName"),
        enabled=enabled,
        log_types=tuple(log_types),
        severity=severity.upper(),
        threshold=_positive_int(spec, "Threshold", DEFAULT_THRESHOLD, minimum=1),
        dedup_minutes=_positive_int(spec, "DedupPeriodMinutes", DEFAULT_DEDUP_MINUTES, minimum=1),
        tags=tuple(tags),
        reports=_reports(spec.get("Reports")),
        description=_optional_text(spec, "Description"),
        runbook=_optional_text(spec, "Runbook"),
        reference=_optional_text(spec, "Reference"),
        tests=_tests(spec.get("Tests")),
        path=path,
        summary_attributes=tuple(str(a) for a in spec.get("SummaryAttributes") or ()),
    )


def parse_dispatch(value: Any) -> dict[str, FieldFilter] | None:
    """`SLUICE_DISPATCH = {"event": ["session.command"], "program": ["user*"]}` → filters."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or not value:
        raise RuleSpecError(f"{DISPATCH_NAME}: must map a field name to a list of values")
    dispatch: dict[str, FieldFilter] = {}
    for name, values in value.items():
        if not isinstance(name, str) or isinstance(values, str) or not _is_iterable(values):
            raise RuleSpecError(f"{DISPATCH_NAME}: must map a field name to a list of values")
        if not all(isinstance(v, str) for v in values):
            raise RuleSpecError(f"{DISPATCH_NAME}: {name}: the values must be text")
        dispatch[name] = FieldFilter.of(values)
    return dispatch


# -- YAML helpers --------------------------------------------------------------------------------


def _yaml_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).parts
        if path.suffix in YAML_SUFFIXES and not any(p.startswith(".") for p in relative):
            yield path


def _required_text(spec: Mapping[str, Any], key: str) -> str:
    value = spec.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RuleSpecError(f"{key}: required text")
    return value.strip()


def _optional_text(spec: Mapping[str, Any], key: str) -> str:
    value = spec.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RuleSpecError(f"{key}: must be text")
    return value.strip()


def _positive_int(spec: Mapping[str, Any], key: str, default: int, *, minimum: int) -> int:
    value = spec.get(key, default)
    if type(value) is not int or value < minimum:
        raise RuleSpecError(f"{key}: must be a whole number >= {minimum}")
    return value


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_iterable(value: Any) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, Mapping)


def _reports(value: Any) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RuleSpecError("Reports: must map a framework to a list of ids")
    reports: dict[str, list[str]] = {}
    for framework, ids in value.items():
        if not isinstance(ids, list):
            raise RuleSpecError(f"Reports: {framework} must list ids")
        reports[str(framework)] = [str(i) for i in ids]
    return reports


def _tests(value: Any) -> list[RuleTest]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RuleSpecError("Tests: must be a list")
    tests = []
    for number, test in enumerate(value, 1):
        if not isinstance(test, Mapping):
            raise RuleSpecError(f"Tests: entry {number} is not a mapping")
        name = test.get("Name") or f"test {number}"
        expected = test.get("ExpectedResult")
        log = test.get("Log")
        if not isinstance(expected, bool):
            raise RuleSpecError(f"Tests: {name}: ExpectedResult must be true or false")
        if not isinstance(log, Mapping):
            raise RuleSpecError(f"Tests: {name}: Log must be an event (a mapping)")
        tests.append(RuleTest(str(name), expected, log))
    return tests


# -- Python modules ------------------------------------------------------------------------------


def _load_module(path: Path, label: str) -> ModuleType:
    """Execute a rule's .py as a fresh module (a unique name: rules never share state)."""
    digest = hashlib.blake2b(str(path.resolve()).encode(), digest_size=6).hexdigest()
    name = f"sluice_rule_{_identifier(label)}_{digest}"
    spec = _source_spec(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling in a rule look their module up
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _identifier(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)


class _SourceLoader(importlib.abc.Loader):
    """Runs a rule or helper from its source every time: no .pyc (a file edited within the
    same second as its cached bytecode is never stale) and nothing written to rule folders."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        code = compile(self.path.read_bytes(), str(self.path), "exec", dont_inherit=True)
        exec(code, module.__dict__)  # noqa: S102 - rules are the operator's deployed code


def _source_spec(name: str, path: Path) -> ModuleSpec:
    spec = ModuleSpec(name, _SourceLoader(path), origin=str(path))
    spec.has_location = True  # the module's __file__ is the rule's .py
    return spec


class _GlobalHelpers(importlib.abc.MetaPathFinder):
    """Finds Panther global helpers by GlobalID (`import panther_base_helpers`)."""

    def __init__(self) -> None:
        self.paths: dict[str, Path] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        found = self.paths.get(fullname)
        return _source_spec(fullname, found) if found else None


_GLOBALS = _GlobalHelpers()


def _register_global(path: Path, spec: Mapping[str, Any]) -> None:
    global_id, filename = spec.get("GlobalID"), spec.get("Filename")
    if not (isinstance(global_id, str) and isinstance(filename, str)):
        return
    # Forget a loaded helper of that name: each load of the rules runs the helper's current file.
    sys.modules.pop(global_id, None)
    _GLOBALS.paths[global_id] = path.parent / filename
    if _GLOBALS not in sys.meta_path:
        sys.meta_path.insert(0, _GLOBALS)  # the folder's helper wins over an installed package
