"""Azure adapter: builds the real SDK clients from settings and speaks domain terms.

The only module in the portal that imports ``azure.*``. Settings choose where it
connects (the emulator on loopback or real Azure), never which code runs: the
emulator is trusted through ``connection_verify``; https and bearer policies stay on.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from azure.communication.email import EmailClient
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.identity import ClientSecretCredential
from azure.mgmt.communication import CommunicationServiceManagementClient
from azure.mgmt.communication.models import (
    CommunicationServiceResource,
    DomainResource,
    EmailServiceResource,
)
from django.conf import settings

from portal.integrations.azure.errors import AzureError, AzureNotFound, AzureThrottled

logger = logging.getLogger(__name__)

ARM_SCOPE = "https://management.azure.com/.default"


# --- errors -----------------------------------------------------------------------------


def _translate(exc: Exception) -> AzureError:
    if isinstance(exc, ResourceNotFoundError):
        return AzureNotFound(str(exc.message or exc))
    if isinstance(exc, ClientAuthenticationError):
        return AzureError(
            f"authentication failed: {exc.message}", retryable=False, status=401
        )
    if isinstance(exc, HttpResponseError):
        status = exc.status_code or 0
        code = getattr(exc.error, "code", "") or ""
        if status == 429:
            retry_after = 1
            if exc.response is not None:
                try:
                    retry_after = max(
                        1, int(exc.response.headers.get("Retry-After", "1"))
                    )
                except ValueError:
                    retry_after = 1
            return AzureThrottled(str(exc.message), retry_after=retry_after, code=code)
        return AzureError(
            str(exc.message or exc), retryable=status >= 500, status=status, code=code
        )
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        return AzureError(f"network error: {exc}", retryable=True)
    return AzureError(str(exc), retryable=False)


@contextmanager
def _azure_errors() -> Iterator[None]:
    try:
        yield
    except (HttpResponseError, ServiceRequestError, ServiceResponseError) as exc:
        raise _translate(exc) from exc


# --- client factories (built lazily, never at import) -----------------------------------


def _common_kwargs() -> dict[str, Any]:
    return {
        "connection_verify": settings.AZURE_CA_BUNDLE,
        "connection_timeout": settings.AZURE_TIMEOUT_SECONDS,
        "read_timeout": settings.AZURE_TIMEOUT_SECONDS,
    }


@functools.cache
def get_credential() -> ClientSecretCredential:
    return ClientSecretCredential(
        settings.AZURE_TENANT_ID,
        settings.AZURE_CLIENT_ID,
        settings.AZURE_CLIENT_SECRET,
        authority=settings.AZURE_AUTHORITY,
        disable_instance_discovery=settings.AZURE_DISABLE_INSTANCE_DISCOVERY,
        connection_verify=settings.AZURE_CA_BUNDLE,
    )


@functools.cache
def get_arm_client() -> CommunicationServiceManagementClient:
    return CommunicationServiceManagementClient(
        get_credential(),
        settings.AZURE_SUBSCRIPTION_ID,
        base_url=settings.AZURE_ARM_URL,
        **_common_kwargs(),
    )


def _email_client(connection_string: str) -> EmailClient:
    return EmailClient.from_connection_string(connection_string, **_common_kwargs())


def reset_clients() -> None:
    """Forget cached clients and keys (tests that change settings call this)."""
    get_credential.cache_clear()
    get_arm_client.cache_clear()
    portal_mail_connection_string.cache_clear()
    portal_mail_sender.cache_clear()


# --- domain operations ------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    operation_id: str
    status: str


def send_email(
    *, connection_string: str, message: dict[str, Any], operation_id: str
) -> SendResult:
    """Send one message through ACS and wait for the operation to finish.

    ``operation_id`` makes retries safe: ACS never sends the same id twice.
    Returns only when the operation ``Succeeded``; raises AzureError otherwise.
    """
    client = _email_client(connection_string)
    with _azure_errors():
        poller = client.begin_send(message, operation_id=operation_id)
        result = poller.result()
    status = str(result.get("status", ""))
    if status.lower() != "succeeded":
        error = result.get("error") or {}
        raise AzureError(
            f"send {operation_id} ended {status}: {error.get('message', '')}",
            retryable=False,
            code=str(error.get("code", "")),
        )
    return SendResult(operation_id=str(result.get("id", operation_id)), status=status)


@dataclass(frozen=True)
class PortalMailResource:
    resource_id: str
    sender: str


def _managed_sender(domain: Any) -> str:
    return f"DoNotReply@{domain.from_sender_domain or domain.mail_from_sender_domain}"


def ensure_portal_mail_resource() -> PortalMailResource:
    """Create (or find) the MSP's own ACS resource used for the portal's mail.

    Idempotent: an Email Communication Service with an Azure-managed domain, a
    Communication Service, and the link between them. Returns its id and sender.
    """
    arm = get_arm_client()
    rg = settings.PORTAL_MAIL_ACS_RESOURCE_GROUP
    es_name = settings.PORTAL_MAIL_EMAIL_SERVICE_NAME
    acs_name = settings.PORTAL_MAIL_ACS_NAME
    with _azure_errors():
        arm.email_services.begin_create_or_update(
            rg, es_name, EmailServiceResource(location="global", data_location="Japan")
        ).result()
        domain = arm.domains.begin_create_or_update(
            rg,
            es_name,
            "AzureManagedDomain",
            DomainResource(location="global", domain_management="AzureManaged"),
        ).result()
        acs = arm.communication_services.begin_create_or_update(
            rg,
            acs_name,
            CommunicationServiceResource(
                location="global", data_location="Japan", linked_domains=[domain.id]
            ),
        ).result()
    return PortalMailResource(resource_id=acs.id, sender=_managed_sender(domain))


@functools.cache
def portal_mail_connection_string() -> str:
    """Connection string for the portal's own mail, read through ARM listKeys.

    Cached per process; keys are never written to the database or logs.
    """
    if settings.PORTAL_MAIL_CONNECTION_STRING:
        return str(settings.PORTAL_MAIL_CONNECTION_STRING)
    with _azure_errors():
        keys = get_arm_client().communication_services.list_keys(
            settings.PORTAL_MAIL_ACS_RESOURCE_GROUP, settings.PORTAL_MAIL_ACS_NAME
        )
    return str(keys.primary_connection_string)


@functools.cache
def portal_mail_sender() -> str:
    """The sender for portal mail: DEFAULT_FROM_EMAIL, else the managed DoNotReply."""
    if settings.DEFAULT_FROM_EMAIL:
        return str(settings.DEFAULT_FROM_EMAIL)
    with _azure_errors():
        domain = get_arm_client().domains.get(
            settings.PORTAL_MAIL_ACS_RESOURCE_GROUP,
            settings.PORTAL_MAIL_EMAIL_SERVICE_NAME,
            "AzureManagedDomain",
        )
    return _managed_sender(domain)


def check_reachable() -> None:
    """Raise AzureError unless Entra issues a token for ARM (used by /readyz)."""
    try:
        get_credential().get_token(ARM_SCOPE)
    except ClientAuthenticationError as exc:
        raise AzureError(
            f"token request failed: {exc.message}", retryable=True
        ) from exc
    except ServiceRequestError as exc:
        raise AzureError(f"unreachable: {exc}", retryable=True) from exc
