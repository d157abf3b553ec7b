from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from mailops.models import AcsFootprint
from portal.errors import ServiceError
from portal.integrations.azure.client import ResourceGroupRef
from portal.integrations.azure.errors import AzureError
from tenants.accounts.audit import AuditContext
from tenants.accounts.roles import role_can


def require(ctx: AuditContext, capability: str) -> None:
    """Refuse callers whose role lacks ``capability`` (staff and system pass)."""
    if ctx.is_staff or ctx.actor_kind == "system":
        return
    if not role_can(ctx.role, capability):
        raise ServiceError(_("Your role does not allow this action."))


def footprint() -> AcsFootprint:
    """The tenant's ACS footprint; ServiceError until it has been requested."""
    found = AcsFootprint.objects.first()
    if found is None:
        raise ServiceError(_("ACS resources have not been set up for this tenant yet."))
    return found


def ready_footprint() -> AcsFootprint:
    found = footprint()
    if found.state != AcsFootprint.State.READY:
        raise ServiceError(
            _("ACS resources are still being prepared. Try again shortly.")
        )
    return found


def ref(fp: AcsFootprint) -> ResourceGroupRef:
    return ResourceGroupRef(
        subscription_id=fp.subscription_id, resource_group=fp.resource_group
    )


def default_names(schema: str | None = None) -> dict[str, str]:
    schema = (schema or connection.schema_name).replace("_", "-")
    return {
        "subscription_id": settings.AZURE_SUBSCRIPTION_ID,
        "resource_group": f"rg-mail-{schema}",
        "email_service_name": f"es-{schema}",
        "communication_service_name": f"acs-{schema}",
    }


def azure_message(exc: AzureError) -> str:
    """A user-facing explanation of an Azure failure, in the active language."""
    if exc.status == 429:
        return _(
            "Azure is throttling requests right now. Please try again in a minute."
        )
    if exc.retryable:
        return _(
            "Azure did not respond correctly. The portal will retry; please check back."
        )
    return _("Azure refused the request: %(detail)s") % {"detail": str(exc)[:300]}
