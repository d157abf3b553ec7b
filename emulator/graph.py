"""Entra token endpoint and the Microsoft Graph ``applications`` API subset.

Token endpoint (azure-facts §9.4): ``GET /{tenant}/v2.0/.well-known/openid-configuration``
and ``POST /{tenant}/oauth2/v2.0/token`` (client_credentials).  A client secret is valid
when it matches a current password credential of the Graph application with that
``appId``, so ``addPassword``/``removePassword`` and secret expiry (emulated clock)
affect token issuance and SMTP AUTH alike.

Graph (``https://graph.microsoft.com`` audience): create/get/list applications,
``addPassword`` (secretText returned once, only a salted hash is stored) and
``removePassword``.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from . import auth
from .clock import iso, parse_iso
from .core import Emulator, hash_secret
from .defaults import GRAPH_AUDIENCES, TENANT_ID
from .errors import json_response

SECRET_ALPHABET = string.ascii_letters + string.digits + "~._-"


def _add_months(dt: datetime, months: int) -> datetime:
    year = dt.year + (dt.month - 1 + months) // 12
    month = (dt.month - 1 + months) % 12 + 1
    day = dt.day
    while True:
        try:
            return dt.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1


def _graph_error(status: int, code: str, message: str) -> web.Response:
    return json_response(
        {
            "error": {
                "code": code,
                "message": message,
                "innerError": {
                    "date": iso(datetime.now(UTC)),
                    "request-id": str(uuid.uuid4()),
                    "client-request-id": str(uuid.uuid4()),
                },
            }
        },
        status=status,
    )


def _aad_error(status: int, error: str, code: int, description: str) -> web.Response:
    return json_response(
        {
            "error": error,
            "error_description": f"AADSTS{code}: {description} Trace ID: "
            f"{uuid.uuid4()} Correlation ID: {uuid.uuid4()} Timestamp: "
            f"{iso(datetime.now(UTC))}",
            "error_codes": [code],
            "timestamp": iso(datetime.now(UTC)),
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        },
        status=status,
    )


class Graph:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    def register(self, app: web.Application) -> None:
        app.router.add_get(
            "/{tenant}/v2.0/.well-known/openid-configuration", self.openid
        )
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self.token)
        app.router.add_post("/v1.0/applications", self.create_app)
        app.router.add_get("/v1.0/applications", self.list_apps)
        app.router.add_get("/v1.0/applications/{id}", self.get_app)
        app.router.add_delete("/v1.0/applications/{id}", self.delete_app)
        app.router.add_post("/v1.0/applications/{id}/addPassword", self.add_password)
        app.router.add_post(
            "/v1.0/applications/{id}/removePassword", self.remove_password
        )
        # Alternate key form: /applications(appId='{appId}')
        alt = "/v1.0/applications(appId='{app_id}')"
        app.router.add_get(alt, self.get_app)
        app.router.add_post(alt + "/addPassword", self.add_password)
        app.router.add_post(alt + "/removePassword", self.remove_password)

    # -- identity -----------------------------------------------------------------
    async def openid(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        base = f"{self.emu.base_url(request)}/{tenant}"
        return json_response(
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
                "tenant_region_scope": "WW",
            }
        )

    def app_by_app_id(self, app_id: str) -> dict[str, Any] | None:
        for app in self.emu.store.all("graph_app").values():
            if app["appId"].lower() == app_id.lower():
                return app
        return None

    def secret_valid(self, app: dict[str, Any], secret: str) -> bool:
        now = self.emu.clock.now()
        for cred in app.get("passwordCredentials", []):
            if not secrets.compare_digest(
                hash_secret(cred["salt"], secret), cred["hash"]
            ):
                continue
            if parse_iso(cred["startDateTime"]) - timedelta(minutes=5) > now:
                continue
            if parse_iso(cred["endDateTime"]) <= now:
                continue
            return True
        return False

    def known_tenant(self, tenant: str) -> bool:
        t = tenant.lower()
        return t == TENANT_ID or self.emu.store.get("tenant", t) is not None

    @staticmethod
    def tenant_of(app: dict[str, Any]) -> str:
        return str(app.get("tenantId") or TENANT_ID).lower()

    def create_principal(
        self,
        tenant_id: str,
        *,
        client_id: str | None = None,
        secret: str | None = None,
        display_name: str = "service-principal",
    ) -> dict[str, str]:
        """Admin helper: a tenant (created if new) with an app and a secret that
        never expires (like the default principal)."""
        tenant_id = str(uuid.UUID(tenant_id)).lower()
        client_id = str(uuid.UUID(client_id)) if client_id else str(uuid.uuid4())
        if self.app_by_app_id(client_id) is not None:
            raise ValueError(f"an application with appId {client_id} exists")
        secret = secret or "".join(secrets.choice(SECRET_ALPHABET) for _ in range(40))
        if tenant_id != TENANT_ID:
            self.emu.store.put("tenant", tenant_id, {"tenantId": tenant_id})
        obj_id = str(uuid.uuid4())
        salt = secrets.token_hex(8)
        self.emu.store.put(
            "graph_app",
            obj_id,
            {
                "id": obj_id,
                "appId": client_id,
                "displayName": display_name,
                "createdDateTime": iso(self.emu.clock.now()),
                "signInAudience": "AzureADMyOrg",
                "tenantId": tenant_id,
                "passwordCredentials": [
                    {
                        "keyId": str(uuid.uuid4()),
                        "displayName": "admin",
                        "hint": secret[:3],
                        "customKeyIdentifier": None,
                        "startDateTime": "2000-01-01T00:00:00Z",
                        "endDateTime": "2299-12-31T00:00:00Z",
                        "salt": salt,
                        "hash": hash_secret(salt, secret),
                    }
                ],
            },
        )
        self.emu.store.flush()
        return {
            "tenantId": tenant_id,
            "clientId": client_id,
            "clientSecret": secret,
            "objectId": obj_id,
        }

    async def token(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        form = await request.post()
        if not self.known_tenant(tenant):
            return _aad_error(
                400, "invalid_request", 90002, f"Tenant '{tenant}' not found."
            )
        if form.get("grant_type") != "client_credentials":
            return _aad_error(
                400,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type.",
            )
        client_id = str(form.get("client_id", ""))
        secret = str(form.get("client_secret", ""))
        scope = str(form.get("scope", ""))
        app = self.app_by_app_id(client_id)
        if app is None or self.tenant_of(app) != tenant.lower():
            return _aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the "
                f"directory.",
            )
        if not self.secret_valid(app, secret):
            return _aad_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in "
                "the request is the client secret value, not the client secret ID.",
            )
        if not scope.strip().endswith("/.default"):
            return _aad_error(
                400,
                "invalid_scope",
                1002012,
                "The provided value for scope is not valid. Client credential flows "
                "must have a scope value with /.default suffixed to the resource "
                "identifier.",
            )
        audience = auth.audience_from_scope(scope)
        now = self.emu.clock.time()
        token = auth.issue_token(
            self.emu.signing_key,
            audience=audience,
            client_id=app["appId"],
            now=now,
            issuer=f"{self.emu.base_url(request)}/{tenant.lower()}/v2.0",
            tenant_id=tenant.lower(),
        )
        tokens = self.emu.counters.setdefault("tokens_issued", {})
        tokens[audience] = tokens.get(audience, 0) + 1
        self.emu.store.put("meta", "counters", self.emu.counters)
        return json_response(
            {
                "token_type": "Bearer",
                "expires_in": auth.TOKEN_LIFETIME,
                "ext_expires_in": auth.TOKEN_LIFETIME,
                "access_token": token,
            }
        )

    # -- Graph ------------------------------------------------------------------
    def _auth(self, request: web.Request) -> web.Response | None:
        claims = self.emu.check_bearer(request, GRAPH_AUDIENCES, graph=True)
        if isinstance(claims, web.Response):
            return claims
        # Graph only shows the caller's own tenant.
        request["tid"] = str(claims.get("tid") or TENANT_ID).lower()
        return None

    def _ident(self, request: web.Request) -> str:
        if "app_id" in request.match_info:
            return f"(appId='{request.match_info['app_id']}')"
        return request.match_info["id"]

    def _find(self, ident: str, tid: str | None = None) -> dict[str, Any] | None:
        m = re.fullmatch(r"\(appId='([^']+)'\)", ident) or re.fullmatch(
            r"applications\(appId='([^']+)'\)", ident
        )
        if m:
            app = self.app_by_app_id(m.group(1))
        else:
            app = self.emu.store.get("graph_app", ident.lower())
        if app is not None and tid is not None and self.tenant_of(app) != tid:
            return None
        return app

    @staticmethod
    def public(app: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in app.items() if k != "passwordCredentials"}
        out["passwordCredentials"] = [
            {
                "customKeyIdentifier": c.get("customKeyIdentifier"),
                "displayName": c.get("displayName"),
                "endDateTime": c["endDateTime"],
                "hint": c["hint"],
                "keyId": c["keyId"],
                "secretText": None,
                "startDateTime": c["startDateTime"],
            }
            for c in app.get("passwordCredentials", [])
        ]
        out.setdefault("keyCredentials", [])
        return out

    def _context(self, request: web.Request) -> str:
        return f"{self.emu.base_url(request)}/v1.0/$metadata#applications"

    async def _json(self, request: web.Request) -> dict[str, Any] | web.Response:
        raw = await request.read()
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            return _graph_error(
                400, "BadRequest", "Unable to read JSON request payload."
            )
        if not isinstance(data, dict):
            return _graph_error(
                400, "BadRequest", "Unable to read JSON request payload."
            )
        return data

    async def create_app(self, request: web.Request) -> web.Response:
        if (err := self._auth(request)) is not None:
            return err
        data = await self._json(request)
        if isinstance(data, web.Response):
            return data
        if not data.get("displayName"):
            return _graph_error(
                400,
                "Request_BadRequest",
                "A value is required for property 'displayName' of resource "
                "'Application'.",
            )
        obj_id = str(uuid.uuid4())
        app = {
            "id": obj_id,
            "appId": str(uuid.uuid4()),
            "displayName": data["displayName"],
            "createdDateTime": iso(self.emu.clock.now()),
            "signInAudience": data.get("signInAudience", "AzureADMyOrg"),
            "tenantId": request.get("tid", TENANT_ID),
            "passwordCredentials": [],
        }
        self.emu.store.put("graph_app", obj_id, app)
        self.emu.store.flush()
        return json_response(
            {"@odata.context": f"{self._context(request)}/$entity", **self.public(app)},
            status=201,
        )

    async def list_apps(self, request: web.Request) -> web.Response:
        if (err := self._auth(request)) is not None:
            return err
        apps = [
            a
            for a in self.emu.store.all("graph_app").values()
            if self.tenant_of(a) == request.get("tid")
        ]
        flt = request.query.get("$filter")
        if flt:
            m = re.fullmatch(r"\s*(appId|displayName|id)\s+eq\s+'([^']*)'\s*", flt)
            if not m:
                return _graph_error(
                    400, "Request_UnsupportedQuery", "Unsupported query."
                )
            field, value = m.groups()
            apps = [a for a in apps if str(a.get(field, "")).lower() == value.lower()]
        return json_response(
            {
                "@odata.context": self._context(request),
                "value": [self.public(a) for a in apps],
            }
        )

    def _missing(self, ident: str) -> web.Response:
        return _graph_error(
            404,
            "Request_ResourceNotFound",
            f"Resource '{ident}' does not exist or one of its queried "
            "reference-property objects are not present.",
        )

    async def get_app(self, request: web.Request) -> web.Response:
        if (err := self._auth(request)) is not None:
            return err
        ident = self._ident(request)
        app = self._find(ident, request.get("tid"))
        if app is None:
            return self._missing(ident)
        return json_response(
            {"@odata.context": f"{self._context(request)}/$entity", **self.public(app)}
        )

    async def delete_app(self, request: web.Request) -> web.Response:
        if (err := self._auth(request)) is not None:
            return err
        ident = self._ident(request)
        app = self._find(ident, request.get("tid"))
        if app is None:
            return self._missing(ident)
        self.emu.store.delete("graph_app", app["id"])
        self.emu.store.flush()
        return web.Response(status=204)

    async def add_password(self, request: web.Request) -> web.Response:
        if (err := self._auth(request)) is not None:
            return err
        ident = self._ident(request)
        app = self._find(ident, request.get("tid"))
        if app is None:
            return self._missing(ident)
        data = await self._json(request)
        if isinstance(data, web.Response):
            return data
        pc = data.get("passwordCredential") or {}
        now = self.emu.clock.now().replace(microsecond=0)
        try:
            start = parse_iso(pc["startDateTime"]) if pc.get("startDateTime") else now
            end = (
                parse_iso(pc["endDateTime"])
                if pc.get("endDateTime")
                else _add_months(start, 24)
            )
        except ValueError:
            return _graph_error(400, "BadRequest", "Invalid date value.")
        # emulator behaviour (azure-facts §9.3): lifetimes are capped at 24 months
        # from now, the longest the Entra portal offers.
        cap = _add_months(now, 24)
        if end > cap:
            end = cap
        if end <= start:
            return _graph_error(
                400,
                "InvalidPasswordCredential",
                "endDateTime must be later than startDateTime.",
            )
        secret = "".join(secrets.choice(SECRET_ALPHABET) for _ in range(3))
        secret += "8Q~" + "".join(secrets.choice(SECRET_ALPHABET) for _ in range(34))
        salt = secrets.token_hex(8)
        cred = {
            "customKeyIdentifier": None,
            "displayName": pc.get("displayName"),
            "endDateTime": iso(end),
            "hint": secret[:3],
            "keyId": str(uuid.uuid4()),
            "startDateTime": iso(start),
            "salt": salt,
            "hash": hash_secret(salt, secret),
        }
        app["passwordCredentials"].append(cred)
        self.emu.store.put("graph_app", app["id"], app)
        self.emu.store.flush()
        return json_response(
            {
                "@odata.context": (
                    f"{self.emu.base_url(request)}/v1.0/$metadata#"
                    "microsoft.graph.passwordCredential"
                ),
                "customKeyIdentifier": None,
                "displayName": cred["displayName"],
                "endDateTime": cred["endDateTime"],
                "hint": cred["hint"],
                "keyId": cred["keyId"],
                "secretText": secret,
                "startDateTime": cred["startDateTime"],
            }
        )

    async def remove_password(self, request: web.Request) -> web.Response:
        if (err := self._auth(request)) is not None:
            return err
        ident = self._ident(request)
        app = self._find(ident, request.get("tid"))
        if app is None:
            return self._missing(ident)
        data = await self._json(request)
        if isinstance(data, web.Response):
            return data
        key_id = str(data.get("keyId", "")).lower()
        creds = app["passwordCredentials"]
        keep = [c for c in creds if c["keyId"].lower() != key_id]
        if len(keep) == len(creds):
            return _graph_error(
                400,
                "Request_BadRequest",
                f"No password credential found with keyId '{key_id}'.",
            )
        app["passwordCredentials"] = keep
        self.emu.store.put("graph_app", app["id"], app)
        self.emu.store.flush()
        return web.Response(status=204)
