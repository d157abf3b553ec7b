"""URLs of a tenant host (<tenant>.<base domain>)."""

from __future__ import annotations

from django.urls import include, path

from portal import views
from tenants.accounts import support_views
from tenants.accounts import views as account_views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("members/", account_views.member_list, name="member_list"),
    path("members/invite/", account_views.member_invite, name="member_invite"),
    path(
        "members/<int:pk>/role/", account_views.member_change_role, name="member_role"
    ),
    path("members/<int:pk>/remove/", account_views.member_remove, name="member_remove"),
    path(
        "invitations/<int:pk>/revoke/",
        account_views.invitation_revoke,
        name="invitation_revoke",
    ),
    path(
        "invitations/accept/<str:token>/",
        account_views.invitation_accept,
        name="invitation_accept",
    ),
    path("audit/", account_views.audit_list, name="audit_list"),
    path("support-access/", support_views.support_access, name="support_access"),
    path("support-access/grant/", support_views.support_grant, name="support_grant"),
    path(
        "support-access/<int:pk>/revoke/",
        support_views.support_revoke,
        name="support_revoke",
    ),
    path(
        "support/enter/<str:token>/", support_views.support_enter, name="support_enter"
    ),
    path("mail/", include("mailops.urls")),
    path("campaigns/", include("mailops.campaigns.urls")),
    path("hooks/", include("mailops.hooks_urls")),
    path("billing/caps/", include("tenants.guardrail_tenant_urls")),
    path("billing/", include("billing.urls")),
]
