"""The emulator's shared state object, handed to every route module."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import logging
import random
import secrets
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import auth
from .clock import Clock, iso
from .defaults import (
    CLIENT_ID,
    CLIENT_OBJECT_ID,
    CLIENT_SECRET,
    TENANT_ID,
)
from .errors import unauthorized
from .faults import Faults

if TYPE_CHECKING:
    from .arm import Arm
    from .eventgrid import EventGrid
    from .graph import Graph
    from .pipeline import Pipeline

log = logging.getLogger("emulator")

DEFAULT_CONFIG: dict[str, Any] = {
    # ARM list page size (tests set 1 to exercise nextLink).
    "page_size": 50,
    # How many times an ARM Azure-AsyncOperation status URL answers InProgress
    # before Succeeded.
    "lro_inprogress_polls": 1,
    # Retry-After (whole seconds) on LRO / email polling responses.  The SDK treats
    # 0 as "absent" and then sleeps 30 s, so it is never 0.
    "retry_after": 1,
    # Test knob, off by default: when set, polling responses carry
    # "retry-after-ms: N" instead of Retry-After (azure-core honours it), so test
    # suites poll every few ms.  Azure itself sends Retry-After.
    "retry_after_ms": None,
    # Email delivery simulation (milliseconds).
    "send_delay_ms": 300,  # Running -> Succeeded
    "delivery_delay_ms": 300,  # per-recipient status rows after completion
    "slow_delay_ms": 5000,  # extra for *@slow.example
    "engagement_delay_ms": 500,
    "seed": "emulator",
    # Maximum x-ms-date skew accepted on HMAC requests (emulator behaviour: the
    # real tolerance is undocumented; 15 minutes is the usual Azure value).
    "hmac_max_skew_s": 900,
    # Event Grid delivery.
    "eventgrid_batch_size": 10,
    "eventgrid_batch_window_ms": 50,
    "eventgrid_retry_base_ms": 500,
    "eventgrid_retry_max_ms": 30000,
    "eventgrid_max_attempts": 8,
    "eventgrid_timeout_s": 5,
}

RATE_TIERS: dict[str, dict[str, int]] = {
    # service-limits.md: Azure-managed domains, cannot be raised.
    "managed": {"perMinute": 5, "perHour": 10},
    # service-limits.md: custom domains, default ("sandbox") quota.
    "default": {"perMinute": 30, "perHour": 100},
    # service-limits.md: "high volume up to 1-2 million messages per hour".
    "raised": {"perMinute": 2_000_000 // 60, "perHour": 2_000_000},
}


def new_key() -> str:
    """A base64 access key of 64 random bytes (the SDK base64-decodes it)."""
    return base64.b64encode(secrets.token_bytes(64)).decode()


def hash_secret(salt: str, secret: str) -> str:
    return hashlib.sha256((salt + secret).encode()).hexdigest()


class Emulator:
    def __init__(self, state_dir: Path, *, admin: bool = False) -> None:
        from .store import Store

        self.state_dir = state_dir
        self.admin_enabled = admin
        self.store = Store(state_dir / "state.sqlite3")
        self.signing_key = auth.load_signing_key(state_dir)
        meta = self.store.get("meta", "clock") or {"offset": 0.0}
        self.clock = Clock(float(meta.get("offset", 0.0)))
        self.faults = Faults()
        self._config: dict[str, Any] | None = None
        self._counters: dict[str, Any] | None = None
        self.http_port = 0
        self.smtp_port = 0
        self.dns_port = 0
        self.logstore: Any = None
        self.zonestore: Any = None
        self.pipeline: Pipeline | None = None
        self.arm: Arm = None  # type: ignore[assignment]  # set by the server
        self.graph: Graph | None = None
        self.eventgrid: EventGrid | None = None
        # key bytes -> (communication service id, "primary"|"secondary")
        self._key_index: dict[bytes, tuple[str, str]] = {}
        self.ensure_defaults()

    # -- state ---------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        # Cached: read on every request of the hot path.
        if self._config is None:
            cfg = self.store.get("meta", "config")
            if cfg is None:
                cfg = copy.deepcopy(DEFAULT_CONFIG)
                self.store.put("meta", "config", cfg)
            for k, v in DEFAULT_CONFIG.items():
                cfg.setdefault(k, v)
            self._config = cfg
        return self._config

    def set_config(self, updates: dict[str, Any]) -> dict[str, Any]:
        cfg = self.config
        for k, v in updates.items():
            if k not in DEFAULT_CONFIG:
                raise ValueError(f"unknown setting {k!r}")
            if k == "retry_after" and (int(v) != v or int(v) < 1):
                raise ValueError("retry_after must be an integer >= 1")
            if k == "retry_after_ms" and v is not None and int(v) < 1:
                raise ValueError("retry_after_ms must be >= 1 or null")
            cfg[k] = v
        self.store.put("meta", "config", cfg)
        return cfg

    @property
    def counters(self) -> dict[str, Any]:
        if self._counters is not None:
            return self._counters
        c = self.store.get("meta", "counters")
        if c is None:
            c = {
                "accepted_sends": 0,
                "duplicate_operation_ids": 0,
                "throttled_429": 0,
                "rejected_validation": 0,
                "auth_failures": 0,
                "smtp_accepted": 0,
                "smtp_auth_failures": 0,
                "messages_by_status": {},
                "recipients_by_status": {},
            }
            self.store.put("meta", "counters", c)
        self._counters = c
        return c

    def bump(self, name: str, by: int = 1) -> None:
        c = self.counters
        c[name] = c.get(name, 0) + by
        self.store.put("meta", "counters", c)

    def bump_status(self, group: str, status: str, by: int = 1) -> None:
        c = self.counters
        d = c.setdefault(group, {})
        d[status] = d.get(status, 0) + by
        self.store.put("meta", "counters", c)

    def save_clock(self) -> None:
        self.store.put("meta", "clock", {"offset": self.clock.offset})
        self.store.flush()

    def ensure_defaults(self) -> None:
        """Seed the default service principal as a Graph application."""
        if self.store.get("graph_app", CLIENT_OBJECT_ID) is None:
            salt = secrets.token_hex(8)
            now = self.clock.now()
            self.store.put(
                "graph_app",
                CLIENT_OBJECT_ID,
                {
                    "id": CLIENT_OBJECT_ID,
                    "appId": CLIENT_ID,
                    "displayName": "emulator-portal",
                    "createdDateTime": iso(now),
                    "signInAudience": "AzureADMyOrg",
                    "tenantId": TENANT_ID,
                    "passwordCredentials": [
                        {
                            "keyId": "00000000-0000-0000-0000-0000000000e1",
                            "displayName": "default",
                            "hint": CLIENT_SECRET[:3],
                            "customKeyIdentifier": None,
                            "startDateTime": "2000-01-01T00:00:00Z",
                            # Never expires, even when tests time-travel.
                            "endDateTime": "2299-12-31T00:00:00Z",
                            "salt": salt,
                            "hash": hash_secret(salt, CLIENT_SECRET),
                        }
                    ],
                },
            )
            self.store.flush()
        self.rebuild_key_index()

    def reset(self) -> None:
        self.store.clear()
        self._config = None
        self._counters = None
        self.clock.reset()
        self.faults.clear()
        self.ensure_defaults()
        self.store.flush()

    # -- ACS keys ------------------------------------------------------------------
    def rebuild_key_index(self) -> None:
        self._key_index = {}
        for rid, keys in self.store.all("acskeys").items():
            for which in ("primary", "secondary"):
                self._key_index[base64.b64decode(keys[which + "Key"])] = (rid, which)

    def create_keys(self, rid: str) -> dict[str, str]:
        keys = {"primaryKey": new_key(), "secondaryKey": new_key()}
        self.store.put("acskeys", rid.lower(), keys)
        self.rebuild_key_index()
        return keys

    def regenerate_key(self, rid: str, which: str) -> dict[str, str]:
        keys = dict(self.store.get("acskeys", rid.lower()) or {})
        keys[which + "Key"] = new_key()
        self.store.put("acskeys", rid.lower(), keys)
        self.rebuild_key_index()
        return keys

    def drop_keys(self, rid: str) -> None:
        self.store.delete("acskeys", rid.lower())
        self.rebuild_key_index()

    def hmac_resource(self, sts: bytes, signature: bytes) -> str | None:
        """Which communication service's key produced ``signature`` (or None)."""
        for key, (rid, _which) in self._key_index.items():
            if hmac.compare_digest(auth.sign(key, sts), signature):
                return rid
        return None

    # -- helpers -------------------------------------------------------------------
    @staticmethod
    def base_url(request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    def retry_after_headers(self) -> dict[str, str]:
        ms = self.config.get("retry_after_ms")
        if ms:
            return {"retry-after-ms": str(int(ms))}
        return {"Retry-After": str(int(self.config["retry_after"]))}

    def check_bearer(
        self, request: web.Request, audiences: tuple[str, ...], *, graph: bool = False
    ) -> dict[str, Any] | web.Response:
        """Claims of a valid bearer token, or the 401 response to return.

        ARM-style codes: AuthenticationFailed (no header), InvalidAuthenticationToken,
        ExpiredAuthenticationToken, InvalidAuthenticationTokenAudience.  Graph
        answers every case with InvalidAuthenticationToken and its own messages.
        """
        header = request.headers.get("Authorization", "")
        authority = f"{self.base_url(request)}/{TENANT_ID}"
        if not header.lower().startswith("bearer "):
            code, message = (
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
            )
            if header:
                code, message = (
                    "InvalidAuthenticationToken",
                    "Authentication failed. The 'Authorization' header is invalid.",
                )
        else:
            try:
                return auth.verify_token(
                    self.signing_key,
                    header[7:].strip(),
                    audiences=audiences,
                    now=self.clock.time(),
                )
            except auth.TokenError as exc:
                code, message = exc.code, exc.message
        self.bump("auth_failures")
        if graph:
            message = {
                "AuthenticationFailed": "Access token is empty.",
                "ExpiredAuthenticationToken": (
                    "Lifetime validation failed, the token is expired."
                ),
                "InvalidAuthenticationTokenAudience": "Invalid audience.",
            }.get(code, "Access token validation failure. Invalid audience.")
            code = "InvalidAuthenticationToken"
        return unauthorized(message, code=code, authority=authority)


_guid_rng = random.Random(secrets.randbits(128))


def new_guid() -> str:
    """A random version-4 GUID for ids (not secrets).

    Seeded once from the OS: per-call os.urandom is a syscall, and syscalls are
    the expensive part of the email hot path on a small VM.
    """
    return str(uuid.UUID(int=_guid_rng.getrandbits(128), version=4))
