"""Onboarding wizard URLs (public host), included under ``staff/``."""

from __future__ import annotations

from django.urls import path

from tenants import onboarding_views as v

urlpatterns = [
    path("onboarding/", v.wizard_start, name="staff_onboarding_start"),
    path("onboarding/cancel/", v.wizard_cancel, name="staff_onboarding_cancel"),
    path("onboarding/<slug:step>/", v.wizard_step, name="staff_onboarding_step"),
    path("tenants/<int:pk>/onboarding/", v.progress, name="staff_onboarding_progress"),
    path(
        "tenants/<int:pk>/onboarding/acs/",
        v.acs_retry,
        name="staff_onboarding_acs_retry",
    ),
]
