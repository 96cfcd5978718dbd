"""Configure > Schemas. The tester's sample sources come from the sources app, passed in by the
URL conf (console/urls.py includes `patterns(sample_source=...)`)."""

from django.urls import URLPattern, path

from logtypes import views

app_name = "logtypes"


def patterns(sample_source: views.SampleSource | None = None) -> tuple[list[URLPattern], str]:
    extra = {"sample_source": sample_source}
    return [
        path("", views.schema_list, name="list"),
        path("new/", views.schema_edit, extra, name="new"),
        path("<str:name>/", views.schema_detail, name="detail"),
        path("<str:name>/edit/", views.schema_edit, extra, name="edit"),
    ], app_name
