"""The events tests' clock."""

from datetime import UTC, datetime

import pytest


@pytest.fixture(autouse=True)
def fresh_now(request, monkeypatch) -> None:
    """A test module's `NOW` is the time its test starts, not the time the module was imported:
    in a long run collection happens many minutes earlier, and "the last hour" would drift."""
    if hasattr(request.module, "NOW"):
        now = datetime.now(UTC)
        whole_seconds = request.module.NOW.microsecond == 0
        monkeypatch.setattr(
            request.module, "NOW", now.replace(microsecond=0) if whole_seconds else now
        )
