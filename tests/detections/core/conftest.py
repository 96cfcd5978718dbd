from pathlib import Path

import pytest

from tests.detections.rulefiles import WriteRule, rule_writer


@pytest.fixture
def write_rule(tmp_path: Path) -> WriteRule:
    """write_rule(rule_id, python_source, folder="rules", **yaml_keys) → the rule's folder."""
    return rule_writer(tmp_path)
