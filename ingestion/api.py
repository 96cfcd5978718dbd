"""/api/v1/ingest/{source_id}: the one endpoint push transports (HTTP) receive events at.

Transport-agnostic: it reads the body within SLUICE_HTTP_MAX_BODY_BYTES, lets the source's
transport authenticate it (no login, no API token, no CSRF: the source's secret is the
credential), applies the per-source rate limit, lets the transport decode it, and parses and
stores it in the request through the same path as SQS message bodies (`ingest_body`), answering
once the events are committed. Row ids come from the body's origin, so a retried POST adds nothing.
"""

from __future__ import annotations

import time

from django.conf import settings as django_settings
from django.http import HttpRequest, JsonResponse
from ninja import Router

from ingestion.health import record_stage_error
from ingestion.models import StageError
from ingestion.process import ObjectError, ingest_body
from sources import runtime, transports
from sources.models import Source
from sources.transports.base import Push, PushRejected

router = Router(tags=["ingest"])
READ_CHUNK = 1 << 16

PUSH_DOC = {
    "requestBody": {
        "required": True,
        "description": "NDJSON (one event per line) or JSON (an array, an object, or an "
        "envelope), optionally compressed with Content-Encoding gzip or zstd. Headers: "
        "`Authorization: Bearer <secret>` (auth bearer) or `X-Sluice-Signature: "
        "sha256=<hex HMAC-SHA256 of the raw body>` (auth hmac); `Idempotency-Key` (optional: "
        "a retried POST with the same key, or without one the same content, adds nothing).",
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "application/json": {"schema": {}},
        },
    },
    "responses": {
        "200": {
            "description": "Committed: events parsed, failed lines stored, duplicates skipped.",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "events": {"type": "integer"},
                            "failures": {"type": "integer"},
                            "duplicates": {"type": "integer"},
                        },
                    }
                }
            },
        },
        "401": {"description": "No valid secret."},
        "404": {"description": "No such source, or it takes no pushes."},
        "413": {"description": "Over SLUICE_HTTP_MAX_BODY_BYTES, sent or decompressed."},
        "415": {"description": "Unknown Content-Type or Content-Encoding."},
        "429": {"description": "Past the source's rate limit (SLUICE_HTTP_RATE_LIMIT a minute)."},
        "503": {"description": "The source is paused, or the store refused (retry later)."},
    },
}


def _answer(status: int, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"detail": message}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


class TooLarge(Exception):
    pass


def read_body(request: HttpRequest, limit: int) -> bytes:
    """The request body, read in chunks and refused (TooLarge) past `limit` bytes."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks, size = [], 0
    while chunk := request.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def within_rate_limit(source_id: int) -> int:
    """0 when this request is within the source's requests per minute, else the seconds until
    the next minute (fixed one-minute windows in Redis, shared by every web process)."""
    limit = django_settings.SLUICE_HTTP_RATE_LIMIT
    if not limit:
        return 0
    now = time.time()
    window = int(now // 60)
    key = f"sluice:push-rate:{source_id}:{window}"
    client = runtime.connection()
    count, _ = client.pipeline().incr(key).expire(key, 120).execute()
    return 0 if count <= limit else max(1, int((window + 1) * 60 - now))


@router.post(
    "/{source_id}",
    auth=None,
    url_name="push",
    summary="Push events to a source (HTTP transport)",
    openapi_extra=PUSH_DOC,
)
def push(request: HttpRequest, source_id: int):
    source = Source.objects.filter(pk=source_id).first()
    if source is None or not getattr(transports.REGISTRY.get(source.transport), "accepts_push", 0):
        return _answer(404, "No source takes pushes at this URL.")
    limit = django_settings.SLUICE_HTTP_MAX_BODY_BYTES
    try:
        raw = read_body(request, limit)
    except TooLarge:
        return _answer(413, f"The body is larger than {limit} bytes.")
    transport, settings = source.transport_impl, source.settings
    message = Push(headers=request.headers, body=raw, max_bytes=limit)
    try:
        transport.authenticate_push(source, settings, message)
    except PushRejected as exc:
        challenge = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        return _answer(exc.status, exc.message, **challenge)
    if source.paused:
        return _answer(503, "The source is paused: try again later.", **{"Retry-After": "60"})
    wait = within_rate_limit(source.pk)
    if wait:
        return _answer(429, "Too many requests for this source.", **{"Retry-After": str(wait)})
    try:
        body = transport.decode_push(source, settings, message)
    except PushRejected as exc:
        return _answer(exc.status, exc.message)
    runtime.mark_received(source.pk)  # the source's receive time: its last push
    try:
        outcome = ingest_body(
            source,
            body.data,
            object_key=body.origin_key,
            version=body.version,
            stream_type=body.stream_type,
            size=len(raw),
        )
    except ObjectError as exc:
        record_stage_error(source.pk, exc.stage, exc.message)
        if exc.stage == StageError.Stage.STORE:
            return _answer(503, exc.message, **{"Retry-After": "5"})
        return _answer(400, exc.message)
    return JsonResponse(
        {"events": outcome.events, "failures": outcome.failures, "duplicates": outcome.duplicates}
    )
