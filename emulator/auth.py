"""Bearer tokens (HS256 JWTs signed with a key in the state dir) and ACS HMAC."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from .defaults import TENANT_ID

TOKEN_LIFETIME = 3599
EMPTY_SHA256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def load_signing_key(state_dir: Path) -> bytes:
    path = state_dir / "token-signing.key"
    if not path.exists():
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


def audience_from_scope(scope: str) -> str:
    """``https://communication.azure.com//.default`` -> ``https://communication.azure.com``.

    The email SDK's scope has a double slash (azure-facts §2.6); strip every
    trailing slash so it matches the resource URI like Entra does.
    """
    first = scope.split()[0] if scope.strip() else ""
    if first.endswith("/.default"):
        first = first[: -len("/.default")]
    return first.rstrip("/")


def issue_token(
    key: bytes,
    *,
    audience: str,
    client_id: str,
    now: float,
    issuer: str,
    tenant_id: str = TENANT_ID,
) -> str:
    header = {"alg": "HS256", "typ": "JWT", "kid": "emulator"}
    claims = {
        "aud": audience,
        "iss": issuer,
        "iat": int(now),
        "nbf": int(now) - 300,
        "exp": int(now) + TOKEN_LIFETIME,
        "appid": client_id,
        "azp": client_id,
        "oid": client_id,
        "sub": client_id,
        "tid": tenant_id,
        "idtyp": "app",
        "jti": str(uuid.uuid4()),
        "ver": "2.0",
    }
    signing_input = (
        _b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    sig = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64url(sig)


class TokenError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def verify_token(
    key: bytes, token: str, *, audiences: tuple[str, ...], now: float
) -> dict[str, Any]:
    """Return the claims or raise TokenError with an ARM-style code."""
    try:
        head, body, sig = token.split(".")
        expected = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _b64url_decode(sig)):
            raise ValueError("bad signature")
        claims = json.loads(_b64url_decode(body))
    except (ValueError, TypeError) as exc:
        raise TokenError(
            "InvalidAuthenticationToken",
            "The access token is invalid.",
        ) from exc
    if claims.get("exp", 0) <= now:
        raise TokenError(
            "ExpiredAuthenticationToken",
            "The access token expiry UTC time is earlier than current UTC time.",
        )
    aud = str(claims.get("aud", "")).rstrip("/")
    if not any(aud == a.rstrip("/") for a in audiences):
        raise TokenError(
            "InvalidAuthenticationTokenAudience",
            f"The access token has been obtained for wrong audience or resource "
            f"'{aud}'. It should exactly match with one of the allowed audiences "
            f"{', '.join(audiences)}.",
        )
    return claims


# -- ACS HMAC -------------------------------------------------------------------
def content_sha256(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def string_to_sign(
    method: str, path_and_query: str, date: str, host: str, content_hash: str
) -> bytes:
    return f"{method}\n{path_and_query}\n{date};{host};{content_hash}".encode()


def sign(key: bytes, sts: bytes) -> bytes:
    return hmac.new(key, sts, hashlib.sha256).digest()


def parse_hmac_header(value: str) -> tuple[list[str], bytes] | None:
    """``HMAC-SHA256 SignedHeaders=a;b;c&Signature=...`` -> (headers, signature)."""
    if not value.startswith("HMAC-SHA256 "):
        return None
    params: dict[str, str] = {}
    for part in value[len("HMAC-SHA256 ") :].split("&"):
        name, _, val = part.partition("=")
        params[name.strip().lower()] = val.strip()
    try:
        sig = base64.b64decode(params["signature"], validate=True)
    except (KeyError, ValueError):
        return None
    signed = [h.strip().lower() for h in params.get("signedheaders", "").split(";")]
    return signed, sig


_last_date: tuple[str, float | None] = ("", None)


def parse_http_date(value: str) -> float | None:
    # Many concurrent requests carry the same x-ms-date second: parse it once.
    global _last_date
    if value == _last_date[0]:
        return _last_date[1]
    try:
        parsed: float | None = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        parsed = None
    _last_date = (value, parsed)
    return parsed
