from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from portal.integrations.azure import client
from portal.integrations.azure.errors import AzureError


class Command(BaseCommand):
    help = (
        "Create (or find) the MSP's own ACS resource that sends the portal's mail "
        "(invitations, password resets, alerts). Idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            resource = client.ensure_portal_mail_resource()
        except AzureError as exc:
            raise CommandError(f"ACS set-up failed: {exc}") from None
        self.stdout.write(
            f"portal mail: {resource.resource_id} sends as {resource.sender}"
        )
