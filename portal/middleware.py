from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers

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


class JapaneseFirstLocaleMiddleware:
    """Japanese unless the user chose otherwise.

    Unlike Django's LocaleMiddleware this ignores the browser's Accept-Language:
    the customers' administrators are in Japan, often on English-language OS
    installs, and expect the portal in Japanese until they switch it.
    The choice comes from the language cookie (set by the switcher), then the
    user's saved preference.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.utils import translation

        supported = {code for code, _name in settings.LANGUAGES}
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if language not in supported:
            user = getattr(request, "user", None)
            preferred = getattr(user, "preferred_language", "") if user else ""
            language = preferred if preferred in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        return response


class SupportSessionMiddleware:
    """Keep a support session inside its grant, and audit every page it sees.

    The grant is checked on each request, so access ends at expiry or revocation
    exactly; a read-only grant refuses every non-safe method.
    """

    SAFE = ("GET", "HEAD", "OPTIONS")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not (user.is_authenticated and getattr(user, "is_support", False)):
            return self.get_response(request)
        from django.contrib.auth import logout

        from tenants.accounts.audit import AuditContext, audit_record
        from tenants.accounts.models import SupportGrant

        grant = SupportGrant.objects.filter(
            pk=request.session.get("support_grant_id")
        ).first()
        if grant is None or not grant.is_active():
            logout(request)
            return render(request, "accounts/support_ended.html", status=403)
        if (
            grant.scope == SupportGrant.Scope.READ
            and request.method not in self.SAFE
            and not request.path.startswith("/accounts/logout")
        ):
            audit_record(
                ctx=AuditContext.from_request(request),
                action="support.denied",
                target_label=request.path[:254],
                after={"method": request.method},
            )
            return render(request, "accounts/support_readonly.html", status=403)
        if request.method in self.SAFE and not request.path.startswith(_ALWAYS_OPEN):
            audit_record(
                ctx=AuditContext.from_request(request),
                action="support.view",
                target_label=request.path[:254],
            )
        return self.get_response(request)
