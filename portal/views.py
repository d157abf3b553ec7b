from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.access import require_capability
from portal.http import PortalRequest


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return type(exc).__name__
    return None


def _check_redis() -> str | None:
    import redis
    from django.conf import settings

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return type(exc).__name__
    return None


def _check_azure() -> str | None:
    from portal.integrations.azure import client
    from portal.integrations.azure.errors import AzureError

    try:
        client.check_reachable()
    except AzureError as exc:
        return str(exc)[:200]
    return None


@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """Check each dependency and say which is down (503 if any)."""
    checks = {
        "database": _check_database(),
        "redis": _check_redis(),
        "azure": _check_azure(),
    }
    body = {
        "status": "ok" if not any(checks.values()) else "unavailable",
        "checks": {
            name: {"ok": error is None, **({"error": error} if error else {})}
            for name, error in checks.items()
        },
    }
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)


def public_home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.is_staff:
        return redirect("staff_tenants")
    return render(request, "public/home.html")


@login_required
@require_capability("portal.view")
def dashboard(request: PortalRequest) -> HttpResponse:
    return render(request, "portal/dashboard.html", {"tenant": request.tenant})
