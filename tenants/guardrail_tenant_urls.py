"""Tenant-host URLs of usage caps, included under ``billing/caps/``."""

from __future__ import annotations

from django.urls import path

from tenants import guardrail_views

urlpatterns = [
    path("", guardrail_views.tenant_caps, name="tenant_caps"),
    path("lift/", guardrail_views.tenant_caps_lift, name="tenant_caps_lift"),
]
