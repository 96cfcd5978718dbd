from django.urls import path

from events import views

app_name = "events"
urlpatterns = [
    path("", views.search, name="search"),
    path("events/<str:row_id>/", views.event_detail, name="detail"),
]
