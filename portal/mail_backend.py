"""Django email backend that sends the portal's own mail through ACS.

Invitations, password resets and alerts take the same path (adapter → ACS) as
customers' mail, so in development they land in the emulator.
"""

from __future__ import annotations

import base64
import logging
import uuid
from email.utils import getaddresses
from typing import Any

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend

from portal.integrations.azure import client
from portal.integrations.azure.errors import AzureError

logger = logging.getLogger(__name__)

# A header the caller may set to make retries of the same mail idempotent in ACS.
OPERATION_ID_HEADER = "X-Portal-Operation-Id"


def _addresses(values: list[str]) -> list[dict[str, str]]:
    result = []
    for name, address in getaddresses(values):
        entry = {"address": address}
        if name:
            entry["displayName"] = name
        result.append(entry)
    return result


def to_acs_message(message: EmailMessage, sender: str) -> dict[str, Any]:
    content: dict[str, Any] = {"subject": message.subject}
    if message.content_subtype == "html":
        content["html"] = message.body
    else:
        content["plainText"] = message.body
    if isinstance(message, EmailMultiAlternatives):
        for alternative in message.alternatives:
            if alternative[1] == "text/html":
                content["html"] = alternative[0]
    payload: dict[str, Any] = {
        "senderAddress": sender,
        "recipients": {"to": _addresses(message.to)},
        "content": content,
    }
    if message.cc:
        payload["recipients"]["cc"] = _addresses(message.cc)
    if message.bcc:
        payload["recipients"]["bcc"] = _addresses(message.bcc)
    if message.reply_to:
        payload["replyTo"] = _addresses(message.reply_to)
    headers = {
        k: str(v) for k, v in message.extra_headers.items() if k != OPERATION_ID_HEADER
    }
    if headers:
        payload["headers"] = headers
    attachments = []
    for attachment in message.attachments:
        if isinstance(attachment, tuple):
            filename, data, mimetype = attachment
            raw = data.encode() if isinstance(data, str) else data
            attachments.append(
                {
                    "name": filename,
                    "contentType": mimetype or "application/octet-stream",
                    "contentInBase64": base64.b64encode(raw).decode(),
                }
            )
    if attachments:
        payload["attachments"] = attachments
    return payload


class AcsEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        sent = 0
        for message in email_messages:
            try:
                sender = message.from_email or client.portal_mail_sender()
                operation_id = str(
                    message.extra_headers.get(OPERATION_ID_HEADER) or uuid.uuid4()
                )
                client.send_email(
                    connection_string=client.portal_mail_connection_string(),
                    message=to_acs_message(message, sender),
                    operation_id=operation_id,
                )
            except AzureError:
                # Never log the message body or connection string; the id is enough.
                logger.warning("portal mail to %d recipient(s) failed", len(message.to))
                if not self.fail_silently:
                    raise
            else:
                sent += 1
        return sent
