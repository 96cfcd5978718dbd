"""The JSON API: one NinjaAPI at /api/ (OpenAPI docs at /api/docs), Bearer-token auth.

Routers: sources at /api/v1/sources (sources/api.py), the push endpoint of push transports at
/api/v1/ingest (ingestion/api.py, authenticated by each source's secret, not a token); other apps
add theirs with one `api.add_router(...)` line below.
"""

from ninja import NinjaAPI

from audit.auth import BearerToken

api = NinjaAPI(
    title="Sluice API",
    version="1",
    description="Log sources (and their verification), events, alerts and detection rules of the "
    "Sluice console.",
    auth=BearerToken(),
    urls_namespace="api",
    docs_url="/docs",
)
api.add_router("/v1/sources", "sources.api.router")
api.add_router("/v1/events", "events.api.router")
api.add_router("/v1/ingest", "ingestion.api.router")
api.add_router("/v1/destinations", "destinations.api.router")
api.add_router("/v1/alerts", "detections.api.alerts_router")
api.add_router("/v1/rules", "detections.api.rules_router")
api.add_router("/v1/schemas", "logtypes.api.router")


def urlpatterns() -> tuple:
    """api.urls, with every view exempt from the session login (the API uses tokens instead)."""
    patterns, app_name, namespace = api.urls
    for pattern in _flatten(patterns):
        pattern.callback.login_required = False
    return patterns, app_name, namespace


def _flatten(patterns):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            yield from _flatten(pattern.url_patterns)
        else:
            yield pattern
