"""`p_alert_id:<id>` in the search language: exactly the events an alert holds (its matches'
row ids), through events.filters' one query-to-filter path (registered at startup)."""

from __future__ import annotations

from django.db.models import Q

from audit.responses import MAX_ID
from detections.models import Match
from events.query import QueryError, Term

FIELD = "p_alert_id"


def alert_leaf(term: Term) -> Q:
    """The events of the alert whose id the term holds; the id is a number, never a lookup."""
    text = term.value.text.strip()
    number = text.isascii() and text.isdigit() and int(text) <= MAX_ID
    if term.op != ":" or term.value.is_wildcard or not number:
        raise QueryError(f"'{FIELD}' takes an alert's id, like {FIELD}:42", term.position)
    rows = Match.objects.filter(alert_id=int(text)).values("p_row_id")
    return Q(p_row_id__in=rows)
