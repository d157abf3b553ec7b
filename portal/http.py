"""Typed requests for views (no mypy plugin needed)."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from tenants.accounts.models import User
from tenants.models import Customer


class PortalRequest(HttpRequest):
    user: User
    htmx: HtmxDetails
    tenant: Customer


class AuthenticatedRequest(PortalRequest):
    pass
