"""DNS linter: real queries against the emulator's authoritative DNS server."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from emulator.dns_server import DnsServerHandle, ZoneStore, start_dns_server
from mailops.dnslint import (
    HOST_KEYS,
    ExpectedRecord,
    Finding,
    LintReport,
    expected_from_arm,
    guidance_for_host,
    lint_domain,
    merge_spf,
)

ACS_SPF = "v=spf1 include:spf.protection.outlook.com -all"
SEL1 = "selector1-azurecomm-prod-net._domainkey"
SEL2 = "selector2-azurecomm-prod-net._domainkey"
TOKEN = "ms-domain-verification=0f8fad5b-d9cb-469f-a165-70867728950e"


class Server:
    """The emulator DNS server on its own asyncio loop in a daemon thread."""

    def __init__(self, store: ZoneStore) -> None:
        self.store = store
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.handle: DnsServerHandle = asyncio.run_coroutine_threadsafe(
            start_dns_server(store, "127.0.0.1", 0), self.loop
        ).result(10)
        self.port = self.handle.port

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.handle.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    store = ZoneStore(str(tmp_path_factory.mktemp("dns") / "dns.sqlite3"))
    # Stand-ins for the third-party SPF records includes point at. The ACS
    # include costs two lookups (itself plus one nested include), like the
    # real record, so transitive counting is exercised by every test.
    store.add_zone("protection.outlook.com")
    store.set_record(
        "spf.protection.outlook.com",
        "TXT",
        ["v=spf1 ip4:40.92.0.0/15 include:spfd.protection.outlook.com -all"],
    )
    store.set_record(
        "spfd.protection.outlook.com", "TXT", ["v=spf1 ip6:2a01:111:f400::/48 -all"]
    )
    store.add_zone("google.com")
    store.set_record("_spf.google.com", "TXT", ["v=spf1 ip4:35.190.247.0/24 ~all"])
    srv = Server(store)
    try:
        yield srv
    finally:
        srv.stop()
        store.close()


def setup_domain(
    server: Server,
    domain: str,
    *,
    apex_txt: list[str] | None = None,
    dmarc: str | None = "v=DMARC1; p=reject; rua=mailto:dmarc@example.jp",
    dkim: bool = True,
) -> None:
    """A zone with every ACS record correct unless overridden."""
    store = server.store
    store.add_zone(domain)
    store.set_record(domain, "TXT", apex_txt or [TOKEN, ACS_SPF])
    if dkim:
        for sel in (SEL1, SEL2):
            store.set_record(f"{sel}.{domain}", "CNAME", [f"{sel}.azurecomm.net"])
    if dmarc is not None:
        store.set_record(f"_dmarc.{domain}", "TXT", [dmarc])


def expected(domain: str) -> list[ExpectedRecord]:
    # Names as ARM reports them: the apex records carry the domain itself.
    return expected_from_arm(
        {
            "Domain": {"type": "TXT", "name": domain, "value": TOKEN, "ttl": 3600},
            "SPF": {"type": "TXT", "name": domain, "value": ACS_SPF, "ttl": 3600},
            "DKIM": {"type": "CNAME", "name": SEL1, "value": f"{SEL1}.azurecomm.net"},
            "DKIM2": {"type": "CNAME", "name": SEL2, "value": f"{SEL2}.azurecomm.net"},
            "DMARC": {"type": "TXT", "name": "_dmarc", "value": "v=DMARC1; p=none;"},
        }
    )


def lint(server: Server, domain: str, **kw: float) -> LintReport:
    return lint_domain(
        domain, expected(domain), nameservers=["127.0.0.1"], port=server.port, **kw
    )


def codes(report: LintReport) -> dict[str, list[str]]:
    return {k: [f.code for f in v] for k, v in report.by_kind().items()}


def spf(report: LintReport) -> list[str]:
    return codes(report)["SPF"]


def first(report: LintReport, code: str) -> Finding:
    return next(f for f in report.findings if f.code == code)


def test_all_good_domain(server: Server) -> None:
    setup_domain(server, "good.lint.test")
    report = lint(server, "GOOD.lint.test.")
    assert report.domain == "good.lint.test"
    assert codes(report) == {
        "Domain": ["domain_txt_ok"],
        "SPF": ["spf_ok"],
        "DKIM": ["dkim_ok"],
        "DKIM2": ["dkim_ok"],
        "DMARC": ["dmarc_ok"],
    }
    assert report.ok
    assert report.spf_lookup_count == 2  # the include + its nested include
    assert report.checked_at.utcoffset() is not None
    # history row: JSON round trip
    data = json.loads(json.dumps(report.to_json()))
    again = LintReport.from_json(data)
    assert again == dataclasses.replace(
        report,
        findings=tuple(
            dataclasses.replace(f, message=str(f.message)) for f in report.findings
        ),
    )
    assert isinstance(again.findings[0].message, str)
    assert "2" in str(first(report, "spf_ok").message)


def test_softfail_all(server: Server) -> None:
    setup_domain(
        server,
        "soft.lint.test",
        apex_txt=[TOKEN, "v=spf1 include:spf.protection.outlook.com ~all"],
    )
    report = lint(server, "soft.lint.test")
    assert spf(report) == ["spf_softfail_all"]
    assert not report.ok
    f = first(report, "spf_softfail_all")
    assert f.severity == "error"
    assert f.suggestion == ACS_SPF
    assert "-all" in str(f.message)


@pytest.mark.parametrize(
    ("all_term", "code"),
    [("?all", "spf_neutral_all"), ("+all", "spf_pass_all"), ("", "spf_all_missing")],
)
def test_other_all_qualifiers(server: Server, all_term: str, code: str) -> None:
    domain = f"{code.replace('_', '-')}.lint.test"
    setup_domain(
        server,
        domain,
        apex_txt=[TOKEN, f"v=spf1 include:spf.protection.outlook.com {all_term}"],
    )
    report = lint(server, domain)
    assert spf(report) == [code]
    assert first(report, code).suggestion == ACS_SPF


def test_two_spf_records(server: Server) -> None:
    setup_domain(
        server,
        "two.lint.test",
        apex_txt=[TOKEN, "v=spf1 include:_spf.google.com ~all", ACS_SPF],
    )
    report = lint(server, "two.lint.test")
    assert spf(report) == ["spf_multiple", "spf_merge_m365"]
    assert report.spf_lookup_count is None
    f = first(report, "spf_multiple")
    assert f.suggestion == (
        "v=spf1 include:_spf.google.com include:spf.protection.outlook.com -all"
    )
    assert f.found.count("v=spf1") == 2


@pytest.mark.parametrize(
    ("leaf", "count"), [("v=spf1 a -all", 11), ("v=spf1 -all", 10)]
)
def test_lookup_limit_through_nested_includes(
    server: Server, leaf: str, count: int
) -> None:
    domain = f"chain{count}.lint.test"
    setup_domain(
        server,
        domain,
        apex_txt=[
            TOKEN,
            f"v=spf1 mx include:l1.{domain} include:spf.protection.outlook.com -all",
        ],
    )
    store = server.store
    store.set_record(f"l1.{domain}", "TXT", [f"v=spf1 a include:l2.{domain} -all"])
    store.set_record(
        f"l2.{domain}", "TXT", [f"v=spf1 a mx ptr include:l3.{domain} -all"]
    )
    store.set_record(f"l3.{domain}", "TXT", [leaf])
    report = lint(server, domain)
    # apex: mx, include l1, ACS include (+1 nested) = 4; l1: a, include = 2;
    # l2: a, mx, ptr, include = 4; l3: a = 1 (or 0)
    assert report.spf_lookup_count == count
    if count > 10:
        assert spf(report) == ["spf_too_many_lookups", "spf_merge_m365"]
        f = first(report, "spf_too_many_lookups")
        assert (f.found, f.expected) == ("11", "10")
    else:
        assert spf(report) == ["spf_ok", "spf_merge_m365"]


def test_include_loop(server: Server) -> None:
    d = "loop.lint.test"
    setup_domain(
        server,
        d,
        apex_txt=[
            TOKEN,
            f"v=spf1 include:a.{d} include:spf.protection.outlook.com -all",
        ],
    )
    server.store.set_record(f"a.{d}", "TXT", [f"v=spf1 include:b.{d} -all"])
    server.store.set_record(f"b.{d}", "TXT", [f"v=spf1 include:a.{d} -all"])
    report = lint(server, d)
    assert spf(report) == ["spf_include_loop", "spf_merge_m365"]
    assert first(report, "spf_include_loop").found == f"{d} → a.{d} → b.{d} → a.{d}"
    assert report.spf_lookup_count == 5


def test_m365_tenant_merge_suggestion(server: Server) -> None:
    # An M365 tenant that also sends through Google Workspace, with ~all.
    setup_domain(
        server,
        "m365.lint.test",
        apex_txt=[
            TOKEN,
            "v=spf1 include:spf.protection.outlook.com include:_spf.google.com ~all",
        ],
    )
    report = lint(server, "m365.lint.test")
    assert spf(report) == ["spf_merge_m365", "spf_softfail_all"]
    assert first(report, "spf_merge_m365").severity == "warning"
    assert first(report, "spf_softfail_all").suggestion == (
        "v=spf1 include:spf.protection.outlook.com include:_spf.google.com -all"
    )
    assert report.spf_lookup_count == 3


def test_m365_include_already_there_is_ok_with_note(server: Server) -> None:
    setup_domain(
        server,
        "m365ok.lint.test",
        apex_txt=[
            TOKEN,
            "v=spf1 ip4:192.0.2.0/24 include:spf.protection.outlook.com -all",
        ],
    )
    report = lint(server, "m365ok.lint.test")
    assert spf(report) == ["spf_ok", "spf_merge_m365"]
    assert report.ok


def test_missing_acs_include_keeps_other_senders(server: Server) -> None:
    setup_domain(
        server,
        "google.lint.test",
        apex_txt=[TOKEN, "v=spf1 ip4:192.0.2.1 include:_spf.google.com ~all"],
    )
    report = lint(server, "google.lint.test")
    assert spf(report) == ["spf_missing_acs_include", "spf_softfail_all"]
    merged = (
        "v=spf1 ip4:192.0.2.1 include:_spf.google.com "
        "include:spf.protection.outlook.com -all"
    )
    assert first(report, "spf_missing_acs_include").suggestion == merged
    assert first(report, "spf_softfail_all").suggestion == merged


def test_acs_include_reached_transitively(server: Server) -> None:
    d = "nested.lint.test"
    setup_domain(server, d, apex_txt=[TOKEN, f"v=spf1 include:_spf.{d} -all"])
    server.store.set_record(
        f"_spf.{d}", "TXT", ["v=spf1 include:spf.protection.outlook.com -all"]
    )
    report = lint(server, d)
    assert spf(report) == ["spf_ok"]
    assert report.spf_lookup_count == 3


def test_macro_include_is_a_warning(server: Server) -> None:
    setup_domain(
        server,
        "macro.lint.test",
        apex_txt=[
            TOKEN,
            "v=spf1 include:%{ir}.%{v}.%{d}.spf.has.pphosted.com "
            "include:spf.protection.outlook.com -all",
        ],
    )
    report = lint(server, "macro.lint.test")
    assert spf(report) == ["spf_ok", "spf_macro_include", "spf_merge_m365"]
    assert first(report, "spf_macro_include").severity == "warning"
    assert report.ok
    assert report.spf_lookup_count == 3


def test_long_spf_split_into_strings_is_joined(server: Server) -> None:
    ips = " ".join(f"ip4:198.51.100.{i}" for i in range(1, 30))
    record = f"v=spf1 {ips} include:spf.protection.outlook.com -all"
    assert len(record) > 255
    setup_domain(server, "long.lint.test", apex_txt=[TOKEN, record])
    report = lint(server, "long.lint.test")
    assert spf(report) == ["spf_ok", "spf_merge_m365"]
    assert first(report, "spf_ok").found == record


def test_quoted_values(server: Server) -> None:
    setup_domain(server, "quoted.lint.test", apex_txt=[f'"{TOKEN}"', f'"{ACS_SPF}"'])
    report = lint(server, "quoted.lint.test")
    assert codes(report)["Domain"] == ["domain_txt_quoted"]
    assert spf(report) == ["spf_quoted"]
    assert first(report, "spf_quoted").suggestion == ACS_SPF


def test_missing_apex_records(server: Server) -> None:
    setup_domain(
        server,
        "bare.lint.test",
        apex_txt=["ms-domain-verification=old-token", "google-site-verification=x"],
    )
    report = lint(server, "bare.lint.test")
    assert codes(report)["Domain"] == ["domain_txt_mismatch"]
    assert spf(report) == ["spf_missing"]
    assert first(report, "spf_missing").suggestion == ACS_SPF
    assert report.spf_lookup_count is None


def test_dkim_wrong_target(server: Server) -> None:
    d = "dkimwrong.lint.test"
    setup_domain(server, d)
    # the classic copy error: DKIM2 pointed at the selector1 target
    server.store.set_record(f"{SEL2}.{d}", "CNAME", [f"{SEL1}.azurecomm.net"])
    report = lint(server, d)
    assert codes(report)["DKIM"] == ["dkim_ok"]
    assert codes(report)["DKIM2"] == ["dkim_wrong_target"]
    f = first(report, "dkim_wrong_target")
    assert (f.found, f.expected) == (f"{SEL1}.azurecomm.net", f"{SEL2}.azurecomm.net")


def test_dkim_published_as_txt(server: Server) -> None:
    d = "dkimtxt.lint.test"
    setup_domain(server, d, dkim=False)
    server.store.set_record(f"{SEL1}.{d}", "TXT", ["v=DKIM1; k=rsa; p=MIIBIjAN"])
    report = lint(server, d)
    assert codes(report)["DKIM"] == ["dkim_txt_not_cname"]
    assert codes(report)["DKIM2"] == ["dkim_missing"]  # NXDOMAIN
    assert first(report, "dkim_txt_not_cname").found == "v=DKIM1; k=rsa; p=MIIBIjAN"


def test_missing_dmarc_is_a_warning(server: Server) -> None:
    setup_domain(server, "nodmarc.lint.test", dmarc=None)
    report = lint(server, "nodmarc.lint.test")
    assert codes(report)["DMARC"] == ["dmarc_missing"]
    f = first(report, "dmarc_missing")
    assert (f.severity, f.suggestion) == ("warning", "v=DMARC1; p=none;")
    assert report.ok


def test_dmarc_inherited_from_parent(server: Server) -> None:
    server.store.add_zone("corp.test")
    server.store.set_record("_dmarc.corp.test", "TXT", ["v=DMARC1; p=quarantine"])
    setup_domain(server, "mail.corp.test", dmarc=None)
    report = lint(server, "mail.corp.test")
    assert codes(report)["DMARC"] == ["dmarc_inherited"]
    assert first(report, "dmarc_inherited").found == "v=DMARC1; p=quarantine"


@pytest.mark.parametrize(
    ("records", "code"),
    [
        (["v=DMARC1; p=none; rua=mailto:d@example.jp"], "dmarc_policy_none"),
        (["v=DMARC1; p=reject", "v=DMARC1; p=none"], "dmarc_multiple"),
        (["v=DMARC1; rua=mailto:d@example.jp"], "dmarc_invalid"),
    ],
)
def test_dmarc_policy(server: Server, records: list[str], code: str) -> None:
    d = f"{code.replace('_', '-')}.lint.test"
    setup_domain(server, d)
    server.store.set_record(f"_dmarc.{d}", "TXT", records)
    report = lint(server, d)
    assert codes(report)["DMARC"] == [code]


def test_refused_is_dns_error(server: Server) -> None:
    # Not served by the emulator: REFUSED for every query.
    report = lint(server, "elsewhere.invalid")
    assert {k: set(v) for k, v in codes(report).items()} == {
        k: {"dns_error"} for k in ("Domain", "SPF", "DKIM", "DKIM2", "DMARC")
    }
    assert not report.ok


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_timeout_on_closed_port() -> None:
    port = _free_udp_port()
    start = time.monotonic()
    report = lint_domain(
        "contoso.co.jp",
        expected("contoso.co.jp"),
        nameservers=["127.0.0.1"],
        port=port,
        timeout=0.3,
    )
    assert time.monotonic() - start < 2
    assert {k: set(v) for k, v in codes(report).items()} == {
        k: {"dns_timeout"} for k in ("Domain", "SPF", "DKIM", "DKIM2", "DMARC")
    }
    assert not report.ok
    assert report.spf_lookup_count is None


def test_timeout_on_silent_server() -> None:
    # A socket that swallows queries: a real timeout, given up after two.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        start = time.monotonic()
        report = lint_domain(
            "contoso.co.jp",
            expected("contoso.co.jp"),
            nameservers=["127.0.0.1"],
            port=silent.getsockname()[1],
            timeout=0.3,
        )
        elapsed = time.monotonic() - start
    assert elapsed < 1.5
    assert all(f.code == "dns_timeout" for f in report.findings)
    assert len(report.by_kind()) == 5


def test_merge_spf_redirect_and_modifiers() -> None:
    assert merge_spf(
        ["v=spf1 +mx redirect=_spf.example.jp exp=explain.example.jp"]
    ) == (
        "v=spf1 mx include:_spf.example.jp include:spf.protection.outlook.com "
        "-all exp=explain.example.jp"
    )
    assert merge_spf([ACS_SPF, ACS_SPF.upper().replace("V=SPF1", "v=spf1")]) == ACS_SPF


@pytest.mark.parametrize("key", [*HOST_KEYS, "unknown"])
def test_guidance_for_host(key: str) -> None:
    steps = guidance_for_host(key)
    assert len(steps) >= 4
    assert all(str(s) for s in steps)
    if key == "unknown":
        assert steps == guidance_for_host("other")
