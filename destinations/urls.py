from django.urls import path

from destinations import views

app_name = "destinations"

urlpatterns = [
    path("", views.destination_list, name="list"),
    path("new/", views.destination_new, name="new"),
    path("<int:pk>/", views.destination_detail, name="detail"),
    path("<int:pk>/test/", views.destination_test, name="test"),
    path("<int:pk>/delete/", views.destination_delete, name="delete"),
    path("alerts/<int:alert_id>/", views.alert_deliveries, name="alert_deliveries"),
]
