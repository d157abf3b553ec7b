"""URLs of the public host: MSP staff console, sign-in and public pages."""

from __future__ import annotations

from django.urls import include, path

from mailops import staff_views as mail_staff_views
from portal import views
from tenants import staff_team_views
from tenants import views as staff_views
from tenants.accounts import views as account_views

urlpatterns = [
    path("", views.public_home, name="public_home"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("billing.public_urls")),
    path("readyz", views.readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("staff/tenants/", staff_views.tenant_list, name="staff_tenants"),
    path("staff/tenants/new/", staff_views.tenant_create, name="staff_tenant_create"),
    path(
        "staff/tenants/<int:pk>/", staff_views.tenant_detail, name="staff_tenant_detail"
    ),
    path(
        "staff/tenants/<int:pk>/suspend/",
        staff_views.tenant_suspend,
        name="staff_tenant_suspend",
    ),
    path(
        "staff/tenants/<int:pk>/resume/",
        staff_views.tenant_resume,
        name="staff_tenant_resume",
    ),
    path("staff/audit/", staff_views.staff_audit_list, name="staff_audit"),
    path("staff/tenants/", include("tenants.guardrail_urls")),
    path("staff/billing/", include("billing.staff_urls")),
    path("staff/", include("tenants.onboarding_urls")),
    path("staff/team/", staff_team_views.team, name="staff_team"),
    path("staff/team/invite/", staff_team_views.team_invite, name="staff_team_invite"),
    path(
        "staff/team/<int:pk>/role/", staff_team_views.team_role, name="staff_team_role"
    ),
    path(
        "staff/team/<int:pk>/deactivate/",
        staff_team_views.team_deactivate,
        name="staff_team_deactivate",
    ),
    path(
        "invitations/accept/<str:token>/",
        account_views.invitation_accept,
        name="invitation_accept",
    ),
    path("staff/alerts/", staff_views.alert_list, name="staff_alerts"),
    path(
        "staff/alerts/<int:pk>/assign/",
        staff_views.alert_assign,
        name="staff_alert_assign",
    ),
    path(
        "staff/alerts/<int:pk>/acknowledge/",
        staff_views.alert_acknowledge,
        name="staff_alert_acknowledge",
    ),
    path(
        "staff/alerts/<int:pk>/resolve/",
        staff_views.alert_resolve,
        name="staff_alert_resolve",
    ),
    path(
        "staff/alerts/<int:pk>/note/", staff_views.alert_note, name="staff_alert_note"
    ),
    path(
        "staff/tenants/<int:pk>/support/",
        staff_views.tenant_support_open,
        name="staff_tenant_support",
    ),
    path(
        "staff/tenants/<int:pk>/mail/",
        mail_staff_views.tenant_mail,
        name="staff_tenant_mail",
    ),
    path(
        "staff/tenants/<int:pk>/mail/request/",
        mail_staff_views.tenant_mail_request,
        name="staff_tenant_mail_request",
    ),
    path(
        "staff/tenants/<int:pk>/mail/quota/",
        mail_staff_views.tenant_mail_quota,
        name="staff_tenant_mail_quota",
    ),
]
