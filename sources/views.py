from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from sources.models import Source


def source_list(request: HttpRequest) -> HttpResponse:
    return render(request, "sources/source_list.html", {"sources": Source.objects.all()})


def source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(
        request, "sources/source_detail.html", {"source": get_object_or_404(Source, pk=pk)}
    )
