"""Plain-language explanations of delivery outcomes, with the next thing to do.

``explain()`` maps what ACS reports for one recipient (``DeliveryStatus``, the
enhanced SMTP status code, the basic SMTP code, ``IsHardBounce`` and
``FailureReason``) to a cause and an action a customer admin can act on. The
mapping is a table: the most specific match wins, in this order —

1. statuses that explain themselves (Delivered, Suppressed, Quarantined, …);
2. the exact enhanced code (``5.7.509``);
3. keywords in ``FailureReason`` (ACS sometimes sends a reason without a code);
4. the enhanced code's class and subject (``5.7.x``, ``4.x.x``);
5. the basic SMTP code, ``IsHardBounce``, and finally the status alone.

Japanese mobile carriers (docomo, au, SoftBank) reject mail from PCs and
unknown domains when the subscriber's "受信設定" says so, and docomo answers such
mail with "550 Unknown user"; for those recipients a carrier hint is added to the
action. Strings are English msgids; ``bounces_ja.JA_COPY`` holds the Japanese.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

SEVERITY_OK = "ok"
SEVERITY_INFO = "info"
SEVERITY_WARNING = "warning"
SEVERITY_ERROR = "error"

# Categories group causes on the dashboard ("why did mail bounce?").
DELIVERED = "delivered"
PENDING = "pending"
MAILBOX = "mailbox"
MAILBOX_FULL = "mailbox_full"
TEMPORARY = "temporary"
SIZE = "size"
ROUTING = "routing"
SPAM = "spam"
AUTHENTICATION = "authentication"
POLICY = "policy"
REPUTATION = "reputation"
SUPPRESSED = "suppressed"
QUARANTINED = "quarantined"
UNKNOWN = "unknown"

CARRIER_CLASSES = frozenset({"docomo", "au", "softbank"})
# Statuses after which ACS reports nothing more for the recipient.
TERMINAL_STATUSES = frozenset(
    {"Delivered", "Bounced", "Failed", "Suppressed", "Quarantined", "FilteredSpam"}
)
FAILED_STATUSES = ("Bounced", "Failed", "Suppressed", "Quarantined", "FilteredSpam")


@dataclass(frozen=True)
class Explanation:
    cause: Promise | str
    action: Promise | str
    severity: str
    category: str

    @property
    def is_problem(self) -> bool:
        return self.severity in (SEVERITY_WARNING, SEVERITY_ERROR)


def _e(cause: Promise, action: Promise, severity: str, category: str) -> Explanation:
    return Explanation(cause, action, severity, category)


MAILBOX_MISSING = _e(
    _("The recipient's mailbox does not exist."),
    _(
        "Check the address for typos. If it is correct, confirm it with the "
        "recipient by phone or another channel, then remove it from your list."
    ),
    SEVERITY_ERROR,
    MAILBOX,
)
MAILBOX_FULL_HARD = _e(
    _("The recipient's mailbox is full."),
    _(
        "Ask the recipient to free up space. ACS does not retry this one; "
        "send again once the mailbox has room."
    ),
    SEVERITY_WARNING,
    MAILBOX_FULL,
)
TEMPORARY_REFUSAL = _e(
    _("The receiving server is temporarily refusing mail."),
    _(
        "Nothing to do yet: this is usually temporary. If it keeps happening "
        "for the same domain, send more slowly and contact the recipient's "
        "administrator."
    ),
    SEVERITY_WARNING,
    TEMPORARY,
)
SPAM_REJECTED = _e(
    _("The message was rejected as spam."),
    _(
        "Check SPF, DKIM and DMARC on the sending domain page, avoid "
        "URL shorteners and image-only messages, and ask the recipient to add "
        "the sender to their safe senders."
    ),
    SEVERITY_ERROR,
    SPAM,
)
POLICY_REFUSED = _e(
    _("The receiving server refused the message because of its policy."),
    _(
        "Ask the recipient (or their administrator) to allow your sender "
        "address or domain, and make sure SPF, DKIM and DMARC pass."
    ),
    SEVERITY_ERROR,
    POLICY,
)
AUTH_FAILED = _e(
    _("The receiving server could not authenticate the sender (SPF, DKIM or DMARC)."),
    _(
        "Open the sending domain page and fix the DNS records it reports; "
        "SPF must include spf.protection.outlook.com and end in -all, and DKIM "
        "must be published for both selectors."
    ),
    SEVERITY_ERROR,
    AUTHENTICATION,
)
UNKNOWN_FAILURE = _e(
    _(
        "The message could not be delivered for a reason the receiving server did not explain."
    ),
    _(
        "Check the SMTP codes below. If the same recipient keeps failing, "
        "contact your MSP with the message ID."
    ),
    SEVERITY_ERROR,
    UNKNOWN,
)

STATUS_TABLE: dict[str, Explanation] = {
    "delivered": _e(
        _("Delivered to the recipient's mail server."),
        _("Nothing to do."),
        SEVERITY_OK,
        DELIVERED,
    ),
    "outfordelivery": _e(
        _("The message is on its way; no final status yet."),
        _("Wait a few minutes. If it stays like this for hours, contact your MSP."),
        SEVERITY_INFO,
        PENDING,
    ),
    "expanded": _e(
        _("The address is a distribution list and was expanded to its members."),
        _("Nothing to do; each member gets a status of its own."),
        SEVERITY_INFO,
        PENDING,
    ),
    "suppressed": _e(
        _("The address is on the suppression list, so ACS did not send to it."),
        _(
            "It bounced before. Confirm the address with the recipient; once it "
            "works again, remove it from the suppression list (Azure keeps its "
            "own list for up to 14 days)."
        ),
        SEVERITY_ERROR,
        SUPPRESSED,
    ),
    "quarantined": _e(
        _("The recipient's mail system put the message in quarantine."),
        _(
            "Ask the recipient's administrator to release it and to allow your "
            "sender address; check SPF, DKIM and DMARC."
        ),
        SEVERITY_ERROR,
        QUARANTINED,
    ),
    "filteredspam": SPAM_REJECTED,
}

CODE_TABLE: dict[str, Explanation] = {
    "5.1.1": MAILBOX_MISSING,
    "5.1.10": MAILBOX_MISSING,
    "5.1.0": MAILBOX_MISSING,
    "5.1.2": _e(
        _("The recipient's domain does not exist or does not accept mail."),
        _("Check the part after @ for typos (e.g. gmail.co.jp instead of gmail.com)."),
        SEVERITY_ERROR,
        ROUTING,
    ),
    "5.2.1": _e(
        _("The recipient's mailbox is disabled or no longer in use."),
        _(
            "Ask the recipient for a current address and remove this one from "
            "your list."
        ),
        SEVERITY_ERROR,
        MAILBOX,
    ),
    "5.2.2": MAILBOX_FULL_HARD,
    "4.2.2": _e(
        _("The recipient's mailbox is full (temporary)."),
        _("Nothing to do yet: delivery is retried. Tell the recipient if it persists."),
        SEVERITY_WARNING,
        MAILBOX_FULL,
    ),
    "4.2.1": _e(
        _("The recipient is receiving mail too fast and the server is deferring it."),
        _("Nothing to do yet: delivery is retried. Spread large sends over time."),
        SEVERITY_WARNING,
        TEMPORARY,
    ),
    "5.2.3": _e(
        _("The message is larger than the recipient's server accepts."),
        _(
            "Make the message smaller: send large files as a download link "
            "instead of attachments."
        ),
        SEVERITY_ERROR,
        SIZE,
    ),
    "5.3.4": _e(
        _("The message is too large for the receiving system."),
        _(
            "Keep messages well under 10 MB including attachments (about 7.5 MB "
            "of files); send large files as a link."
        ),
        SEVERITY_ERROR,
        SIZE,
    ),
    "4.4.1": _e(
        _("The receiving server did not answer (connection timed out)."),
        _(
            "Nothing to do yet: delivery is retried. If it persists, the "
            "recipient's mail server may be down."
        ),
        SEVERITY_WARNING,
        TEMPORARY,
    ),
    "4.4.7": _e(
        _(
            "The message expired: the receiving server could not be reached for too long."
        ),
        _(
            "Check the recipient's domain. If it is correct, their mail server "
            "has been unreachable; send again later."
        ),
        SEVERITY_ERROR,
        ROUTING,
    ),
    "5.4.1": _e(
        _("The recipient's server refused the address (access denied)."),
        _(
            "The address may not exist or the organisation accepts no mail from "
            "outside. Confirm the address with the recipient."
        ),
        SEVERITY_ERROR,
        MAILBOX,
    ),
    "5.4.4": _e(
        _("The recipient's domain has no mail server (no MX record)."),
        _("Check the domain part of the address for typos."),
        SEVERITY_ERROR,
        ROUTING,
    ),
    "5.4.14": _e(
        _("The message was looping between mail servers."),
        _("Ask the recipient's administrator to check their forwarding rules."),
        SEVERITY_ERROR,
        ROUTING,
    ),
    "5.7.1": POLICY_REFUSED,
    "5.7.0": POLICY_REFUSED,
    "5.7.23": _e(
        _("The receiving server rejected the message because SPF failed."),
        _(
            "Check the SPF record on the sending domain page: it must include "
            "spf.protection.outlook.com and end in -all."
        ),
        SEVERITY_ERROR,
        AUTHENTICATION,
    ),
    "5.7.25": _e(
        _("The receiving server requires reverse DNS for the sending IP."),
        _(
            "This concerns Azure's sending servers; contact your MSP with the message ID."
        ),
        SEVERITY_ERROR,
        REPUTATION,
    ),
    "5.7.26": AUTH_FAILED,
    "5.7.27": AUTH_FAILED,
    "5.7.28": _e(
        _("The receiving server flagged the sending traffic as unsolicited bulk mail."),
        _(
            "Send only to people who asked for your mail, add an unsubscribe "
            "link, and ramp volume up gradually."
        ),
        SEVERITY_ERROR,
        SPAM,
    ),
    "5.7.509": _e(
        _("The sending domain does not pass DMARC and its policy says reject."),
        _(
            "Make DKIM pass with your domain (publish both DKIM records on the "
            "sending domain page) or relax the DMARC policy until it does."
        ),
        SEVERITY_ERROR,
        AUTHENTICATION,
    ),
    "5.7.708": _e(
        _("Microsoft 365 does not accept mail from this sending IP (low reputation)."),
        _(
            "This is on Azure's side; contact your MSP. Sending a steady, lower "
            "volume to addresses that exist helps the reputation recover."
        ),
        SEVERITY_ERROR,
        REPUTATION,
    ),
    "5.7.606": _e(
        _("The sending IP is on Microsoft's block list."),
        _("Contact your MSP, who can request delisting for the Azure sending IP."),
        SEVERITY_ERROR,
        REPUTATION,
    ),
    "5.7.133": _e(
        _(
            "The recipient is a group that does not accept mail from outside the organisation."
        ),
        _("Ask the recipient's administrator to allow external senders for the group."),
        SEVERITY_ERROR,
        POLICY,
    ),
    "5.7.134": _e(
        _(
            "The recipient's mailbox does not accept mail from outside the organisation."
        ),
        _("Ask the recipient's administrator to allow external senders."),
        SEVERITY_ERROR,
        POLICY,
    ),
    "4.7.0": _e(
        _("The receiving server is temporarily refusing mail (policy or greylisting)."),
        _("Nothing to do yet: delivery is retried automatically."),
        SEVERITY_WARNING,
        TEMPORARY,
    ),
    "4.7.650": _e(
        _("Microsoft 365 is temporarily limiting mail from the sending IP."),
        _(
            "Nothing to do yet: delivery is retried. Spread large sends over "
            "time; if it persists, contact your MSP."
        ),
        SEVERITY_WARNING,
        REPUTATION,
    ),
    "4.7.26": _e(
        _("The receiving server deferred the message until SPF or DKIM passes."),
        _("Check SPF, DKIM and DMARC on the sending domain page."),
        SEVERITY_WARNING,
        AUTHENTICATION,
    ),
}

# Keywords of FailureReason / FailureMessage, tried in order, lower-cased and with
# spaces removed ("DestinationMailboxFull", "Mailbox full" both match).
REASON_TABLE: tuple[tuple[str, Explanation], ...] = (
    ("mailboxfull", MAILBOX_FULL_HARD),
    ("quotaexceeded", MAILBOX_FULL_HARD),
    ("overquota", MAILBOX_FULL_HARD),
    ("suppress", STATUS_TABLE["suppressed"]),
    ("unknownuser", MAILBOX_MISSING),
    ("usernotfound", MAILBOX_MISSING),
    ("recipientnotfound", MAILBOX_MISSING),
    ("mailboxnotfound", MAILBOX_MISSING),
    ("nosuchuser", MAILBOX_MISSING),
    ("doesnotexist", MAILBOX_MISSING),
    ("invalidrecipient", MAILBOX_MISSING),
    ("dmarc", CODE_TABLE["5.7.509"]),
    ("spf", CODE_TABLE["5.7.23"]),
    ("spam", SPAM_REJECTED),
    ("toolarge", CODE_TABLE["5.3.4"]),
    ("sizelimit", CODE_TABLE["5.3.4"]),
    ("timedout", CODE_TABLE["4.4.1"]),
    ("timeout", CODE_TABLE["4.4.1"]),
)

# Fallback on the enhanced code's class and subject ("5.7" → policy).
SUBJECT_TABLE: dict[str, Explanation] = {
    "5.1": MAILBOX_MISSING,
    "5.2": _e(
        _("The recipient's mailbox cannot take the message."),
        _(
            "Confirm the address with the recipient and ask them to check their mailbox."
        ),
        SEVERITY_ERROR,
        MAILBOX,
    ),
    "5.3": CODE_TABLE["5.3.4"],
    "5.4": CODE_TABLE["5.4.4"],
    "5.5": UNKNOWN_FAILURE,
    "5.6": _e(
        _("The receiving server could not process the message's content."),
        _("Check attachments and character encoding; try sending plain text."),
        SEVERITY_ERROR,
        UNKNOWN,
    ),
    "5.7": POLICY_REFUSED,
}

CARRIER_HINT = _(
    "Mobile carriers (docomo, au, SoftBank) block mail from PCs or unknown "
    "domains when the subscriber's reception settings say so (docomo may even "
    "answer “unknown user”): ask the recipient to allow your domain in their "
    "reception settings (domain-specific reception)."
)
CARRIER_CATEGORIES = frozenset({MAILBOX, POLICY, SPAM, AUTHENTICATION, UNKNOWN})

_CODE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


def normalise_code(enhanced_code: str) -> str:
    """``"550 5.7.1"`` or ``"#5.7.1"`` → ``"5.7.1"``; ``""`` when there is none."""
    match = _CODE.search(enhanced_code or "")
    if not match:
        return ""
    return f"{match.group(1)}.{int(match.group(2))}.{int(match.group(3))}"


def _by_reason(text: str) -> Explanation | None:
    squashed = re.sub(r"[\s_\-]+", "", text).lower()
    if not squashed:
        return None
    for keyword, explanation in REASON_TABLE:
        if keyword in squashed:
            return explanation
    return None


def _base(
    status: str,
    code: str,
    smtp_code: str,
    is_hard_bounce: bool,
    failure_reason: str,
) -> Explanation:
    key = (status or "").replace(" ", "").lower()
    if key in STATUS_TABLE:
        return STATUS_TABLE[key]
    if code in CODE_TABLE:
        return CODE_TABLE[code]
    by_reason = _by_reason(failure_reason)
    if by_reason is not None:
        return by_reason
    if code:
        if code.startswith("4."):
            return TEMPORARY_REFUSAL
        subject = code.rsplit(".", 1)[0]
        if subject in SUBJECT_TABLE:
            return SUBJECT_TABLE[subject]
    basic = (smtp_code or "").strip()[:3]
    if basic.startswith("4"):
        return TEMPORARY_REFUSAL
    if basic in ("550", "551", "553") and is_hard_bounce:
        return MAILBOX_MISSING
    if basic == "552":
        return MAILBOX_FULL_HARD
    if basic == "554":
        return POLICY_REFUSED
    if is_hard_bounce:
        return MAILBOX_MISSING
    return UNKNOWN_FAILURE


def explain(
    status: str,
    enhanced_code: str = "",
    smtp_code: str = "",
    is_hard_bounce: bool = False,
    failure_reason: str = "",
    domain_class: str = "",
) -> Explanation:
    """Explain one recipient's delivery outcome; never raises, always returns one.

    Unknown statuses and codes fall back to a generic cause, so new values from
    Azure show something sensible until the table learns them.
    """
    code = normalise_code(enhanced_code)
    base = _base(status, code, smtp_code, is_hard_bounce, failure_reason)
    if domain_class in CARRIER_CLASSES and base.category in CARRIER_CATEGORIES:
        return Explanation(
            cause=base.cause,
            action=format_lazy("{} {}", base.action, CARRIER_HINT),
            severity=base.severity,
            category=base.category,
        )
    return base


CATEGORY_LABELS: dict[str, Promise] = {
    DELIVERED: _("Delivered"),
    PENDING: _("In progress"),
    MAILBOX: _("Address does not exist"),
    MAILBOX_FULL: _("Mailbox full"),
    TEMPORARY: _("Temporary refusal"),
    SIZE: _("Message too large"),
    ROUTING: _("Domain unreachable"),
    SPAM: _("Rejected as spam"),
    AUTHENTICATION: _("Sender authentication failed"),
    POLICY: _("Refused by policy"),
    REPUTATION: _("Sending IP reputation"),
    SUPPRESSED: _("Suppression list"),
    QUARANTINED: _("Quarantined"),
    UNKNOWN: _("Unknown reason"),
}
