from django.urls import path

from ingestion import views

app_name = "ingestion"
urlpatterns = [
    path("sources/<int:pk>/", views.source_panel, name="source"),
    path("sources/<int:pk>/reprocess/", views.reprocess, name="reprocess"),
    path("sources/<int:pk>/backfill/", views.start_backfill, name="start_backfill"),
    path("backfills/<int:pk>/", views.backfill_progress, name="backfill"),
    path("objects/<int:pk>/retry/", views.retry_object, name="retry"),
]
