"""Loading Panther-format rule folders: metadata, defaults, skipped files, problems."""

from pathlib import Path

import pytest
import yaml

from detections.core import RuleSet, RuleSpecError, load_folder, load_rule
from tests.detections.rulefiles import TELEPORT

MATCH_ALL = "def rule(event):\n    return True\n"


def test_a_rule_loads_with_every_yaml_key(write_rule):
    folder = write_rule(
        "Test.Everything",
        MATCH_ALL,
        Severity="high",
        Enabled=False,
        Threshold=5,
        DedupPeriodMinutes=30,
        Tags=["SSH", "Persistence:Create Account"],
        Reports={"MITRE ATT&CK": ["TA0003:T1136"]},
        Description="What it finds.",
        Runbook="What to do.",
        Reference="https://example.com/doc",
        SummaryAttributes=["user"],
        Tests=[{"Name": "one", "ExpectedResult": True, "Log": {"event": "x"}}],
    )
    loaded = load_folder(folder)
    assert loaded.problems == []
    meta = loaded.rules[0].meta
    assert meta.rule_id == "Test.Everything"
    assert meta.display_name == "Test.Everything display name"
    assert (meta.enabled, meta.severity, meta.threshold, meta.dedup_minutes) == (
        False,
        "HIGH",
        5,
        30,
    )
    assert meta.log_types == (TELEPORT,)
    assert meta.tags == ("SSH", "Persistence:Create Account")
    assert meta.reports == {"MITRE ATT&CK": ["TA0003:T1136"]}
    assert (meta.description, meta.runbook, meta.reference) == (
        "What it finds.",
        "What to do.",
        "https://example.com/doc",
    )
    assert meta.summary_attributes == ("user",)
    assert [(t.name, t.expected, dict(t.log)) for t in meta.tests] == [
        ("one", True, {"event": "x"})
    ]
    assert meta.path == folder / "test_everything.yml"


def test_threshold_dedup_and_enabled_have_panthers_defaults(write_rule):
    meta = load_folder(write_rule("Test.Defaults", MATCH_ALL, Enabled=None)).rules[0].meta
    assert (meta.threshold, meta.dedup_minutes, meta.enabled) == (1, 60, True)
    assert meta.tests == []


def test_other_analysis_types_and_unrelated_yaml_are_skipped(write_rule):
    folder = write_rule("Test.Only", MATCH_ALL)
    (folder / "policy.yml").write_text("AnalysisType: policy\nPolicyID: P\nFilename: p.py\n")
    (folder / "model.yml").write_text("AnalysisType: datamodel\nDataModelID: M\n")
    (folder / "schema.yml").write_text("schema: Custom.Thing\nfields: []\n")
    (folder / "list.yaml").write_text("- a\n- b\n")
    hidden = folder / ".github" / "workflows"
    hidden.mkdir(parents=True)
    (hidden / "ci.yml").write_text("on: [push]\n: broken: yaml: [\n")
    loaded = load_folder(folder)
    assert [r.rule_id for r in loaded.rules] == ["Test.Only"]
    assert loaded.problems == []


def test_a_rule_imports_a_global_helper_of_its_folder(write_rule, tmp_path):
    folder = write_rule(
        "Test.Helper",
        "from sluice_test_helpers import shout\n\ndef rule(event):\n    return True\n\n"
        "def title(event):\n    return shout(event.get('user'))\n",
    )
    helpers = folder / "global_helpers"
    helpers.mkdir()
    (helpers / "sluice_test_helpers.yml").write_text(
        "AnalysisType: global\nGlobalID: sluice_test_helpers\nFilename: sluice_test_helpers.py\n"
    )
    (helpers / "sluice_test_helpers.py").write_text("def shout(text):\n    return text.upper()\n")
    ruleset = RuleSet([*load_folder(folder).rules])
    evaluation = ruleset.evaluate(TELEPORT, [{"user": "alice"}])
    assert evaluation.matches[0][1].title == "ALICE"


def test_a_changed_global_helper_is_read_again_by_the_next_load(write_rule):
    folder = write_rule(
        "Test.Versioned",
        "import sluice_versioned\n\ndef rule(event):\n    return True\n\n"
        "def title(event):\n    return sluice_versioned.VERSION\n",
    )
    (folder / "sluice_versioned.yml").write_text(
        "AnalysisType: global\nGlobalID: sluice_versioned\nFilename: sluice_versioned.py\n"
    )
    helper = folder / "sluice_versioned.py"
    titles = []
    for version in ("one", "two"):
        helper.write_text(f"VERSION = {version!r}\n")
        ruleset = RuleSet.load([folder], include_builtin=False)
        titles.append(ruleset.evaluate(TELEPORT, [{}]).matches[0][1].title)
    assert titles == ["one", "two"]


@pytest.mark.parametrize(
    ("keys", "source", "message"),
    [
        ({"Severity": "Urgent"}, MATCH_ALL, "Severity: must be one of"),
        ({"RuleID": None}, MATCH_ALL, "RuleID: required text"),
        ({"LogTypes": []}, MATCH_ALL, "LogTypes: must be a non-empty list"),
        ({"Threshold": 0}, MATCH_ALL, "Threshold: must be a whole number >= 1"),
        ({"DedupPeriodMinutes": "15"}, MATCH_ALL, "DedupPeriodMinutes: must be a whole number"),
        ({"Enabled": "yes please"}, MATCH_ALL, "Enabled: must be true or false"),
        ({"Tests": [{"Name": "t", "Log": {}}]}, MATCH_ALL, "ExpectedResult must be true or false"),
        ({"Filename": "missing.py"}, MATCH_ALL, "FileNotFoundError"),
        ({}, "def title(event):\n    return 'x'\n", "defines no rule(event) function"),
        ({}, "def rule(event):\n    return (\n", "SyntaxError"),
        ({}, "import not_a_module_anywhere\n" + MATCH_ALL, "ModuleNotFoundError"),
        ({}, "SLUICE_DISPATCH = ['event']\n" + MATCH_ALL, "SLUICE_DISPATCH: must map"),
        ({}, "SLUICE_DISPATCH = {'event': [1]}\n" + MATCH_ALL, "the values must be text"),
    ],
)
def test_a_rule_that_cannot_load_is_a_problem_and_the_others_still_load(
    write_rule, keys, source, message
):
    folder = write_rule("Test.Good", MATCH_ALL)
    write_rule("Test.Bad", source, **keys)
    loaded = load_folder(folder)
    assert [r.rule_id for r in loaded.rules] == ["Test.Good"]
    assert len(loaded.problems) == 1
    assert loaded.problems[0].startswith(str(folder / "test_bad.yml") + ": ")
    assert message in loaded.problems[0]


def test_invalid_yaml_and_a_duplicate_rule_id_are_problems(write_rule):
    folder = write_rule("Test.Twice", MATCH_ALL)
    (folder / "again.yml").write_text(
        yaml.safe_dump({**yaml.safe_load((folder / "test_twice.yml").read_text())})
    )
    (folder / "broken.yml").write_text("AnalysisType: rule\nRuleID: [unclosed\n")
    loaded = load_folder(folder)
    assert [r.rule_id for r in loaded.rules] == ["Test.Twice"]
    assert any("is defined twice" in p for p in loaded.problems)
    assert any(p.startswith(f"{folder / 'broken.yml'}: ") for p in loaded.problems)


def test_a_missing_folder_is_a_problem_not_an_exception(tmp_path):
    ruleset = RuleSet.load([tmp_path / "nowhere"])
    assert ruleset.problems == [f"{tmp_path / 'nowhere'}: not a folder"]
    assert len(ruleset) == 13  # the built-in rules still load


def test_the_built_in_rules_are_always_loaded_and_user_folders_add_to_them(write_rule):
    folder = write_rule("Test.Mine", MATCH_ALL)
    ruleset = RuleSet.load([folder])
    assert ruleset.get("Test.Mine") is not None
    assert ruleset.get("Teleport.RootLogin") is not None
    assert ruleset.problems == []
    assert [r.rule_id for r in RuleSet.load([folder], include_builtin=False).rules()] == [
        "Test.Mine"
    ]


def test_a_user_rule_with_a_built_in_id_replaces_it(write_rule):
    folder = write_rule("Teleport.RootLogin", MATCH_ALL, Severity="Critical")
    ruleset = RuleSet.load([folder])
    assert len(ruleset) == 13
    assert ruleset.get("Teleport.RootLogin").meta.severity == "CRITICAL"


def test_load_rule_raises_where_load_folder_records(tmp_path: Path):
    (tmp_path / "r.yml").write_text("AnalysisType: rule\nRuleID: X\nFilename: r.py\n")
    with pytest.raises(RuleSpecError, match="LogTypes"):
        load_rule(tmp_path / "r.yml")


def test_rule_modules_know_their_file_and_leave_no_bytecode_in_the_folder(write_rule):
    source = "import os\n\nHERE = os.path.dirname(__file__)\n\ndef rule(event):\n    return True\n"
    folder = write_rule("Test.Here", source)
    rule = load_folder(folder).rules[0]
    assert Path(rule.module.HERE) == folder
    assert not (folder / "__pycache__").exists()
