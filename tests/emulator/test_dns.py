"""Authoritative DNS server: real dnspython queries over UDP and TCP."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from emulator.dns_server import DnsServerHandle, ZoneStore, split_txt, start_dns_server

DKIM_KEY = "v=DKIM1; k=rsa; p=" + "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 12


class Server:
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


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    store = ZoneStore(str(tmp_path / "dns.sqlite3"))
    store.add_zone("contoso.co.jp")
    store.add_zone("mail.example.jp")
    store.set_record(
        "contoso.co.jp",
        "TXT",
        [
            "ms-domain-verification=1234abcd",
            "v=spf1 include:spf.protection.outlook.com -all",
        ],
    )
    store.set_record(
        "selector1-azurecomm-prod-net._domainkey.contoso.co.jp",
        "CNAME",
        ["selector1-azurecomm-prod-net._domainkey.azurecomm.net"],
    )
    store.set_record("k1._domainkey.contoso.co.jp", "TXT", [DKIM_KEY])
    store.set_record(
        "contoso.co.jp", "MX", ["10 mx1.contoso.co.jp", "20 mx2.contoso.co.jp"]
    )
    store.set_record("mx1.contoso.co.jp", "A", ["127.0.0.10"])
    store.set_record("www.contoso.co.jp", "CNAME", ["mx1.contoso.co.jp"])
    store.set_record("alias.contoso.co.jp", "CNAME", ["host.mail.example.jp"])
    store.set_record("host.mail.example.jp", "A", ["127.0.0.20"])
    srv = Server(store)
    try:
        yield srv
    finally:
        srv.stop()


def udp(server: Server, name: str, rtype: str, **kw: object) -> dns.message.Message:
    q = dns.message.make_query(name, rtype, **kw)  # type: ignore[arg-type]
    return dns.query.udp(q, "127.0.0.1", port=server.port, timeout=3)


def tcp(server: Server, name: str, rtype: str) -> dns.message.Message:
    q = dns.message.make_query(name, rtype)
    return dns.query.tcp(q, "127.0.0.1", port=server.port, timeout=3)


def txt_strings(msg: dns.message.Message) -> list[list[bytes]]:
    return [list(rd.strings) for rrset in msg.answer for rd in rrset]


@pytest.mark.parametrize("transport", [udp, tcp])
def test_txt_records(server: Server, transport: object) -> None:
    resp = transport(server, "contoso.co.jp", "TXT")  # type: ignore[operator]
    assert resp.rcode() == dns.rcode.NOERROR
    assert resp.flags & dns.flags.AA
    assert not resp.flags & dns.flags.RA
    assert sorted(txt_strings(resp)) == [
        [b"ms-domain-verification=1234abcd"],
        [b"v=spf1 include:spf.protection.outlook.com -all"],
    ]
    assert resp.answer[0].ttl == 300


def test_names_are_case_insensitive(server: Server) -> None:
    resp = udp(server, "CONTOSO.co.JP.", "TXT")
    assert resp.rcode() == dns.rcode.NOERROR
    assert len(resp.answer[0]) == 2


def test_long_txt_is_split_into_character_strings(server: Server) -> None:
    assert len(DKIM_KEY) > 255
    resp = tcp(server, "k1._domainkey.contoso.co.jp", "TXT")
    (strings,) = txt_strings(resp)
    assert len(strings) == 3  # 546 bytes -> 255 + 255 + 36
    assert all(len(s) <= 255 for s in strings)
    assert b"".join(strings).decode() == DKIM_KEY
    assert split_txt("x" * 600) == [b"x" * 255, b"x" * 255, b"x" * 90]


def test_long_txt_over_udp_truncates_without_edns(server: Server) -> None:
    # A plain query without EDNS: the 512-byte UDP limit applies.
    q = dns.message.make_query("k1._domainkey.contoso.co.jp", "TXT")
    resp = dns.query.udp(q, "127.0.0.1", port=server.port, timeout=3)
    # the record alone exceeds 512 bytes: TC set, the client retries over TCP
    assert len(DKIM_KEY) > 512
    assert resp.flags & dns.flags.TC
    assert resp.answer == []
    # with EDNS and a 1232-byte buffer the answer fits in UDP
    edns = udp(server, "k1._domainkey.contoso.co.jp", "TXT", use_edns=0, payload=1232)
    assert not edns.flags & dns.flags.TC
    assert b"".join(txt_strings(edns)[0]).decode() == DKIM_KEY


@pytest.mark.parametrize("transport", [udp, tcp])
def test_cname(server: Server, transport: object) -> None:
    name = "selector1-azurecomm-prod-net._domainkey.contoso.co.jp"
    resp = transport(server, name, "CNAME")  # type: ignore[operator]
    assert resp.rcode() == dns.rcode.NOERROR
    (rrset,) = resp.answer
    assert rrset.rdtype == dns.rdatatype.CNAME
    assert rrset[0].target.to_text() == (
        "selector1-azurecomm-prod-net._domainkey.azurecomm.net."
    )


def test_cname_to_outside_zone_is_returned_for_txt_query(server: Server) -> None:
    # The target is not ours: answer with the CNAME and let the resolver chase.
    resp = udp(server, "selector1-azurecomm-prod-net._domainkey.contoso.co.jp", "TXT")
    assert resp.rcode() == dns.rcode.NOERROR
    assert [r.rdtype for r in resp.answer] == [dns.rdatatype.CNAME]


def test_cname_chasing_within_served_zones(server: Server) -> None:
    resp = udp(server, "www.contoso.co.jp", "A")
    assert [r.rdtype for r in resp.answer] == [dns.rdatatype.CNAME, dns.rdatatype.A]
    assert resp.answer[1][0].address == "127.0.0.10"
    resp = tcp(server, "alias.contoso.co.jp", "A")  # across two served zones
    assert resp.answer[-1][0].address == "127.0.0.20"


@pytest.mark.parametrize("transport", [udp, tcp])
def test_mx(server: Server, transport: object) -> None:
    resp = transport(server, "contoso.co.jp", "MX")  # type: ignore[operator]
    got = sorted((rd.preference, rd.exchange.to_text()) for rd in resp.answer[0])
    assert got == [(10, "mx1.contoso.co.jp."), (20, "mx2.contoso.co.jp.")]


@pytest.mark.parametrize("transport", [udp, tcp])
def test_nxdomain_with_soa(server: Server, transport: object) -> None:
    resp = transport(server, "nope.contoso.co.jp", "TXT")  # type: ignore[operator]
    assert resp.rcode() == dns.rcode.NXDOMAIN
    assert resp.flags & dns.flags.AA
    assert resp.answer == []
    assert resp.authority[0].rdtype == dns.rdatatype.SOA


def test_nodata_is_noerror_empty(server: Server) -> None:
    resp = udp(server, "mx1.contoso.co.jp", "TXT")
    assert resp.rcode() == dns.rcode.NOERROR
    assert resp.answer == []
    assert resp.authority[0].rdtype == dns.rdatatype.SOA
    # empty non-terminal: _domainkey.contoso.co.jp has children only
    resp = udp(server, "_domainkey.contoso.co.jp", "TXT")
    assert resp.rcode() == dns.rcode.NOERROR


@pytest.mark.parametrize("transport", [udp, tcp])
def test_outside_served_zones_is_refused(server: Server, transport: object) -> None:
    resp = transport(server, "example.com", "A")  # type: ignore[operator]
    assert resp.rcode() == dns.rcode.REFUSED
    assert not resp.flags & dns.flags.AA


def test_updates_are_visible_immediately_and_delete(server: Server) -> None:
    store = server.store
    store.set_record("_dmarc.contoso.co.jp", "TXT", ["v=DMARC1; p=none"], ttl=60)
    resp = udp(server, "_dmarc.contoso.co.jp", "TXT")
    assert txt_strings(resp) == [[b"v=DMARC1; p=none"]]
    assert resp.answer[0].ttl == 60
    store.set_record("_dmarc.contoso.co.jp", "TXT", ["v=DMARC1; p=reject"])
    assert txt_strings(udp(server, "_dmarc.contoso.co.jp", "TXT")) == [
        [b"v=DMARC1; p=reject"]
    ]
    store.delete_record("_dmarc.contoso.co.jp", "TXT")
    assert udp(server, "_dmarc.contoso.co.jp", "TXT").rcode() == dns.rcode.NXDOMAIN


def test_soa_serial_increases(server: Server) -> None:
    before = udp(server, "contoso.co.jp", "SOA").answer[0][0].serial
    server.store.set_record("new.contoso.co.jp", "A", ["127.0.0.1"])
    after = udp(server, "contoso.co.jp", "SOA").answer[0][0].serial
    assert after > before


def test_zone_store_validation(tmp_path: Path) -> None:
    store = ZoneStore(str(tmp_path / "dns.sqlite3"))
    store.add_zone("contoso.co.jp")
    with pytest.raises(ValueError):
        store.set_record("contoso.com", "TXT", ["x"])  # not in a zone
    with pytest.raises(ValueError):
        store.set_record("a.contoso.co.jp", "A", ["not-an-ip"])
    with pytest.raises(ValueError):
        store.set_record("a.contoso.co.jp", "MX", ["mx.contoso.co.jp"])
    store.set_record("c.contoso.co.jp", "CNAME", ["target.example.net"])
    with pytest.raises(ValueError):
        store.set_record("c.contoso.co.jp", "TXT", ["x"])  # CNAME and other data
    store.set_record("t.contoso.co.jp", "TXT", ["x"])
    records = store.list_records("contoso.co.jp")
    assert {(r["name"], r["type"]) for r in records} == {
        ("c.contoso.co.jp", "CNAME"),
        ("t.contoso.co.jp", "TXT"),
    }
    store.delete_record("t.contoso.co.jp")
    assert len(store.list_records()) == 1
    store.reset()
    assert store.list_records() == [] and store.zones() == []
