"""Azure Monitor routes: Log Analytics query API and metrics ``getBatch``.

Auth is checked here; the query semantics live in ``logstore.LogStore``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from .core import Emulator
from .defaults import LOGS_AUDIENCES, METRICS_AUDIENCES, WORKSPACE_ID
from .errors import json_response

log = logging.getLogger("emulator.monitor")


def _la_error(status: int, code: str, message: str) -> web.Response:
    return json_response(
        {
            "error": {
                "code": code,
                "message": message,
                "innererror": {"code": code, "message": message},
            }
        },
        status=status,
    )


class Monitor:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    def register(self, app: web.Application) -> None:
        app.router.add_post("/v1/workspaces/{ws}/query", self.workspace_query)
        app.router.add_post("/subscriptions/{sub}/metrics:getBatch", self.metrics)
        app.router.add_post("/v1/{rid:.+}/query", self.resource_query)

    def _logs_auth(self, request: web.Request) -> web.Response | None:
        # emulator behaviour: LogsQueryClient with an overridden endpoint asks for
        # "<endpoint>/.default" unless audience= is passed (azure-facts pitfall 6),
        # so the emulator's own URL is accepted as an audience too.
        auds = (*LOGS_AUDIENCES, self.emu.base_url(request))
        claims = self.emu.check_bearer(request, auds)
        return claims if isinstance(claims, web.Response) else None

    async def _body(self, request: web.Request) -> dict[str, Any] | web.Response:
        try:
            data = json.loads(await request.read() or b"{}")
        except ValueError:
            return _la_error(400, "BadArgumentError", "The request body is not JSON.")
        if not isinstance(data, dict):
            return _la_error(400, "BadArgumentError", "The request body is not JSON.")
        return data

    def _store(self) -> Any:
        if self.emu.logstore is None:
            return None
        return self.emu.logstore

    async def workspace_query(self, request: web.Request) -> web.Response:
        if (err := self._logs_auth(request)) is not None:
            return err
        ws = request.match_info["ws"]
        if ws.lower() != WORKSPACE_ID:
            return _la_error(
                404,
                "WorkspaceNotFoundError",
                f"The workspace could not be found: {ws}",
            )
        data = await self._body(request)
        if isinstance(data, web.Response):
            return data
        return await self._run_query(data, None)

    async def resource_query(self, request: web.Request) -> web.Response:
        if (err := self._logs_auth(request)) is not None:
            return err
        rid = "/" + request.match_info["rid"].strip("/")
        data = await self._body(request)
        if isinstance(data, web.Response):
            return data
        return await self._run_query(data, [rid])

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        # On the pipeline's LogStore thread: queued rows are written first and
        # the event loop keeps serving while SQLite works.
        if self.emu.pipeline is not None:
            return await self.emu.pipeline.run_on_logstore(fn, *args, **kwargs)
        return fn(*args, **kwargs)

    async def _run_query(
        self, data: dict[str, Any], rids: list[str] | None
    ) -> web.Response:
        store = self._store()
        if store is None:
            return _la_error(503, "ServiceUnavailable", "The log store is not ready.")
        try:
            # The body comes back already encoded (one pass over the rows, in
            # the LogStore thread, not on the event loop).
            status, body = await self._call(
                store.query_http,
                data,
                resource_ids=rids,
                now=self.emu.clock.now(),
                encoded=True,
            )
        except Exception:
            log.exception("query failed")
            return _la_error(500, "InternalServerError", "The query failed.")
        return web.Response(body=body, status=status, content_type="application/json")

    async def metrics(self, request: web.Request) -> web.Response:
        claims = self.emu.check_bearer(request, METRICS_AUDIENCES)
        if isinstance(claims, web.Response):
            return claims
        data = await self._body(request)
        if isinstance(data, web.Response):
            return data
        store = self._store()
        if store is None:
            return _la_error(
                503, "ServiceUnavailable", "The metrics store is not ready."
            )
        try:
            status, body = await self._call(
                store.metrics_http, dict(request.query), data, now=self.emu.clock.now()
            )
        except Exception:
            log.exception("metrics query failed")
            return _la_error(500, "InternalServerError", "The metrics query failed.")
        return json_response(body, status=status)
