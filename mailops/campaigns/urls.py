"""URLs of the bulk-notification pages (mounted at /campaigns/ on tenant hosts)."""

from __future__ import annotations

from django.urls import path, re_path

from mailops.campaigns import views

urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("new/", views.campaign_create, name="campaign_create"),
    path("<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("<int:pk>/preview/", views.campaign_preview, name="campaign_preview"),
    path("<int:pk>/test/", views.campaign_test_send, name="campaign_test_send"),
    path("<int:pk>/schedule/", views.campaign_schedule, name="campaign_schedule"),
    path("<int:pk>/confirm/", views.campaign_confirm, name="campaign_confirm"),
    re_path(
        r"^(?P<pk>\d+)/(?P<action>pause|resume|cancel)/$",
        views.campaign_action,
        name="campaign_action",
    ),
    path("<int:pk>/recipients/", views.campaign_recipients, name="campaign_recipients"),
    path(
        "<int:pk>/recipients/export/",
        views.campaign_recipients_export,
        name="campaign_recipients_export",
    ),
    path("lists/", views.list_index, name="campaign_lists"),
    path("lists/upload/", views.list_upload, name="campaign_list_upload"),
    path("lists/<int:pk>/", views.list_detail, name="campaign_list_detail"),
    path("lists/<int:pk>/confirm/", views.list_confirm, name="campaign_list_confirm"),
    re_path(
        r"^lists/(?P<pk>\d+)/(?P<action>import|discard)/$",
        views.list_decide,
        name="campaign_list_decide",
    ),
    path(
        "lists/<int:pk>/rejections/export/",
        views.list_rejections_export,
        name="campaign_list_rejections_export",
    ),
]
