"""Staff console URLs of usage caps and the quota-increase readiness pack
(public host), included under ``staff/tenants/``."""

from __future__ import annotations

from django.urls import path

from tenants import guardrail_views, readiness_views

urlpatterns = [
    path(
        "<int:pk>/caps/",
        guardrail_views.staff_guardrail_update,
        name="staff_tenant_caps",
    ),
    path(
        "<int:pk>/caps/lift/",
        guardrail_views.staff_guardrail_lift,
        name="staff_tenant_caps_lift",
    ),
    path(
        "<int:pk>/readiness/",
        readiness_views.readiness_pack,
        name="staff_tenant_readiness",
    ),
]
