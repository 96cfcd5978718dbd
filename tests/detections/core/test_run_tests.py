"""Rule.run_tests: the YAML Tests as panther_analysis_tool runs them."""

from detections.core import TestResult, load_folder

SOURCE = """\
SLUICE_DISPATCH = {"event": ["user.login"]}

def rule(event):
    return event.get("event") in ("user.login", "user.create") and event["user"] != "admin"

def title(event):
    return event["title_part"]
"""
TESTS = [
    {
        "Name": "match",
        "ExpectedResult": True,
        "Log": {"event": "user.login", "user": "a", "title_part": "t"},
    },
    {"Name": "no match", "ExpectedResult": False, "Log": {"event": "user.login", "user": "admin"}},
    {"Name": "wrong expectation", "ExpectedResult": True, "Log": {"event": "x", "user": "a"}},
    {"Name": "rule raises", "ExpectedResult": False, "Log": {"event": "user.login"}},
    {"Name": "title raises", "ExpectedResult": True, "Log": {"event": "user.login", "user": "a"}},
    {
        "Name": "dispatch skips it",
        "ExpectedResult": True,
        "Log": {"event": "user.create", "user": "a", "title_part": "t"},
    },
]


def test_each_yaml_test_gives_a_result(write_rule):
    rule = load_folder(write_rule("Test.Cases", SOURCE, Tests=TESTS)).rules[0]
    assert rule.run_tests() == [
        TestResult("match", True, True, True),
        TestResult("no match", False, False, True),
        TestResult("wrong expectation", True, False, False),
        TestResult("rule raises", False, None, False, "KeyError: 'user'"),
        TestResult("title raises", True, True, False, "title(): KeyError: 'title_part'"),
        TestResult(
            "dispatch skips it",
            True,
            True,
            False,
            "SLUICE_DISPATCH skips this event, but rule() matches it",
        ),
    ]


def test_a_rule_without_tests_has_no_results(write_rule):
    rule = load_folder(write_rule("Test.Untested", "def rule(event):\n    return True\n")).rules[0]
    assert rule.run_tests() == []
