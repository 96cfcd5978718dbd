"""Prefix rules: the longest matching prefix picks the log types; globs exclude objects."""

from sources.transports.s3 import S3Settings, rule_for_key


def prefix_rules(config, default_log_types):
    return S3Settings.from_config(config).rules(default_log_types)


CONFIG = {
    "prefixes": [
        {"prefix": "teleport/", "log_types": ["Gravitational.TeleportAudit"], "exclude": ["*.tmp"]},
        {"prefix": "teleport/ssh/", "log_types": ["Sluice.SSHAuth"], "exclude": []},
        {"prefix": "", "log_types": [], "exclude": ["*/archive/*"]},
    ]
}
SOURCE_TYPES = ["Gravitational.TeleportAudit", "Sluice.SSHAuth"]


def rule(key):
    return rule_for_key(prefix_rules(CONFIG, SOURCE_TYPES), key)


def test_the_longest_matching_prefix_wins():
    assert rule("teleport/ssh/2026/a.json").log_types == ("Sluice.SSHAuth",)
    assert rule("teleport/2026/a.json").log_types == ("Gravitational.TeleportAudit",)


def test_a_rule_without_log_types_uses_all_of_the_source():
    assert rule("elsewhere/a.json").log_types == tuple(SOURCE_TYPES)


def test_exclusion_globs_match_the_whole_key_or_the_file_name():
    assert rule("teleport/2026/a.json.tmp") is None
    assert rule("other/archive/a.json") is None
    assert rule("teleport/ssh/a.tmp") is not None  # only the matching rule's globs apply


def test_a_source_without_prefixes_reads_the_whole_bucket():
    rules = prefix_rules({}, ["Gravitational.TeleportAudit"])

    assert rule_for_key(rules, "any/key").log_types == ("Gravitational.TeleportAudit",)


def test_no_matching_prefix_means_the_object_is_not_ours():
    rules = prefix_rules({"prefixes": [{"prefix": "a/", "log_types": ["X"]}]}, ["X"])

    assert rule_for_key(rules, "b/key") is None
