from __future__ import annotations

from django.urls import include, path, re_path

from mailops import views

urlpatterns = [
    path("", views.overview, name="mail_overview"),
    path("analytics/", include("mailops.analytics_urls")),
    path("setup/", views.footprint_setup, name="mail_setup"),
    path("setup/status/", views.footprint_status, name="mail_setup_status"),
    path("domains/add/", views.domain_add, name="mail_domain_add"),
    path("domains/<int:pk>/", views.domain_detail, name="mail_domain"),
    re_path(
        r"^domains/(?P<pk>\d+)/(?P<action>verify|check|link|unlink|remove)/$",
        views.domain_action,
        name="mail_domain_action",
    ),
    path("domains/<int:pk>/senders/add/", views.sender_add, name="mail_sender_add"),
    path("senders/<int:pk>/remove/", views.sender_remove, name="mail_sender_remove"),
    path(
        "domains/<int:pk>/suppression/", views.suppression_list, name="mail_suppression"
    ),
    path(
        "domains/<int:pk>/suppression/add/",
        views.suppression_add,
        name="mail_suppression_add",
    ),
    path(
        "domains/<int:pk>/suppression/upload/",
        views.suppression_upload,
        name="mail_suppression_upload",
    ),
    path(
        "domains/<int:pk>/suppression/import/",
        views.suppression_import,
        name="mail_suppression_import",
    ),
    path(
        "domains/<int:pk>/suppression/export/",
        views.suppression_export,
        name="mail_suppression_export",
    ),
    path(
        "suppression/<int:pk>/remove/",
        views.suppression_remove,
        name="mail_suppression_remove",
    ),
    path("credentials/", views.credential_list, name="mail_credentials"),
    path("credentials/new/", views.credential_create, name="mail_credential_create"),
    path("credentials/<int:pk>/", views.credential_detail, name="mail_credential"),
    path(
        "credentials/<int:pk>/rotate/",
        views.credential_rotate,
        name="mail_credential_rotate",
    ),
    path(
        "credentials/<int:pk>/resume/",
        views.credential_resume,
        name="mail_credential_resume",
    ),
    path(
        "credentials/<int:pk>/smtp-test/",
        views.credential_smtp_test,
        name="mail_credential_smtp_test",
    ),
    path(
        "credentials/<int:pk>/sheet/",
        views.credential_sheet,
        name="mail_credential_sheet",
    ),
    re_path(
        r"^credentials/(?P<pk>\d+)/(?P<action>retire-old|revoke)/$",
        views.credential_action,
        name="mail_credential_action",
    ),
]
