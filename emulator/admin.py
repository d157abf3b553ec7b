"""Admin API under ``/_emulator/`` (only with ``serve --admin``; otherwise 404).

All bodies are JSON.  Routes:

* ``GET  /_emulator/info`` ports, CA path, default ids.
* ``POST /_emulator/reset`` wipe all state (resources, keys, operations, apps, logs,
  DNS, webhooks, faults, counters, clock) back to the defaults.
* ``GET  /_emulator/config`` / ``POST /_emulator/config {...}`` read/update settings:
  ``page_size``, ``lro_inprogress_polls``, ``retry_after`` (> 0), ``send_delay_ms``,
  ``delivery_delay_ms``, ``slow_delay_ms``, ``engagement_delay_ms``, ``seed``,
  ``hmac_max_skew_s``, ``eventgrid_*`` (see core.DEFAULT_CONFIG).
* ``POST /_emulator/delays {"send_delay_ms", "delivery_delay_ms", "slow_delay_ms",
  "engagement_delay_ms"}`` shorthand for the delay settings.
* ``GET  /_emulator/clock`` -> ``{"now", "offset_seconds"}``;
  ``POST /_emulator/clock {"advance_seconds": N}`` or ``{"set": "<iso>"}`` or
  ``{"reset": true}``.  Token expiry, secret expiry, HMAC date skew and rate-limit
  windows follow the emulated clock.
* ``GET  /_emulator/counters`` accepted sends, duplicate Operation-Ids refused,
  429s, validation rejections, auth failures, SMTP accepted/auth failures, messages
  and recipients by status, tokens issued per audience.
* ``GET  /_emulator/outbox?resourceId=&recipient=&source=api|smtp&limit=`` messages
  "sent" (oldest first) with subject, bodies, recipients and per-recipient status;
  ``GET /_emulator/outbox/{operationId}`` one message (with the raw MIME for SMTP);
  ``DELETE /_emulator/outbox`` forget finished messages.
* ``GET  /_emulator/faults``; ``POST /_emulator/faults {"endpoint", "kind",
  "count"|"rate", "retry_after", "delay_ms"}``; ``DELETE /_emulator/faults[?endpoint=]``.
  Endpoints: email.send, email.status, arm, logs, metrics, graph, token.  Kinds:
  429, 500, 503, reset, delay, drop (email.send: accepted, then Failed/EmailDropped).
* ``GET  /_emulator/rate-tier?resourceId=``; ``POST /_emulator/rate-tier
  {"resourceId", "tier": "managed"|"default"|"raised"}`` or ``{"resourceId",
  "perMinute", "perHour", "applyToManaged"}``.
* ``GET  /_emulator/webhooks``; ``POST /_emulator/webhooks {"url", "eventTypes"?,
  "name"?, "resourceId"?, "schema"?: "EventGridSchema"|"CloudEventSchemaV1_0"}``
  (runs the validation handshake; 201, or 400 if it
  failed; ``status`` is ``AwaitingManualValidation`` when the receiver answered 200
  without a validationResponse); ``GET/DELETE /_emulator/webhooks/{name}``;
  ``GET /_emulator/webhooks/{name}/validate?code=`` is the event's validationUrl.
* ``GET  /_emulator/logstore`` / ``POST /_emulator/logstore {"max_rows"?,
  "max_bytes"?}`` read/lower the Log Analytics result limits of the running
  emulator (default 500,000 rows / 64 MB), so clients can be tested against a
  truncated (``PartialError``) result without generating millions of rows;
  ``"drop_every": N`` hides every Nth stored row from log queries but not from
  metrics (a diagnostic setting losing records; 0 turns it off).  Not
  persisted; ``reset`` restores the defaults.
* ``POST /_emulator/dns/zones {"zone"}``; ``GET /_emulator/dns/records?zone=``;
  ``POST /_emulator/dns/records {"name", "type", "values", "ttl"?}`` (replaces that
  name+type); ``DELETE /_emulator/dns/records?name=&type=``.
* ``POST /_emulator/domains/verify {"domainId", "types"?}`` mark a custom domain's
  verification states Verified without DNS (test setup shortcut).
* ``POST /_emulator/principals {"tenantId", "clientId"?, "clientSecret"?,
  "displayName"?}`` add another Entra tenant (for multi-tenant tests) with a
  service principal whose secret never expires; returns tenantId, clientId,
  clientSecret, objectId.  Tokens carry that tenant's ``tid`` and Graph only shows
  applications of the caller's tenant.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .clock import iso, parse_iso
from .core import Emulator
from .defaults import (
    CLIENT_ID,
    RESOURCE_GROUP,
    SUBSCRIPTION_ID,
    TENANT_ID,
    WORKSPACE_ID,
)
from .errors import json_response
from .eventgrid import WebhookError


def _bad(message: str, status: int = 400) -> web.Response:
    return json_response({"error": {"code": "BadRequest", "message": message}}, status)


async def _json(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


class Admin:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    def register(self, app: web.Application) -> None:
        r = app.router
        p = "/_emulator"
        r.add_get(f"{p}/info", self.info)
        r.add_post(f"{p}/reset", self.reset)
        r.add_get(f"{p}/config", self.get_config)
        r.add_post(f"{p}/config", self.set_config)
        r.add_post(f"{p}/delays", self.set_delays)
        r.add_get(f"{p}/clock", self.get_clock)
        r.add_post(f"{p}/clock", self.set_clock)
        r.add_get(f"{p}/counters", self.counters)
        r.add_get(f"{p}/outbox", self.outbox)
        r.add_delete(f"{p}/outbox", self.clear_outbox)
        r.add_get(f"{p}/outbox/{{op_id}}", self.outbox_item)
        r.add_get(f"{p}/faults", self.list_faults)
        r.add_post(f"{p}/faults", self.add_fault)
        r.add_delete(f"{p}/faults", self.clear_faults)
        r.add_get(f"{p}/rate-tier", self.get_tier)
        r.add_post(f"{p}/rate-tier", self.set_tier)
        r.add_get(f"{p}/webhooks", self.list_webhooks)
        r.add_post(f"{p}/webhooks", self.add_webhook)
        r.add_get(f"{p}/webhooks/{{name}}", self.get_webhook)
        r.add_get(f"{p}/webhooks/{{name}}/validate", self.validate_webhook)
        r.add_delete(f"{p}/webhooks/{{name}}", self.delete_webhook)
        r.add_get(f"{p}/logstore", self.get_logstore)
        r.add_post(f"{p}/logstore", self.set_logstore)
        r.add_post(f"{p}/dns/zones", self.add_zone)
        r.add_get(f"{p}/dns/records", self.list_records)
        r.add_post(f"{p}/dns/records", self.set_record)
        r.add_put(f"{p}/dns/records", self.set_record)
        r.add_delete(f"{p}/dns/records", self.delete_record)
        r.add_post(f"{p}/domains/verify", self.verify_domain)
        r.add_post(f"{p}/principals", self.add_principal)

    async def info(self, request: web.Request) -> web.Response:
        e = self.emu
        return json_response(
            {
                "url": e.base_url(request),
                "httpPort": e.http_port,
                "smtpPort": e.smtp_port,
                "dnsPort": e.dns_port,
                "caPath": str(e.state_dir / "ca.pem"),
                "subscriptionId": SUBSCRIPTION_ID,
                "tenantId": TENANT_ID,
                "clientId": CLIENT_ID,
                "workspaceId": WORKSPACE_ID,
                "resourceGroup": RESOURCE_GROUP,
                "logstore": e.logstore is not None,
                "dns": e.zonestore is not None,
            }
        )

    async def reset(self, request: web.Request) -> web.Response:
        e = self.emu
        if e.eventgrid is not None:
            e.eventgrid.reset()
        if e.pipeline is not None:
            e.pipeline.windows.clear()
            e.pipeline.reset_queue()
        e.reset()
        if e.logstore is not None:
            if e.pipeline is not None:
                # After any rows still queued for the LogStore thread.
                await e.pipeline.run_on_logstore(e.logstore.reset)
            else:
                e.logstore.reset()
        if e.zonestore is not None:
            from .dns_server import seed_public_zones

            e.zonestore.reset()
            seed_public_zones(e.zonestore)
        return json_response({"reset": True})

    def _logstore_body(self) -> dict[str, Any]:
        store = self.emu.logstore
        assert store is not None
        return {
            "max_rows": store.max_rows,
            "max_bytes": store.max_bytes,
            "drop_every": store.drop_every,
        }

    async def get_logstore(self, request: web.Request) -> web.Response:
        if self.emu.logstore is None:
            return _bad("the log store is not enabled", 404)
        return json_response(self._logstore_body())

    async def set_logstore(self, request: web.Request) -> web.Response:
        store = self.emu.logstore
        if store is None:
            return _bad("the log store is not enabled", 404)
        try:
            data = await _json(request)
            if set(data) - {"max_rows", "max_bytes", "drop_every"}:
                raise ValueError("allowed keys: max_rows, max_bytes, drop_every")
            values = {k: int(v) for k, v in data.items()}
            if any(v < 1 for k, v in values.items() if k != "drop_every"):
                raise ValueError("limits must be >= 1")
            if values.get("drop_every", 0) < 0:
                raise ValueError("drop_every must be >= 0")
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
        store.set_limits(**values)
        return json_response(self._logstore_body())

    async def get_config(self, request: web.Request) -> web.Response:
        return json_response(self.emu.config)

    async def set_config(self, request: web.Request) -> web.Response:
        try:
            return json_response(self.emu.set_config(await _json(request)))
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))

    async def set_delays(self, request: web.Request) -> web.Response:
        try:
            data = await _json(request)
            allowed = {
                "send_delay_ms",
                "delivery_delay_ms",
                "slow_delay_ms",
                "engagement_delay_ms",
            }
            if set(data) - allowed:
                raise ValueError(f"allowed keys: {sorted(allowed)}")
            return json_response(self.emu.set_config(data))
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))

    def _clock_body(self) -> dict[str, Any]:
        return {
            "now": iso(self.emu.clock.now()),
            "offset_seconds": self.emu.clock.offset,
        }

    async def get_clock(self, request: web.Request) -> web.Response:
        return json_response(self._clock_body())

    async def set_clock(self, request: web.Request) -> web.Response:
        try:
            data = await _json(request)
            if data.get("reset"):
                self.emu.clock.reset()
            elif "advance_seconds" in data:
                self.emu.clock.advance(float(data["advance_seconds"]))
            elif "set" in data:
                self.emu.clock.set(parse_iso(str(data["set"])))
            else:
                raise ValueError("give advance_seconds, set or reset")
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
        self.emu.save_clock()
        return json_response(self._clock_body())

    async def counters(self, request: web.Request) -> web.Response:
        return json_response(self.emu.counters)

    async def outbox(self, request: web.Request) -> web.Response:
        rid = (request.query.get("resourceId") or "").lower()
        source = request.query.get("source")
        recipient = (request.query.get("recipient") or "").lower()
        try:
            limit = int(request.query.get("limit", "1000"))
        except ValueError:
            return _bad("limit must be an integer")
        ops = [
            op
            for op in self.emu.store.all("emailop").values()
            if (not rid or op["resourceId"].lower() == rid)
            and (not source or op["source"] == source)
            and (
                not recipient
                or any(r["address"].lower() == recipient for r in op["recipients"])
            )
        ]
        ops.sort(key=lambda o: o["createdAt"])
        items = [_outbox_item(o) for o in ops[-limit:]] if limit > 0 else []
        return json_response({"count": len(ops), "value": items})

    async def clear_outbox(self, request: web.Request) -> web.Response:
        # Finished operations only; running ones still complete.  Operation-Id
        # idempotency is forgotten for the cleared operations.
        for key, op in list(self.emu.store.all("emailop").items()):
            if op["status"] != "Running":
                self.emu.store.delete("emailop", key)
        return web.Response(status=204)

    async def outbox_item(self, request: web.Request) -> web.Response:
        op_id = request.match_info["op_id"].lower()
        for key, op in self.emu.store.all("emailop").items():
            if key.endswith("|" + op_id):
                return json_response(_outbox_item(op, full=True))
        return _bad("no such operation", 404)

    async def list_faults(self, request: web.Request) -> web.Response:
        return json_response({"value": [r.to_dict() for r in self.emu.faults.rules]})

    async def add_fault(self, request: web.Request) -> web.Response:
        try:
            rule = self.emu.faults.add(await _json(request))
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
        return json_response(rule.to_dict(), status=201)

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.emu.faults.clear(request.query.get("endpoint"))
        return web.Response(status=204)

    async def get_tier(self, request: web.Request) -> web.Response:
        rid = request.query.get("resourceId", "")
        assert self.emu.pipeline is not None
        return json_response(
            {
                "custom": self.emu.pipeline.tier_for(rid, managed=False),
                "managed": self.emu.pipeline.tier_for(rid, managed=True),
            }
        )

    async def set_tier(self, request: web.Request) -> web.Response:
        assert self.emu.pipeline is not None
        try:
            data = await _json(request)
            rid = str(data["resourceId"])
            tier = self.emu.pipeline.set_tier(rid, data)
        except (ValueError, TypeError, KeyError) as exc:
            return _bad(f"invalid tier: {exc}")
        return json_response(tier)

    async def list_webhooks(self, request: web.Request) -> web.Response:
        assert self.emu.eventgrid is not None
        return json_response({"value": self.emu.eventgrid.list()})

    async def add_webhook(self, request: web.Request) -> web.Response:
        assert self.emu.eventgrid is not None
        try:
            sub = await self.emu.eventgrid.register(await _json(request))
        except (ValueError, WebhookError) as exc:
            return _bad(str(exc))
        ok = sub["status"] in ("Validated", "AwaitingManualValidation")
        return json_response(sub, status=201 if ok else 400)

    async def get_webhook(self, request: web.Request) -> web.Response:
        assert self.emu.eventgrid is not None
        sub = self.emu.store.get("webhook", request.match_info["name"])
        if sub is None:
            return _bad("no such webhook", 404)
        return json_response(self.emu.eventgrid.public(sub))

    async def validate_webhook(self, request: web.Request) -> web.Response:
        assert self.emu.eventgrid is not None
        ok = self.emu.eventgrid.manual_validate(
            request.match_info["name"], request.query.get("code", "")
        )
        if not ok:
            return _bad("unknown webhook or wrong validation code", 404)
        return web.Response(
            text="Webhook successfully validated as a subscription endpoint."
        )

    async def delete_webhook(self, request: web.Request) -> web.Response:
        assert self.emu.eventgrid is not None
        if not self.emu.eventgrid.delete(request.match_info["name"]):
            return _bad("no such webhook", 404)
        return web.Response(status=204)

    def _zones(self) -> Any:
        if self.emu.zonestore is None:
            raise web.HTTPServiceUnavailable(
                text='{"error":{"code":"Unavailable","message":"DNS is not running"}}',
                content_type="application/json",
            )
        return self.emu.zonestore

    async def add_zone(self, request: web.Request) -> web.Response:
        try:
            data = await _json(request)
            self._zones().add_zone(str(data["zone"]))
        except (ValueError, KeyError) as exc:
            return _bad(f"invalid zone: {exc}")
        return json_response({"zone": data["zone"]}, status=201)

    async def list_records(self, request: web.Request) -> web.Response:
        return json_response(
            {"value": self._zones().list_records(request.query.get("zone"))}
        )

    async def set_record(self, request: web.Request) -> web.Response:
        try:
            data = await _json(request)
            values = data.get("values")
            if values is None and "value" in data:
                values = [data["value"]]
            if not isinstance(values, list):
                raise ValueError("values must be a list")
            self._zones().set_record(
                str(data["name"]),
                str(data["type"]).upper(),
                [str(v) for v in values],
                int(data.get("ttl", 300)),
            )
        except (ValueError, KeyError, TypeError) as exc:
            return _bad(f"invalid record: {exc}")
        return json_response(data, status=201)

    async def delete_record(self, request: web.Request) -> web.Response:
        name = request.query.get("name")
        if not name:
            return _bad("name is required")
        try:
            self._zones().delete_record(name, request.query.get("type"))
        except ValueError as exc:
            return _bad(str(exc))
        return web.Response(status=204)

    async def add_principal(self, request: web.Request) -> web.Response:
        assert self.emu.graph is not None
        try:
            data = await _json(request)
            out = self.emu.graph.create_principal(
                str(data["tenantId"]),
                client_id=data.get("clientId"),
                secret=data.get("clientSecret"),
                display_name=str(data.get("displayName") or "service-principal"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            return _bad(f"invalid principal: {exc}")
        return json_response(out, status=201)

    async def verify_domain(self, request: web.Request) -> web.Response:
        try:
            data = await _json(request)
            rid = str(data["domainId"])
        except (ValueError, KeyError) as exc:
            return _bad(f"domainId is required: {exc}")
        res = self.emu.arm.get(rid)
        if res is None:
            return _bad("no such domain", 404)
        types = data.get("types") or list(res["properties"]["verificationStates"])
        for t in types:
            res["properties"]["verificationStates"][t] = {
                "status": "Verified",
                "errorCode": "",
            }
        self.emu.arm.put(res)
        return json_response(res)


def _outbox_item(op: dict[str, Any], full: bool = False) -> dict[str, Any]:
    keys = (
        "id",
        "resourceId",
        "status",
        "error",
        "createdAt",
        "completedAt",
        "source",
        "credential",
        "senderAddress",
        "mailFrom",
        "subject",
        "plainText",
        "html",
        "to",
        "cc",
        "bcc",
        "replyTo",
        "headers",
        "attachments",
        "sizeBytes",
    )
    out = {k: op.get(k) for k in keys}
    out["recipients"] = [
        {"address": r["address"], "kind": r["kind"], "status": r["status"]}
        for r in op["recipients"]
    ]
    if full and "mime" in op:
        out["mime"] = op["mime"]
    return out
