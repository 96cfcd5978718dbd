"""Wizard drafts live in the session until Finish saves the source in one transaction."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404, HttpRequest

SESSION_KEY = "source_drafts"
MAX_DRAFTS = 10


def save_draft(request: HttpRequest, draft: dict[str, Any], draft_id: str | None = None) -> str:
    drafts = request.session.get(SESSION_KEY, {})
    draft_id = draft_id or uuid.uuid4().hex
    drafts[draft_id] = draft
    while len(drafts) > MAX_DRAFTS:
        drafts.pop(next(iter(drafts)))
    request.session[SESSION_KEY] = drafts
    return draft_id


def get_draft(request: HttpRequest, draft_id: str) -> dict[str, Any]:
    draft = request.session.get(SESSION_KEY, {}).get(draft_id)
    if draft is None:
        raise Http404("This setup has expired or was finished; start again from Create New.")
    return draft


def drop_draft(request: HttpRequest, draft_id: str) -> None:
    drafts = request.session.get(SESSION_KEY, {})
    drafts.pop(draft_id, None)
    request.session[SESSION_KEY] = drafts
