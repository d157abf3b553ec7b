"""Accepted sends per second through ``POST /emails:send`` with HMAC verification.

Starts an emulator on a fresh state dir, provisions a communication service with a
raised rate tier and zero delivery delays, then drives it with many concurrent
keep-alive aiohttp connections (HMAC computed here) for a few seconds.  The naive
baseline sends sequentially with a new connection per request (``requests.post``
without a session).

    python bench/bench_emulator_send.py
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import ssl
import sys
import tempfile
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any

import aiohttp
import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from emulator.defaults import (  # noqa: E402
    CLIENT_ID,
    CLIENT_SECRET,
    RESOURCE_GROUP,
    SUBSCRIPTION_ID,
    TENANT_ID,
)
from emulator.testing import EmulatorProcess, start_emulator  # noqa: E402

TARGET = 1500.0
# Two load rounds of 2.5 s, best one reported: the 2 cores are shared with
# whatever else runs on the machine, and one noisy second should not decide.
LOAD_SECONDS = 2.5
ROUNDS = 2
BASELINE_SECONDS = 2.0
CONCURRENCY = 64
PATH = "/emails:send?api-version=2025-09-01"


def _token(emu: EmulatorProcess, scope: str) -> str:
    r = requests.post(
        f"{emu.url}/{TENANT_ID}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scope": scope,
        },
        verify=emu.ca_path,
        timeout=30,
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


def _provision(emu: EmulatorProcess) -> tuple[str, str, str]:
    """(resource id, base64 key, sender) via plain ARM REST calls."""
    h = {
        "Authorization": "Bearer "
        + _token(emu, "https://management.azure.com/.default")
    }
    base = (
        f"{emu.url}/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}"
        "/providers/Microsoft.Communication"
    )
    q = "?api-version=2025-09-01"

    def put(url: str, body: dict[str, Any]) -> dict[str, Any]:
        r = requests.put(url + q, json=body, headers=h, verify=emu.ca_path, timeout=30)
        r.raise_for_status()
        return dict(r.json())

    put(
        f"{base}/emailServices/bench-es",
        {"location": "global", "properties": {"dataLocation": "Japan"}},
    )
    dom = put(
        f"{base}/emailServices/bench-es/domains/AzureManagedDomain",
        {"location": "global", "properties": {"domainManagement": "AzureManaged"}},
    )
    comm = put(
        f"{base}/communicationServices/bench-acs",
        {
            "location": "global",
            "properties": {"dataLocation": "Japan", "linkedDomains": [dom["id"]]},
        },
    )
    r = requests.post(
        f"{base}/communicationServices/bench-acs/listKeys{q}",
        headers=h,
        verify=emu.ca_path,
        timeout=30,
    )
    r.raise_for_status()
    sender = f"DoNotReply@{dom['properties']['fromSenderDomain']}"
    return comm["id"], r.json()["primaryKey"], sender


def _signed_headers(key: bytes, host: str, body: bytes, date: str) -> dict[str, str]:
    content_hash = base64.b64encode(hashlib.sha256(body).digest()).decode()
    sts = f"POST\n{PATH}\n{date};{host};{content_hash}".encode()
    sig = base64.b64encode(hmac.new(key, sts, hashlib.sha256).digest()).decode()
    return {
        "Content-Type": "application/json",
        "x-ms-date": date,
        "x-ms-content-sha256": content_hash,
        "Authorization": "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256"
        f"&Signature={sig}",
    }


def _body(sender: str, i: int) -> bytes:
    return json.dumps(
        {
            "senderAddress": sender,
            "recipients": {"to": [{"address": f"user{i}@example.com"}]},
            "content": {"subject": f"bench {i}", "plainText": "hello"},
        }
    ).encode()


async def _load(
    emu: EmulatorProcess, key_b64: str, sender: str
) -> tuple[int, int, float]:
    key = base64.b64decode(key_b64)
    host = f"127.0.0.1:{emu.port}"
    ctx = ssl.create_default_context(cafile=emu.ca_path)
    ok = errors = 0
    counter = 0
    deadline = time.monotonic() + LOAD_SECONDS
    # The client shares the 2 cores with the server: sign each (body, second) pair
    # once so the measurement is dominated by the server's work.
    bodies = [_body(sender, i) for i in range(32)]
    signed: dict[tuple[int, str], dict[str, str]] = {}
    conn = aiohttp.TCPConnector(ssl=ctx, limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=conn) as session:

        async def worker() -> None:
            nonlocal ok, errors, counter
            while time.monotonic() < deadline:
                counter += 1
                idx = counter % len(bodies)
                date = formatdate(usegmt=True)
                headers = signed.get((idx, date))
                if headers is None:
                    if len(signed) > 256:
                        signed.clear()
                    headers = _signed_headers(key, host, bodies[idx], date)
                    signed[(idx, date)] = headers
                async with session.post(
                    emu.url + PATH, data=bodies[idx], headers=headers
                ) as resp:
                    await resp.read()
                    if resp.status == 202:
                        ok += 1
                    else:
                        errors += 1

        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.monotonic() - start
    return ok, errors, elapsed


def _baseline(emu: EmulatorProcess, key_b64: str, sender: str) -> float:
    key = base64.b64decode(key_b64)
    host = f"127.0.0.1:{emu.port}"
    n = 0
    start = time.monotonic()
    while time.monotonic() - start < BASELINE_SECONDS:
        body = _body(sender, n)
        r = requests.post(
            emu.url + PATH,
            data=body,
            headers=_signed_headers(key, host, body, formatdate(usegmt=True)),
            verify=emu.ca_path,
            timeout=30,
        )
        if r.status_code == 202:
            n += 1
    return n / (time.monotonic() - start)


def run() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-emu-") as tmp:
        emu = start_emulator(Path(tmp))
        try:
            emu.admin(
                "/config",
                "POST",
                {"send_delay_ms": 0, "delivery_delay_ms": 0, "slow_delay_ms": 0},
            )
            rid, key, sender = _provision(emu)
            emu.admin("/rate-tier", "POST", {"resourceId": rid, "tier": "raised"})
            baseline = _baseline(emu, key, sender)
            value = 0.0
            for _ in range(ROUNDS):
                ok, errors, elapsed = asyncio.run(_load(emu, key, sender))
                if errors:
                    raise RuntimeError(f"{errors} sends were not accepted")
                value = max(value, ok / elapsed)
        finally:
            emu.stop()
    return [
        {
            "name": "emulator accepted sends (HMAC, keep-alive, concurrency "
            f"{CONCURRENCY}, best of {ROUNDS}x{LOAD_SECONDS:g}s)",
            "value": round(value, 1),
            "unit": "sends/s",
            "baseline": "sequential requests.post, new connection per send",
            "baseline_value": round(baseline, 1),
            "target": TARGET,
            "higher_is_better": True,
            "meets_target": value >= TARGET,
        }
    ]


def main() -> int:
    results = run()
    cols = ["name", "value", "unit", "baseline_value", "target", "meets_target"]
    print(" | ".join(cols))  # noqa: T201
    for r in results:
        print(" | ".join(str(r[c]) for c in cols))  # noqa: T201
        print(f"  baseline: {r['baseline']}")  # noqa: T201
    return 0 if all(r["meets_target"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
