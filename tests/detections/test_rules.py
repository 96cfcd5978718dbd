"""The 13 built-in Teleport rules: their YAML Tests, their upstream metadata, the upstream test
events of panther-analysis (through Sluice's parser), and the fixed upstream defects."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from detections.core import RuleSet
from parsers.parser import Origin, ParsedEvent
from parsers.registry import default_registry

TELEPORT = "Gravitational.TeleportAudit"
BUILTIN = RuleSet.load()

# RuleID: (severity, threshold, dedup minutes), as upstream
UPSTREAM = {
    "Teleport.AuthErrors": ("MEDIUM", 10, 15),
    "Teleport.CompanyDomainLoginWithoutSAML": ("MEDIUM", 1, 60),
    "Teleport.CreateUserAccounts": ("HIGH", 1, 15),
    "Teleport.LocalUserLoginWithoutMFA": ("HIGH", 1, 60),
    "Teleport.LockCreated": ("INFO", 1, 60),
    "Teleport.LongLivedCerts": ("MEDIUM", 1, 60),
    "Teleport.NetworkScanning": ("MEDIUM", 1, 60),
    "Teleport.RoleCreated": ("MEDIUM", 1, 60),
    "Teleport.RootLogin": ("MEDIUM", 1, 60),
    "Teleport.SAMLCreated": ("HIGH", 1, 60),
    "Teleport.SAMLLoginWithoutCompanyDomain": ("MEDIUM", 1, 60),
    "Teleport.ScheduledJobs": ("MEDIUM", 10, 15),
    "Teleport.SuspiciousCommands": ("MEDIUM", 1, 60),
}
# Upstream test cases whose expectation Sluice changes on purpose (the upstream defect).
FIXED_EXPECTATIONS = {("Teleport.LocalUserLoginWithoutMFA", "User logged in without MFA"): True}


def test_the_built_in_rules_load_without_problems():
    assert BUILTIN.problems == []
    assert sorted(rule.rule_id for rule in BUILTIN.rules()) == sorted(UPSTREAM)


@pytest.mark.parametrize("rule_id", sorted(UPSTREAM))
def test_rule_passes_its_yaml_tests(rule_id):
    rule = BUILTIN.get(rule_id)
    results = rule.run_tests()
    assert len(results) >= 2, "each rule tests a match and a non-match at least"
    assert {r.expected for r in results} == {True, False}
    assert [r for r in results if not r.passed] == []


@pytest.mark.parametrize("rule_id", sorted(UPSTREAM))
def test_rule_keeps_the_upstream_id_severity_threshold_and_dedup(rule_id):
    meta = BUILTIN.get(rule_id).meta
    assert (meta.severity, meta.threshold, meta.dedup_minutes) == UPSTREAM[rule_id]
    assert meta.enabled
    assert meta.log_types == (TELEPORT,)
    assert meta.description
    assert meta.runbook


# -- the upstream test events, parsed as Sluice stores them --------------------------------------

PANTHER_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)$")


def rfc3339(value: str) -> str:
    """Panther's display time ("2023-09-18 00:00:00[.ffffff]") as RFC 3339; upstream's one
    malformed time ("23:00:000.000000") with its extra digit dropped."""
    if found := PANTHER_TIME.match(value):
        return f"{found[1]}T{found[2]}Z"
    return value.replace(":000.", ":00.")


def upstream_cases(corpus: Path) -> list[dict]:
    lines = (corpus / "panther_analysis_rule_tests.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def parse(log: dict) -> dict:
    parser = default_registry().get(TELEPORT).parser
    raw = json.dumps({**log, "time": rfc3339(log["time"])})
    result = parser.parse(raw.encode(), Origin("test", "upstream.jsonl", "1"), 1)
    assert type(result) is ParsedEvent, result
    return result.to_json_dict()


def test_every_upstream_test_event_parses_and_gives_the_expected_result(shared_corpus):
    cases = upstream_cases(shared_corpus)
    assert len(cases) == 26
    assert {case["rule"] for case in cases} == set(UPSTREAM)
    wrong = []
    for case in cases:
        expected = FIXED_EXPECTATIONS.get((case["rule"], case["name"]), case["expected"])
        evaluation = BUILTIN.evaluate(TELEPORT, [parse(case["log"])])
        assert evaluation.failures == [], case["name"]
        matched = case["rule"] in {match.rule_id for _, match in evaluation.matches}
        if matched != expected:
            wrong.append((case["rule"], case["name"], expected))
    assert wrong == []


def test_the_upstream_yaml_cases_are_in_the_rules_tests(shared_corpus):
    for case in upstream_cases(shared_corpus):
        tests = {t.name: t for t in BUILTIN.get(case["rule"]).meta.tests}
        assert case["name"] in tests, case
        expected = FIXED_EXPECTATIONS.get((case["rule"], case["name"]), case["expected"])
        assert tests[case["name"]].expected is expected


def test_times_of_upstream_cases_are_converted_to_rfc3339():
    assert rfc3339("2023-09-18 00:00:00") == "2023-09-18T00:00:00Z"
    assert rfc3339("2023-09-17 21:00:00.000000") == "2023-09-17T21:00:00.000000Z"
    assert rfc3339("2023-09-20T23:00:000.000000Z") == "2023-09-20T23:00:00.000000Z"
    assert rfc3339("2020-08-17T17:40:37.491Z") == "2020-08-17T17:40:37.491Z"


# -- the fixed upstream defects and titles ---------------------------------------------------------


def match_of(rule_id: str, event: dict):
    evaluation = BUILTIN.evaluate(TELEPORT, [event])
    assert evaluation.failures == []
    matches = [m for _, m in evaluation.matches if m.rule_id == rule_id]
    return matches[0] if matches else None


def teleport_event(**fields) -> dict:
    """A Teleport line as Teleport writes it, through the parser (as ingestion stores it)."""
    return parse({"code": "T0000I", "time": "2026-11-27T10:00:00Z", **fields})


def test_local_login_without_mfa_fires_on_the_boolean_with_per_user_severity():
    login = {"event": "user.login", "method": "local", "success": True}
    assert (
        match_of("Teleport.LocalUserLoginWithoutMFA", teleport_event(**login, user="bob")).severity
        == "MEDIUM"
    )
    breakglass = match_of(
        "Teleport.LocalUserLoginWithoutMFA", teleport_event(**login, user="breakglass")
    )
    assert breakglass.severity == "HIGH"
    assert (
        breakglass.title
        == "User [breakglass] logged into [<UNNAMED_CLUSTER>] locally without using MFA"
    )


def test_lock_created_reads_the_locked_user_out_of_the_json_text_target():
    event = teleport_event(
        event="lock.created",
        target={"user": "user-to-disable"},
        updated_by="max@example.com",
        cluster_name="teleport.example.com",
    )
    assert isinstance(event["target"], str)  # the schema types `target` as a string
    match = match_of("Teleport.LockCreated", event)
    assert match.title == (
        "A Teleport Lock was created by max@example.com to Lock out user user-to-disable "
        "on [teleport.example.com]"
    )
    assert match.alert_context["locked_user"] == "user-to-disable"


def long_lived_cert(hours: float, roles=("access",)) -> dict:
    issued = datetime(2026, 11, 27, 10, tzinfo=UTC)
    expires = issued + timedelta(hours=hours)
    return teleport_event(
        event="cert.create",
        time=issued.isoformat().replace("+00:00", "Z"),
        cluster_name="teleport.example.com",
        identity={
            "user": "ci-bot",
            "roles": list(roles),
            "expires": expires.strftime("%Y-%m-%dT%H:%M:%S.123456789Z"),
        },
    )


def test_long_lived_certs_work_on_rfc3339_times():
    assert match_of("Teleport.LongLivedCerts", long_lived_cert(12)) is None
    match = match_of("Teleport.LongLivedCerts", long_lived_cert(24 * 30))
    assert match.title == (
        "Teleport Alert: Long-lived Certificate issued for [ci-bot] on cluster "
        "[teleport.example.com] with validity period: 30 days, 0:00:00.123456"
    )
    assert match.alert_context["validity_seconds"] == pytest.approx(30 * 86400 + 0.123456)


def test_long_lived_certs_allowances_hold_until_their_expiry_by_event_time(monkeypatch):
    module = BUILTIN.get("Teleport.LongLivedCerts").module
    month = timedelta(days=31)
    allowances = {"teleport.example.com": {"ci": (month, datetime(2027, 1, 1))}}
    monkeypatch.setattr(module, "CLUSTER_ROLE_MAX_VALIDITIES", allowances)
    assert match_of("Teleport.LongLivedCerts", long_lived_cert(24 * 30, roles=["ci"])) is None
    assert match_of("Teleport.LongLivedCerts", long_lived_cert(24 * 30, roles=["dev"])) is not None
    expired = {"teleport.example.com": {"ci": (month, datetime(2026, 1, 1, tzinfo=UTC))}}
    monkeypatch.setattr(module, "CLUSTER_ROLE_MAX_VALIDITIES", expired)
    assert match_of("Teleport.LongLivedCerts", long_lived_cert(24 * 30, roles=["ci"])) is not None


def test_titles_keep_upstream_wording_with_its_slips_fixed():
    crontab = teleport_event(
        event="session.command", program="crontab", argv=["-e"], user="bob", cluster_name="c1"
    )
    assert match_of("Teleport.ScheduledJobs", crontab).title == (
        "User [bob] has modified scheduled jobs on [c1]"
    )
    saml = teleport_event(event="saml.created", user="bob", cluster_name="c1", name="okta")
    assert match_of("Teleport.SAMLCreated", saml).title == (
        "A SAML connector was created or updated by User [bob] on [c1]"
    )
    root = teleport_event(
        event="session.start", login="root", user="bob", server_hostname="web-1", cluster_name="c1"
    )
    assert (
        match_of("Teleport.RootLogin", root).title
        == "User [bob] logged into [web-1] as root on [c1]"
    )


def test_auth_errors_dedup_by_user_and_cluster():
    first = teleport_event(event="auth", error="ssh: bad key", user="bob", cluster_name="c1")
    second = teleport_event(event="auth", error="ssh: other", user="bob", cluster_name="c1")
    other = teleport_event(event="auth", error="ssh: bad key", user="eve", cluster_name="c1")
    dedups = [match_of("Teleport.AuthErrors", e).dedup for e in (first, second, other)]
    assert dedups[0] == dedups[1] != dedups[2]


def test_generated_teleport_logs_raise_no_rule_errors():
    from devtools.generate import generate_lines

    parser = default_registry().get(TELEPORT).parser
    origin = Origin("test", "generated.jsonl", "1")
    lines = generate_lines(20_000, 7, start=datetime(2026, 11, 27, tzinfo=UTC))
    events = [
        result.to_json_dict()
        for number, line in enumerate(lines, 1)
        if type(result := parser.parse(line, origin, number)) is ParsedEvent
    ]
    evaluation = BUILTIN.evaluate(TELEPORT, events)
    assert evaluation.failures == []
    matched = {match.rule_id for _, match in evaluation.matches}
    # the generator writes logins without MFA, root sessions, nc/wget and failed SSH auths
    assert {
        "Teleport.LocalUserLoginWithoutMFA",
        "Teleport.RootLogin",
        "Teleport.SuspiciousCommands",
        "Teleport.AuthErrors",
    } <= matched
