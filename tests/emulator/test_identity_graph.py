"""Entra token endpoint, bearer verification and Graph application secrets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential

from emulator.defaults import CLIENT_ID, SUBSCRIPTION_ID, TENANT_ID
from emulator.testing import EmulatorProcess

from .conftest import make_credential

pytestmark = pytest.mark.emulator


def test_openid_configuration_points_at_emulator(emulator: EmulatorProcess) -> None:
    r = requests.get(
        f"{emulator.url}/{TENANT_ID}/v2.0/.well-known/openid-configuration",
        verify=emulator.ca_path,
        timeout=10,
    )
    assert r.status_code == 200
    assert r.json()["token_endpoint"] == (
        f"{emulator.url}/{TENANT_ID}/oauth2/v2.0/token"
    )


def test_client_secret_credential_gets_token(
    credential: ClientSecretCredential,
) -> None:
    token = credential.get_token("https://management.azure.com/.default")
    assert token.token.count(".") == 2
    assert token.expires_on > datetime.now(UTC).timestamp() + 3000


def test_wrong_secret_is_rejected(emulator: EmulatorProcess) -> None:
    cred = make_credential(emulator, secret="not-the-secret")
    with pytest.raises(ClientAuthenticationError) as exc:
        cred.get_token("https://management.azure.com/.default")
    assert "AADSTS7000215" in str(exc.value)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "AuthenticationFailed"),
        ({"Authorization": "Bearer not-a-jwt"}, "InvalidAuthenticationToken"),
    ],
)
def test_arm_rejects_missing_or_invalid_token(
    emulator: EmulatorProcess, headers: dict[str, str], code: str
) -> None:
    r = requests.get(
        f"{emulator.url}/subscriptions/{SUBSCRIPTION_ID}/providers/"
        "Microsoft.Communication/communicationServices?api-version=2025-09-01",
        headers=headers,
        verify=emulator.ca_path,
        timeout=10,
    )
    assert r.status_code == 401
    assert r.json()["error"]["code"] == code
    assert r.headers["WWW-Authenticate"].startswith("Bearer authorization_uri=")


def test_graph_token_is_rejected_by_arm_and_arm_token_by_graph(
    emulator: EmulatorProcess,
    graph_headers: dict[str, str],
    arm_headers: dict[str, str],
) -> None:
    r = requests.get(
        f"{emulator.url}/subscriptions/{SUBSCRIPTION_ID}/providers/"
        "Microsoft.Communication/communicationServices?api-version=2025-09-01",
        headers=graph_headers,
        verify=emulator.ca_path,
        timeout=10,
    )
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"
    r = requests.get(
        f"{emulator.url}/v1.0/applications",
        headers=arm_headers,
        verify=emulator.ca_path,
        timeout=10,
    )
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert r.headers["WWW-Authenticate"].startswith("Bearer ")


def test_expired_token_is_rejected(
    emulator: EmulatorProcess, arm_headers: dict[str, str]
) -> None:
    url = (
        f"{emulator.url}/subscriptions/{SUBSCRIPTION_ID}/providers/"
        "Microsoft.Communication/communicationServices?api-version=2025-09-01"
    )
    emulator.admin("/clock", "POST", {"advance_seconds": 2 * 3600})
    try:
        r = requests.get(url, headers=arm_headers, verify=emulator.ca_path, timeout=10)
    finally:
        emulator.admin("/clock", "POST", {"reset": True})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "ExpiredAuthenticationToken"


def test_graph_application_password_lifecycle(
    emulator: EmulatorProcess, graph_headers: dict[str, str]
) -> None:
    base = f"{emulator.url}/v1.0/applications"
    kw = {"headers": graph_headers, "verify": emulator.ca_path, "timeout": 10}
    app = requests.post(base, json={"displayName": "smtp-app"}, **kw)
    assert app.status_code == 201
    obj_id, app_id = app.json()["id"], app.json()["appId"]

    far = (datetime.now(UTC) + timedelta(days=365 * 5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = requests.post(
        f"{base}/{obj_id}/addPassword",
        json={"passwordCredential": {"displayName": "rotation-1", "endDateTime": far}},
        **kw,
    )
    assert r.status_code == 200
    cred = r.json()
    assert cred["secretText"] and cred["hint"] == cred["secretText"][:3]
    end = datetime.fromisoformat(cred["endDateTime"].replace("Z", "+00:00"))
    # emulator behaviour: capped at 24 months from now
    assert end < datetime.now(UTC) + timedelta(days=732)

    listed = requests.get(base, params={"$filter": f"appId eq '{app_id}'"}, **kw).json()
    assert [a["id"] for a in listed["value"]] == [obj_id]
    got = requests.get(f"{base}/{obj_id}", **kw).json()
    assert got["passwordCredentials"][0]["keyId"] == cred["keyId"]
    assert got["passwordCredentials"][0]["secretText"] is None

    # The new secret works at the token endpoint...
    new_cred = make_credential(emulator, secret=cred["secretText"], client_id=app_id)
    assert new_cred.get_token("https://graph.microsoft.com/.default").token

    r = requests.post(
        f"{base}/{obj_id}/removePassword", json={"keyId": cred["keyId"]}, **kw
    )
    assert r.status_code == 204
    assert requests.get(f"{base}/{obj_id}", **kw).json()["passwordCredentials"] == []
    # ...and stops working once removed.
    with pytest.raises(ClientAuthenticationError):
        make_credential(
            emulator, secret=cred["secretText"], client_id=app_id
        ).get_token("https://graph.microsoft.com/.default")

    missing = requests.get(f"{base}/00000000-0000-0000-0000-00000000dead", **kw)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "Request_ResourceNotFound"


def test_default_principal_is_a_graph_application(
    emulator: EmulatorProcess, graph_headers: dict[str, str]
) -> None:
    r = requests.get(
        f"{emulator.url}/v1.0/applications",
        params={"$filter": f"appId eq '{CLIENT_ID}'"},
        headers=graph_headers,
        verify=emulator.ca_path,
        timeout=10,
    )
    assert r.status_code == 200
    assert r.json()["value"][0]["appId"] == CLIENT_ID


def test_alternate_key_form(
    emulator: EmulatorProcess, graph_headers: dict[str, str]
) -> None:
    r = requests.get(
        f"{emulator.url}/v1.0/applications(appId='{CLIENT_ID}')",
        headers=graph_headers,
        verify=emulator.ca_path,
        timeout=10,
    )
    assert r.status_code == 200
    assert r.json()["appId"] == CLIENT_ID


def test_second_tenant_principal(emulator: EmulatorProcess) -> None:
    tenant = "00000000-0000-0000-0000-0000000000bb"
    p = emulator.admin("/principals", "POST", {"tenantId": tenant})
    cred = ClientSecretCredential(
        tenant,
        p["clientId"],
        p["clientSecret"],
        authority=emulator.url,
        disable_instance_discovery=True,
        connection_verify=emulator.ca_path,
    )
    headers = {
        "Authorization": "Bearer "
        + cred.get_token("https://graph.microsoft.com/.default").token
    }
    apps = requests.get(
        f"{emulator.url}/v1.0/applications",
        headers=headers,
        verify=emulator.ca_path,
        timeout=10,
    ).json()["value"]
    # Only the second tenant's own application is visible.
    assert [a["appId"] for a in apps] == [p["clientId"]]
    # The principal is unknown in the default tenant.
    with pytest.raises(ClientAuthenticationError):
        make_credential(
            emulator, secret=p["clientSecret"], client_id=p["clientId"]
        ).get_token("https://graph.microsoft.com/.default")
