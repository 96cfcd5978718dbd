from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from console import account, audit_log, views
from console.api import urlpatterns as api_urlpatterns

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", api_urlpatterns()),
    path("account/", account.account, name="account"),
    path("account/tokens/<int:pk>/revoke/", account.revoke_token, name="revoke_token"),
    path("audit/", audit_log.audit_log, name="audit"),
    path("sources/", include("sources.urls")),
    path("ingestion/", include("ingestion.urls")),
    path("search/", include("events.urls")),
]
