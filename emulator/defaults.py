"""Default identities and well-known ids of a fresh emulator state.

* ``SUBSCRIPTION_ID`` ``00000000-0000-0000-0000-000000000001``: the only subscription.
* ``TENANT_ID`` ``00000000-0000-0000-0000-0000000000aa``: the Entra tenant.
* ``CLIENT_ID`` ``00000000-0000-0000-0000-0000000000c1`` with ``CLIENT_SECRET``
  ``emulator-portal-secret``: a service principal (also a Graph application) that may
  call every API.  Use them with ``azure.identity.ClientSecretCredential``.
* ``WORKSPACE_ID`` ``11111111-2222-3333-4444-555555555555``: the Log Analytics
  workspace that holds the email logs of every communication service.
* ``RESOURCE_GROUP`` ``rg-portal``: the portal's default resource group.  It need not
  pre-exist: an ARM PUT creates resources inside any resource group name.

These are test credentials for a loopback-only process, not secrets.
"""

from __future__ import annotations

SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000001"
TENANT_ID = "00000000-0000-0000-0000-0000000000aa"
CLIENT_ID = "00000000-0000-0000-0000-0000000000c1"
CLIENT_SECRET = "emulator-portal-secret"  # noqa: S105 - documented test credential
CLIENT_OBJECT_ID = "00000000-0000-0000-0000-0000000000d1"
WORKSPACE_ID = "11111111-2222-3333-4444-555555555555"
RESOURCE_GROUP = "rg-portal"

DEFAULT_HTTP_PORT = 8443
DEFAULT_SMTP_PORT = 2587
DEFAULT_DNS_PORT = 5354

# Audiences (token "aud" claims) accepted per API family.
ARM_AUDIENCES = ("https://management.azure.com", "https://management.core.windows.net")
GRAPH_AUDIENCES = (
    "https://graph.microsoft.com",
    "00000003-0000-0000-c000-000000000000",
)
LOGS_AUDIENCES = ("https://api.loganalytics.io",)
METRICS_AUDIENCES = (
    "https://metrics.monitor.azure.com",
    "https://management.azure.com",
)
EMAIL_AUDIENCES = ("https://communication.azure.com",)
