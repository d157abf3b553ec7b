"""The email pipeline shared by the REST data plane and the SMTP relay.

Validation -> rate limit -> operation (``Running``) -> completion after
``send_delay_ms`` (``Succeeded``/``Failed``) -> per-recipient delivery results after
``delivery_delay_ms`` -> Log Analytics rows, metrics and Event Grid events.

Operations live in memory and are persisted write-behind (see store.py); log rows are
handed to the LogStore in batches from one worker task, so the HTTP hot path only
validates, counts and enqueues.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import heapq
import logging
import re
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .clock import iso
from .core import RATE_TIERS, Emulator, new_guid

if TYPE_CHECKING:
    from .arm import Arm

log = logging.getLogger("emulator.pipeline")

MAX_RECIPIENTS = 50
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
SEND_MAIL = "ACSEmailSendMailOperational"
STATUS_UPDATE = "ACSEmailStatusUpdateOperational"
USER_ENGAGEMENT = "ACSEmailUserEngagementOperational"
ADDRESS_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LOCATION = "UnitedStates"
STATUS_LIMITS = {"managed": (10, 20), "default": (60, 200)}


class SendError(Exception):
    """A rejected send: HTTP status, ACS error code, message, target."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        target: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.retry_after = retry_after


class Window:
    """Sliding-window counter with one-second buckets (emulated clock)."""

    __slots__ = ("buckets", "limit", "total", "window")

    def __init__(self, limit: int, window: int) -> None:
        self.limit = limit
        self.window = window
        self.buckets: deque[list[int]] = deque()
        self.total = 0

    def _evict(self, now: int) -> None:
        while self.buckets and self.buckets[0][0] <= now - self.window:
            self.total -= self.buckets.popleft()[1]

    def wait(self, now: int) -> int:
        """0 if a slot is free, else seconds until the oldest slot frees."""
        self._evict(now)
        if self.total < self.limit:
            return 0
        if not self.buckets:  # limit 0
            return self.window
        return max(1, self.buckets[0][0] + self.window - now)

    def add(self, now: int) -> None:
        if self.buckets and self.buckets[-1][0] == now:
            self.buckets[-1][1] += 1
        else:
            self.buckets.append([now, 1])
        self.total += 1


@dataclass(frozen=True)
class Outcome:
    status: str
    smtp: str = ""
    enhanced: str = ""
    reason: str = ""
    message: str = ""
    hard: bool = False
    slow: bool = False


DELIVERED = Outcome("Delivered", "250", "2.6.0", "", "")
BOUNCED = Outcome(
    "Bounced",
    "550",
    "5.1.1",
    "Recipient address rejected",
    "550 5.1.1 The email account that you tried to reach does not exist.",
    hard=True,
)
FAILED = Outcome(
    "Failed",
    "554",
    "5.4.4",
    "Unable to route",
    "554 5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain",
)
SPAM = Outcome(
    "FilteredSpam",
    "550",
    "5.7.1",
    "Message rejected as spam",
    "550 5.7.1 Message rejected as spam by content filtering.",
)
QUARANTINED = Outcome(
    "Quarantined", "250", "2.6.0", "Quarantined", "Message quarantined by EOP."
)
SUPPRESSED = Outcome(
    "Suppressed",
    "",
    "",
    "Recipient suppressed",
    "The recipient is on a suppression list of the sender domain.",
)


def delivery_outcome(seed: str, message_id: str, address: str) -> Outcome:
    """Deterministic per recipient: special domains, else a seeded distribution."""
    domain = address.rsplit("@", 1)[-1].lower()
    if domain == "bounce.example":
        return BOUNCED
    if domain == "quarantine.example":
        return QUARANTINED
    if domain == "slow.example":
        return Outcome("Delivered", "250", "2.6.0", slow=True)
    if domain == "delivered.example":
        return DELIVERED
    if domain == "failed.example":
        return FAILED
    if domain == "spam.example":
        return SPAM
    digest = hashlib.sha256(f"{seed}|{message_id}|{address.lower()}".encode()).digest()
    x = int.from_bytes(digest[:8], "big") / 2**64
    if x < 0.97:
        return DELIVERED
    if x < 0.99:
        return BOUNCED
    if x < 0.995:
        return FAILED
    return SPAM


def _ts(dt: datetime) -> datetime:
    # The LogStore converts aware datetimes directly (no ISO re-parsing).
    return dt


class Pipeline:
    def __init__(self, emu: Emulator, arm: Arm) -> None:
        self.emu = emu
        self.arm = arm
        self.windows: dict[tuple[str, str], tuple[Window, Window]] = {}
        self._heap: list[tuple[float, int, str, Any]] = []
        self._seq = 0
        self._wake = asyncio.Event()
        self._api_requests: list[tuple[str, str, int, datetime]] = []
        self._task: asyncio.Task[None] | None = None
        self.io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="logstore")
        # Resume operations that were still running when the process stopped.
        for key, op in self.emu.store.all("emailop").items():
            if op["status"] == "Running":
                self._schedule(0, "complete", key)
                continue
            for i, r in enumerate(op.get("recipients", [])):
                if r.get("status") is None:
                    self._schedule(0, "deliver", (key, i))

    # -- worker ------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.flush_api_requests()
        self.io.shutdown(wait=True)

    def _schedule(self, delay_ms: float, kind: str, payload: Any) -> None:
        self._seq += 1
        heapq.heappush(
            self._heap, (time.monotonic() + delay_ms / 1000, self._seq, kind, payload)
        )
        if delay_ms <= 0 or (self._heap and self._heap[0][1] == self._seq):
            self._wake.set()

    async def _run(self) -> None:
        while True:
            timeout = 0.25
            if self._heap:
                timeout = max(0.0, min(timeout, self._heap[0][0] - time.monotonic()))
            if timeout > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
            try:
                self.process_due()
            except Exception:
                log.exception("pipeline worker step failed")

    def process_due(self) -> None:
        now = time.monotonic()
        rows: dict[str, list[dict[str, Any]]] = {}
        events: list[tuple[str, dict[str, Any]]] = []
        while self._heap and self._heap[0][0] <= now:
            _, _, kind, payload = heapq.heappop(self._heap)
            if kind == "complete":
                self._complete(payload, rows, events)
            elif kind == "deliver":
                self._deliver(payload, rows, events)
            elif kind == "engage":
                self._engage(payload, rows, events)
        self.flush_api_requests(rows)
        if events and self.emu.eventgrid is not None:
            self.emu.eventgrid.publish(events)

    def flush_api_requests(
        self, rows: dict[str, list[dict[str, Any]]] | None = None
    ) -> None:
        """Hand queued log rows and API-request records to the LogStore thread."""
        pending, self._api_requests = self._api_requests, []
        if self.emu.logstore is None or not (pending or rows):
            return
        try:
            self.io.submit(self._ingest, self.emu.logstore, rows or {}, pending)
        except RuntimeError:  # executor already shut down (process stopping)
            log.warning("dropped %d log batches at shutdown", len(rows or {}))

    @staticmethod
    def _ingest(
        store: Any,
        rows: dict[str, list[dict[str, Any]]],
        pending: list[tuple[str, str, int, datetime]],
    ) -> None:
        # Runs on the single LogStore thread: SQLite releases the GIL while it
        # writes, so ingestion overlaps with request handling, and queries
        # submitted to the same thread see every earlier row (FIFO).
        for table, batch in rows.items():
            try:
                store.insert_rows(table, batch)
            except Exception:
                log.exception("LogStore.insert_rows failed")
        for rid, operation, status, at in pending:
            try:
                store.record_api_request(
                    resource_id=rid, operation=operation, status_code=status, at=at
                )
            except Exception:
                log.exception("LogStore.record_api_request failed")
                return

    async def run_on_logstore(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run ``fn`` on the LogStore thread after everything queued so far."""
        self.flush_api_requests()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.io, lambda: fn(*args, **kwargs))

    def reset_queue(self) -> None:
        self._heap.clear()
        self._api_requests.clear()

    def record_api_request(self, rid: str, operation: str, status: int) -> None:
        self._api_requests.append((rid, operation, status, self.emu.clock.now()))

    # -- limits ------------------------------------------------------------------
    def tier_for(self, rid: str, managed: bool) -> dict[str, Any]:
        tier = self.emu.store.get("ratetier", rid.lower())
        if managed and not (tier and tier.get("applyToManaged")):
            return {"name": "managed", **RATE_TIERS["managed"]}
        if tier:
            return tier
        return {"name": "default", **RATE_TIERS["default"]}

    def set_tier(self, rid: str, data: dict[str, Any]) -> dict[str, Any]:
        name = data.get("tier") or data.get("name")
        if name:
            if name not in RATE_TIERS:
                raise ValueError(f"tier must be one of {sorted(RATE_TIERS)}")
            tier: dict[str, Any] = {"name": name, **RATE_TIERS[name]}
        else:
            tier = {
                "name": "custom",
                "perMinute": int(data["perMinute"]),
                "perHour": int(data["perHour"]),
            }
        # emulator behaviour: Azure never raises managed-domain limits; tests may.
        tier["applyToManaged"] = bool(data.get("applyToManaged", name == "raised"))
        self.emu.store.put("ratetier", rid.lower(), tier)
        self.emu.store.flush()
        for k in [k for k in self.windows if k[0] == rid.lower()]:
            del self.windows[k]
        return tier

    def _check_rate(self, rid: str, managed: bool, kind: str = "send") -> None:
        tier = self.tier_for(rid, managed)
        per_min, per_hour = tier["perMinute"], tier["perHour"]
        if kind == "status":
            # service-limits.md "Get Email Status": managed 10/min and 20/h,
            # custom default 60/min and 200/h; other tiers: twice the send limits.
            per_min, per_hour = STATUS_LIMITS.get(
                tier["name"], (2 * per_min, 2 * per_hour)
            )
        key = (
            rid.lower(),
            ("managed" if managed and tier["name"] == "managed" else "custom")
            + ":"
            + kind,
        )
        pair = self.windows.get(key)
        if pair is None or (pair[0].limit, pair[1].limit) != (per_min, per_hour):
            pair = (Window(per_min, 60), Window(per_hour, 3600))
            self.windows[key] = pair
        now = int(self.emu.clock.time())
        wait = max(pair[0].wait(now), pair[1].wait(now))
        if wait:
            self.emu.bump("throttled_429" if kind == "send" else "throttled_status_429")
            raise SendError(
                429,
                "TooManyRequests",
                "The request was throttled. Try again after the Retry-After period.",
                retry_after=wait,
            )
        pair[0].add(now)
        pair[1].add(now)

    def check_status_rate(self, rid: str, op: dict[str, Any]) -> None:
        """Count a GET of the operation status; raises SendError(429)."""
        self._check_rate(rid, bool(op.get("managed")), "status")

    # -- submit ------------------------------------------------------------------
    def find_operation(self, rid: str, op_id: str) -> dict[str, Any] | None:
        return self.emu.store.get("emailop", f"{rid.lower()}|{op_id.lower()}")

    def submit(
        self,
        rid: str,
        message: Any,
        *,
        raw_size: int,
        operation_id: str | None = None,
        api_version: str = "2025-09-01",
        source: str = "api",
        credential: str = "accessKey",
        traffic_source: str = "Email REST API",
        mail_from: str | None = None,
        raw_mime: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Accept a message; returns (operation, is_new).  Raises SendError."""
        if operation_id:
            existing = self.find_operation(rid, operation_id)
            if existing is not None:
                # emulator behaviour (azure-facts §2.4, undocumented by Azure): a
                # repeated Operation-Id on the same resource never sends twice; the
                # existing operation is returned and the duplicate is counted.
                self.emu.bump("duplicate_operation_ids")
                return existing, False
        comm = self.arm.comm_service(rid)
        if comm is None:
            raise SendError(401, "Denied", "Denied by the resource provider.")
        try:
            msg = self.validate(message, raw_size)
            domain, username = self.check_sender(comm, msg["senderAddress"])
            managed = domain["properties"]["domainManagement"] == "AzureManaged"
            self._check_rate(rid, managed)
        except SendError as exc:
            if exc.status != 429:
                self.emu.bump("rejected_validation")
            raise
        op_id = operation_id or new_guid()
        suppressed = self.suppressed_addresses(domain)
        recipients = []
        seen: set[str] = set()
        for kind in ("to", "cc", "bcc"):
            for r in msg["recipients"].get(kind) or []:
                addr = r["address"]
                if addr.lower() in seen:
                    continue
                seen.add(addr.lower())
                recipients.append(
                    {
                        "address": addr,
                        "kind": kind,
                        "status": "Suppressed" if addr.lower() in suppressed else None,
                    }
                )
        content = msg["content"]
        now = self.emu.clock.now()
        drop = self.emu.faults.take("email.send", ("drop",))
        op = {
            "id": op_id,
            "resourceId": comm["id"],
            "status": "Running",
            "error": None,
            "createdAt": iso(now),
            "completedAt": None,
            "apiVersion": api_version,
            "source": source,
            "credential": credential,
            "trafficSource": traffic_source,
            "senderAddress": msg["senderAddress"],
            "mailFrom": mail_from or msg["senderAddress"],
            "senderDomain": domain["properties"]["fromSenderDomain"],
            "senderUsername": username,
            "domainId": domain["id"],
            "managed": managed,
            "tracking": (
                domain["properties"].get("userEngagementTracking") == "Enabled"
                and not msg.get("userEngagementTrackingDisabled")
                and bool(content.get("html"))
            ),
            "subject": content.get("subject"),
            "plainText": content.get("plainText"),
            "html": content.get("html"),
            "to": [r["address"] for r in msg["recipients"].get("to") or []],
            "cc": [r["address"] for r in msg["recipients"].get("cc") or []],
            "bcc": [r["address"] for r in msg["recipients"].get("bcc") or []],
            "replyTo": [r.get("address") for r in msg.get("replyTo") or []],
            "headers": msg.get("headers") or {},
            "attachments": [
                {
                    "name": a["name"],
                    "contentType": a["contentType"],
                    "size": len(a["contentInBase64"]) * 3 // 4,
                }
                for a in msg.get("attachments") or []
            ],
            "sizeBytes": raw_size,
            "recipients": recipients,
            "forceDrop": drop is not None,
        }
        if raw_mime is not None:
            op["mime"] = raw_mime[:200_000]
        self.emu.store.put("emailop", f"{rid.lower()}|{op_id.lower()}", op)
        self.emu.bump("accepted_sends")
        if source == "smtp":
            self.emu.bump("smtp_accepted")
        self._schedule(
            self.emu.config["send_delay_ms"],
            "complete",
            f"{rid.lower()}|{op_id.lower()}",
        )
        return op, True

    def validate(self, message: Any, raw_size: int) -> dict[str, Any]:
        if not isinstance(message, dict):
            raise SendError(400, "BadRequest", "The request body is not a JSON object.")
        if raw_size > MAX_MESSAGE_BYTES:
            # emulator behaviour: code/status for >10 MB are UNCONFIRMED (§3).
            raise SendError(
                413,
                "MessageTooLarge",
                "The total size of the email request, including attachments, "
                "exceeds the limit of 10 MB.",
                target="attachments",
            )
        sender = message.get("senderAddress")
        if not isinstance(sender, str) or not ADDRESS_RE.match(sender):
            raise SendError(
                400,
                "BadRequest",
                "senderAddress is required and must be an email address.",
                target="senderAddress",
            )
        content = message.get("content")
        if not isinstance(content, dict):
            raise SendError(400, "BadRequest", "content is required.", target="content")
        if not isinstance(content.get("subject"), str):
            raise SendError(
                400,
                "BadRequest",
                "content.subject is required.",
                target="content.subject",
            )
        if not (content.get("plainText") or content.get("html")):
            # emulator behaviour: a body (plainText or html) is required.
            raise SendError(
                400,
                "BadRequest",
                "content must have plainText or html.",
                target="content",
            )
        recipients = message.get("recipients")
        if not isinstance(recipients, dict):
            raise SendError(
                400, "BadRequest", "recipients is required.", target="recipients"
            )
        total = 0
        for kind in ("to", "cc", "bcc"):
            items = recipients.get(kind)
            if items is None:
                continue
            if not isinstance(items, list):
                raise SendError(
                    400,
                    "BadRequest",
                    f"recipients.{kind} must be a list.",
                    target=f"recipients.{kind}",
                )
            for i, r in enumerate(items):
                addr = r.get("address") if isinstance(r, dict) else None
                if not isinstance(addr, str) or not ADDRESS_RE.match(addr):
                    raise SendError(
                        400,
                        "InvalidEmailAddress",
                        f"The recipient address at recipients.{kind}[{i}] is invalid.",
                        target=f"recipients.{kind}[{i}].address",
                    )
            total += len(items)
        if not recipients.get("to") and total == 0:
            raise SendError(
                400,
                "BadRequest",
                "At least one recipient is required.",
                target="recipients.to",
            )
        if total > MAX_RECIPIENTS:
            # emulator behaviour: the real code for >50 recipients is UNCONFIRMED.
            raise SendError(
                400,
                "InvalidRecipientCount",
                f"The total number of recipients ({total}) exceeds the maximum of "
                f"{MAX_RECIPIENTS} across to, cc and bcc.",
                target="recipients",
            )
        for i, a in enumerate(message.get("attachments") or []):
            if not (
                isinstance(a, dict)
                and a.get("name")
                and a.get("contentType")
                and isinstance(a.get("contentInBase64"), str)
            ):
                raise SendError(
                    400,
                    "InvalidAttachment",
                    "Attachments need name, contentType and contentInBase64.",
                    target=f"attachments[{i}]",
                )
            try:
                base64.b64decode(a["contentInBase64"], validate=True)
            except (binascii.Error, ValueError) as exc:
                raise SendError(
                    400,
                    "InvalidAttachment",
                    "contentInBase64 is not valid base64.",
                    target=f"attachments[{i}].contentInBase64",
                ) from exc
        return message

    def check_sender(
        self, comm: dict[str, Any], sender: str
    ) -> tuple[dict[str, Any], str]:
        username, _, host = sender.rpartition("@")
        host = host.lower()
        for dom in self.arm.linked_domains(comm):
            props = dom["properties"]
            if props.get("fromSenderDomain", "").lower() != host:
                continue
            states = props.get("verificationStates") or {}
            # emulator behaviour: sending needs Domain, SPF, DKIM and DKIM2 verified
            # (DMARC is recommended, not required).
            needed = ("Domain", "SPF", "DKIM", "DKIM2")
            if any(states.get(t, {}).get("status") != "Verified" for t in needed):
                raise SendError(
                    400,
                    "InvalidSenderDomain",
                    f"The sender domain '{host}' is not verified.",
                    target="senderAddress",
                )
            if props["domainManagement"] == "AzureManaged" and (
                username.lower() == "donotreply"
            ):
                return dom, username
            names = {
                s["properties"]["username"].lower()
                for s in self.arm.children(dom["id"], "senderUsernames")
            }
            if username.lower() not in names:
                raise SendError(
                    400,
                    "InvalidSenderUserName",
                    f"The sender username '{username}' is not configured for the "
                    f"domain '{host}'.",
                    target="senderAddress",
                )
            return dom, username
        # emulator behaviour: ACS answers an unlinked sender domain with
        # DomainNotLinked ("The specified sender domain has not been linked").
        raise SendError(
            400,
            "DomainNotLinked",
            "The specified sender domain has not been linked.",
            target="senderAddress",
        )

    def suppressed_addresses(self, domain: dict[str, Any]) -> set[str]:
        out: set[str] = set()
        for lst in self.arm.children(domain["id"], "suppressionLists"):
            for addr in self.arm.children(lst["id"], "suppressionListAddresses"):
                out.add(str(addr["properties"].get("email", "")).lower())
        return out

    # -- completion ----------------------------------------------------------------
    def _base_row(
        self, table: str, op: dict[str, Any], when: datetime
    ) -> dict[str, Any]:
        return {
            "TimeGenerated": _ts(when),
            "Location": LOCATION,
            "OperationName": {
                SEND_MAIL: "SendMail",
                STATUS_UPDATE: "DeliveryStatusUpdate",
                USER_ENGAGEMENT: "UserEngagementUpdate",
            }[table],
            "OperationVersion": op["apiVersion"],
            "Category": {
                SEND_MAIL: "EmailSendMailOperational",
                STATUS_UPDATE: "EmailStatusUpdateOperational",
                USER_ENGAGEMENT: "EmailUserEngagementOperational",
            }[table],
            "CorrelationId": op["id"],
            "_ResourceId": op["resourceId"].lower(),
        }

    def _complete(
        self,
        key: str,
        rows: dict[str, list[dict[str, Any]]],
        events: list[tuple[str, dict[str, Any]]],
    ) -> None:
        op = self.emu.store.get("emailop", key)
        if op is None or op["status"] != "Running":
            return
        now = self.emu.clock.now()
        seed = str(self.emu.config["seed"])
        recips = op["recipients"]
        for r in recips:
            if r["status"] is None:
                r["outcome"] = delivery_outcome(seed, op["id"], r["address"]).status
        lower = {a.lower() for a in op["to"]}
        lower_cc = {a.lower() for a in op["cc"]}
        lower_bcc = {a.lower() for a in op["bcc"]}
        size_mb = round(op["sizeBytes"] / (1024 * 1024), 6)
        send_row = self._base_row(SEND_MAIL, op, now) | {
            "Size": size_mb,
            "ToRecipientsCount": len(lower),
            "CcRecipientsCount": len(lower_cc),
            "BccRecipientsCount": len(lower_bcc),
            "UniqueRecipientsCount": len(lower | lower_cc | lower_bcc),
            "AttachmentsCount": len(op["attachments"]),
            "TrafficSource": op["trafficSource"],
        }
        rows.setdefault(SEND_MAIL, []).append(send_row)
        all_suppressed = all(r["status"] == "Suppressed" for r in recips)
        if op.get("forceDrop"):
            op["status"] = "Failed"
            op["error"] = {
                "code": "EmailDropped",
                "message": "Email was dropped after several attempts to deliver.",
            }
        elif all_suppressed:
            op["status"] = "Failed"
            op["error"] = {
                "code": "EmailDroppedAllRecipientsSuppressed",
                "message": "Message dropped because all recipients were suppressed",
            }
        else:
            op["status"] = "Succeeded"
        op["completedAt"] = iso(now)
        self.emu.bump_status("messages_by_status", op["status"])
        msg_row = self._status_row(
            op, now, "", "OutForDelivery" if op["status"] == "Succeeded" else "Failed"
        )
        rows.setdefault(STATUS_UPDATE, []).append(msg_row)
        delay = float(self.emu.config["delivery_delay_ms"])
        slow = float(self.emu.config["slow_delay_ms"])
        for i, r in enumerate(recips):
            if r["status"] == "Suppressed":
                self._deliver((key, i), rows, events, op=op)
            elif op.get("forceDrop"):
                r["outcome"] = "Failed"
                self._deliver((key, i), rows, events, op=op)
            else:
                out = delivery_outcome(seed, op["id"], r["address"])
                self._schedule(delay + (slow if out.slow else 0), "deliver", (key, i))
        self.emu.store.put("emailop", key, op)

    def _status_row(
        self,
        op: dict[str, Any],
        when: datetime,
        recipient: str,
        status: str,
        out: Outcome | None = None,
    ) -> dict[str, Any]:
        out = out or Outcome(status)
        return self._base_row(STATUS_UPDATE, op, when) | {
            "RecipientId": recipient,
            "DeliveryStatus": status,
            "SmtpStatusCode": out.smtp,
            "EnhancedSmtpStatusCode": out.enhanced,
            "FailureReason": out.reason,
            "FailureMessage": out.message,
            "SenderDomain": op["senderDomain"],
            "SenderUsername": op["senderUsername"],
            "IsHardBounce": "true" if out.hard else "false",
        }

    def _deliver(
        self,
        payload: Any,
        rows: dict[str, list[dict[str, Any]]],
        events: list[tuple[str, dict[str, Any]]],
        op: dict[str, Any] | None = None,
    ) -> None:
        key, idx = payload
        op = op or self.emu.store.get("emailop", key)
        if op is None:
            return
        r = op["recipients"][idx]
        if r["status"] == "Suppressed":
            out = SUPPRESSED
        elif r.get("outcome") == "Failed" and op.get("forceDrop"):
            out = FAILED
        else:
            out = delivery_outcome(str(self.emu.config["seed"]), op["id"], r["address"])
        r["status"] = out.status
        now = self.emu.clock.now()
        self.emu.bump_status("recipients_by_status", out.status)
        rows.setdefault(STATUS_UPDATE, []).append(
            self._status_row(op, now, r["address"], out.status, out)
        )
        events.append(
            (
                op["resourceId"],
                {
                    "eventType": "Microsoft.Communication.EmailDeliveryReportReceived",
                    "subject": f"sender/{op['senderAddress']}/message/{op['id']}",
                    "data": {
                        "sender": op["senderAddress"],
                        "recipient": r["address"],
                        "internetMessageId": f"<{op['id']}@{op['senderDomain']}>",
                        "messageId": op["id"],
                        "status": out.status,
                        "deliveryStatusDetails": {
                            "statusMessage": out.message or "No error.",
                            "recipientMailServerHostName": (
                                "mx." + r["address"].rsplit("@", 1)[-1]
                            ),
                        },
                        "deliveryAttemptTimeStamp": iso(now),
                    },
                },
            )
        )
        self.emu.store.put("emailop", key, op)
        if op.get("tracking") and out.status == "Delivered":
            digest = hashlib.sha256(f"engage|{op['id']}|{r['address']}".encode())
            if digest.digest()[0] < 77:  # ~30% of delivered recipients open it
                self._schedule(
                    self.emu.config["engagement_delay_ms"], "engage", (key, idx)
                )

    def _engage(
        self,
        payload: Any,
        rows: dict[str, list[dict[str, Any]]],
        events: list[tuple[str, dict[str, Any]]],
    ) -> None:
        key, idx = payload
        op = self.emu.store.get("emailop", key)
        if op is None:
            return
        r = op["recipients"][idx]
        now = self.emu.clock.now()
        ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) EmulatedMailClient/1.0"
        rows.setdefault(USER_ENGAGEMENT, []).append(
            self._base_row(USER_ENGAGEMENT, op, now)
            | {
                "RecipientId": r["address"],
                "EngagementType": "View",
                "EngagementContext": "",
                "UserAgent": ua,
                "InternetMessageId": f"<{op['id']}@{op['senderDomain']}>",
            }
        )
        events.append(
            (
                op["resourceId"],
                {
                    "eventType": (
                        "Microsoft.Communication.EmailEngagementTrackingReportReceived"
                    ),
                    "subject": f"sender/{op['senderAddress']}/message/{op['id']}",
                    "data": {
                        "sender": op["senderAddress"],
                        "recipient": r["address"],
                        "messageId": op["id"],
                        "userActionTimeStamp": iso(now),
                        "engagementContext": "",
                        "userAgent": ua,
                        "engagementType": "view",
                    },
                },
            )
        )
