from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from audit import views as audit_views
from console import views
from console.api import urlpatterns as api_urlpatterns
from ingestion import views as ingestion_views
from logtypes import urls as logtypes_urls
from logtypes.views import SampleSource
from sources import samples
from sources import urls as sources_urls

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # API tokens and audit entries were admin/console/… before they moved to the audit app
    re_path(
        r"^admin/console/(?P<rest>.*)$",
        RedirectView.as_view(url="/admin/audit/%(rest)s", permanent=True, query_string=True),
        name="old_admin_console",
    ),
    path("admin/", admin.site.urls),
    path("api/", api_urlpatterns()),
    path(
        "account/",
        audit_views.account,
        {"extra_context": views.account_role},
        name="account",
    ),
    path("account/tokens/<int:pk>/revoke/", audit_views.revoke_token, name="revoke_token"),
    path("audit/", audit_views.audit_log, {"object_links": views.audit_links}, name="audit"),
    # a source's Overview tab shows the last object ingestion read (sources imports no ingestion)
    path("sources/", include(sources_urls.patterns(last_object=ingestion_views.last_object))),
    path("ingestion/", include("ingestion.urls")),
    path("search/", include("events.urls")),
    path("destinations/", include("destinations.urls")),
    path("", include("detections.urls")),
    # the schema tester reads samples from S3 sources (logtypes imports no sources)
    path(
        "schemas/",
        include(
            logtypes_urls.patterns(
                sample_source=SampleSource(samples.s3_choices, samples.read_s3_sample)
            )
        ),
    ),
]
