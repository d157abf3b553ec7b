"""Inbound webhooks of a tenant host (no session, no CSRF: the URL secret
authenticates the sender)."""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from mailops.analytics import eventgrid

logger = logging.getLogger(__name__)


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def eventgrid_webhook(request: HttpRequest, secret: str) -> HttpResponse:
    # A wrong secret looks like a URL that does not exist.
    if not eventgrid.eventgrid_secret_matches(secret):
        return HttpResponse(status=404)
    if request.method == "OPTIONS":
        # CloudEvents v1.0 abuse-protection handshake (azure-facts §8.3).
        origin = request.headers.get("WebHook-Request-Origin", "")
        response = HttpResponse(status=200)
        if origin:
            response["WebHook-Allowed-Origin"] = origin
        response["Allow"] = "POST, OPTIONS"
        return response
    try:
        payload = json.loads(request.body or b"null")
    except ValueError:
        return JsonResponse({"error": "body is not JSON"}, status=400)
    events = payload if isinstance(payload, list) else [payload]
    kind = request.headers.get("aeg-event-type", "")
    code = eventgrid.validation_code(events)
    if kind == "SubscriptionValidation" or code is not None:
        if code is None:
            return JsonResponse({"error": "no validationCode"}, status=400)
        return JsonResponse({"validationResponse": code})
    if kind == "SubscriptionDeletion":
        return HttpResponse(status=200)
    applied = eventgrid.eventgrid_receive(events)
    logger.info("event grid: %s events, %s new", len(events), applied)
    return HttpResponse(status=200)
