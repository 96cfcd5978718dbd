"""Playwright drives Debian's chromium against pytest-django's live server."""

import os
import shutil
from pathlib import Path

import pytest

from tests.availability import unavailable
from tests.factories import UserFactory

# Playwright's sync API runs an event loop in the test thread, where live_server's ORM calls happen.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def screenshots(pytestconfig) -> Path:
    """The folder for this run's screenshots (--screenshots; the docs' only when asked)."""
    folder = Path(pytestconfig.getoption("screenshots")).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which("chromium"):
        unavailable("chromium is not installed (bin/ensure-chromium installs it)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def admin_login(transactional_db):
    return UserFactory(username="alice-admin", is_staff=True, is_superuser=True)


@pytest.fixture
def signed_in_page(page, live_server, admin_login):
    """A page signed in as an admin through the real login form."""
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("alice-admin")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    return page
