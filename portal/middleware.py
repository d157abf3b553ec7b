from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

# Paths a user may reach before enrolling MFA, and on a suspended tenant's host.
_ALWAYS_OPEN = ("/healthz", "/readyz", "/static/", "/i18n/")
_MFA_OPEN = (*_ALWAYS_OPEN, "/accounts/")


class TenantStatusMiddleware:
    """A suspended tenant's portal shows a notice instead of any page. Data stays."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if (
            tenant is not None
            and connection.schema_name != "public"
            and getattr(tenant, "status", "active") != "active"
            and not request.path.startswith(_ALWAYS_OPEN)
        ):
            return render(
                request, "tenants/suspended.html", {"tenant": tenant}, status=403
            )
        return self.get_response(request)


class MfaRequiredMiddleware:
    """Owners, admins and staff must enrol TOTP before they can use the portal."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            settings.PORTAL_MFA_REQUIRED
            and user.is_authenticated
            and user.needs_mfa
            and not request.path.startswith(_MFA_OPEN)
        ):
            from allauth.mfa.models import Authenticator

            if not Authenticator.objects.filter(
                user=user, type=Authenticator.Type.TOTP
            ).exists():
                return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
