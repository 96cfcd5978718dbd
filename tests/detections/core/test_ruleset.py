"""RuleSet.evaluate: Panther's semantics (title, dedup, severity, context), the LogTypes
filter, enabled/disabled, rule errors, and dispatch on the event's fields."""

import json

import pytest

from detections.core import Evaluation, Match, RuleFailure, RuleSet, load_folder
from tests.detections.rulefiles import TELEPORT

LOGIN = {"event": "user.login", "user": "alice", "success": True, "p_log_type": TELEPORT}
COMMAND = {"event": "session.command", "program": "nmap", "argv": ["-sS"], "user": "bob"}


def ruleset_of(folder) -> RuleSet:
    loaded = load_folder(folder)
    assert loaded.problems == []
    return RuleSet(loaded.rules)


def only_match(evaluation: Evaluation) -> Match:
    assert evaluation.failures == []
    assert len(evaluation.matches) == 1
    return evaluation.matches[0][1]


def test_matches_carry_the_index_of_their_event(write_rule):
    rules = ruleset_of(
        write_rule(
            "Test.Logins", "def rule(event):\n    return event.get('event') == 'user.login'\n"
        )
    )
    evaluation = rules.evaluate(TELEPORT, [COMMAND, LOGIN, COMMAND, LOGIN])
    assert [index for index, _ in evaluation.matches] == [1, 3]
    assert {match.rule_id for _, match in evaluation.matches} == {"Test.Logins"}


def test_without_title_or_dedup_the_title_is_the_display_name_and_dedup_the_rule_id(write_rule):
    rules = ruleset_of(write_rule("Test.Plain", "def rule(event):\n    return True\n"))
    match = only_match(rules.evaluate(TELEPORT, [LOGIN]))
    assert match == Match(
        rule_id="Test.Plain",
        title="Test.Plain display name",
        dedup="Test.Plain",
        severity="MEDIUM",
        alert_context={},
        runbook="",
        reference="",
        destinations=None,
    )


def test_without_a_display_name_the_title_is_the_rule_id(write_rule):
    rules = ruleset_of(
        write_rule("Test.Bare", "def rule(event):\n    return True\n", DisplayName=None)
    )
    assert only_match(rules.evaluate(TELEPORT, [LOGIN])).title == "Test.Bare"


def test_the_title_is_the_dedup_string_unless_dedup_is_defined(write_rule):
    source = (
        "def rule(event):\n    return True\n\n"
        "def title(event):\n    return f\"Login of {event.get('user')}\"\n"
    )
    titled = ruleset_of(write_rule("Test.Titled", source, folder="a"))
    match = only_match(titled.evaluate(TELEPORT, [LOGIN]))
    assert (match.title, match.dedup) == ("Login of alice", "Login of alice")

    source += "\ndef dedup(event):\n    return event.get('user')\n"
    deduped = ruleset_of(write_rule("Test.Deduped", source, folder="b"))
    match = only_match(deduped.evaluate(TELEPORT, [LOGIN]))
    assert (match.title, match.dedup) == ("Login of alice", "alice")


def test_titles_and_dedup_strings_are_cut_at_1000_characters(write_rule):
    source = "def rule(event):\n    return True\n\ndef title(event):\n    return 'x' * 5000\n"
    match = only_match(ruleset_of(write_rule("Test.Long", source)).evaluate(TELEPORT, [LOGIN]))
    assert len(match.title) == len(match.dedup) == 1000


def test_the_other_functions_fill_the_match(write_rule):
    source = """\
        def rule(event):
            return True

        def alert_context(event):
            return {"user": event.get("user"), "argv": event.get("argv"), "n": 1}

        def runbook(event):
            return f"Call {event.get('user')}"

        def reference(event):
            return "https://wiki.example.com/login"

        def destinations(event):
            return ["slack-security"]
        """
    rules = ruleset_of(write_rule("Test.Full", source, Runbook="YAML runbook"))
    match = only_match(rules.evaluate(TELEPORT, [{**COMMAND, "user": "alice"}]))
    assert match.alert_context == {"user": "alice", "argv": ["-sS"], "n": 1}
    assert json.loads(json.dumps(match.alert_context)) == match.alert_context
    assert match.runbook == "Call alice"
    assert match.reference == "https://wiki.example.com/login"
    assert match.destinations == ["slack-security"]


def test_yaml_runbook_and_reference_are_the_default(write_rule):
    rules = ruleset_of(
        write_rule(
            "Test.Docs",
            "def rule(event):\n    return True\n",
            Runbook="Check it.",
            Reference="https://example.com",
        )
    )
    match = only_match(rules.evaluate(TELEPORT, [LOGIN]))
    assert (match.runbook, match.reference) == ("Check it.", "https://example.com")


SEVERITY_SOURCE = """\
def rule(event):
    return True

def severity(event):
    return {"root": "critical", "guest": "DEFAULT"}.get(event.get("user"), "LOW")
"""


@pytest.mark.parametrize(
    ("user", "overrides", "expected"),
    [
        ("alice", {}, "LOW"),
        ("root", {}, "CRITICAL"),
        ("guest", {}, "MEDIUM"),  # DEFAULT: the YAML's
        ("guest", {"Test.Severity": "high"}, "HIGH"),  # DEFAULT: the console's override
        ("alice", {"Test.Severity": "HIGH"}, "LOW"),  # severity() wins over the override
        ("guest", {"Test.Severity": "urgent"}, "MEDIUM"),  # an unknown level is ignored
    ],
)
def test_per_event_severity_wins_over_yaml_and_overrides(write_rule, user, overrides, expected):
    rules = ruleset_of(write_rule("Test.Severity", SEVERITY_SOURCE))
    match = only_match(
        rules.evaluate(TELEPORT, [{**LOGIN, "user": user}], severity_overrides=overrides)
    )
    assert match.severity == expected


def test_an_override_sets_the_severity_of_a_rule_without_severity_function(write_rule):
    rules = ruleset_of(write_rule("Test.Plain", "def rule(event):\n    return True\n"))
    evaluation = rules.evaluate(TELEPORT, [LOGIN], severity_overrides={"Test.Plain": "info"})
    assert only_match(evaluation).severity == "INFO"


def test_a_rule_that_raises_is_a_failure_and_evaluation_goes_on(write_rule):
    folder = write_rule("Test.Raises", "def rule(event):\n    return event['missing'] == 1\n")
    write_rule("Test.Works", "def rule(event):\n    return event.get('event') == 'user.login'\n")
    evaluation = ruleset_of(folder).evaluate(TELEPORT, [LOGIN, COMMAND, LOGIN])
    assert evaluation.failures == [
        (index, RuleFailure("Test.Raises", "KeyError: 'missing'")) for index in (0, 1, 2)
    ]
    assert [(i, m.rule_id) for i, m in evaluation.matches] == [(0, "Test.Works"), (2, "Test.Works")]


def test_rule_must_return_a_bool(write_rule):
    rules = ruleset_of(
        write_rule("Test.Truthy", "def rule(event):\n    return event.get('user')\n")
    )
    evaluation = rules.evaluate(TELEPORT, [LOGIN])
    assert evaluation.matches == []
    assert evaluation.failures == [
        (0, RuleFailure("Test.Truthy", "TypeError: rule() returned str, expected bool"))
    ]


def test_a_failing_title_still_matches_with_the_default_title_and_records_the_failure(write_rule):
    source = "def rule(event):\n    return True\n\ndef title(event):\n    return 1 / 0\n"
    evaluation = ruleset_of(write_rule("Test.BadTitle", source)).evaluate(TELEPORT, [LOGIN])
    assert [m.title for _, m in evaluation.matches] == ["Test.BadTitle display name"]
    assert evaluation.failures == [
        (0, RuleFailure("Test.BadTitle", "ZeroDivisionError: division by zero", "title"))
    ]


def test_a_severity_function_returning_an_unknown_level_is_a_failure(write_rule):
    source = "def rule(event):\n    return True\n\ndef severity(event):\n    return 'SEVERE'\n"
    evaluation = ruleset_of(write_rule("Test.BadLevel", source)).evaluate(TELEPORT, [LOGIN])
    assert [m.severity for _, m in evaluation.matches] == ["MEDIUM"]
    assert [(f.function, f.message.split(":")[0]) for _, f in evaluation.failures] == [
        ("severity", "ValueError")
    ]


def test_a_rule_cannot_change_the_event(write_rule):
    source = "def rule(event):\n    event.get('argv').append('x')\n    return True\n"
    event = {**COMMAND, "argv": ["-sS"]}
    evaluation = ruleset_of(write_rule("Test.Mutates", source)).evaluate(TELEPORT, [event])
    assert [f.message.split(":")[0] for _, f in evaluation.failures] == ["AttributeError"]
    assert event["argv"] == ["-sS"]


def test_only_rules_of_the_batch_log_type_run(write_rule):
    folder = write_rule("Test.Teleport", "def rule(event):\n    return True\n")
    write_rule("Test.Other", "def rule(event):\n    return True\n", LogTypes=["Custom.Other"])
    rules = ruleset_of(folder)
    assert [m.rule_id for _, m in rules.evaluate(TELEPORT, [LOGIN]).matches] == ["Test.Teleport"]
    assert [m.rule_id for _, m in rules.evaluate("Custom.Other", [LOGIN]).matches] == ["Test.Other"]
    assert rules.evaluate("Nobody.Reads", [LOGIN]) == Evaluation()


def test_disabled_rules_do_not_run_and_enabled_turns_on_a_yaml_disabled_rule(write_rule):
    folder = write_rule("Test.On", "def rule(event):\n    return True\n")
    write_rule("Test.Off", "def rule(event):\n    return True\n", Enabled=False)
    rules = ruleset_of(folder)

    def ids(**kwargs):
        return sorted(m.rule_id for _, m in rules.evaluate(TELEPORT, [LOGIN], **kwargs).matches)

    assert ids() == ["Test.On"]
    assert ids(disabled=["Test.On"]) == []
    assert ids(enabled={"Test.Off"}) == ["Test.Off", "Test.On"]
    assert ids(enabled={"Test.Off"}, disabled={"Test.Off"}) == ["Test.On"]
    assert [r.rule_id for r in rules.active(TELEPORT, disabled=["Test.On"])] == []


COUNTING = """\
CALLS = []
SLUICE_DISPATCH = {DISPATCH}

def rule(event):
    CALLS.append(event.get("event"))
    return event.get("event") == "session.command"
"""


def dispatched_rule(write_rule, dispatch):
    rules = ruleset_of(write_rule("Test.Counted", COUNTING.replace("{DISPATCH}", repr(dispatch))))
    return rules, rules.get("Test.Counted").module.CALLS


def test_a_dispatching_rule_is_only_called_for_its_event_values(write_rule):
    rules, calls = dispatched_rule(write_rule, {"event": ["session.command"]})
    events = [LOGIN, COMMAND, {"event": "session.start"}, COMMAND, {"no": "event field"}]
    evaluation = rules.evaluate(TELEPORT, events)
    assert [index for index, _ in evaluation.matches] == [1, 3]
    assert calls == ["session.command", "session.command"]


def test_dispatch_on_several_fields_needs_all_of_them_and_takes_shell_patterns(write_rule):
    rules, calls = dispatched_rule(
        write_rule, {"event": ["session.command"], "program": ["user*", "passwd"]}
    )
    events = [
        {**COMMAND, "program": "useradd"},
        {**COMMAND, "program": "ls"},
        {**COMMAND, "program": "passwd"},
        {"event": "session.network", "program": "useradd"},
        {**COMMAND, "program": "Useradd"},  # patterns are case-sensitive, as program names
    ]
    assert [i for i, _ in rules.evaluate(TELEPORT, events).matches] == [0, 2]
    assert len(calls) == 2


def test_dispatch_survives_values_that_are_not_text(write_rule):
    rules, calls = dispatched_rule(write_rule, {"event": ["session.command"]})
    events = [{"event": ["session.command"]}, {"event": {"a": 1}}, {"event": 7}, COMMAND]
    assert [i for i, _ in rules.evaluate(TELEPORT, events).matches] == [3]
    assert calls == ["session.command"]


def test_rules_without_dispatch_see_every_event_beside_dispatching_ones(write_rule):
    folder = write_rule("Test.All", "def rule(event):\n    return event.get('user') == 'bob'\n")
    write_rule(
        "Test.Logins",
        "SLUICE_DISPATCH = {'event': ['user.login']}\n\ndef rule(event):\n    return True\n",
    )
    evaluation = ruleset_of(folder).evaluate(TELEPORT, [LOGIN, COMMAND])
    assert [(i, m.rule_id) for i, m in evaluation.matches] == [(0, "Test.Logins"), (1, "Test.All")]


def test_many_distinct_dispatch_values_keep_evaluating_correctly(write_rule, monkeypatch):
    monkeypatch.setattr("detections.core.ruleset.MEMO_LIMIT", 8)
    rules, _ = dispatched_rule(write_rule, {"event": ["session.command"]})
    events = [{"event": f"other.{n}"} for n in range(50)] + [COMMAND]
    assert [i for i, _ in rules.evaluate(TELEPORT, events).matches] == [50]


def test_an_alert_context_that_is_not_json_data_is_a_failure_and_the_match_stays(write_rule):
    source = (
        "def rule(event):\n    return True\n\n"
        "def alert_context(event):\n    ctx = {}\n    ctx['self'] = ctx\n    return ctx\n"
    )
    evaluation = ruleset_of(write_rule("Test.Loop", source)).evaluate(TELEPORT, [LOGIN])
    assert [m.alert_context for _, m in evaluation.matches] == [{}]
    assert [(f.function, f.message.split(":")[0]) for _, f in evaluation.failures] == [
        ("alert_context", "RecursionError")
    ]


def test_values_a_context_cannot_hold_as_json_become_text(write_rule):
    source = (
        "from datetime import datetime\n\ndef rule(event):\n    return True\n\n"
        "def alert_context(event):\n    return {'when': datetime(2026, 1, 2), 'ids': {3}}\n"
    )
    match = only_match(ruleset_of(write_rule("Test.Odd", source)).evaluate(TELEPORT, [LOGIN]))
    assert match.alert_context == {"when": "2026-01-02 00:00:00", "ids": [3]}
