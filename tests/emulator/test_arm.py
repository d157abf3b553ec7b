"""ARM Microsoft.Communication through azure-mgmt-communication 3.0.0."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from azure.core.exceptions import (
    ClientAuthenticationError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.mgmt.communication import CommunicationServiceManagementClient

from emulator.defaults import RESOURCE_GROUP, SUBSCRIPTION_ID
from emulator.testing import EmulatorProcess

from .conftest import FAST_CONFIG, Acs, email_client, message, signed_post, unique

API = "?api-version=2025-09-01"
PREFIX = (
    f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}"
    "/providers/Microsoft.Communication"
)

pytestmark = pytest.mark.emulator


@pytest.fixture
def default_polling(emulator: EmulatorProcess) -> Iterator[None]:
    """The shipped behaviour: Retry-After: 1 and one InProgress poll."""
    emulator.admin("/config", "POST", {"retry_after_ms": None})
    try:
        yield
    finally:
        emulator.admin("/config", "POST", FAST_CONFIG)


def test_put_is_an_lro_with_azure_async_operation(
    emulator: EmulatorProcess,
    mgmt: CommunicationServiceManagementClient,
    arm_headers: dict[str, str],
    default_polling: None,
) -> None:
    name = unique("lro")
    r = requests.put(
        f"{emulator.url}{PREFIX}/emailServices/{name}{API}",
        json={"location": "global", "properties": {"dataLocation": "Japan"}},
        headers=arm_headers,
        verify=emulator.ca_path,
        timeout=10,
    )
    assert r.status_code == 201
    assert r.headers["Retry-After"] == "1"
    status_url = r.headers["Azure-AsyncOperation"]
    assert status_url.startswith(emulator.url + "/subscriptions/")
    first = requests.get(status_url, headers=arm_headers, verify=emulator.ca_path)
    assert first.json()["status"] == "InProgress"
    assert first.headers["Retry-After"] == "1"
    second = requests.get(status_url, headers=arm_headers, verify=emulator.ca_path)
    assert second.json()["status"] == "Succeeded"

    # The SDK poller: 201 -> status URL (InProgress, Succeeded) -> final GET.
    poller = mgmt.communication_services.begin_create_or_update(
        RESOURCE_GROUP,
        unique("acs"),
        {"location": "global", "properties": {"dataLocation": "Japan"}},
        polling_interval=0,
    )
    res = poller.result()
    assert res.properties.provisioning_state == "Succeeded"
    assert res.properties.data_location == "Japan"


def test_get_missing_resource_is_404_resource_not_found(
    mgmt: CommunicationServiceManagementClient,
) -> None:
    with pytest.raises(ResourceNotFoundError) as exc:
        mgmt.communication_services.get(RESOURCE_GROUP, "does-not-exist")
    assert exc.value.error.code == "ResourceNotFound"
    with pytest.raises(ResourceNotFoundError) as exc:
        mgmt.sender_usernames.get(RESOURCE_GROUP, "nope", "nope.example", "info")
    assert exc.value.error.code == "ResourceNotFound"


def test_duplicate_communication_service_name_is_409(
    mgmt: CommunicationServiceManagementClient, acs: Acs
) -> None:
    with pytest.raises(ResourceExistsError) as exc:
        mgmt.communication_services.begin_create_or_update(
            "rg-other",
            acs.name,
            {"location": "global", "properties": {"dataLocation": "Japan"}},
        ).result()
    assert exc.value.error.code == "Conflict"
    availability = mgmt.communication_services.check_name_availability(
        {"name": acs.name, "type": "Microsoft.Communication/CommunicationServices"}
    )
    assert availability.name_available is False
    assert availability.reason == "AlreadyExists"


def test_deleting_a_linked_domain_is_409(
    mgmt: CommunicationServiceManagementClient, acs: Acs
) -> None:
    with pytest.raises(ResourceExistsError):
        mgmt.domains.begin_delete(
            RESOURCE_GROUP, acs.email_service, "AzureManagedDomain"
        ).result()


def test_list_follows_next_link(
    emulator: EmulatorProcess,
    mgmt: CommunicationServiceManagementClient,
    arm_headers: dict[str, str],
) -> None:
    rg = unique("rg-page")
    names = sorted(unique("pg") for _ in range(3))
    for n in names:
        mgmt.email_services.begin_create_or_update(
            rg, n, {"location": "global", "properties": {"dataLocation": "Japan"}}
        ).result()
    emulator.admin("/config", "POST", {"page_size": 1})
    try:
        got = [e.name for e in mgmt.email_services.list_by_resource_group(rg)]
        raw = requests.get(
            f"{emulator.url}/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{rg}/"
            f"providers/Microsoft.Communication/emailServices{API}",
            headers=arm_headers,
            verify=emulator.ca_path,
            timeout=10,
        ).json()
    finally:
        emulator.admin("/config", "POST", {"page_size": 50})
    assert got == names
    assert len(raw["value"]) == 1
    assert raw["nextLink"].startswith(emulator.url)
    assert names[0] in [e.name for e in mgmt.email_services.list_by_subscription()]


def test_list_keys_and_regenerate(
    emulator: EmulatorProcess, mgmt: CommunicationServiceManagementClient
) -> None:
    from .conftest import provision

    res = provision(mgmt)
    emulator.admin("/rate-tier", "POST", {"resourceId": res.id, "tier": "raised"})
    keys = mgmt.communication_services.list_keys(RESOURCE_GROUP, res.name)
    assert keys.primary_connection_string == (
        f"endpoint=https://127.0.0.1:{emulator.port}/;accesskey={keys.primary_key}"
    )
    import base64

    assert len(base64.b64decode(keys.primary_key)) == 64
    body = message(res.sender, ["keys@example.com"])
    assert signed_post(emulator, keys.secondary_key, body).status_code == 202

    new = mgmt.communication_services.regenerate_key(
        RESOURCE_GROUP, res.name, {"keyType": "Primary"}
    )
    assert new.primary_key and new.primary_key != keys.primary_key
    old = signed_post(emulator, keys.primary_key, body)
    assert old.status_code == 401
    assert old.json()["error"]["code"] == "Denied"
    assert signed_post(emulator, new.primary_key, body).status_code == 202
    # The SDK with the new connection string works end to end.
    client = email_client(emulator, new.primary_connection_string)
    assert client.begin_send(body).result()["status"] == "Succeeded"


def test_custom_domain_records_and_children(
    mgmt: CommunicationServiceManagementClient, acs: Acs
) -> None:
    dom = mgmt.domains.begin_create_or_update(
        RESOURCE_GROUP,
        acs.email_service,
        "records.example",
        {"location": "global", "properties": {"domainManagement": "CustomerManaged"}},
    ).result()
    recs = dom.properties.verification_records
    assert recs.domain.type == "TXT"
    assert recs.domain.value.startswith("ms-domain-verification=")
    assert recs.spf.value == "v=spf1 include:spf.protection.outlook.com -all"
    assert recs.dkim.name == "selector1-azurecomm-prod-net._domainkey"
    assert recs.dkim2.value == "selector2-azurecomm-prod-net._domainkey.azurecomm.net"
    assert recs.dmarc.name == "_dmarc"
    assert dom.properties.verification_states.domain.status == "NotStarted"

    su = mgmt.sender_usernames.create_or_update(
        RESOURCE_GROUP,
        acs.email_service,
        "records.example",
        "info",
        {"properties": {"username": "info", "displayName": "Info"}},
    )
    assert su.properties.username == "info"
    names = [
        s.name
        for s in mgmt.sender_usernames.list_by_domains(
            RESOURCE_GROUP, acs.email_service, "records.example"
        )
    ]
    assert names == ["info"]
    mgmt.sender_usernames.delete(
        RESOURCE_GROUP, acs.email_service, "records.example", "info"
    )
    smtp = mgmt.smtp_usernames.create_or_update(
        RESOURCE_GROUP,
        acs.name,
        "smtp-arm",
        {
            "properties": {
                "username": unique("arm-user"),
                "entraApplicationId": "00000000-0000-0000-0000-0000000000c1",
                "tenantId": "00000000-0000-0000-0000-0000000000aa",
            }
        },
    )
    assert smtp.properties.entra_application_id.endswith("c1")
    assert [s.name for s in mgmt.smtp_usernames.list(RESOURCE_GROUP, acs.name)] == [
        "smtp-arm"
    ]
    mgmt.smtp_usernames.delete(RESOURCE_GROUP, acs.name, "smtp-arm")
    mgmt.domains.begin_delete(
        RESOURCE_GROUP, acs.email_service, "records.example"
    ).result()


def test_azure_managed_domain_name_is_enforced(
    mgmt: CommunicationServiceManagementClient, acs: Acs
) -> None:
    from azure.core.exceptions import HttpResponseError

    with pytest.raises(HttpResponseError) as exc:
        mgmt.domains.begin_create_or_update(
            RESOURCE_GROUP,
            acs.email_service,
            "other",
            {"location": "global", "properties": {"domainManagement": "AzureManaged"}},
        ).result()
    assert exc.value.status_code == 400


def test_operations_list(mgmt: CommunicationServiceManagementClient) -> None:
    assert any(
        op.name == "Microsoft.Communication/CommunicationServices/read"
        for op in mgmt.operations.list()
    )


def test_arm_fault_injection_500_then_success(
    emulator: EmulatorProcess, mgmt: CommunicationServiceManagementClient, acs: Acs
) -> None:
    emulator.admin("/faults", "POST", {"endpoint": "arm", "kind": "500", "count": 1})
    # azure-core retries GET on 500.
    assert mgmt.communication_services.get(RESOURCE_GROUP, acs.name).name == acs.name
    emulator.admin("/faults", "DELETE")


def test_arm_rejects_graph_token(
    emulator: EmulatorProcess, graph_headers: dict[str, str]
) -> None:
    from azure.core.credentials import AccessToken

    class Fixed:
        def get_token(self, *scopes: str, **kw: object) -> AccessToken:
            return AccessToken(graph_headers["Authorization"][7:], 2**31)

    client = CommunicationServiceManagementClient(
        Fixed(),  # type: ignore[arg-type]
        SUBSCRIPTION_ID,
        base_url=emulator.url,
        connection_verify=emulator.ca_path,
    )
    with pytest.raises(ClientAuthenticationError):
        client.communication_services.get(RESOURCE_GROUP, "x")


def test_initiate_verification_is_a_location_lro(
    emulator: EmulatorProcess,
    mgmt: CommunicationServiceManagementClient,
    acs: Acs,
    arm_headers: dict[str, str],
    default_polling: None,
) -> None:
    name = f"{unique('lro')}.example"
    mgmt.domains.begin_create_or_update(
        RESOURCE_GROUP,
        acs.email_service,
        name,
        {"location": "global", "properties": {"domainManagement": "CustomerManaged"}},
    ).result()
    url = (
        f"{emulator.url}{PREFIX}/emailServices/{acs.email_service}/domains/{name}"
        f"/initiateVerification{API}"
    )
    r = requests.post(
        url,
        json={"verificationType": "DMARC"},
        headers=arm_headers,
        verify=emulator.ca_path,
        timeout=10,
    )
    assert r.status_code == 202
    assert r.headers["Retry-After"] == "1"
    assert r.headers["Location"].startswith(emulator.url)
    assert r.headers["Azure-AsyncOperation"].startswith(emulator.url)
    emulator.admin("/config", "POST", FAST_CONFIG)
    # The SDK poller runs to completion; without a DMARC record the real DNS
    # lookup fails.
    mgmt.domains.begin_initiate_verification(
        RESOURCE_GROUP, acs.email_service, name, {"verificationType": "DMARC"}
    ).result()
    dom = mgmt.domains.get(RESOURCE_GROUP, acs.email_service, name)
    assert dom.properties.verification_states.dmarc.status == "VerificationFailed"
    assert dom.properties.verification_states.dmarc.error_code


def test_patch_lros_for_email_service_and_domain(
    mgmt: CommunicationServiceManagementClient, acs: Acs
) -> None:
    es = mgmt.email_services.begin_update(
        RESOURCE_GROUP, acs.email_service, {"tags": {"env": "test"}}
    ).result()
    assert es.tags == {"env": "test"}
    name = f"{unique('track')}.example"
    mgmt.domains.begin_create_or_update(
        RESOURCE_GROUP,
        acs.email_service,
        name,
        {"location": "global", "properties": {"domainManagement": "CustomerManaged"}},
    ).result()
    dom = mgmt.domains.begin_update(
        RESOURCE_GROUP,
        acs.email_service,
        name,
        {"properties": {"userEngagementTracking": "Enabled"}},
    ).result()
    assert dom.properties.user_engagement_tracking == "Enabled"
    mgmt.domains.begin_delete(RESOURCE_GROUP, acs.email_service, name).result()
    with pytest.raises(ResourceNotFoundError):
        mgmt.domains.get(RESOURCE_GROUP, acs.email_service, name)
