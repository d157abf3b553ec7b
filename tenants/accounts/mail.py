from __future__ import annotations

import uuid

from django.db import connection
from django.urls import reverse

from portal.emails import make_message
from portal.mail_backend import OPERATION_ID_HEADER
from tenants.accounts.models import Invitation
from tenants.accounts.roles import Role
from tenants.accounts.services import invitation_token
from tenants.hosts import tenant_origin
from tenants.models import Customer


def send_invitation_mail(invitation: Invitation) -> None:
    """Send the invitation link for the current schema's portal.

    The ACS operation id is derived from the invitation, so a retried task can
    never make ACS send the same invitation twice.
    """
    # connection.tenant may be a FakeTenant inside schema_context(); load the row.
    tenant = Customer.objects.get(schema_name=connection.schema_name)
    link = tenant_origin(tenant) + reverse(
        "invitation_accept", kwargs={"token": invitation_token(invitation)}
    )
    inviter = invitation.invited_by.display_name if invitation.invited_by else ""
    message = make_message(
        "invitation",
        [invitation.email],
        {
            "link": link,
            "tenant_name": getattr(tenant, "name", ""),
            "inviter": inviter,
            "role": Role(invitation.role).label,
            "expires_at": invitation.expires_at,
        },
        language=invitation.language,
    )
    message.extra_headers[OPERATION_ID_HEADER] = str(
        uuid.uuid5(
            uuid.NAMESPACE_URL,
            f"invitation:{connection.schema_name}:{invitation.pk}:{invitation.nonce}",
        )
    )
    message.send()
