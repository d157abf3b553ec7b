"""``python -m emulator serve``: every HTTP API on one HTTPS port, plus SMTP and DNS."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from .admin import Admin
from .arm import Arm
from .certs import ensure_certificates, server_ssl_context
from .core import Emulator
from .defaults import (
    DEFAULT_DNS_PORT,
    DEFAULT_HTTP_PORT,
    DEFAULT_SMTP_PORT,
    WORKSPACE_ID,
)
from .emailapi import EmailApi
from .errors import error_response
from .eventgrid import EventGrid
from .graph import Graph
from .monitor import Monitor
from .pipeline import Pipeline
from .smtp_relay import start_smtp

log = logging.getLogger("emulator")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def endpoint_of(path: str) -> str | None:
    """Fault-injection endpoint family of a request path."""
    if path.startswith("/_emulator"):
        return None
    if path.startswith(("/emails:send", "//emails:send")):
        return "email.send"
    if path.startswith(("/emails/", "//emails/")):
        return "email.status"
    if path.startswith("/v1/"):
        return "logs"
    if path.endswith("/metrics:getBatch"):
        return "metrics"
    if path.startswith("/v1.0/"):
        return "graph"
    if path.startswith(("/subscriptions/", "/providers/")):
        return "arm"
    if "/oauth2/" in path or "/.well-known/" in path:
        return "token"
    return None


def _fault_error(endpoint: str, status: int, retry_after: int | None) -> web.Response:
    code = {
        429: "TooManyRequests",
        500: "InternalServerError",
        503: "ServiceUnavailable",
    }[status]
    message = {
        429: "Too many requests. Retry after the Retry-After period.",
        500: "An internal server error occurred (injected fault).",
        503: "The service is temporarily unavailable (injected fault).",
    }[status]
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    if endpoint == "token":
        return web.json_response(
            {"error": "temporarily_unavailable", "error_description": message},
            status=status,
            headers=headers,
        )
    return error_response(
        status,
        code,
        message,
        headers=headers,
        data_plane=endpoint.startswith("email."),
    )


def make_app(emu: Emulator) -> web.Application:
    @web.middleware
    async def faults_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
        if emu.faults.rules:
            endpoint = endpoint_of(request.path)
            rule = emu.faults.take(endpoint) if endpoint else None
            if rule is not None and endpoint is not None:
                if rule.kind == "delay":
                    await asyncio.sleep(rule.delay_ms / 1000)
                elif rule.kind == "reset":
                    transport = request.transport
                    if transport is not None:
                        transport.abort()
                    raise asyncio.CancelledError
                else:
                    status = int(rule.kind)
                    if status == 429 and endpoint == "email.send":
                        emu.bump("throttled_429")
                    return _fault_error(
                        endpoint, status, rule.retry_after if status != 500 else None
                    )
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path)
            return error_response(
                500, "InternalServerError", "An unexpected error occurred."
            )

    app = web.Application(middlewares=[faults_mw], client_max_size=40 * 1024 * 1024)
    EmailApi(emu, emu.pipeline).register(app)  # type: ignore[arg-type]
    Monitor(emu).register(app)
    if emu.graph is not None:
        emu.graph.register(app)
    if emu.admin_enabled:
        Admin(emu).register(app)
    emu.arm.register(app)
    return app


async def _flush_loop(emu: Emulator) -> None:
    while True:
        await asyncio.sleep(0.2)
        try:
            emu.store.flush_background()
        except Exception:
            log.exception("state flush failed")


async def serve(args: argparse.Namespace) -> int:
    state_dir = Path(args.state).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    ca_path, cert_path, key_path = ensure_certificates(state_dir)
    tls = server_ssl_context(cert_path, key_path)
    emu = Emulator(state_dir, admin=args.admin)
    emu.http_port = args.port
    emu.smtp_port = args.smtp_port
    emu.dns_port = args.dns_port

    try:
        from .logstore import LogStore

        emu.logstore = LogStore(
            str(state_dir / "logs.sqlite3"), workspace_id=WORKSPACE_ID
        )
    except ImportError:
        log.warning("emulator.logstore is not available; Monitor APIs answer 503")
    dns_handle: Any = None
    try:
        from .dns_server import ZoneStore, seed_public_zones, start_dns_server

        emu.zonestore = ZoneStore(str(state_dir / "dns.sqlite3"))
        seed_public_zones(emu.zonestore)
        dns_handle = await start_dns_server(emu.zonestore, args.host, args.dns_port)
    except ImportError:
        log.warning("emulator.dns_server is not available; DNS is off")

    emu.arm = Arm(emu)
    emu.graph = Graph(emu)
    emu.pipeline = Pipeline(emu, emu.arm)
    emu.eventgrid = EventGrid(emu)
    emu.pipeline.start()
    emu.eventgrid.start()

    app = make_app(emu)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port, ssl_context=tls, backlog=1024)
    await site.start()
    smtp = await start_smtp(emu, args.host, args.smtp_port, tls)
    flusher = asyncio.create_task(_flush_loop(emu))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)

    print(  # noqa: T201 - the ready line is the process's interface
        f"emulator ready https://{args.host}:{args.port} smtp={args.smtp_port} "
        f"dns={args.dns_port} ca={ca_path}",
        flush=True,
    )
    await stop.wait()

    # Stop the front doors first so no handler enqueues work after the pipeline
    # has drained; then persist everything.
    flusher.cancel()
    smtp.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(runner.cleanup(), 5)
    await emu.pipeline.stop()
    await emu.eventgrid.close()
    if dns_handle is not None:
        with contextlib.suppress(Exception):
            await dns_handle.close()
    emu.store.close()
    if emu.logstore is not None:
        with contextlib.suppress(Exception):
            emu.logstore.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m emulator serve")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=DEFAULT_HTTP_PORT)
    p.add_argument("--state", required=True, help="state directory (SQLite, certs)")
    p.add_argument(
        "--smtp-port",
        type=int,
        default=int(os.environ.get("EMULATOR_SMTP_PORT", DEFAULT_SMTP_PORT)),
    )
    p.add_argument(
        "--dns-port",
        type=int,
        default=int(os.environ.get("EMULATOR_DNS_PORT", DEFAULT_DNS_PORT)),
    )
    p.add_argument("--admin", action="store_true", help="enable /_emulator/ routes")
    p.add_argument(
        "--log-level", default=os.environ.get("EMULATOR_LOG_LEVEL", "WARNING")
    )
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("refusing to listen on a non-loopback address", file=sys.stderr)  # noqa: T201
        return 2
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # aiosmtpd warns about its own use of a deprecated attribute on every AUTH.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    return asyncio.run(serve(args))
