"""DNS linter for ACS Email customer-managed sending domains.

The linter *evaluates* the records ACS asks for (ARM ``verificationRecords``)
with real DNS queries against the nameservers the caller names; it does not
string-match.  That matters because the naive checks other mail portals use
give false negatives (Postal #3007: several includes read as "no SPF";
#3611: macro includes; #623: two SPF records) and false positives (ACS rejects
``~all`` although the string "include:spf.protection.outlook.com" is there).

Contract of :func:`lint_domain`:

* It never raises for DNS trouble: timeouts and unreachable servers become an
  ``error`` finding ``dns_timeout``, SERVFAIL/REFUSED become ``dns_error``;
  NXDOMAIN and empty answers become the "missing" findings of each record.
* Every checked record kind gets at least one finding.  A kind without
  problems gets one ``severity="ok"`` finding (``*_ok`` code, with what DNS
  returned in ``found``) so the UI can show a green row; SPF keeps its
  ``spf_ok`` row next to warnings, since warnings do not fail SPF.
* ``LintReport.ok`` is true when no finding has severity ``error``; warnings
  (DMARC advice, macros that cannot be expanded statically, the shared
  Microsoft 365 include note) do not block.

Finding codes (stable; the UI and history rows key on them):

Domain ownership TXT
    ``domain_txt_ok``, ``domain_txt_missing``, ``domain_txt_mismatch`` (another
    ``ms-domain-verification=`` value is published), ``domain_txt_quoted``
    (value published with literal quote characters).
SPF
    ``spf_ok``, ``spf_missing``, ``spf_quoted``, ``spf_multiple``,
    ``spf_syntax``, ``spf_too_many_lookups``, ``spf_include_loop``,
    ``spf_include_missing`` (an include/redirect target has no SPF record:
    RFC 7208 permerror), ``spf_include_multiple``, ``spf_macro_include``
    (warning), ``spf_missing_acs_include``, ``spf_softfail_all``,
    ``spf_neutral_all``, ``spf_pass_all``, ``spf_all_missing``,
    ``spf_merge_m365`` (warning).
DKIM / DKIM2
    ``dkim_ok``, ``dkim_missing``, ``dkim_wrong_target``, ``dkim_txt_not_cname``,
    ``dkim_txt_mismatch`` (only for a TXT-type expectation).
DMARC
    ``dmarc_ok``, ``dmarc_missing`` (warning), ``dmarc_inherited`` (warning:
    only a parent domain publishes a policy), ``dmarc_policy_none`` (warning),
    ``dmarc_multiple``, ``dmarc_invalid``.
Any kind
    ``dns_timeout``, ``dns_error``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

ACS_SPF_INCLUDE = "spf.protection.outlook.com"
DEFAULT_DMARC = "v=DMARC1; p=none;"
SPF_LOOKUP_LIMIT = 10  # RFC 7208 §4.6.4
# Guards against pathological trees (far past the limit, the exact count no
# longer helps the customer and every extra query costs time).
_MAX_WALK_LOOKUPS = 40
_MAX_DEPTH = 12
# After this many timeouts in one lint the server is treated as unreachable and
# the remaining queries fail fast, so a dead resolver costs ~2x timeout, not 20x.
_TIMEOUT_BUDGET = 2

_DNS_LOOKUP_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})
_KNOWN_MECHANISMS = _DNS_LOOKUP_MECHANISMS | {"ip4", "ip6", "all"}
_MODIFIER_RE = re.compile(r"^([a-z][a-z0-9_.-]*)=(.*)$", re.IGNORECASE)
_MECHANISM_RE = re.compile(r"^([+?~-]?)([a-z0-9]+)([:/].*)?$", re.IGNORECASE)
_SPF_RE = re.compile(r"^v=spf1(\s|$)", re.IGNORECASE)
_DMARC_RE = re.compile(r"^v\s*=\s*DMARC1\s*(;|$)", re.IGNORECASE)

SEVERITIES = ("ok", "warning", "error")


def _interpolate(template: Promise | str, params: dict[str, Any]) -> str:
    return str(template) % params


# ``_("…") % params`` would translate immediately, freezing the language of
# whoever ran the lint (often a background job).  Keeping the interpolation
# lazy lets a report built once render in each viewer's language.
_lazy_interpolate = lazy(_interpolate, str)


def _msg(template: Promise, **params: Any) -> str:
    return _lazy_interpolate(template, params)  # type: ignore[return-value]


@dataclass(frozen=True)
class ExpectedRecord:
    """A record ACS asked the customer to publish (ARM ``verificationRecords``).

    ``name`` is relative to the domain ("@", "_dmarc", "selector1-…_domainkey");
    the domain itself or a fully-qualified name inside it is accepted too,
    because ARM reports the apex records with ``name`` = the domain.
    """

    kind: str  # "Domain" | "SPF" | "DKIM" | "DKIM2" | "DMARC"
    record_type: str  # "TXT" | "CNAME"
    name: str
    value: str


@dataclass(frozen=True)
class Finding:
    """One verdict about one record kind; ``code`` is stable, ``message`` is for humans.

    From :func:`lint_domain`, ``message`` is a lazy translatable string (it
    renders in the language active when it is printed); after
    :meth:`LintReport.from_json` it is plain text.
    """

    kind: str
    severity: str  # "ok" | "warning" | "error"
    code: str
    message: str
    found: str = ""
    expected: str = ""
    suggestion: str = ""


@dataclass(frozen=True)
class LintReport:
    domain: str
    findings: tuple[Finding, ...]
    spf_lookup_count: int | None
    checked_at: datetime  # aware, UTC

    @property
    def ok(self) -> bool:
        """True when no finding is an error (warnings do not block verification)."""
        return not any(f.severity == "error" for f in self.findings)

    def by_kind(self) -> dict[str, list[Finding]]:
        """Findings grouped by record kind, kinds in first-seen order."""
        out: dict[str, list[Finding]] = {}
        for f in self.findings:
            out.setdefault(f.kind, []).append(f)
        return out

    def to_json(self) -> dict[str, Any]:
        """JSON-serialisable form for the history row.

        Messages are rendered in the language active at call time (the lazy
        text cannot be stored); ``code``/``found``/``expected`` stay
        language-neutral for anything that needs to re-derive text later.
        """
        return {
            "version": 1,
            "domain": self.domain,
            "spf_lookup_count": self.spf_lookup_count,
            "checked_at": self.checked_at.isoformat(),
            "findings": [
                {**asdict(f), "message": str(f.message)} for f in self.findings
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LintReport:
        """Inverse of :meth:`to_json` (messages come back as plain strings)."""
        checked_at = datetime.fromisoformat(data["checked_at"])
        if checked_at.tzinfo is None:
            checked_at = checked_at.replace(tzinfo=UTC)
        count = data.get("spf_lookup_count")
        return cls(
            domain=str(data["domain"]),
            findings=tuple(
                Finding(
                    kind=str(f["kind"]),
                    severity=str(f["severity"]),
                    code=str(f["code"]),
                    message=str(f.get("message", "")),
                    found=str(f.get("found", "")),
                    expected=str(f.get("expected", "")),
                    suggestion=str(f.get("suggestion", "")),
                )
                for f in data.get("findings", [])
            ),
            spf_lookup_count=None if count is None else int(count),
            checked_at=checked_at.astimezone(UTC),
        )


# ---------------------------------------------------------------------------
# DNS access
# ---------------------------------------------------------------------------


@dataclass
class _Answer:
    status: str  # "ok" | "nxdomain" | "nodata" | "timeout" | "error"
    values: list[str] = field(default_factory=list)
    detail: str = ""


class _Dns:
    """Resolver wrapper: classifies failures instead of raising, caches per lint."""

    def __init__(self, nameservers: list[str], port: int, timeout: float) -> None:
        self.resolver = dns.resolver.Resolver(configure=False)
        self.resolver.nameservers = list(nameservers)
        self.resolver.port = port
        self.resolver.timeout = timeout
        self.resolver.lifetime = timeout
        # DKIM keys and merged SPF records exceed 512 bytes; EDNS avoids a
        # TCP retry for most of them (dnspython still retries on TC).
        self.resolver.use_edns(0, 0, 1232)
        self.resolver.cache = None  # a lint must see the zone as it is now
        self._cache: dict[tuple[str, str], _Answer] = {}
        self._timeouts = 0

    def query(self, name: str, rtype: str) -> _Answer:
        key = (name, rtype)
        if key not in self._cache:
            self._cache[key] = self._query(name, rtype)
        return self._cache[key]

    def _query(self, name: str, rtype: str) -> _Answer:
        if self._timeouts >= _TIMEOUT_BUDGET:
            return _Answer("timeout", detail="skipped: DNS server not answering")
        try:
            qname = dns.name.from_text(name)
            answer = self.resolver.resolve(
                qname, rtype, search=False, raise_on_no_answer=False
            )
        except dns.resolver.NXDOMAIN:
            return _Answer("nxdomain")
        except dns.resolver.NoNameservers as exc:
            errors = exc.kwargs.get("errors") or []
            # Every server refused the connection (closed port, ICMP
            # unreachable): nothing answered, which is a timeout for the user.
            if errors and all(isinstance(e[3], OSError) for e in errors):
                self._timeouts += 1
                return _Answer("timeout", detail=str(errors[0][3]))
            detail = "; ".join(str(e[3]) for e in errors) or str(exc)
            return _Answer("error", detail=detail)
        except (dns.exception.Timeout, OSError) as exc:
            self._timeouts += 1
            return _Answer("timeout", detail=str(exc))
        except dns.exception.DNSException as exc:
            return _Answer("error", detail=str(exc))
        except Exception as exc:  # never let a lint crash the page or the job
            return _Answer("error", detail=f"{type(exc).__name__}: {exc}")
        rrset = answer.rrset
        if rrset is None:
            return _Answer("nodata")
        rdtype = dns.rdatatype.from_text(rtype)
        values: list[str] = []
        for rd in rrset:
            if rd.rdtype != rdtype:
                continue
            if rdtype == dns.rdatatype.TXT:
                # One TXT record may be split into 255-byte strings: join them.
                values.append(b"".join(rd.strings).decode("utf-8", "replace"))
            elif rdtype == dns.rdatatype.CNAME:
                values.append(_norm(rd.target.to_text()))
            else:
                values.append(rd.to_text())
        return _Answer("ok", values) if values else _Answer("nodata")


def _norm(name: str) -> str:
    return name.strip().lower().rstrip(".")


def _fqdn(name: str, domain: str) -> str:
    n = _norm(name)
    if n in ("", "@") or n == domain:
        return domain
    if n.endswith("." + domain):
        return n
    return f"{n}.{domain}"


def _unquote(value: str) -> str:
    v = value.strip()
    while len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        v = v[1:-1].strip()
    return v


def _failure(kind: str, ans: _Answer, name: str) -> Finding:
    if ans.status == "timeout":
        return Finding(
            kind,
            "error",
            "dns_timeout",
            _msg(
                _("The DNS server did not answer the query for %(name)s in time."),
                name=name,
            ),
            found=ans.detail,
        )
    return Finding(
        kind,
        "error",
        "dns_error",
        _msg(
            _("The DNS query for %(name)s failed (%(detail)s)."),
            name=name,
            detail=ans.detail,
        ),
        found=ans.detail,
    )


# ---------------------------------------------------------------------------
# Domain ownership TXT
# ---------------------------------------------------------------------------


def _check_domain_txt(dns_: _Dns, domain: str, exp: ExpectedRecord) -> list[Finding]:
    name = _fqdn(exp.name, domain)
    ans = dns_.query(name, "TXT")
    if ans.status in ("timeout", "error"):
        return [_failure(exp.kind, ans, name)]
    want = exp.value.strip()
    if want in (v.strip() for v in ans.values):
        return [
            Finding(
                exp.kind,
                "ok",
                "domain_txt_ok",
                _msg(_("The domain verification TXT record is published.")),
                found=want,
                expected=want,
            )
        ]
    if any(_unquote(v) == want for v in ans.values):
        return [
            Finding(
                exp.kind,
                "error",
                "domain_txt_quoted",
                _msg(
                    _(
                        "The verification TXT record contains literal quote characters. "
                        "Re-enter the value without the surrounding quotes."
                    )
                ),
                found=next(v for v in ans.values if _unquote(v) == want),
                expected=want,
                suggestion=want,
            )
        ]
    prefix = want.split("=", 1)[0].lower() + "=" if "=" in want else ""
    others = [v for v in ans.values if prefix and v.strip().lower().startswith(prefix)]
    if others:
        return [
            Finding(
                exp.kind,
                "error",
                "domain_txt_mismatch",
                _msg(
                    _(
                        "A different verification value is published at %(name)s; it "
                        "is probably left over from an earlier setup. Publish the "
                        "current value (the old one can be removed)."
                    ),
                    name=name,
                ),
                found=" | ".join(others),
                expected=want,
                suggestion=want,
            )
        ]
    return [
        Finding(
            exp.kind,
            "error",
            "domain_txt_missing",
            _msg(
                _("The domain verification TXT record was not found at %(name)s."),
                name=name,
            ),
            found=" | ".join(ans.values),
            expected=want,
            suggestion=want,
        )
    ]


# ---------------------------------------------------------------------------
# SPF
# ---------------------------------------------------------------------------


@dataclass
class _Term:
    qualifier: str  # "+", "-", "~", "?" ("" for modifiers)
    name: str  # lower-case mechanism or modifier name
    arg: str  # after ":" or "=" (CIDR suffixes kept)
    modifier: bool
    raw: str


def _parse_spf(record: str) -> tuple[list[_Term], list[str]]:
    """Terms of an SPF record and the terms that do not parse."""
    terms: list[_Term] = []
    bad: list[str] = []
    for raw in record.split()[1:]:
        mod = _MODIFIER_RE.match(raw)
        # "ip4:1.2.3.4" has no "=", "redirect=x" has no ":" before the "=".
        if mod and ":" not in raw.split("=", 1)[0]:
            terms.append(_Term("", mod.group(1).lower(), mod.group(2), True, raw))
            continue
        mech = _MECHANISM_RE.match(raw)
        if not mech or mech.group(2).lower() not in _KNOWN_MECHANISMS:
            bad.append(raw)
            continue
        arg = (mech.group(3) or "").lstrip(":")
        terms.append(
            _Term(mech.group(1) or "+", mech.group(2).lower(), arg, False, raw)
        )
    return terms, bad


def _target(term: _Term) -> str:
    # include:/redirect= take a domain-spec; no CIDR suffix is allowed there.
    return _norm(term.arg)


@dataclass
class _SpfWalk:
    dns: _Dns
    kind: str
    lookups: int = 0
    reached: set[str] = field(default_factory=set)  # include/redirect targets
    findings: list[Finding] = field(default_factory=list)

    def walk(self, domain: str, record: str, stack: tuple[str, ...]) -> str | None:
        """Count lookups below ``record``; return its effective ``all`` qualifier."""
        terms, bad = _parse_spf(record)
        for raw in bad:
            self.findings.append(
                Finding(
                    self.kind,
                    "error",
                    "spf_syntax",
                    _msg(
                        _(
                            "The SPF record of %(domain)s contains an unknown term "
                            "%(term)s; receivers treat the whole record as invalid."
                        ),
                        domain=domain,
                        term=raw,
                    ),
                    found=record,
                )
            )
        all_term = next((t for t in terms if not t.modifier and t.name == "all"), None)
        redirect = next((t for t in terms if t.modifier and t.name == "redirect"), None)
        for term in terms:
            if term.modifier or term.name not in _DNS_LOOKUP_MECHANISMS:
                continue
            self.lookups += 1
            if term.name == "include":
                self.follow(domain, term, stack)
        if all_term is not None:
            return all_term.qualifier
        # RFC 7208 §6.1: redirect= only applies (and only costs a lookup)
        # when the record has no "all".
        if redirect is not None:
            self.lookups += 1
            return self.follow(domain, redirect, stack)
        return None

    def follow(self, domain: str, term: _Term, stack: tuple[str, ...]) -> str | None:
        target = _target(term)
        if not target:
            self.findings.append(
                Finding(
                    self.kind,
                    "error",
                    "spf_syntax",
                    _msg(
                        _("The SPF term %(term)s in %(domain)s has no domain."),
                        term=term.raw,
                        domain=domain,
                    ),
                )
            )
            return None
        if "%" in target:
            # Macros (%{i}, %{d}…) depend on the connecting IP and sender, so
            # they cannot be expanded here. Flagging them as errors is the
            # Postal #3611 false negative; a warning is the honest answer.
            self.findings.append(
                Finding(
                    self.kind,
                    "warning",
                    "spf_macro_include",
                    _msg(
                        _(
                            "%(term)s uses SPF macros, which depend on each message and "
                            "cannot be checked in advance; the lookups below it are "
                            "not counted."
                        ),
                        term=term.raw,
                    ),
                    found=term.raw,
                )
            )
            return None
        self.reached.add(target)
        if target in stack:
            self.findings.append(
                Finding(
                    self.kind,
                    "error",
                    "spf_include_loop",
                    _msg(
                        _(
                            "The SPF records include each other in a loop "
                            "(%(chain)s); receivers stop with an error."
                        ),
                        chain=" → ".join((*stack, target)),
                    ),
                    found=" → ".join((*stack, target)),
                )
            )
            return None
        if len(stack) > _MAX_DEPTH or self.lookups > _MAX_WALK_LOOKUPS:
            return None
        ans = self.dns.query(target, "TXT")
        if ans.status in ("timeout", "error"):
            self.findings.append(_failure(self.kind, ans, target))
            return None
        spf = [v for v in ans.values if _SPF_RE.match(v.strip())]
        if not spf:
            self.findings.append(
                Finding(
                    self.kind,
                    "error",
                    "spf_include_missing",
                    _msg(
                        _(
                            "%(term)s points to %(target)s, which has no SPF record; "
                            "receivers treat this as a permanent error."
                        ),
                        term=term.raw,
                        target=target,
                    ),
                    found=term.raw,
                )
            )
            return None
        if len(spf) > 1:
            self.findings.append(
                Finding(
                    self.kind,
                    "error",
                    "spf_include_multiple",
                    _msg(
                        _(
                            "%(target)s (used by %(term)s) publishes %(count)s SPF "
                            "records; receivers treat this as a permanent error."
                        ),
                        target=target,
                        term=term.raw,
                        count=len(spf),
                    ),
                    found=" | ".join(spf),
                )
            )
            return None
        return self.walk(target, spf[0].strip(), (*stack, target))


def _acs_include(expected: ExpectedRecord) -> str:
    terms, _bad = _parse_spf(expected.value.strip())
    for t in terms:
        if not t.modifier and t.name == "include" and _target(t):
            return _target(t)
    return ACS_SPF_INCLUDE


def merge_spf(records: list[str], acs_include: str = ACS_SPF_INCLUDE) -> str:
    """One SPF record that keeps every other sender and authorises ACS.

    Mechanisms of all ``records`` are kept in order (duplicates dropped), the
    ACS include is added once if absent, ``redirect=`` becomes an include
    (with an explicit ``-all`` a redirect would be ignored), and the record
    ends with ``-all`` followed by other modifiers such as ``exp=``.
    """
    mechanisms: list[str] = []
    modifiers: list[str] = []
    seen: set[str] = set()

    def add(term: str, out: list[str]) -> None:
        key = term.lower().lstrip("+")
        if key not in seen:
            seen.add(key)
            out.append(term.lstrip("+") if term.startswith("+") else term)

    for record in records:
        terms, bad = _parse_spf(record.strip())
        for t in terms:
            if t.modifier:
                if t.name == "redirect":
                    add(f"include:{t.arg}", mechanisms)
                else:
                    add(t.raw, modifiers)
            elif t.name != "all":
                add(t.raw, mechanisms)
        for raw in bad:  # keep what we do not understand; the customer decides
            add(raw, mechanisms)
    add(f"include:{acs_include}", mechanisms)
    return " ".join(["v=spf1", *mechanisms, "-all", *modifiers])


def _check_spf(
    dns_: _Dns, domain: str, exp: ExpectedRecord
) -> tuple[list[Finding], int | None]:
    kind = exp.kind
    name = _fqdn(exp.name, domain)
    acs = _acs_include(exp)
    ans = dns_.query(name, "TXT")
    if ans.status in ("timeout", "error"):
        return [_failure(kind, ans, name)], None
    # Sorted: DNS returns an RRset in any order, and the merged suggestion and
    # history rows should not change from one check to the next.
    spf = sorted(v.strip() for v in ans.values if _SPF_RE.match(v.strip()))
    if not spf:
        quoted = [v for v in ans.values if _SPF_RE.match(_unquote(v))]
        if quoted:
            return [
                Finding(
                    kind,
                    "error",
                    "spf_quoted",
                    _msg(
                        _(
                            "The SPF record contains literal quote characters, so "
                            "receivers do not recognise it. Re-enter it without the "
                            "surrounding quotes."
                        )
                    ),
                    found=quoted[0],
                    expected=exp.value,
                    suggestion=merge_spf([_unquote(quoted[0])], acs),
                )
            ], None
        return [
            Finding(
                kind,
                "error",
                "spf_missing",
                _msg(_("No SPF record (v=spf1) was found at %(name)s."), name=name),
                expected=exp.value,
                suggestion=exp.value,
            )
        ], None
    has_acs_direct = any(
        not t.modifier and t.name == "include" and _target(t) == acs
        for rec in spf
        for t in _parse_spf(rec)[0]
    )
    findings: list[Finding] = []
    merged = merge_spf(spf, acs)
    if len(spf) > 1:
        findings.append(
            Finding(
                kind,
                "error",
                "spf_multiple",
                _msg(
                    _(
                        "%(count)s SPF records are published at %(name)s. A domain may "
                        "have only one; with several, every receiver fails SPF "
                        "(RFC 7208 permerror). Merge them into one record."
                    ),
                    count=len(spf),
                    name=name,
                ),
                found=" | ".join(spf),
                expected=exp.value,
                suggestion=merged,
            )
        )
        if has_acs_direct:
            findings.append(_m365_note(kind, acs))
        return findings, None

    record = spf[0]
    walk = _SpfWalk(dns_, kind)
    all_q = walk.walk(name, record, (name,))
    findings.extend(walk.findings)
    if walk.lookups > SPF_LOOKUP_LIMIT:
        findings.append(
            Finding(
                kind,
                "error",
                "spf_too_many_lookups",
                _msg(
                    _(
                        "The SPF record needs %(count)s DNS lookups; the limit is "
                        "%(limit)s, beyond which receivers fail SPF. Remove senders "
                        "you no longer use or replace includes with ip4:/ip6: ranges."
                    ),
                    count=walk.lookups,
                    limit=SPF_LOOKUP_LIMIT,
                ),
                found=str(walk.lookups),
                expected=str(SPF_LOOKUP_LIMIT),
            )
        )
    if acs not in walk.reached:
        findings.append(
            Finding(
                kind,
                "error",
                "spf_missing_acs_include",
                _msg(
                    _(
                        "The SPF record does not authorise Azure Communication "
                        "Services: add include:%(include)s to the existing record "
                        "(do not create a second SPF record)."
                    ),
                    include=acs,
                ),
                found=record,
                expected=exp.value,
                suggestion=merged,
            )
        )
    elif has_acs_direct and _other_terms(record, acs):
        # Shared with Microsoft 365 (or other senders): tell the customer the
        # one include serves both, so they do not add a duplicate.
        findings.append(_m365_note(kind, acs))
    all_finding = _all_finding(kind, all_q, record, exp.value, merged)
    if all_finding is not None:
        findings.append(all_finding)
    if not any(f.severity == "error" for f in findings):
        # Warnings (macro, shared include) accompany the ok row: SPF passes.
        findings.insert(
            0,
            Finding(
                kind,
                "ok",
                "spf_ok",
                _msg(
                    _("The SPF record authorises ACS (%(count)s DNS lookups)."),
                    count=walk.lookups,
                ),
                found=record,
                expected=exp.value,
            ),
        )
    return findings, walk.lookups


def _other_terms(record: str, acs: str) -> list[str]:
    """Terms besides the ACS include and ``all`` (other senders, M365 extras)."""
    return [
        t.raw
        for t in _parse_spf(record)[0]
        if not (t.name == "all" or (t.name == "include" and _target(t) == acs))
    ]


def _m365_note(kind: str, acs: str) -> Finding:
    return Finding(
        kind,
        "warning",
        "spf_merge_m365",
        _msg(
            _(
                "The SPF record already contains include:%(include)s. Azure "
                "Communication Services and Microsoft 365 share this include, so "
                "no second include and no second SPF record are needed."
            ),
            include=acs,
        ),
        found=f"include:{acs}",
    )


def _all_finding(
    kind: str, qualifier: str | None, record: str, expected: str, merged: str
) -> Finding | None:
    if qualifier == "-":
        return None
    texts: dict[str | None, tuple[str, Promise]] = {
        "~": (
            "spf_softfail_all",
            _(
                "The SPF record ends with ~all (soft fail). ACS requires -all; "
                "~all makes domain verification fail."
            ),
        ),
        "?": (
            "spf_neutral_all",
            _("The SPF record ends with ?all (neutral). ACS requires -all."),
        ),
        "+": (
            "spf_pass_all",
            _(
                "The SPF record ends with +all, which lets any server on the "
                "internet send as this domain. ACS requires -all."
            ),
        ),
        None: (
            "spf_all_missing",
            _("The SPF record has no 'all' term. ACS requires it to end with -all."),
        ),
    }
    code, text = texts.get(qualifier, texts[None])
    return Finding(
        kind,
        "error",
        code,
        _msg(text),
        found=record,
        expected=expected,
        suggestion=merged,
    )


# ---------------------------------------------------------------------------
# DKIM
# ---------------------------------------------------------------------------


def _check_dkim(dns_: _Dns, domain: str, exp: ExpectedRecord) -> list[Finding]:
    kind = exp.kind
    name = _fqdn(exp.name, domain)
    want = _norm(exp.value) if exp.record_type.upper() == "CNAME" else exp.value
    if exp.record_type.upper() != "CNAME":
        ans = dns_.query(name, "TXT")
        if ans.status in ("timeout", "error"):
            return [_failure(kind, ans, name)]
        if want.strip() in (v.strip() for v in ans.values):
            return [
                Finding(
                    kind,
                    "ok",
                    "dkim_ok",
                    _msg(_("The DKIM record is published.")),
                    found=want,
                    expected=want,
                )
            ]
        code = "dkim_txt_mismatch" if ans.values else "dkim_missing"
        return [
            Finding(
                kind,
                "error",
                code,
                _msg(
                    _("The DKIM TXT record at %(name)s is missing or different."),
                    name=name,
                ),
                found=" | ".join(ans.values),
                expected=want,
                suggestion=want,
            )
        ]
    ans = dns_.query(name, "CNAME")
    if ans.status in ("timeout", "error"):
        return [_failure(kind, ans, name)]
    if ans.status == "ok":
        found = ans.values[0]
        if found == want:
            return [
                Finding(
                    kind,
                    "ok",
                    "dkim_ok",
                    _msg(_("The DKIM CNAME record points to ACS.")),
                    found=found,
                    expected=want,
                )
            ]
        return [
            Finding(
                kind,
                "error",
                "dkim_wrong_target",
                _msg(
                    _(
                        "The CNAME at %(name)s points to %(found)s instead of %(expected)s."
                    ),
                    name=name,
                    found=found,
                    expected=want,
                ),
                found=found,
                expected=want,
                suggestion=want,
            )
        ]
    if ans.status == "nodata":
        # The name exists without a CNAME: usually the key was pasted as a TXT
        # record (what other providers ask for), which ACS cannot rotate.
        txt = dns_.query(name, "TXT")
        if txt.status == "ok":
            return [
                Finding(
                    kind,
                    "error",
                    "dkim_txt_not_cname",
                    _msg(
                        _(
                            "%(name)s has a TXT record, but ACS needs a CNAME record "
                            "pointing to %(expected)s. Delete the TXT record and add "
                            "the CNAME."
                        ),
                        name=name,
                        expected=want,
                    ),
                    found=" | ".join(txt.values),
                    expected=want,
                    suggestion=want,
                )
            ]
    return [
        Finding(
            kind,
            "error",
            "dkim_missing",
            _msg(
                _("No CNAME record was found at %(name)s."),
                name=name,
            ),
            expected=want,
            suggestion=want,
        )
    ]


# ---------------------------------------------------------------------------
# DMARC
# ---------------------------------------------------------------------------


def parse_dmarc(record: str) -> dict[str, str]:
    """DMARC tags (lower-case names, stripped values); the first wins on repeats."""
    tags: dict[str, str] = {}
    for part in record.split(";"):
        if "=" not in part:
            continue
        key, value = part.split("=", 1)
        tags.setdefault(key.strip().lower(), value.strip())
    return tags


def _check_dmarc(dns_: _Dns, domain: str, exp: ExpectedRecord | None) -> list[Finding]:
    kind = exp.kind if exp else "DMARC"
    name = _fqdn(exp.name if exp else "_dmarc", domain)
    suggestion = exp.value.strip() if exp and exp.value.strip() else DEFAULT_DMARC
    ans = dns_.query(name, "TXT")
    if ans.status in ("timeout", "error"):
        return [_failure(kind, ans, name)]
    records = [v.strip() for v in ans.values if _DMARC_RE.match(v.strip())]
    if not records:
        inherited = _parent_dmarc(dns_, domain)
        if inherited is not None:
            parent_name, parent_record = inherited
            return [
                Finding(
                    kind,
                    "warning",
                    "dmarc_inherited",
                    _msg(
                        _(
                            "No DMARC record at %(name)s; receivers apply the policy "
                            "of %(parent)s (its sp= tag, or p=)."
                        ),
                        name=name,
                        parent=parent_name,
                    ),
                    found=parent_record,
                    suggestion=suggestion,
                )
            ]
        return [
            Finding(
                kind,
                "warning",
                "dmarc_missing",
                _msg(
                    _(
                        "No DMARC record was found at %(name)s. ACS verification does "
                        "not require it, but Gmail and Yahoo require DMARC from bulk "
                        "senders; start with p=none and tighten later."
                    ),
                    name=name,
                ),
                expected=suggestion,
                suggestion=suggestion,
            )
        ]
    if len(records) > 1:
        return [
            Finding(
                kind,
                "error",
                "dmarc_multiple",
                _msg(
                    _(
                        "%(count)s DMARC records are published at %(name)s; receivers "
                        "ignore DMARC entirely. Keep exactly one."
                    ),
                    count=len(records),
                    name=name,
                ),
                found=" | ".join(records),
                suggestion=records[0],
            )
        ]
    record = records[0]
    tags = parse_dmarc(record)
    policy = tags.get("p", "").lower()
    if policy not in ("none", "quarantine", "reject"):
        return [
            Finding(
                kind,
                "error",
                "dmarc_invalid",
                _msg(
                    _(
                        "The DMARC record has no valid p= tag (none, quarantine or "
                        "reject), so receivers ignore it."
                    )
                ),
                found=record,
                suggestion=suggestion,
            )
        ]
    if policy == "none":
        return [
            Finding(
                kind,
                "warning",
                "dmarc_policy_none",
                _msg(
                    _(
                        "The DMARC policy is p=none: reports only, spoofed mail is "
                        "still delivered. Move to p=quarantine once reports show all "
                        "legitimate mail passes."
                    )
                ),
                found=record,
            )
        ]
    return [
        Finding(
            kind,
            "ok",
            "dmarc_ok",
            _msg(_("The DMARC policy is p=%(policy)s."), policy=policy),
            found=record,
        )
    ]


def _parent_dmarc(dns_: _Dns, domain: str) -> tuple[str, str] | None:
    """The nearest parent's DMARC record (RFC 7489 organisational-domain fallback).

    Without the Public Suffix List the walk simply stops before the last two
    labels; a query that fails here is treated as "no record" because this is
    advice on top of a finding, not the finding itself.
    """
    labels = domain.split(".")
    for i in range(1, len(labels) - 1):
        parent = ".".join(labels[i:])
        ans = dns_.query(f"_dmarc.{parent}", "TXT")
        if ans.status == "timeout":
            return None
        records = [v.strip() for v in ans.values if _DMARC_RE.match(v.strip())]
        if len(records) == 1:
            return f"_dmarc.{parent}", records[0]
    return None


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------

_KIND_ORDER = {"Domain": 0, "SPF": 1, "DKIM": 2, "DKIM2": 3, "DMARC": 4}


def lint_domain(
    domain: str,
    expected: list[ExpectedRecord],
    *,
    nameservers: list[str],
    port: int = 53,
    timeout: float = 3.0,
) -> LintReport:
    """Check ``domain`` against the records ACS expects, with real DNS queries.

    ``domain`` must already be ASCII (punycode); it is lower-cased and a
    trailing dot is dropped.  Kinds: "Domain" (exact TXT value at the apex),
    "SPF" (evaluated, includes resolved), "DKIM"/"DKIM2" (CNAME target),
    "DMARC" (always checked, even when not in ``expected``).  Unknown kinds
    are ignored.  ``timeout`` bounds each query; a server that keeps timing
    out is given up on after two timeouts.  Never raises for DNS failures.
    """
    domain = _norm(domain)
    dns_ = _Dns(nameservers, port, timeout)
    findings: list[Finding] = []
    spf_count: int | None = None
    dmarc_expected: ExpectedRecord | None = None
    checks: dict[str, Callable[[_Dns, str, ExpectedRecord], list[Finding]]] = {
        "domain": _check_domain_txt,
        "dkim": _check_dkim,
        "dkim2": _check_dkim,
    }
    for exp in sorted(expected, key=lambda e: _KIND_ORDER.get(e.kind, 99)):
        key = exp.kind.lower()
        if key == "spf":
            spf_findings, spf_count = _check_spf(dns_, domain, exp)
            findings.extend(spf_findings)
        elif key == "dmarc":
            dmarc_expected = exp
        elif key in checks:
            findings.extend(checks[key](dns_, domain, exp))
    findings.extend(_check_dmarc(dns_, domain, dmarc_expected))
    return LintReport(
        domain=domain,
        findings=tuple(findings),
        spf_lookup_count=spf_count,
        checked_at=datetime.now(UTC),
    )


def expected_from_arm(verification_records: dict[str, Any]) -> list[ExpectedRecord]:
    """``ExpectedRecord`` list from ARM ``properties.verificationRecords``."""
    out = []
    for kind, rec in (verification_records or {}).items():
        if not isinstance(rec, dict) or not rec.get("value"):
            continue
        out.append(
            ExpectedRecord(
                kind=kind,
                record_type=str(rec.get("type", "TXT")).upper(),
                name=str(rec.get("name", "@")),
                value=str(rec["value"]),
            )
        )
    return out


# ---------------------------------------------------------------------------
# DNS host guidance
# ---------------------------------------------------------------------------

_COMMON_TAIL = (
    _(
        "Enter TXT values exactly as shown, without adding quote characters "
        "(unless the host asks for them)."
    ),
    _(
        "Edit an existing SPF (v=spf1) record instead of adding a second one; use "
        "the merged value the portal suggests."
    ),
    _(
        "Changes usually appear within minutes, but resolvers may keep the old "
        "answer until its TTL expires (up to a few hours). Then run the check again."
    ),
)

_HOST_STEPS: dict[str, tuple[Promise, ...]] = {
    "onamae": (
        _(
            "Log in to お名前.com Navi and open the DNS settings of the domain "
            '("DNS設定/転送設定"), then choose "DNSレコード設定を利用する".'
        ),
        _(
            "These settings only take effect if the domain uses お名前.com's name "
            "servers (dnsv.jp). If it uses a rental server's name servers, edit the "
            "records there instead."
        ),
        _(
            "For records at the domain itself (verification TXT, SPF) leave the host "
            "name field empty; for the others enter only the part before your "
            "domain, e.g. _dmarc or selector1-azurecomm-prod-net._domainkey."
        ),
        _(
            'Add each record, click "追加", then confirm at the bottom of the page '
            'and click "設定する"; records are not saved until you do.'
        ),
    ),
    "sakura": (
        _(
            "Log in to the さくらインターネット member menu, open the domain list and "
            'click "ゾーン編集" for the domain.'
        ),
        _(
            'Use "@" as the entry name for records at the domain itself; for the '
            "others enter only the part before your domain (e.g. _dmarc)."
        ),
        _(
            "For CNAME targets enter the full name. If the saved entry shows your own "
            "domain appended to the target, re-enter it ending with a dot "
            "(…azurecomm.net.)."
        ),
        _('Save the zone ("データ送信" / save) after adding the records.'),
    ),
    "xserver": (
        _(
            "In the Xserver server panel (or Xserverアカウント for Xserver Domain), "
            'open "DNSレコード設定" and select the domain.'
        ),
        _(
            "Xserver creates a default SPF record ending in ~all. Edit that record "
            "to the merged value ending in -all rather than adding a new one."
        ),
        _(
            "Leave the host name empty for records at the domain itself; for the "
            "others enter only the part before your domain."
        ),
        _('Click "確認画面へ進む" and then "追加する" to save each record.'),
    ),
    "route53": (
        _(
            "In the AWS console open Route 53 → Hosted zones, select the public "
            'hosted zone of the domain and click "Create record".'
        ),
        _(
            'Leave "Record name" empty for records at the domain itself; Route 53 '
            "appends the domain to anything you enter."
        ),
        _(
            'Route 53 requires TXT values in double quotes: enter "v=spf1 … -all" '
            "with one pair of quotes; a value longer than 255 characters must be "
            "split into several quoted strings. Put all TXT values for the same "
            "name in one record, one per line."
        ),
        _(
            "Check that the domain's NS records at the registrar point to this "
            "hosted zone; otherwise the records are not used."
        ),
    ),
    "cloudflare": (
        _(
            "In the Cloudflare dashboard select the domain, open DNS → Records and "
            'click "Add record".'
        ),
        _(
            'Use "@" as the name for records at the domain itself; Cloudflare '
            "appends the domain to other names."
        ),
        _(
            'Set the DKIM CNAME records to "DNS only" (grey cloud). A proxied '
            "CNAME hides the target and DKIM verification fails."
        ),
        _("Enter TXT content without quotes; Cloudflare adds them itself."),
    ),
    "other": (
        _(
            "Open the DNS or zone settings of the domain at the company that runs its "
            "name servers (check the NS records if unsure)."
        ),
        _(
            'For records at the domain itself the host field is usually "@" or '
            "empty; for the others enter the part before your domain."
        ),
        _("Add the TXT and CNAME records exactly as listed and save the zone."),
    ),
}

HOST_KEYS = tuple(_HOST_STEPS)


def guidance_for_host(host_key: str) -> list[str]:
    """Step list (lazy translatable strings) for a DNS host; unknown keys get "other"."""
    steps = _HOST_STEPS.get(host_key, _HOST_STEPS["other"])
    tail = _COMMON_TAIL
    if host_key in ("route53", "cloudflare"):
        tail = _COMMON_TAIL[1:]  # their own quoting rule is in the steps
    return [*steps, *tail]  # type: ignore[list-item]


def dns_lookup(
    name: str,
    rtype: str,
    *,
    nameservers: list[str],
    port: int = 53,
    timeout: float = 3.0,
) -> tuple[str, list[str]]:
    """One query outside a lint (MX, DNSBL): ``(status, values)``.

    ``status`` is "ok", "nxdomain", "nodata", "timeout" or "error", as in a lint;
    values are presentation text (MX: "10 host."). Never raises for DNS trouble.
    """
    answer = _Dns(nameservers, port, timeout).query(_norm(name), rtype)
    return answer.status, answer.values
