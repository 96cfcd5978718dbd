"""What a test needs from outside the checkout (../shared, chromium, bin/faults' private servers):
on a developer's machine a test without it is skipped; under CI=true it fails, since a suite that
skipped is not a suite that passed."""

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> NoReturn:
    """Skip the test for `reason`, or fail it under CI=true."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a skipped test would hide it)", pytrace=False)
    pytest.skip(reason)
