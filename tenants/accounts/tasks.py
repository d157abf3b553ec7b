from __future__ import annotations

from typing import Any

from django.utils import timezone

from portal.celery import app
from portal.integrations.azure.errors import AzureError
from tenants.accounts.models import Invitation

# Seconds between retries of a retryable ACS failure (429/5xx/network).
RETRY_COUNTDOWN = 30


@app.task(bind=True, max_retries=5)
def invitation_send_task(self: Any, invitation_id: int) -> None:
    """Send the invitation mail once. Idempotent and safe with several workers.

    The conditional update claims the row before sending; a retryable ACS failure
    releases the claim and retries, a terminal one leaves it for staff to see.
    """
    from tenants.accounts.mail import send_invitation_mail

    invitation = Invitation.objects.filter(pk=invitation_id).first()
    if invitation is None or not invitation.is_open:
        return
    claimed = Invitation.objects.filter(pk=invitation_id, sent_at__isnull=True).update(
        sent_at=timezone.now()
    )
    if not claimed:
        return
    try:
        send_invitation_mail(invitation)
    except AzureError as exc:
        Invitation.objects.filter(pk=invitation_id).update(sent_at=None)
        if exc.retryable:
            raise self.retry(exc=exc, countdown=RETRY_COUNTDOWN) from exc
        raise
