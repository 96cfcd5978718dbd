"""A test missing something from outside the checkout skips on a developer's machine and fails
under CI=true."""

import pytest

from tests.availability import unavailable


def test_a_missing_requirement_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="corpus absent"):
        unavailable("corpus absent")


def test_a_missing_requirement_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"corpus absent \(CI=true"):
        unavailable("corpus absent")
