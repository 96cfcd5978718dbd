"""The account page (who you are, your API tokens, each shown once when created) and the Audit log
page (/audit/, staff only: every audit entry, newest first, with filters).

What these pages show about other apps is passed in by the URL conf (console/urls.py), so this app
imports none of them: `extra_context(request)` adds to the account page's context (the user's
role), and `object_links(entries)` maps (object_type, object_id) of a page's entries to the URL
of the objects that still exist.
"""

from collections.abc import Callable, Iterable

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.filters import AuditFilter
from audit.models import ApiToken, AuditEntry

PAGE_SIZE = 50

ExtraContext = Callable[[HttpRequest], dict]
ObjectLinks = Callable[[Iterable[AuditEntry]], dict[tuple[str, str], str]]


# --- Account page ------------------------------------------------------------------------------
class TokenForm(forms.Form):
    name = forms.CharField(
        label="Token name", max_length=100, help_text="What will use it, e.g. terraform-ci."
    )


@require_http_methods(["GET", "POST"])
def account(request: HttpRequest, extra_context: ExtraContext | None = None) -> HttpResponse:
    form = TokenForm(request.POST if request.method == "POST" else None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        _token, new_token = ApiToken.objects.issue(request.user, form.cleaned_data["name"])
        form = TokenForm()
    context = {
        "form": form,
        "new_token": new_token,
        "tokens": request.user.api_tokens.all(),
        **(extra_context(request) if extra_context else {}),
    }
    return render(request, "audit/account.html", context)


@require_POST
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token.delete()
    messages.success(request, f"Token {token.name} was revoked.")
    return redirect("account")


# --- Audit log page ----------------------------------------------------------------------------
@require_GET
def audit_log(request: HttpRequest, object_links: ObjectLinks | None = None) -> HttpResponse:
    if not (request.user.is_active and request.user.is_staff):
        raise PermissionDenied("Only staff can read the audit log.")
    filterset = AuditFilter(request.GET, queryset=AuditEntry.objects.all())
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    links = object_links(page) if object_links else {}
    for entry in page:  # the page keeps these instances (a list) for the template
        entry.link = links.get((entry.object_type, entry.object_id), "")
    return render(request, "audit/audit_log.html", {"filter": filterset, "page": page})
