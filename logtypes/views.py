"""Configure > Schemas: the log types (built-in and custom), a custom one's versions, and the
editor (validation as you type, the tester on samples, inference, saving).

Every action of the editor is one POST to the editor's URL with `action` = check, test, infer or
save, so it works without JavaScript; htmx posts the same form and swaps only the partial that
changed. What comes from apps above this one (reading a sample from a source) is passed in by the
URL conf (console/urls.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from audit.roles import can_manage
from logtypes import custom, registry
from parsers.streams import STREAM_TYPES


@dataclass(frozen=True)
class SampleSource:
    """Where the tester may read a sample: sources above this app, passed in by the URL conf.

    `choices()`: (value, label) of the sources; `read(value, prefix, limit)`: the first object's
    bytes under the prefix (ValueError with a message for the user)."""

    choices: Callable[[], list[tuple[str, str]]]
    read: Callable[[str, str, int], tuple[str, bytes]]


NEW_SCHEMA = """\
schema: Custom.MyApp
description: What these logs are.
fields:
  - name: time
    required: true
    type: timestamp
    timeFormats: [rfc3339]
    isEventTime: true
  - name: message
    type: string
"""


@require_GET
def schema_list(request: HttpRequest) -> HttpResponse:
    log_types = registry.all()
    latest = {v.name: v for v in custom.SchemaVersion.objects.order_by("name", "-version")}
    rows = [
        {"log_type": lt, "editable": custom.editable(lt.name), "latest": latest.get(lt.name)}
        for lt in log_types
    ]
    context = {
        "rows": rows,
        "can_edit": can_manage(request.user),
        "problems": registry.current_registry().problems,
    }
    return render(request, "logtypes/schema_list.html", context)


@require_GET
def schema_detail(request: HttpRequest, name: str) -> HttpResponse:
    try:
        log_type = registry.get(name)
    except KeyError as exc:
        raise Http404(str(exc)) from None
    context = {
        "log_type": log_type,
        "versions": custom.versions(name),
        "editable": custom.editable(name),
        "can_edit": can_manage(request.user),
    }
    return render(request, "logtypes/schema_detail.html", context)


@require_http_methods(["GET", "POST"])
def schema_edit(
    request: HttpRequest, name: str | None = None, sample_source: SampleSource | None = None
) -> HttpResponse:
    if not can_manage(request.user):
        raise PermissionDenied("Only source admins can create or change log types.")
    if name is not None and (name not in registry.current_registry() or not custom.editable(name)):
        raise Http404(f"no custom log type {name!r}")
    editor = Editor(request, name, sample_source)
    if request.method == "GET":
        return editor.page()
    action = request.POST.get("action", "check")
    handler = {"check": editor.check, "test": editor.test, "infer": editor.infer}.get(action)
    return handler() if handler is not None else editor.save()


class Editor:
    """One editor request: the form's text and sample, and what each action answers."""

    def __init__(
        self, request: HttpRequest, name: str | None, sample_source: SampleSource | None
    ) -> None:
        self.request = request
        self.name = name
        self.sample_source = sample_source
        post = request.POST
        if request.method == "POST":
            self.text = post.get("text", "")
        else:
            self.text = registry.get(name).schema.text if name else NEW_SCHEMA
        self.stream_type = post.get("stream_type", "auto")
        if self.stream_type not in STREAM_TYPES:
            self.stream_type = "auto"
        self.problems = custom.check(self.text)[1]
        self.sample_error = ""
        self.result: custom.SampleResult | None = None

    def context(self, **more) -> dict:
        post = self.request.POST
        return {
            "name": self.name,
            "text": self.text,
            "problems": self.problems,
            "sample": post.get("sample", ""),
            "prefix": post.get("prefix", ""),
            "source": post.get("source", ""),
            "stream_type": self.stream_type,
            "stream_types": STREAM_TYPES,
            "sources": self.sample_source.choices() if self.sample_source else [],
            "sample_error": self.sample_error,
            "result": self.result,
            "limit": custom.sample_limit(),
            "action_url": self.request.path,
            **more,
        }

    def page(self, status: int = 200, **more) -> HttpResponse:
        return render(
            self.request, "logtypes/schema_edit.html", self.context(**more), status=status
        )

    def partial(self, name: str, status: int = 200) -> HttpResponse:
        if not self.request.htmx:
            return self.page(status)
        return render(self.request, f"logtypes/partials/{name}.html", self.context(), status=status)

    def check(self) -> HttpResponse:
        return self.partial("problems")

    def sample(self) -> bytes | None:
        """The sample of the form (an upload, a source's prefix, or pasted lines)."""
        post, files = self.request.POST, self.request.FILES
        try:
            if files.get("sample_file"):
                upload = files["sample_file"]
                return custom.read_sample(upload.file, upload.name)
            if post.get("source") and self.sample_source is not None:
                key, body = self.sample_source.read(
                    post["source"], post.get("prefix", ""), custom.sample_limit()
                )
                return custom.read_sample(body, key)
            pasted = post.get("sample", "")
            if not pasted.strip():
                raise ValueError("paste sample lines, upload a file or pick a source first")
            return custom.read_sample(pasted.encode("utf-8"))
        except ValueError as exc:
            self.sample_error = str(exc)
            return None

    def test(self) -> HttpResponse:
        schema, self.problems = custom.check(self.text)
        sample = self.sample()
        if schema is None or sample is None:
            return self.partial("results", status=400 if sample is None else 200)
        self.result = custom.parse_sample(schema, sample, self.stream_type)
        return self.partial("results")

    def infer(self) -> HttpResponse:
        sample = self.sample()
        if sample is None:
            return self.partial("editor", status=400)
        schema, _ = custom.check(self.text)
        name = self.name or (schema.name if schema else "Custom.MyApp")
        # a schema of the person's own (not the untouched starter) takes the inferred fields in
        untouched = self.text.replace("\r\n", "\n").strip() == NEW_SCHEMA.strip()  # (CRLF: forms)
        into = self.text if schema is not None and not untouched else ""
        try:
            self.text = custom.infer(sample, name, self.stream_type, into=into)
        except ValueError as exc:
            self.sample_error = str(exc)
            return self.partial("editor", status=400)
        self.problems = custom.check(self.text)[1]
        return self.partial("editor")

    def save(self) -> HttpResponse:
        try:
            version = custom.save(self.text, user=self.request.user, name=self.name)
        except custom.SaveRefused as exc:
            self.problems = exc.problems
            return self.page(status=400, refused=True)
        messages.success(
            self.request, f"Saved {version.name} version {version.version}: pick it as a tile."
        )
        return redirect(reverse("logtypes:detail", args=[version.name]))
