"""Azure-shaped error responses."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=json.dumps(data, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    target: str | None = None,
    headers: dict[str, str] | None = None,
    data_plane: bool = False,
) -> web.Response:
    """``{"error": {"code", "message", "target"}}``.

    Data-plane (ACS) errors also carry ``x-ms-error-code``, as the common-types
    ``ErrorResponse`` definition says; ARM errors carry ``x-ms-failure-cause``-free
    bodies only.
    """
    err: dict[str, Any] = {"code": code, "message": message}
    if target is not None:
        err["target"] = target
    hdrs = dict(headers or {})
    if data_plane:
        hdrs["x-ms-error-code"] = code
    return json_response({"error": err}, status=status, headers=hdrs)


def unauthorized(
    message: str, *, code: str = "InvalidAuthenticationToken", authority: str = ""
) -> web.Response:
    """401 with the ARM/Graph body and a Bearer challenge."""
    challenge = (
        f'Bearer authorization_uri="{authority}", error="invalid_token", '
        f'error_description="{message}"'
    )
    return error_response(401, code, message, headers={"WWW-Authenticate": challenge})
