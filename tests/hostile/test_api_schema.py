"""schemathesis against the app's own OpenAPI schema: every /api/v1 route, called in-process
through Django's WSGI handler with an admin's token, answers no 5xx, only documented statuses,
bodies matching their schemas, and rejects what the schema rejects.

`./test` runs a short budget per route; `bin/hostile` (SLUICE_FUZZ=1) a long one. The push
endpoint (/api/v1/ingest) is left out: its body is opaque bytes authenticated by a source secret,
fuzzed by test_fuzz.py and test_limits.py instead.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from audit.models import ApiToken
from console.api import api
from tests.factories import EventFactory, SourceFactory

from .conftest import FUZZ, FUZZING

EXAMPLES = FUZZ.max_examples // 20 if FUZZING else 20  # per route and generation mode
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


APP = WSGIHandler()
schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = APP  # calls go through Django's WSGI handler, in this process
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    allow_extra_parameters=False,  # unknown query parameters are ignored, as HTTP APIs do
    with_security_parameters=False,  # every call carries a valid token (the headers below)
)
schema = schema.exclude(path_regex="^/api/v1/ingest")


@pytest.fixture
def in_process(db, aws, settings):
    """The handler shares the test's transaction: as django.test.Client does, it must not
    close the connection at the start and end of each request."""
    settings.ALLOWED_HOSTS = ["localhost"]  # the host schemathesis' WSGI client sends
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_headers(in_process, admin_user):
    # id 1 (a common example) reads an existing source; the event's source is that one, as a
    # second source would take id 1 from PostgreSQL's sequence, which an explicit pk leaves at 1
    EventFactory(source=SourceFactory(pk=1))
    return {"Authorization": f"Bearer {ApiToken.objects.issue(admin_user, 'fuzz')[1]}"}


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
def test_every_route_answers_as_its_schema_says(case, admin_headers):
    case.call_and_validate(headers=admin_headers, checks=CHECKS)
