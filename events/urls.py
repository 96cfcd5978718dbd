from django.urls import path

from events import views

app_name = "events"
urlpatterns = [
    path("", views.search, name="search"),
    path("rows/", views.rows, name="rows"),
    path("histogram/", views.histogram_partial, name="histogram"),
    path("fields/", views.field_values, name="field_values"),
    path("export.<str:fmt>", views.export, name="export"),
    path("saved/", views.save_search, name="save"),
    path("saved/<int:pk>/delete/", views.delete_saved_search, name="delete_saved"),
    path("events/<str:row_id>/", views.event_detail, name="detail"),
    path("events/<str:row_id>/json/", views.event_json_partial, name="json"),
    path("sessions/<str:sid>/", views.session_timeline, name="session"),
]
