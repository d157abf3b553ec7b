"""SMTP relay (smtp.azurecomm.net stand-in) on loopback, built on aiosmtpd.

* STARTTLS (same server certificate as the HTTPS port) is required before AUTH.
* AUTH LOGIN / PLAIN.  Username: the ``properties.username`` of an ``smtpUsernames``
  resource, or the legacy ``<resource name>|<Entra app id>|<tenant id>`` form (whether
  Azure still accepts it is UNCONFIRMED, azure-facts §6.2).  Password: a current client
  secret of the referenced Entra application (emulated clock; removed secrets fail).
* Failure answers ``535 5.7.3 Authentication unsuccessful``, as ACS does.
* Accepted mail runs through the same pipeline as REST sends.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from .core import Emulator
from .pipeline import SendError

log = logging.getLogger("emulator.smtp")
AUTH_FAILED = "535 5.7.3 Authentication unsuccessful"


class RelayHandler:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    # -- AUTH ----------------------------------------------------------------------
    def authenticator(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False, message=AUTH_FAILED)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        principal = self.resolve(login)
        graph = getattr(self.emu, "graph", None)
        if principal is None or graph is None:
            self.emu.bump("smtp_auth_failures")
            return AuthResult(success=False, handled=False, message=AUTH_FAILED)
        app = graph.app_by_app_id(principal["appId"])
        if (
            app is None
            or principal["tenantId"].lower() != graph.tenant_of(app)
            or not graph.secret_valid(app, password)
        ):
            self.emu.bump("smtp_auth_failures")
            return AuthResult(success=False, handled=False, message=AUTH_FAILED)
        return AuthResult(success=True, auth_data=principal)

    def resolve(self, login: str) -> dict[str, Any] | None:
        arm = self.emu.arm
        for res in arm.find_by_type(("communicationservices", "smtpusernames")):
            props = res["properties"]
            if props["username"].lower() == login.lower():
                return {
                    "resourceId": res["id"].rsplit("/", 2)[0],
                    "appId": props["entraApplicationId"],
                    "tenantId": props["tenantId"],
                    "username": props["username"],
                }
        parts = login.split("|")
        if len(parts) == 3:
            name, app_id, tenant = parts
            for res in arm.find_by_type(("communicationservices",)):
                if res["name"].lower() == name.lower():
                    return {
                        "resourceId": res["id"],
                        "appId": app_id,
                        "tenantId": tenant,
                        "username": login,
                    }
        return None

    # -- DATA ----------------------------------------------------------------------
    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        principal = session.auth_data
        if not isinstance(principal, dict):
            return "530 5.7.57 Client not authenticated to send mail"
        raw = envelope.original_content or b""
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(msg, EmailMessage)
        header_to = [a for _, a in getaddresses(msg.get_all("To", []))]
        header_cc = [a for _, a in getaddresses(msg.get_all("Cc", []))]
        listed = {a.lower() for a in header_to + header_cc}
        rcpts = list(envelope.rcpt_tos)
        to = [a for a in header_to if a.lower() in {r.lower() for r in rcpts}]
        cc = [a for a in header_cc if a.lower() in {r.lower() for r in rcpts}]
        bcc = [r for r in rcpts if r.lower() not in listed]
        if not to and not cc:
            to, bcc = bcc, []
        plain = html = None
        attachments = []
        for part in msg.walk():
            if part.is_multipart():
                continue
            disp = part.get_content_disposition()
            ctype = part.get_content_type()
            if disp == "attachment" or (disp == "inline" and part.get_filename()):
                import base64

                payload = part.get_payload(decode=True) or b""
                attachments.append(
                    {
                        "name": part.get_filename() or "attachment",
                        "contentType": ctype,
                        "contentInBase64": base64.b64encode(payload).decode(),
                    }
                )
            elif ctype == "text/plain" and plain is None:
                plain = part.get_content()
            elif ctype == "text/html" and html is None:
                html = part.get_content()
        message = {
            "senderAddress": envelope.mail_from,
            "content": {
                "subject": str(msg.get("Subject", "")),
                "plainText": plain or ("" if html else " "),
                "html": html,
            },
            "recipients": {
                "to": [{"address": a} for a in to],
                "cc": [{"address": a} for a in cc],
                "bcc": [{"address": a} for a in bcc],
            },
            "attachments": attachments,
        }
        pipeline = self.emu.pipeline
        assert pipeline is not None
        try:
            op, _ = pipeline.submit(
                principal["resourceId"],
                message,
                raw_size=len(raw),
                source="smtp",
                credential=f"smtp:{principal['username']}",
                traffic_source="SMTP",
                raw_mime=raw.decode("utf-8", "replace"),
            )
        except SendError as exc:
            pipeline.record_api_request(principal["resourceId"], "SendMail", exc.status)
            return _smtp_reply(exc)
        pipeline.record_api_request(principal["resourceId"], "SendMail", 202)
        return f"250 2.6.0 <{op['id']}@azurecomm.net> Queued mail for delivery"


def _smtp_reply(exc: SendError) -> str:
    if exc.status == 429:
        return "451 4.7.0 Too many requests. Try again later"
    if exc.code == "InvalidRecipientCount":
        return "550 5.5.3 Too many recipients"
    if exc.code == "MessageTooLarge":
        return "552 5.3.4 Message size exceeds fixed maximum message size"
    if exc.code in ("DomainNotLinked", "InvalidSenderDomain", "InvalidSenderUserName"):
        return (
            "550 5.7.60 SMTP; Client does not have permissions to send as this sender"
        )
    return f"550 5.6.0 {exc.message}"


async def start_smtp(
    emu: Emulator, host: str, port: int, tls: ssl.SSLContext
) -> asyncio.base_events.Server:
    handler = RelayHandler(emu)
    loop = asyncio.get_running_loop()

    def factory() -> SMTP:
        return SMTP(
            handler,
            hostname="smtp.azurecomm.net",
            tls_context=tls,
            require_starttls=True,
            auth_required=True,
            auth_require_tls=True,
            authenticator=handler.authenticator,
            data_size_limit=40 * 1024 * 1024,
            # 1 line per SMTP command keeps slow clients from hogging the loop.
            timeout=60,
        )

    return await loop.create_server(factory, host, port)
