from django.urls import path

from detections import views

app_name = "detections"
urlpatterns = [
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/status/", views.alert_bulk, name="alerts_bulk"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert"),
    path("alerts/<int:pk>/triage/", views.alert_triage, name="alert_triage"),
    path("alerts/<int:pk>/comments/", views.alert_comment, name="alert_comment"),
    path("detections/", views.rule_list, name="rules"),
    path("detections/<str:rule_id>/", views.rule_detail, name="rule"),
    path("detections/<str:rule_id>/settings/", views.rule_change, name="rule_change"),
    path("detections/<str:rule_id>/runs/", views.rule_run, name="rule_run"),
    path("detections/<str:rule_id>/runs/<int:pk>/", views.rule_run_status, name="rule_run_status"),
]
