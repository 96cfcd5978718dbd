from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from events.models import Event


def search(request: HttpRequest) -> HttpResponse:
    return render(request, "events/search.html", {"events": Event.objects.all()[:100]})


def event_detail(request: HttpRequest, row_id: str) -> HttpResponse:
    return render(
        request, "events/event_detail.html", {"event": get_object_or_404(Event, p_row_id=row_id)}
    )
