"""Sluice's rule engine: Panther-format rules over normalized events, in plain Python.

No Django here (an import-linter contract keeps it so): the workers, the command line
(`python -m detections.core test PATH`) and the benchmark use it directly.

    ruleset = RuleSet.load([Path("my-rules")])   # the built-in rules are always included
    evaluation = ruleset.evaluate("Gravitational.TeleportAudit", events)
    for index, match in evaluation.matches: ...
"""

from detections.core.event import ImmutableDict, ImmutableList, PantherEvent, deep_get
from detections.core.loader import RuleSpecError, load_folder, load_rule
from detections.core.model import (
    SEVERITIES,
    Evaluation,
    Match,
    RuleFailure,
    RuleMeta,
    RuleTest,
    TestResult,
)
from detections.core.rule import Rule
from detections.core.ruleset import BUILTIN_DIR, RuleSet

__all__ = [
    "BUILTIN_DIR",
    "SEVERITIES",
    "Evaluation",
    "ImmutableDict",
    "ImmutableList",
    "Match",
    "PantherEvent",
    "Rule",
    "RuleFailure",
    "RuleMeta",
    "RuleSet",
    "RuleSpecError",
    "RuleTest",
    "TestResult",
    "deep_get",
    "load_folder",
    "load_rule",
]
