"""The user page: who you are, your role, and your API tokens (each shown once when created)."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from console.models import ApiToken
from sources.permissions import can_manage_sources


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Token name", max_length=100, help_text="What will use it, e.g. terraform-ci."
    )


@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST if request.method == "POST" else None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        _token, new_token = ApiToken.objects.issue(request.user, form.cleaned_data["name"])
        form = TokenForm()
    context = {
        "form": form,
        "new_token": new_token,
        "tokens": request.user.api_tokens.all(),
        "can_manage_sources": can_manage_sources(request.user),
    }
    return render(request, "console/account.html", context)


@require_POST
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token.delete()
    messages.success(request, f"Token {token.name} was revoked.")
    return redirect("account")
