"""ACS Email data plane: ``POST /emails:send`` and ``GET /emails/operations/{id}``.

Requests are authenticated with the ACS HMAC scheme (azure-facts §2.6) using the
primary or secondary key of any communication service; the key that verifies the
signature identifies the resource.  Bearer tokens (audience
``https://communication.azure.com``) are accepted too; the resource is then taken from
the ``x-ms-emulator-resource-id`` header, or is the only communication service.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from . import auth
from .core import Emulator
from .defaults import EMAIL_AUDIENCES
from .errors import error_response, json_response
from .pipeline import Pipeline, SendError

API_VERSIONS = {"2023-03-31", "2024-07-01-preview", "2025-09-01"}


def _acs_error(
    status: int,
    code: str,
    message: str,
    *,
    target: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    return error_response(
        status, code, message, target=target, headers=headers, data_plane=True
    )


def _denied(message: str = "Denied by the resource provider.") -> web.Response:
    # ACS answers failed HMAC checks with 401 {"error":{"code":"Denied",...}}.
    return _acs_error(401, "Denied", message)


class EmailApi:
    def __init__(self, emu: Emulator, pipeline: Pipeline) -> None:
        self.emu = emu
        self.pipeline = pipeline

    def register(self, app: web.Application) -> None:
        app.router.add_post("/emails:send", self.send)
        app.router.add_get("/emails/operations/{op_id}", self.status)
        # The spec example's Operation-Location has a double slash.
        app.router.add_get("//emails/operations/{op_id}", self.status)

    def authenticate(self, request: web.Request, body: bytes) -> str | web.Response:
        """The communication service id, or a 401 response."""
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            claims = self.emu.check_bearer(request, EMAIL_AUDIENCES)
            if isinstance(claims, web.StreamResponse):
                return claims
            wanted = request.headers.get("x-ms-emulator-resource-id")
            services = self.pipeline.arm.find_by_type(("communicationservices",))
            if wanted:
                res = self.pipeline.arm.get(wanted)
                if res is not None:
                    return res["id"].lower()
            elif len(services) == 1:
                return services[0]["id"].lower()
            return _denied("Cannot tell which resource this bearer request is for.")
        parsed = auth.parse_hmac_header(header)
        if parsed is None:
            self.emu.bump("auth_failures")
            return _denied()
        signed, signature = parsed
        date = request.headers.get("x-ms-date") or request.headers.get("Date") or ""
        content_hash = request.headers.get("x-ms-content-sha256", "")
        if content_hash != auth.content_sha256(body):
            self.emu.bump("auth_failures")
            return _denied("The content hash does not match the request body.")
        when = auth.parse_http_date(date)
        skew = float(self.emu.config["hmac_max_skew_s"])
        if when is None or abs(when - self.emu.clock.time()) > skew:
            # emulator behaviour: the allowed x-ms-date skew is undocumented; we
            # reject more than 15 minutes against the emulated clock.
            self.emu.bump("auth_failures")
            return _denied("The request date is missing or outside the allowed skew.")
        values = {
            "x-ms-date": date,
            "host": request.host,
            "x-ms-content-sha256": content_hash,
        }
        if any(h not in values for h in signed):
            self.emu.bump("auth_failures")
            return _denied()
        raw = request.raw_path
        for path in (raw, unquote(raw)):
            sts = (
                f"{request.method}\n{path}\n" + ";".join(values[h] for h in signed)
            ).encode()
            rid = self.emu.hmac_resource(sts, signature)
            if rid is not None:
                res = self.pipeline.arm.get(rid)
                if res and res["properties"].get("disableLocalAuth"):
                    # properties.disableLocalAuth: only Entra tokens are accepted.
                    self.emu.bump("auth_failures")
                    return _denied("Local (access key) authentication is disabled.")
                return rid
            if path == unquote(raw):
                break
        self.emu.bump("auth_failures")
        return _denied()

    @staticmethod
    def _api_version(request: web.Request) -> str | web.Response:
        api = request.query.get("api-version")
        if not api:
            return _acs_error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required.",
            )
        if api not in API_VERSIONS:
            return _acs_error(
                400,
                "UnsupportedApiVersion",
                f"The HTTP resource does not support the API version '{api}'.",
            )
        return api

    def _op_body(self, op: dict[str, Any]) -> dict[str, Any]:
        return {"id": op["id"], "status": op["status"], "error": op["error"]}

    async def send(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        rid = self.authenticate(request, body)
        if isinstance(rid, web.StreamResponse):
            return rid
        api = self._api_version(request)
        if isinstance(api, web.StreamResponse):
            self.pipeline.record_api_request(rid, "SendMail", 400)
            return api
        try:
            message = json.loads(body) if body else None
        except ValueError:
            self.pipeline.record_api_request(rid, "SendMail", 400)
            return _acs_error(400, "BadRequest", "The request body is not valid JSON.")
        op_id = request.headers.get("Operation-Id")
        try:
            op, _new = self.pipeline.submit(
                rid,
                message,
                raw_size=len(body),
                operation_id=op_id,
                api_version=api,
                traffic_source=_traffic_source(request),
                credential=(
                    "bearer"
                    if request.headers.get("Authorization", "")
                    .lower()
                    .startswith("bearer ")
                    else "accessKey"
                ),
            )
        except SendError as exc:
            self.pipeline.record_api_request(rid, "SendMail", exc.status)
            headers = {}
            if exc.retry_after is not None:
                headers["Retry-After"] = str(exc.retry_after)
            return _acs_error(
                exc.status, exc.code, exc.message, target=exc.target, headers=headers
            )
        self.pipeline.record_api_request(rid, "SendMail", 202)
        base = self.emu.base_url(request)
        headers = {
            "Operation-Location": (
                f"{base}/emails/operations/{op['id']}?api-version={api}"
            ),
            **self.emu.retry_after_headers(),
            "x-ms-request-id": op["id"],
        }
        cid = request.headers.get("x-ms-client-request-id")
        if cid:
            headers["x-ms-client-request-id"] = cid
        return json_response(self._op_body(op), status=202, headers=headers)

    async def status(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        rid = self.authenticate(request, body)
        if isinstance(rid, web.StreamResponse):
            return rid
        api = self._api_version(request)
        if isinstance(api, web.StreamResponse):
            return api
        op = self.pipeline.find_operation(rid, request.match_info["op_id"])
        if op is None:
            self.pipeline.record_api_request(rid, "GetMessageStatus", 404)
            return _acs_error(
                404, "NotFound", "The operation was not found.", target="operationId"
            )
        try:
            self.pipeline.check_status_rate(rid, op)
        except SendError as exc:
            self.pipeline.record_api_request(rid, "GetMessageStatus", 429)
            return _acs_error(
                429,
                exc.code,
                exc.message,
                headers={"Retry-After": str(exc.retry_after or 1)},
            )
        self.pipeline.record_api_request(rid, "GetMessageStatus", 200)
        headers = {}
        if op["status"] not in ("Succeeded", "Failed", "Canceled"):
            headers.update(self.emu.retry_after_headers())
        return json_response(self._op_body(op), headers=headers)


def _traffic_source(request: web.Request) -> str:
    ua = request.headers.get("User-Agent", "")
    if "communication-email" in ua and "python" in ua.lower():
        return "Email Python SDK"
    if ua:
        return "Email REST API"
    return "Unknown"
