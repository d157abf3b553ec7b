"""Public-host pages of billing (included from portal/urls_public.py)."""

from __future__ import annotations

from django.urls import path

from billing import public_views

urlpatterns = [
    path("estimate/", public_views.estimate_view, name="public_estimate"),
    path("assessment/", public_views.assessment_view, name="public_assessment"),
]
