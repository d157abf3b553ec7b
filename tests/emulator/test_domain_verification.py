"""initiateVerification performs a real DNS lookup against the emulator's DNS."""

from __future__ import annotations

import pytest
from azure.mgmt.communication import CommunicationServiceManagementClient

from emulator.defaults import RESOURCE_GROUP
from emulator.testing import EmulatorProcess

from .conftest import Acs, unique

pytestmark = pytest.mark.emulator


@pytest.fixture
def dns_ready(emulator: EmulatorProcess) -> None:
    if not emulator.admin("/info")["dns"]:
        pytest.skip("emulator.dns_server is not available")


def test_initiate_verification_lro_with_dns(
    emulator: EmulatorProcess,
    mgmt: CommunicationServiceManagementClient,
    acs: Acs,
    dns_ready: None,
) -> None:
    name = f"{unique('v')}.example"
    dom = mgmt.domains.begin_create_or_update(
        RESOURCE_GROUP,
        acs.email_service,
        name,
        {"location": "global", "properties": {"domainManagement": "CustomerManaged"}},
    ).result()
    recs = dom.properties.verification_records
    emulator.admin("/dns/zones", "POST", {"zone": name})
    emulator.admin(
        "/dns/records",
        "POST",
        {
            "name": name,
            "type": "TXT",
            # A soft-fail SPF (~all) next to the right Domain record.
            "values": [
                recs.domain.value,
                "v=spf1 include:spf.protection.outlook.com ~all",
            ],
        },
    )
    emulator.admin(
        "/dns/records",
        "POST",
        {
            "name": f"{recs.dkim.name}.{name}",
            "type": "CNAME",
            "values": [recs.dkim.value],
        },
    )

    def verify(kind: str) -> tuple[str, str]:
        mgmt.domains.begin_initiate_verification(
            RESOURCE_GROUP, acs.email_service, name, {"verificationType": kind}
        ).result()
        state = mgmt.domains.get(RESOURCE_GROUP, acs.email_service, name)
        st = state.properties.verification_states[kind]
        return st["status"], st["errorCode"]

    assert verify("Domain") == ("Verified", "")
    status, error = verify("SPF")
    assert status == "VerificationFailed" and error
    assert verify("DKIM") == ("Verified", "")
    assert verify("DKIM2")[0] == "VerificationFailed"

    emulator.admin(
        "/dns/records",
        "POST",
        {"name": name, "type": "TXT", "values": [recs.domain.value, recs.spf.value]},
    )
    assert verify("SPF") == ("Verified", "")
    mgmt.domains.begin_cancel_verification(
        RESOURCE_GROUP, acs.email_service, name, {"verificationType": "DMARC"}
    ).result()
