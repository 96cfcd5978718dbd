"""`manage.py detections test|list` and `python -m detections.core`: output and exit codes."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.detections.rulefiles import WriteRule, rule_writer

ROOT = Path(__file__).resolve().parents[2]
GOOD = "def rule(event):\n    return event.get('event') == 'user.login'\n"
LOGIN_TESTS = [
    {"Name": "a login", "ExpectedResult": True, "Log": {"event": "user.login"}},
    {"Name": "no login", "ExpectedResult": False, "Log": {"event": "auth"}},
]


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("detections", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def write_rule(tmp_path: Path) -> WriteRule:
    return rule_writer(tmp_path)


@pytest.fixture
def user_rules(write_rule: WriteRule, settings) -> Path:
    folder = write_rule("Custom.Logins", GOOD, Tests=LOGIN_TESTS)
    settings.SLUICE_RULES_DIRS = [folder]
    return folder


def test_test_runs_the_built_in_and_configured_rules(user_rules):
    status, output = run("test")
    assert status == 0
    lines = output.splitlines()
    assert "[PASS] Custom.Logins (2/2 tests)" in output
    assert sum(line.startswith("[PASS] Teleport.") for line in lines) == 13
    assert lines[-1].startswith("14 rules: 14 passed, 0 failed;")


def test_a_failing_test_fails_the_command_and_says_which(write_rule, settings):
    wrong = [{"Name": "expects a match", "ExpectedResult": True, "Log": {"event": "auth"}}]
    folder = write_rule("Custom.Wrong", GOOD, Tests=wrong)
    status, output = run("test", str(folder))
    assert status == 1
    assert "[FAIL] Custom.Wrong (0/1 tests)" in output
    assert "    [FAIL] expects a match: expected true, got false" in output
    assert "Teleport." not in output  # a PATH tests that folder only


def test_a_rule_that_raises_in_a_test_is_an_error(write_rule):
    raising = "def rule(event):\n    return event['nope']\n"
    folder = write_rule("Custom.Raises", raising, Tests=LOGIN_TESTS[:1])
    status, output = run("test", str(folder))
    assert status == 1
    assert "    [ERROR] a login: KeyError: 'nope'" in output


def test_a_rule_that_does_not_load_fails_the_command(write_rule):
    folder = write_rule("Custom.Broken", "def rule(event):\n    return (\n")
    status, output = run("test", str(folder))
    assert status == 1
    assert "[NOT LOADED]" in output
    assert "SyntaxError" in output


def test_list_shows_every_rule_with_its_settings(user_rules):
    status, output = run("list")
    assert status == 0
    assert "Custom.Logins" in output
    row = next(line for line in output.splitlines() if line.startswith("Teleport.ScheduledJobs"))
    assert row.split() == [
        "Teleport.ScheduledJobs",
        "MEDIUM",
        "yes",
        "10",
        "15m",
        "Gravitational.TeleportAudit",
    ]
    assert output.splitlines()[-1] == "14 rules"


def test_the_engine_command_runs_without_django(write_rule):
    folder = write_rule("Custom.Logins", GOOD, Tests=LOGIN_TESTS)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}  # no DJANGO_SETTINGS_MODULE
    good = subprocess.run(
        [sys.executable, "-m", "detections.core", "test", str(folder)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert good.returncode == 0, good.stderr
    assert "[PASS] Custom.Logins (2/2 tests)" in good.stdout
    broken = write_rule("Custom.Broken", "x = (\n", folder="broken")
    bad = subprocess.run(
        [sys.executable, "-m", "detections.core", "test", str(broken)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert bad.returncode == 1


def test_the_example_rule_of_the_docs_passes_its_tests(tmp_path):
    text = (ROOT / "docs" / "detections.md").read_text()
    blocks = dict(re.findall(r"```(yaml|python)\n(.*?)```", text, re.S))
    (tmp_path / "teleport_sudo_to_root.yml").write_text(blocks["yaml"])
    (tmp_path / "teleport_sudo_to_root.py").write_text(blocks["python"])
    status, output = run("test", str(tmp_path))
    assert status == 0, output
    assert "[PASS] Acme.Teleport.SudoToRoot (2/2 tests)" in output
