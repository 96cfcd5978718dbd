"""Web security: CSRF on every form and htmx request, headers in production, login lockout, no SSRF.

URLs come from the same walk of the URL conf as the permission matrix, so a new view is covered.
"""

import ast
import inspect
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from audit.models import ApiToken
from sources import aws
from sources.models import Source
from tests.console.test_permission_matrix import (
    make_world,
    role_user,
    routes,
    url_of,
)
from tests.console.test_settings import run_manage
from tests.factories import SourceFactory, UserFactory
from tests.sources.conftest import ACCOUNT, TELEPORT, s3_form_data, s3_payload

ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1/sources"


# --- CSRF ----------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_every_page_rejects_a_post_without_the_csrf_token():
    """Every non-API URL, POSTed by a signed-in superuser without a token, is refused (403)."""
    from tests.console.test_permission_matrix import expectations_for

    user = role_user("superuser")
    world = make_world(user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    checked = []
    for route in routes():
        if route.key.startswith("api:"):
            continue
        url = url_of(route, expectations_for(route)[0], world)
        response = client.post(url, {})
        assert response.status_code == 403, f"{url} ({route.key}) accepted a POST without CSRF"
        assert b"CSRF" in response.content, url
        checked.append(url)
    assert len(checked) > 100
    assert Source.objects.filter(pk=world.source.pk).exists()


def test_only_the_bearer_token_api_is_csrf_exempt():
    """django-ninja exempts its views; they take no cookie auth, so a forged request gets 401."""
    exempt = {r.key for r in routes() if getattr(r.pattern.callback, "csrf_exempt", False)}
    assert exempt, "the API routes were expected to be CSRF-exempt"
    assert all(key.startswith("api:") for key in exempt), exempt


@pytest.mark.django_db
def test_the_api_ignores_the_session_cookie_so_it_needs_no_csrf_token(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(API, {"name": "x"}, content_type="application/json")
    assert response.status_code == 401
    assert not Source.objects.exists()


def test_every_post_form_in_the_templates_carries_the_csrf_token():
    missing = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        for form in re.finditer(r"<form\b[^>]*>.*?</form>", text, re.S | re.I):
            if re.search(r'method="post"', form.group(0), re.I) and (
                "{% csrf_token %}" not in form.group(0)
            ):
                missing.append(f"{template.relative_to(ROOT)}: {form.group(0)[:80]}")
    assert not missing, missing


@pytest.mark.django_db
def test_htmx_requests_send_the_csrf_token_from_the_body(viewer_client):
    """hx-post/hx-delete from anywhere on a page send X-CSRFToken (hx-headers on <body>)."""
    viewer_client.get(reverse("dashboard"))  # sets the CSRF cookie
    page = viewer_client.get(reverse("events:search")).content.decode()
    match = re.search(r"<body hx-headers='(\{[^']*\})'>", page)
    assert match, "base.html must put the CSRF token in <body hx-headers>"
    token = json.loads(match.group(1))["X-CSRFToken"]
    client = Client(enforce_csrf_checks=True)
    client.cookies = viewer_client.cookies
    saved = client.post(reverse("events:save"), {"name": "by htmx"}, headers={"X-CSRFToken": token})
    assert saved.status_code == 302
    refused = client.post(reverse("events:save"), {"name": "forged"})
    assert refused.status_code == 403


# --- Headers (CSP everywhere; cookies, HSTS, framing in production) ------------------------------
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())


@pytest.mark.django_db
def test_every_response_has_a_csp_that_allows_no_inline_script_or_style(viewer_client):
    for url in [reverse("login"), reverse("dashboard"), reverse("events:search"), "/api/docs"]:
        policy = viewer_client.get(url)["Content-Security-Policy"]
        assert directives(policy) == CSP, url
        assert "unsafe-" not in policy, url


def test_no_template_has_an_inline_script_event_handler_or_style():
    found = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        found += [
            f"{template.name}: inline <script>"
            for _ in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", text)
        ]
        found += [f"{template.name}: {m}" for m in re.findall(r"\son[a-z]+=", text)]
        found += [f"{template.name}: style=" for _ in re.findall(r"\sstyle=", text)]
        found += [f"{template.name}: <style>" for _ in re.findall(r"<style[\s>]", text)]
    assert not found, found


PRODUCTION_PROBE = """
import json
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="sluice.example.com")
secure = client.get("/login/", secure=True)
plain = client.get("/login/")
print(json.dumps({
    "headers": dict(secure.headers),
    "cookies": {name: dict(morsel) for name, morsel in secure.cookies.items()},
    "plain": [plain.status_code, plain.headers.get("Location")],
    "session": [settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY,
                settings.SESSION_COOKIE_SAMESITE],
}))
"""


def test_production_responses_carry_hsts_secure_cookies_and_no_framing(tmp_path):
    result = run_manage(
        "shell",
        "-c",
        PRODUCTION_PROBE,
        SECRET_KEY="a" * 20 + "-production-key-with-enough-entropy-0123456789",
        ALLOWED_HOSTS="sluice.example.com",
        SLUICE_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    headers = seen["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert directives(headers["Content-Security-Policy"]) == CSP
    csrf = seen["cookies"]["csrftoken"]
    assert (csrf["secure"], csrf["httponly"], csrf["samesite"]) == (True, True, "Lax")
    assert seen["session"] == [True, True, "Lax"]
    assert seen["plain"] == [301, "https://sluice.example.com/login/"]


# --- Login rate limiting (django-axes) -----------------------------------------------------------
def sign_in(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.mark.django_db
def test_after_five_wrong_passwords_even_the_right_one_is_refused_until_unlocked(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    alice = UserFactory(username="alice")
    _token, raw = ApiToken.objects.issue(alice, "ci")
    client = Client()
    for _ in range(4):
        assert sign_in(client, "alice", "wrong").status_code == 200  # the form, with its error
    locked = sign_in(client, "alice", "wrong")
    assert locked.status_code == 429
    refused = sign_in(client, "alice", "correct-horse-battery")
    assert refused.status_code == 429
    text = refused.content.decode()
    assert "Too many failed sign-ins" in text
    assert "locked after 5 wrong passwords" in text
    assert "0:15:00" in text
    assert "_auth_user_id" not in client.session
    # the API token does not go through the login form and keeps working
    api = Client().get(API, headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 200
    # another user from the same address is not locked out
    UserFactory(username="bob")
    assert sign_in(Client(), "bob", "correct-horse-battery").status_code == 302

    call_command("axes_reset_username", "alice")
    assert sign_in(client, "alice", "correct-horse-battery").status_code == 302


@pytest.mark.django_db
def test_an_admin_unlocks_a_user_by_deleting_the_access_attempt(admin_client):
    UserFactory(username="carol")
    for _ in range(5):
        sign_in(Client(), "carol", "wrong")
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.get(username="carol")
    page = admin_client.get(reverse("admin:axes_accessattempt_changelist"))
    assert "carol" in page.content.decode()
    admin_client.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert sign_in(Client(), "carol", "correct-horse-battery").status_code == 302


# --- No SSRF: AWS endpoints only from settings ---------------------------------------------------
HOSTILE_ENDPOINT = "http://169.254.169.254/latest/meta-data/"


def test_the_boto3_client_factory_takes_no_endpoint_argument():
    assert "endpoint_url" not in inspect.signature(aws.client).parameters
    source = inspect.getsource(aws)
    assert "endpoint_url" not in source.replace("AWS_ENDPOINT_URL", "")


def test_no_code_outside_sources_aws_builds_a_boto3_client_or_passes_an_endpoint():
    offenders = []
    for app in ("console", "sources", "events", "ingestion", "parsers"):
        for path in (ROOT / app).rglob("*.py"):
            if path == ROOT / "sources" / "aws.py" or "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.keyword) and node.arg == "endpoint_url":
                    offenders.append(f"{path.relative_to(ROOT)}:{node.value.lineno} endpoint_url=")
                if isinstance(node, ast.Attribute) and node.attr in {"client", "resource"}:
                    base = node.value
                    if isinstance(base, ast.Name) and base.id in {"boto3", "session"}:
                        offenders.append(
                            f"{path.relative_to(ROOT)}:{node.lineno} {base.id}.{node.attr}"
                        )
    assert not offenders, offenders


@pytest.mark.django_db
def test_the_api_stores_no_endpoint_given_in_a_source_config(admin_user):
    headers = {"Authorization": f"Bearer {ApiToken.objects.issue(admin_user, 't')[1]}"}
    client = Client()
    created = client.post(
        API,
        s3_payload(endpoint_url=HOSTILE_ENDPOINT, endpoint=HOSTILE_ENDPOINT),
        content_type="application/json",
        headers=headers,
    )
    assert created.status_code == 201, created.content
    stored = Source.objects.get(pk=created.json()["id"]).config
    assert HOSTILE_ENDPOINT not in json.dumps(stored)
    patched = client.patch(
        f"{API}/{created.json()['id']}",
        {"config": {"endpoint_url": HOSTILE_ENDPOINT}},
        content_type="application/json",
        headers=headers,
    )
    assert patched.status_code == 200
    assert HOSTILE_ENDPOINT not in json.dumps(Source.objects.get(pk=created.json()["id"]).config)


@pytest.mark.django_db
def test_an_sqs_queue_url_on_another_host_is_refused(admin_user):
    headers = {"Authorization": f"Bearer {ApiToken.objects.issue(admin_user, 't')[1]}"}
    payload = {
        "name": "teleport-sqs",
        "transport": "sqs",
        "log_types": [TELEPORT],
        "config": {"queue_url": f"http://169.254.169.254/{ACCOUNT}/sluice", "region": "us-east-1"},
    }
    response = Client().post(API, payload, content_type="application/json", headers=headers)
    assert response.status_code == 422
    assert "Enter an SQS queue URL like" in response.content.decode()
    assert not Source.objects.exists()


@pytest.mark.django_db
def test_the_wizard_keeps_no_endpoint_from_posted_settings(admin_client):
    url = reverse("sources:new_configure", args=[TELEPORT, "s3"])
    response = admin_client.post(url, s3_form_data(endpoint_url=HOSTILE_ENDPOINT))
    assert response.status_code == 302, response.content.decode()[:2000]
    drafts = admin_client.session["source_drafts"]
    assert drafts
    assert HOSTILE_ENDPOINT not in json.dumps(drafts)


# --- No open redirect ----------------------------------------------------------------------------
@pytest.mark.django_db
def test_pause_returns_only_to_a_page_of_this_site(admin_client):
    source = SourceFactory(name="prod")
    url = reverse("sources:pause", args=[source.pk])
    away = admin_client.post(url, {"paused": "1", "next": "https://evil.example/phish"})
    assert away["Location"] == source.get_absolute_url()
    back = admin_client.post(url, {"paused": "0", "next": "/sources/?health=paused"})
    assert back["Location"] == "/sources/?health=paused"
