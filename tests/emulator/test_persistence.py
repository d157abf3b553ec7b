"""State survives a restart on the same state directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.mgmt.communication import CommunicationServiceManagementClient

from emulator.defaults import RESOURCE_GROUP, SUBSCRIPTION_ID
from emulator.testing import start_emulator

from .conftest import email_client, make_credential, message, provision

pytestmark = pytest.mark.emulator


def _mgmt(emu) -> CommunicationServiceManagementClient:  # type: ignore[no-untyped-def]
    return CommunicationServiceManagementClient(
        make_credential(emu),
        SUBSCRIPTION_ID,
        base_url=emu.url,
        connection_verify=emu.ca_path,
        polling_interval=0,
    )


def test_restart_keeps_resources_keys_and_history(tmp_path: Path) -> None:
    state = tmp_path / "state"
    fast = {"send_delay_ms": 0, "delivery_delay_ms": 0, "retry_after_ms": 20}
    with start_emulator(state) as emu:
        emu.admin("/config", "POST", fast)
        acs = provision(_mgmt(emu))
        sent = (
            email_client(emu, acs.connection_string)
            .begin_send(message(acs.sender, ["persist@delivered.example"]))
            .result()
        )
        port = emu.port
        ca = Path(emu.ca_path).read_bytes()

    with start_emulator(state, port=port) as emu:
        assert Path(emu.ca_path).read_bytes() == ca  # same CA, clients keep trusting
        mgmt = _mgmt(emu)
        res = mgmt.communication_services.get(RESOURCE_GROUP, acs.name)
        assert res.properties.linked_domains == [acs.domain_id]
        keys = mgmt.communication_services.list_keys(RESOURCE_GROUP, acs.name)
        assert keys.primary_key == acs.primary_key
        assert emu.admin(f"/outbox/{sent['id']}")["status"] == "Succeeded"
        assert emu.admin("/config")["send_delay_ms"] == 0
        again = email_client(emu, acs.connection_string).begin_send(
            message(acs.sender, ["again@delivered.example"])
        )
        assert again.result()["status"] == "Succeeded"


def test_admin_reset_restores_defaults(tmp_path: Path) -> None:
    with start_emulator(tmp_path / "reset") as emu:
        emu.admin("/config", "POST", {"retry_after_ms": 20, "page_size": 3})
        mgmt = _mgmt(emu)
        acs = provision(mgmt)
        assert emu.admin("/reset", "POST") == {"reset": True}
        assert emu.admin("/config")["page_size"] == 50
        assert emu.admin("/counters")["accepted_sends"] == 0
        # The default service principal still authenticates after a reset.
        fresh = _mgmt(emu)
        names = [c.name for c in fresh.communication_services.list_by_subscription()]
        assert acs.name not in names
