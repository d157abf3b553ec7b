"""Authoritative DNS server for the zones the emulator's admin API creates.

Customer-managed ACS domains are verified by looking up TXT/CNAME records;
tests and the portal point a resolver at this server (UDP and TCP on
loopback) instead of the public DNS.

* Records live in SQLite (``DIR/dns.sqlite3``) so they survive restarts.
* Answers carry the AA flag; a name that does not exist gets NXDOMAIN, an
  existing name without the asked type gets NOERROR with an empty answer, both
  with the zone's SOA in the authority section (RFC 2308 negative answers).
* CNAMEs are followed within the served zones for non-CNAME queries.
* Queries for names outside every served zone get REFUSED (not authoritative,
  no recursion).
* TXT values longer than 255 bytes are split into several character-strings
  of one record, as DNS requires (DKIM keys are the usual case).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import sqlite3
import struct
import threading
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset

log = logging.getLogger("emulator.dns")

SUPPORTED_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS")
MAX_CNAME_CHAIN = 8


def _norm(name: str) -> str:
    name = name.strip().lower().rstrip(".")
    if not name:
        raise ValueError("empty DNS name")
    try:
        dns.name.from_text(name)  # validates label lengths etc.
    except dns.exception.DNSException as exc:
        raise ValueError(f"invalid DNS name {name!r}: {exc}") from None
    return name


def _within(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)


def split_txt(value: str) -> list[bytes]:
    """A TXT value as character-strings of at most 255 bytes each."""
    data = value.encode("utf-8")
    if not data:
        return [b""]
    return [data[i : i + 255] for i in range(0, len(data), 255)]


class ZoneStore:
    """Zones and records in SQLite; safe to share between threads."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS zones (name TEXT PRIMARY KEY, "
                "serial INTEGER NOT NULL DEFAULT 1)"
            )
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS records (name TEXT NOT NULL, "
                "rtype TEXT NOT NULL, ttl INTEGER NOT NULL, vals TEXT NOT NULL, "
                "PRIMARY KEY (name, rtype))"
            )
            self._conn.commit()

    # -- zones --
    def add_zone(self, zone: str) -> None:
        zone = _norm(zone)
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO zones (name, serial) VALUES (?, 1)", (zone,)
            )
            self._conn.commit()

    def delete_zone(self, zone: str) -> None:
        zone = _norm(zone)
        with self._lock:
            self._conn.execute("DELETE FROM zones WHERE name = ?", (zone,))
            self._conn.execute(
                "DELETE FROM records WHERE name = ? OR name LIKE ?",
                (zone, "%." + zone),
            )
            self._conn.commit()

    def zones(self) -> list[str]:
        with self._lock:
            rows = self._conn.execute("SELECT name FROM zones ORDER BY name").fetchall()
        return [r[0] for r in rows]

    def zone_for(self, name: str) -> str | None:
        """The most specific served zone containing ``name``."""
        name = name.lower().rstrip(".")
        best: str | None = None
        for zone in self.zones():
            if _within(name, zone) and (best is None or len(zone) > len(best)):
                best = zone
        return best

    def serial(self, zone: str) -> int:
        with self._lock:
            row = self._conn.execute(
                "SELECT serial FROM zones WHERE name = ?", (zone,)
            ).fetchone()
        return int(row[0]) if row else 1

    # -- records --
    @staticmethod
    def _validate(rtype: str, values: list[str]) -> list[str]:
        if not values:
            raise ValueError("a record needs at least one value")
        out = []
        for v in values:
            v = str(v)
            if rtype == "A":
                ipaddress.IPv4Address(v.strip())
                v = v.strip()
            elif rtype == "AAAA":
                ipaddress.IPv6Address(v.strip())
                v = v.strip()
            elif rtype in ("CNAME", "NS"):
                v = _norm(v)
            elif rtype == "MX":
                parts = v.split()
                if len(parts) != 2 or not parts[0].isdigit():
                    raise ValueError(f"MX value must be 'preference host', got {v!r}")
                v = f"{int(parts[0])} {_norm(parts[1])}"
            out.append(v)
        if rtype == "CNAME" and len(out) != 1:
            raise ValueError("a CNAME record has exactly one value")
        return out

    def set_record(
        self, name: str, rtype: str, values: list[str], ttl: int = 300
    ) -> None:
        """Replace the ``rtype`` records at ``name`` (which must be in a zone)."""
        name = _norm(name)
        rtype = rtype.upper()
        if rtype not in SUPPORTED_TYPES:
            raise ValueError(f"unsupported record type {rtype!r}")
        if not 0 <= int(ttl) <= 2**31 - 1:
            raise ValueError("ttl out of range")
        zone = self.zone_for(name)
        if zone is None:
            raise ValueError(f"{name} is not within a served zone")
        vals = self._validate(rtype, list(values))
        with self._lock:
            existing = {
                r[0]
                for r in self._conn.execute(
                    "SELECT rtype FROM records WHERE name = ?", (name,)
                )
            }
            # RFC 1034 §3.6.2: a CNAME cannot coexist with other data.
            if rtype == "CNAME" and existing - {"CNAME"}:
                raise ValueError(f"{name} already has other records; cannot add CNAME")
            if rtype != "CNAME" and "CNAME" in existing:
                raise ValueError(f"{name} has a CNAME; cannot add {rtype}")
            if rtype == "CNAME" and name == zone:
                raise ValueError("a CNAME cannot be placed at the zone apex")
            self._conn.execute(
                "INSERT OR REPLACE INTO records (name, rtype, ttl, vals) "
                "VALUES (?, ?, ?, ?)",
                (name, rtype, int(ttl), json.dumps(vals)),
            )
            self._conn.execute(
                "UPDATE zones SET serial = serial + 1 WHERE name = ?", (zone,)
            )
            self._conn.commit()

    def delete_record(self, name: str, rtype: str | None = None) -> None:
        name = _norm(name)
        zone = self.zone_for(name)
        with self._lock:
            if rtype is None:
                self._conn.execute("DELETE FROM records WHERE name = ?", (name,))
            else:
                self._conn.execute(
                    "DELETE FROM records WHERE name = ? AND rtype = ?",
                    (name, rtype.upper()),
                )
            if zone:
                self._conn.execute(
                    "UPDATE zones SET serial = serial + 1 WHERE name = ?", (zone,)
                )
            self._conn.commit()

    def list_records(self, zone: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT name, rtype, ttl, vals FROM records ORDER BY name, rtype"
            ).fetchall()
        out = []
        zone_n = _norm(zone) if zone else None
        for name, rtype, ttl, vals in rows:
            if zone_n and not _within(name, zone_n):
                continue
            out.append(
                {
                    "name": name,
                    "type": rtype,
                    "ttl": ttl,
                    "values": json.loads(vals),
                    "zone": self.zone_for(name),
                }
            )
        return out

    def lookup(self, name: str) -> dict[str, tuple[int, list[str]]]:
        """All records at ``name``: {rtype: (ttl, values)}."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT rtype, ttl, vals FROM records WHERE name = ?", (name,)
            ).fetchall()
        return {r: (t, json.loads(v)) for r, t, v in rows}

    def name_exists(self, name: str, zone: str) -> bool:
        """True for names with records, the apex, or empty non-terminals."""
        if name == zone:
            return True
        with self._lock:
            row = self._conn.execute(
                "SELECT 1 FROM records WHERE name = ? OR name LIKE ? LIMIT 1",
                (name, "%." + name),
            ).fetchone()
        return row is not None

    def reset(self) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM records")
            self._conn.execute("DELETE FROM zones")
            self._conn.commit()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


# ---------------------------------------------------------------------------
# Query answering
# ---------------------------------------------------------------------------

_IN = dns.rdataclass.IN


def _rdatas(rtype: str, values: list[str]) -> list[dns.rdata.Rdata]:
    rdtype = dns.rdatatype.from_text(rtype)
    if rtype == "TXT":
        return [dns.rdtypes.ANY.TXT.TXT(_IN, rdtype, split_txt(v)) for v in values]
    if rtype in ("CNAME", "NS"):
        return [dns.rdata.from_text(_IN, rdtype, v + ".") for v in values]
    if rtype == "MX":
        out = []
        for v in values:
            pref, host = v.split()
            out.append(dns.rdata.from_text(_IN, rdtype, f"{pref} {host}."))
        return out
    return [dns.rdata.from_text(_IN, rdtype, v) for v in values]


def _rrset(name: str, rtype: str, ttl: int, values: list[str]) -> dns.rrset.RRset:
    rrset = dns.rrset.RRset(
        dns.name.from_text(name + "."), _IN, dns.rdatatype.from_text(rtype)
    )
    for rd in _rdatas(rtype, values):
        rrset.add(rd, ttl)
    return rrset


def _soa(store: ZoneStore, zone: str) -> dns.rrset.RRset:
    rrset = dns.rrset.RRset(dns.name.from_text(zone + "."), _IN, dns.rdatatype.SOA)
    rrset.add(
        dns.rdata.from_text(
            _IN,
            dns.rdatatype.SOA,
            f"ns1.{zone}. hostmaster.{zone}. {store.serial(zone)} 3600 600 86400 60",
        ),
        60,
    )
    return rrset


def answer(store: ZoneStore, query: dns.message.Message) -> dns.message.Message:
    """Build the authoritative response to ``query``."""
    response = dns.message.make_response(query)
    response.flags &= ~dns.flags.RA  # authoritative only, no recursion
    if query.opcode() != dns.opcode.QUERY:
        response.set_rcode(dns.rcode.NOTIMP)
        return response
    if len(query.question) != 1:
        response.set_rcode(dns.rcode.FORMERR)
        return response
    question = query.question[0]
    if question.rdclass != _IN:
        response.set_rcode(dns.rcode.REFUSED)
        return response
    qname = question.name.to_text(omit_final_dot=True).lower()
    qtype = dns.rdatatype.to_text(question.rdtype)
    zone = store.zone_for(qname)
    if zone is None:
        response.set_rcode(dns.rcode.REFUSED)
        return response
    response.flags |= dns.flags.AA

    name = qname
    seen: set[str] = set()
    while True:
        records = store.lookup(name)
        if qtype == "SOA" and name == zone:
            response.answer.append(_soa(store, zone))
            return response
        if qtype == "NS" and name == zone and "NS" not in records:
            ns = _rrset(zone, "NS", 3600, [f"ns1.{zone}"])
            response.answer.append(ns)
            return response
        if "CNAME" in records and qtype not in ("CNAME", "ANY"):
            ttl, (target,) = records["CNAME"]
            response.answer.append(_rrset(name, "CNAME", ttl, [target]))
            seen.add(name)
            target_zone = store.zone_for(target)
            if target_zone is None or target in seen or len(seen) >= MAX_CNAME_CHAIN:
                # Outside our authority (or a loop): the resolver follows it.
                return response
            name, zone = target, target_zone
            continue
        if qtype == "ANY" and records:
            for rtype, (ttl, values) in sorted(records.items()):
                response.answer.append(_rrset(name, rtype, ttl, values))
            return response
        if qtype in records:
            ttl, values = records[qtype]
            response.answer.append(_rrset(name, qtype, ttl, values))
            return response
        if not store.name_exists(name, zone):
            response.set_rcode(dns.rcode.NXDOMAIN)
        response.authority.append(_soa(store, zone))
        return response


def _render(response: dns.message.Message, max_size: int = 65535) -> bytes:
    try:
        return response.to_wire(max_size=max_size)
    except dns.exception.TooBig:
        # Too large for UDP: send the header and question with TC so the
        # client retries over TCP.
        response.answer.clear()
        response.authority.clear()
        response.additional.clear()
        response.flags |= dns.flags.TC
        return response.to_wire(max_size=max_size)


def _handle_wire(store: ZoneStore, wire: bytes, *, udp: bool) -> bytes | None:
    try:
        query = dns.message.from_wire(wire)
    except dns.message.ShortHeader:
        return None
    except dns.exception.DNSException:
        if len(wire) < 12:
            return None
        # Echo the id with FORMERR (RFC 1035 §4.1.1).
        (qid, flags) = struct.unpack("!HH", wire[:4])
        return struct.pack("!HHHHHH", qid, 0x8000 | (flags & 0x7800) | 1, 0, 0, 0, 0)
    if query.flags & dns.flags.QR:
        return None
    try:
        response = answer(store, query)
    except Exception:
        log.exception("DNS query failed")
        response = dns.message.make_response(query)
        response.set_rcode(dns.rcode.SERVFAIL)
    if udp:
        limit = max(512, query.payload) if query.edns >= 0 else 512
        return _render(response, limit)
    return _render(response)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, store: ZoneStore) -> None:
        self.store = store
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = _handle_wire(self.store, data, udp=True)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


async def _tcp_client(
    store: ZoneStore,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    tasks: set[asyncio.Task[Any]],
) -> None:
    task = asyncio.current_task()
    if task is not None:
        tasks.add(task)
    try:
        while True:
            try:
                header = await asyncio.wait_for(reader.readexactly(2), timeout=30)
            except (asyncio.IncompleteReadError, TimeoutError):
                break
            (length,) = struct.unpack("!H", header)
            try:
                wire = await reader.readexactly(length)
            except asyncio.IncompleteReadError:
                break
            reply = _handle_wire(store, wire, udp=False)
            if reply is None:
                break
            writer.write(struct.pack("!H", len(reply)) + reply)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    except asyncio.CancelledError:
        # Server shutdown: end this connection quietly (the stream protocol
        # would otherwise log the cancellation as an error).
        pass
    finally:
        if task is not None:
            tasks.discard(task)
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()


@dataclass
class DnsServerHandle:
    host: str
    port: int
    udp_transport: asyncio.DatagramTransport
    tcp_server: asyncio.base_events.Server
    tcp_tasks: set[asyncio.Task[Any]]

    async def close(self) -> None:
        self.udp_transport.close()
        self.tcp_server.close()
        for task in list(self.tcp_tasks):
            task.cancel()
        if self.tcp_tasks:
            await asyncio.gather(*self.tcp_tasks, return_exceptions=True)
        await self.tcp_server.wait_closed()


async def start_dns_server(store: ZoneStore, host: str, port: int) -> DnsServerHandle:
    """Serve ``store`` on UDP and TCP ``host:port`` (port 0 picks a free one).

    With port 0 the UDP socket is bound first and TCP then uses the same
    number, so the handle's ``port`` is valid for both.
    """
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[Any]] = set()
    for _attempt in range(20):
        udp_transport, _ = await loop.create_datagram_endpoint(
            lambda: _UdpProtocol(store), local_addr=(host, port)
        )
        actual = udp_transport.get_extra_info("sockname")[1]
        try:
            tcp_server = await asyncio.start_server(
                lambda r, w: _tcp_client(store, r, w, tasks), host, actual
            )
        except OSError:
            udp_transport.close()
            if port:
                raise
            continue  # TCP port taken by someone else; pick another pair
        return DnsServerHandle(
            host,
            actual,
            udp_transport,  # type: ignore[arg-type]
            tcp_server,
            tasks,
        )
    raise OSError("could not bind UDP and TCP to the same free port")


# Public names that ACS's verification records point at. The emulator serves them so
# that an SPF evaluation (which follows include:spf.protection.outlook.com) works
# offline. Emulator behaviour: the address ranges are illustrative, not Microsoft's
# current list.
PUBLIC_ZONES: dict[str, list[tuple[str, str, list[str]]]] = {
    "protection.outlook.com": [
        (
            "spf.protection.outlook.com",
            "TXT",
            [
                "v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip4:52.100.0.0/15 "
                "ip4:104.47.0.0/17 ip6:2a01:111:f400::/48 "
                "include:spfd.protection.outlook.com -all"
            ],
        ),
        ("spfd.protection.outlook.com", "TXT", ["v=spf1 ip4:51.4.72.0/24 -all"]),
    ],
    "azurecomm.net": [
        (
            "selector1-azurecomm-prod-net._domainkey.azurecomm.net",
            "TXT",
            ["v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDemulator1"],
        ),
        (
            "selector2-azurecomm-prod-net._domainkey.azurecomm.net",
            "TXT",
            ["v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDemulator2"],
        ),
    ],
}


def seed_public_zones(store: ZoneStore) -> None:
    """Serve PUBLIC_ZONES (idempotent; called at start and after a reset)."""
    existing = {r["name"] for r in store.list_records()}
    for zone, records in PUBLIC_ZONES.items():
        store.add_zone(zone)
        for name, rtype, values in records:
            if name not in existing:
                store.set_record(name, rtype, values, ttl=3600)
