"""Event Grid push delivery to registered webhooks (Event Grid schema).

Registering a webhook (admin API) performs the real validation handshake
(azure-facts §8.2): one ``Microsoft.EventGrid.SubscriptionValidationEvent`` in a JSON
array, header ``aeg-event-type: SubscriptionValidation``; the receiver must answer 200
with ``{"validationResponse": <validationCode>}``.  Afterwards email delivery and
engagement events are POSTed in batches with ``aeg-event-type: Notification``.

Retries: a 5xx, 408, 429, timeout or connection error retries the batch with
exponential backoff (``eventgrid_retry_base_ms`` doubling up to
``eventgrid_retry_max_ms``) for at most ``eventgrid_max_attempts`` attempts; other 4xx
answers dead-letter the batch at once (as Event Grid does for 400/413).  Attempt
counters are visible through ``GET /_emulator/webhooks``.  Only loopback URLs are
allowed; plain http is fine.

``schema: "CloudEventSchemaV1_0"`` switches to CloudEvents: the handshake is an
``OPTIONS`` with ``WebHook-Request-Origin: eventgrid.azure.net`` that must answer 200
with a matching ``WebHook-Allowed-Origin`` (azure-facts §8.3), and batches are sent
as ``application/cloudevents-batch+json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any
from urllib.parse import urlparse

import aiohttp

from .clock import iso
from .core import Emulator

log = logging.getLogger("emulator.eventgrid")

EVENT_TYPES = (
    "Microsoft.Communication.EmailDeliveryReportReceived",
    "Microsoft.Communication.EmailEngagementTrackingReportReceived",
)
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class WebhookError(Exception):
    pass


class EventGrid:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self._queues: dict[str, list[tuple[dict[str, Any], int]]] = {}
        self._wakes: dict[str, asyncio.Event] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None
        for name in list(self.emu.store.all("webhook")):
            self._queues[name] = []

    def start(self) -> None:
        for name, sub in self.emu.store.all("webhook").items():
            if sub.get("status") == "Validated":
                self._ensure_task(name)

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in list(self._tasks.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=False, limit=20)
            )
        return self._session

    # -- subscriptions ----------------------------------------------------------
    async def register(self, data: dict[str, Any]) -> dict[str, Any]:
        url = str(data.get("url") or data.get("endpointUrl") or "")
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or parsed.hostname not in LOOPBACK:
            raise WebhookError("url must be an http(s) URL on loopback")
        name = str(data.get("name") or f"sub-{uuid.uuid4().hex[:8]}")
        types = data.get("eventTypes") or list(EVENT_TYPES)
        sub: dict[str, Any] = {
            "name": name,
            "url": url,
            "eventTypes": list(types),
            "resourceId": data.get("resourceId"),
            "status": "Validating",
            "createdAt": iso(self.emu.clock.now()),
            "counters": {
                "validationAttempts": 0,
                "attempts": 0,
                "successes": 0,
                "failures": 0,
                "eventsDelivered": 0,
                "eventsDeadLettered": 0,
                "pendingEvents": 0,
            },
            "lastError": None,
            "attemptLog": [],
        }
        code = str(uuid.uuid4())
        event = {
            "id": str(uuid.uuid4()),
            "topic": f"/subscriptions/{self.emu_sub()}",
            "subject": "",
            "data": {
                "validationCode": code,
                "validationUrl": (
                    f"https://127.0.0.1:{self.emu.http_port}/_emulator/webhooks/"
                    f"{name}/validate?code={code}"
                ),
            },
            "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
            "eventTime": iso(self.emu.clock.now()),
            "metadataVersion": "1",
            "dataVersion": "1",
        }
        sub["counters"]["validationAttempts"] += 1
        sub["validationCode"] = code
        ok = False
        schema = str(data.get("schema") or "EventGridSchema")
        if schema not in ("EventGridSchema", "CloudEventSchemaV1_0"):
            raise WebhookError("schema must be EventGridSchema or CloudEventSchemaV1_0")
        sub["schema"] = schema
        if schema == "CloudEventSchemaV1_0":
            ok = await self._cloudevents_handshake(url, sub)
        else:
            ok = await self._eventgrid_handshake(url, name, event, code, sub)
        if ok:
            sub["status"] = "Validated"
        elif sub["status"] != "AwaitingManualValidation":
            sub["status"] = "ValidationFailed"
        self.emu.store.put("webhook", name, sub)
        self.emu.store.flush()
        self._queues.setdefault(name, [])
        if ok:
            self._ensure_task(name)
        return self.public(sub)

    async def _cloudevents_handshake(self, url: str, sub: dict[str, Any]) -> bool:
        """CloudEvents abuse protection (azure-facts §8.3): OPTIONS + origin."""
        origin = "eventgrid.azure.net"
        try:
            async with self.session().options(
                url,
                headers={"WebHook-Request-Origin": origin},
                timeout=aiohttp.ClientTimeout(total=30),
            ) as resp:
                allowed = resp.headers.get("WebHook-Allowed-Origin", "")
                if resp.status == 200 and allowed in (origin, "*"):
                    return True
                sub["lastError"] = (
                    f"validation answered {resp.status} with "
                    f"WebHook-Allowed-Origin={allowed!r}"
                )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            sub["lastError"] = f"validation failed: {exc!r}"
        return False

    async def _eventgrid_handshake(
        self,
        url: str,
        name: str,
        event: dict[str, Any],
        code: str,
        sub: dict[str, Any],
    ) -> bool:
        ok = False
        try:
            async with self.session().post(
                url,
                data=json.dumps([event]),
                headers={
                    "Content-Type": "application/json",
                    "aeg-event-type": "SubscriptionValidation",
                    "aeg-subscription-name": name.upper(),
                    "aeg-metadata-version": "1",
                    "aeg-data-version": "1",
                    "aeg-delivery-count": "0",
                },
                timeout=aiohttp.ClientTimeout(total=30),
            ) as resp:
                text = await resp.text()
                if resp.status == 200:
                    try:
                        ok = json.loads(text).get("validationResponse") == code
                    except (ValueError, AttributeError):
                        ok = False
                    if not ok:
                        # Asynchronous handshake: the receiver may GET validationUrl.
                        sub["status"] = "AwaitingManualValidation"
                if not ok:
                    sub["lastError"] = (
                        f"validation answered {resp.status}: {text[:200]}"
                    )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            sub["lastError"] = f"validation failed: {exc!r}"
        return ok

    def manual_validate(self, name: str, code: str) -> bool:
        """GET on validationUrl (the asynchronous handshake of azure-facts §8.2)."""
        sub = self.emu.store.get("webhook", name)
        if sub is None or sub.get("validationCode") != code:
            return False
        sub["status"] = "Validated"
        self.emu.store.put("webhook", name, sub)
        self.emu.store.flush()
        self._queues.setdefault(name, [])
        self._ensure_task(name)
        return True

    def emu_sub(self) -> str:
        from .defaults import SUBSCRIPTION_ID

        return SUBSCRIPTION_ID

    def public(self, sub: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in sub.items() if k != "validationCode"}
        out["counters"] = dict(sub["counters"])
        out["counters"]["pendingEvents"] = len(self._queues.get(sub["name"], []))
        return out

    def list(self) -> list[dict[str, Any]]:
        return [self.public(s) for s in self.emu.store.all("webhook").values()]

    def delete(self, name: str) -> bool:
        if self.emu.store.get("webhook", name) is None:
            return False
        self.emu.store.delete("webhook", name)
        self.emu.store.flush()
        task = self._tasks.pop(name, None)
        if task:
            task.cancel()
        self._queues.pop(name, None)
        return True

    def reset(self) -> None:
        for name in list(self._tasks):
            self._tasks.pop(name).cancel()
        self._queues.clear()

    # -- delivery --------------------------------------------------------------
    def publish(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        subs = self.emu.store.all("webhook")
        if not subs:
            return
        now = iso(self.emu.clock.now())
        for name, sub in subs.items():
            if sub.get("status") != "Validated":
                continue
            queue = self._queues.setdefault(name, [])
            added = False
            for rid, ev in events:
                if ev["eventType"] not in sub["eventTypes"]:
                    continue
                if sub.get("resourceId") and sub["resourceId"].lower() != rid.lower():
                    continue
                queue.append(
                    (
                        {
                            "id": str(uuid.uuid4()),
                            "topic": rid,
                            "subject": ev["subject"],
                            "data": ev["data"],
                            "eventType": ev["eventType"],
                            "dataVersion": "1.0",
                            "metadataVersion": "1",
                            "eventTime": now,
                        },
                        0,
                    )
                )
                added = True
            if added:
                self._ensure_task(name)
                self._wakes[name].set()

    def _ensure_task(self, name: str) -> None:
        self._wakes.setdefault(name, asyncio.Event())
        task = self._tasks.get(name)
        if task is None or task.done():
            self._tasks[name] = asyncio.create_task(self._deliver_loop(name))

    async def _deliver_loop(self, name: str) -> None:
        wake = self._wakes[name]
        while True:
            queue = self._queues.get(name)
            if queue is None:
                return
            if not queue:
                wake.clear()
                await wake.wait()
                continue
            cfg = self.emu.config
            await asyncio.sleep(float(cfg["eventgrid_batch_window_ms"]) / 1000)
            size = int(cfg["eventgrid_batch_size"])
            batch = queue[:size]
            del queue[:size]
            attempt = 0
            while True:
                attempt += 1
                result = await self._post(name, [e for e, _ in batch], attempt)
                if result == "ok":
                    break
                if result == "deadletter" or attempt >= int(
                    cfg["eventgrid_max_attempts"]
                ):
                    self._count(name, eventsDeadLettered=len(batch))
                    break
                delay = min(
                    float(cfg["eventgrid_retry_base_ms"]) * (2 ** (attempt - 1)),
                    float(cfg["eventgrid_retry_max_ms"]),
                )
                await asyncio.sleep(delay / 1000)
                if self.emu.store.get("webhook", name) is None:
                    return

    def _count(self, name: str, **deltas: int) -> None:
        sub = self.emu.store.get("webhook", name)
        if sub is None:
            return
        for k, v in deltas.items():
            sub["counters"][k] = sub["counters"].get(k, 0) + v
        self.emu.store.put("webhook", name, sub)

    async def _post(self, name: str, events: list[dict[str, Any]], attempt: int) -> str:
        sub = self.emu.store.get("webhook", name)
        if sub is None:
            return "deadletter"
        self._count(name, attempts=1)
        status: int | None = None
        error = None
        content_type = "application/json"
        if sub.get("schema") == "CloudEventSchemaV1_0":
            content_type = "application/cloudevents-batch+json; charset=utf-8"
            events = [
                {
                    "id": e["id"],
                    "source": e["topic"],
                    "subject": e["subject"],
                    "type": e["eventType"],
                    "time": e["eventTime"],
                    "specversion": "1.0",
                    "datacontenttype": "application/json",
                    "data": e["data"],
                }
                for e in events
            ]
        try:
            async with self.session().post(
                sub["url"],
                data=json.dumps(events),
                headers={
                    "Content-Type": content_type,
                    "aeg-event-type": "Notification",
                    "aeg-subscription-name": name.upper(),
                    "aeg-delivery-count": str(attempt - 1),
                    "aeg-metadata-version": "1",
                    "aeg-data-version": "1.0",
                },
                timeout=aiohttp.ClientTimeout(
                    total=float(self.emu.config["eventgrid_timeout_s"])
                ),
            ) as resp:
                status = resp.status
                await resp.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = repr(exc)
        entry = {
            "at": iso(self.emu.clock.now()),
            "attempt": attempt,
            "events": len(events),
            "status": status,
            "error": error,
        }
        sub = self.emu.store.get("webhook", name)
        if sub is None:
            return "deadletter"
        sub["attemptLog"] = [*sub.get("attemptLog", [])[-49:], entry]
        if status is not None and 200 <= status < 300:
            sub["counters"]["successes"] += 1
            sub["counters"]["eventsDelivered"] += len(events)
            self.emu.store.put("webhook", name, sub)
            return "ok"
        sub["counters"]["failures"] += 1
        sub["lastError"] = error or f"HTTP {status}"
        self.emu.store.put("webhook", name, sub)
        if status is not None and 400 <= status < 500 and status not in (408, 429):
            return "deadletter"
        return "retry"
