"""Search pages: one small view per behaviour; htmx requests get the partial they swap."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import push_url

from events import export as exporting
from events.models import Event, SavedSearch, source_model
from events.presenters import (
    RowBuilder,
    column_links,
    duration_text,
    event_json,
    facet_rows,
    field_links,
    field_rows,
    histogram_bars,
    indicator_links,
    query_error_parts,
    related_links,
    timeline_entries,
)
from events.query import QueryError, quote
from events.search import (
    CUSTOM_RANGE,
    FACET_SAMPLE,
    RANGE_PRESETS,
    SearchState,
    StateError,
    histogram,
    page,
    page_fields,
    top_values,
)
from logtypes import registry as logtypes

SESSION_TIMELINE_LIMIT = 5000


def _urls() -> dict[str, str]:
    """URL bases the search templates use many times per page (reverse() once, not per link)."""
    return {
        "search": reverse("events:search"),
        "fields": reverse("events:field_values"),
        "rows": reverse("events:rows"),
        "histogram": reverse("events:histogram"),
    }


def _state_or_error(request: HttpRequest) -> tuple[SearchState | None, StateError | None]:
    try:
        return SearchState.from_params(request.GET), None
    except StateError as error:
        return None, error


def _saved_searches(request: HttpRequest):
    return SavedSearch.objects.filter(Q(user=request.user) | Q(shared=True)).select_related("user")


def _results_context(
    request: HttpRequest, state: SearchState, *, histogram_mode: str, rows_only: bool = False
) -> dict:
    """Everything the results area shows; a QueryError lands in the context, not a 500.

    histogram_mode: "inline" (counted now), "lazy" (the page asks for it after rendering: a
    filtered count over millions of rows must not hold up the first page) or "none".
    """
    cursor = request.GET.get("cursor", "")
    context: dict = {
        "state": state,
        "columns": state.shown_columns(),
        "cursor": cursor,
        "urls": _urls(),
        "histogram_mode": histogram_mode,
    }
    try:
        rows, next_cursor = page(state.events(), cursor)
        if histogram_mode == "inline":
            context.update(_histogram_context(state))
    except QueryError as error:
        context["query_error"] = error
        context.update(query_error_parts(state.q, error.position))
        return context
    except StateError as error:
        context["state_error"] = error
        return context
    builder = RowBuilder(state)
    context.update(rows=[builder.row(event) for event in rows], next_cursor=next_cursor)
    if rows_only:  # "Load more": the rows partial shows nothing else
        return context
    facet = request.GET.get("facet", "")
    context.update(fields=page_fields(rows), column_links=column_links(state), facet=facet)
    context["field_links"] = field_links(state, context["fields"])
    if facet:
        context.update(_facet_context(state, facet, exact=False))
    return context


def _histogram_context(state: SearchState) -> dict:
    buckets = histogram(state)
    return {
        "histogram": histogram_bars(buckets, state),
        "total": sum(bucket.count for bucket in buckets),
        "window": state.window(),
    }


def _facet_context(state: SearchState, facet: str, *, exact: bool) -> dict:
    values, examined = top_values(state, facet, sample=None if exact else FACET_SAMPLE)
    return {
        "state": state,
        "urls": _urls(),
        "facet": facet,
        "facet_rows": facet_rows(state, facet, values, examined),
        "facet_examined": examined,
        "facet_exact": exact,
        "facet_exact_query": urlencode({**state.params(), "field": facet, "exact": "1"}),
    }


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    state, state_error = _state_or_error(request)
    if state_error:
        # Show the form as typed with the message, and search nothing until it is fixed.
        state = SearchState.as_typed(request.GET)
        context = {"state": state, "state_error": state_error, "urls": _urls()}
        context.update(
            typed_start=request.GET.get("start", ""), typed_end=request.GET.get("end", "")
        )
    else:
        inline = state.uses_minute_counts() or request.GET.get("hist") == "1"
        context = _results_context(request, state, histogram_mode="inline" if inline else "lazy")
    context.update(
        presets=RANGE_PRESETS,
        custom_range=CUSTOM_RANGE,
        window=state.window(),
        log_types=logtypes.names(),
        sources=source_model()._default_manager.order_by("name").only("id", "name"),
        saved_searches=_saved_searches(request),
        export_limit=exporting.DEFAULT_LIMIT,
        export_max=exporting.MAX_LIMIT,
    )
    if not request.htmx or request.htmx.history_restore_request:
        return render(request, "events/search.html", context)
    response = render(request, "events/search.html#search-body", context)
    # The canonical URL of this state (no empty or ignored inputs) goes in the address bar;
    # with an error, what was typed (so a reload shows the same message).
    query = request.GET.urlencode() if state_error else state.querystring()
    return push_url(response, f"{reverse('events:search')}?{query}")


@require_GET
def rows(request: HttpRequest) -> HttpResponse:
    """The next page of result rows (htmx "load more" appends them)."""
    state, state_error = _state_or_error(request)
    if state_error:
        return HttpResponseBadRequest(state_error.message)
    context = _results_context(request, state, histogram_mode="none", rows_only=True)
    if "query_error" in context or "state_error" in context:
        error = context.get("query_error") or context.get("state_error")
        return HttpResponseBadRequest(str(error))
    return render(request, "events/search.html#result-rows", context)


@require_GET
def histogram_partial(request: HttpRequest) -> HttpResponse:
    """The histogram and total of a search, asked for by the page once its rows are shown."""
    state, state_error = _state_or_error(request)
    if state_error:
        return HttpResponseBadRequest(state_error.message)
    try:
        context = {"state": state, "urls": _urls(), **_histogram_context(state)}
    except QueryError as error:
        return HttpResponseBadRequest(str(error))
    return render(request, "events/search.html#histogram", context)


@require_GET
def field_values(request: HttpRequest) -> HttpResponse:
    """Top values of one field for the current search (the sidebar's facet panel)."""
    state, state_error = _state_or_error(request)
    if state_error:
        return HttpResponseBadRequest(state_error.message)
    name = (request.GET.get("field") or "").strip()
    if not name:
        return HttpResponseBadRequest("name a field")
    try:
        context = _facet_context(state, name, exact=request.GET.get("exact") == "1")
    except QueryError as error:
        return HttpResponseBadRequest(str(error))
    return render(request, "events/search.html#facet-panel", context)


@require_GET
def event_detail(request: HttpRequest, row_id: str) -> HttpResponse:
    event = get_object_or_404(Event.objects.select_related("source"), p_row_id=row_id)
    context = {
        "event": event,
        "json": event_json(event),
        "related": related_links(event),
        "indicators": indicator_links(event),
        "field_rows": field_rows(event),
        "session_url": _session_url(event.fields.get("sid")),
    }
    return render(request, "events/event_detail.html", context)


def _session_url(sid: object) -> str:
    """The session timeline of `sid`; none for a sid with "/" (as in the results table)."""
    if not isinstance(sid, str) or not sid or "/" in sid:
        return ""
    return reverse("events:session", args=[sid])


@require_GET
def event_json_partial(request: HttpRequest, row_id: str) -> HttpResponse:
    """The formatted JSON of one event, for a result row expanded in place."""
    event = get_object_or_404(Event.objects.select_related("source"), p_row_id=row_id)
    return render(
        request, "events/search.html#event-json", {"event": event, "json": event_json(event)}
    )


@require_GET
def session_timeline(request: HttpRequest, sid: str) -> HttpResponse:
    events = list(
        Event.objects.filter(fields__sid=sid)
        .select_related("source")
        .order_by("p_event_time", "id")[: SESSION_TIMELINE_LIMIT + 1]
    )
    truncated = len(events) > SESSION_TIMELINE_LIMIT
    events = events[:SESSION_TIMELINE_LIMIT]
    entries = timeline_entries(events)
    context = {
        "sid": sid,
        "entries": entries,
        "truncated": truncated,
        "limit": SESSION_TIMELINE_LIMIT,
        "first": events[0] if events else None,
        "duration_text": duration_text(events[-1].p_event_time - events[0].p_event_time)
        if events
        else "",
        "search_query": SearchState(q=f"sid:{quote(sid)}", range="30d").querystring(),
    }
    return render(request, "events/session_timeline.html", context)


@require_GET
def export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in exporting.FORMATS:
        raise Http404("export as csv or jsonl")
    state, state_error = _state_or_error(request)
    if state_error:
        return HttpResponseBadRequest(state_error.message)
    try:
        limit = exporting.parse_limit(request.GET.get("limit"))
        events = state.events()
        str(events.query)  # builds the filter now: a bad query is a 400, not a broken stream
    except (QueryError, ValueError) as error:
        return HttpResponseBadRequest(str(error))
    stream, content_type, filename = exporting.stream(fmt, events, state, limit)
    response = StreamingHttpResponse(stream, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Export-Limit"] = str(limit)
    return response


@require_POST
def save_search(request: HttpRequest) -> HttpResponse:
    name = (request.POST.get("name") or "").strip()
    query_string = (request.POST.get("query_string") or "").lstrip("?")
    back = reverse("events:search") + (f"?{query_string}" if query_string else "")
    if not name:
        messages.error(request, "Give the search a name to save it.")
        return redirect(back)
    try:
        with transaction.atomic():
            SavedSearch.objects.create(
                user=request.user,
                name=name[:120],
                query_string=query_string,
                shared=request.POST.get("shared") == "on",
            )
    except IntegrityError:
        messages.error(request, f"You already have a saved search named “{name}”.")
        return redirect(back)
    messages.success(request, f"Saved search “{name}”.")
    return redirect(back)


@require_POST
def delete_saved_search(request: HttpRequest, pk: int) -> HttpResponse:
    saved = get_object_or_404(SavedSearch, pk=pk, user=request.user)
    saved.delete()
    messages.success(request, f"Deleted saved search “{saved.name}”.")
    return redirect("events:search")
