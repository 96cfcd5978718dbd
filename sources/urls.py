"""The sources pages. What they show from apps above this one is passed in by the URL conf
(console/urls.py includes `patterns(last_object=...)`), so this app imports none of them."""

from django.urls import URLPattern, path

from sources import views

app_name = "sources"


def patterns(last_object: views.LastObject | None = None) -> tuple[list[URLPattern], str]:
    """(urlpatterns, app_name) for `include()`; `last_object(source)`: the Overview tab's last
    object read (ingestion's)."""
    return [
        path("", views.source_list, name="list"),
        path("new/", views.new_pick, name="new"),
        path("new/validate/<str:transport>/", views.validate_field, name="validate_field"),
        path(
            "new/setup/<str:draft>/permissions/", views.draft_permissions, name="draft_permissions"
        ),
        path(
            "new/setup/<str:draft>/permissions/<str:filename>",
            views.draft_template,
            name="draft_template",
        ),
        path("new/setup/<str:draft>/verify/", views.draft_verify, name="draft_verify"),
        path("new/setup/<str:draft>/finish/", views.draft_finish, name="draft_finish"),
        path("new/<str:log_type>/", views.new_overview, name="new_overview"),
        path("new/<str:log_type>/<str:transport>/", views.new_configure, name="new_configure"),
        path("verifications/<int:pk>/", views.verification_status, name="verification"),
        path("<int:pk>/", views.source_detail, {"last_object": last_object}, name="detail"),
        path("<int:pk>/health/", views.source_health, name="health"),
        path("<int:pk>/settings/", views.source_settings, name="settings"),
        path("<int:pk>/settings/<str:filename>", views.source_template, name="template"),
        path("<int:pk>/history/", views.source_history, name="history"),
        path("<int:pk>/verify/", views.source_verify, name="verify"),
        path("<int:pk>/pause/", views.source_pause, name="pause"),
        path("<int:pk>/delete/", views.source_delete, name="delete"),
    ], app_name
