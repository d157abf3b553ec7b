from __future__ import annotations

from django.urls import path

from mailops import analytics_views as views

urlpatterns = [
    path("", views.dashboard, name="analytics_dashboard"),
    path("export/", views.aggregate_export, name="analytics_aggregate_export"),
    path("messages/", views.message_search, name="analytics_messages"),
    path("messages/export/", views.message_export, name="analytics_message_export"),
    path(
        "messages/<str:message_id>/",
        views.message_detail,
        name="analytics_message",
    ),
    path("alerts/", views.alerts, name="analytics_alerts"),
    path("alerts/settings/", views.alert_settings, name="analytics_alert_settings"),
    path("alerts/<int:pk>/acknowledge/", views.alert_ack, name="analytics_alert_ack"),
    path("eventgrid/", views.eventgrid_settings, name="analytics_eventgrid"),
    path("eventgrid/issue/", views.eventgrid_issue, name="analytics_eventgrid_issue"),
]
