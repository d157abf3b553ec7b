"""Log Analytics table schemas emulated for Azure Communication Services Email.

Column names and KQL types follow the Azure Monitor table reference
(learn.microsoft.com/azure/azure-monitor/reference/tables/acsemail*operational),
summarised in azure-facts §7.1. Order follows the real tables: TenantId and
TimeGenerated first, table-specific columns, then the standard columns. `take`
and `project *` return columns in this order.
"""

from __future__ import annotations

# Columns every resource-log table shares (leading part).
_HEAD: list[tuple[str, str]] = [
    ("TenantId", "string"),
    ("TimeGenerated", "datetime"),
    ("Location", "string"),
    ("OperationName", "string"),
    ("OperationVersion", "string"),
    ("Category", "string"),
    ("CorrelationId", "string"),
]

# Standard Log Analytics columns (trailing part). _IsBillable is a *string*
# ("True"/"False") in the real schema, _BilledSize is real (bytes).
_TAIL: list[tuple[str, str]] = [
    ("SourceSystem", "string"),
    ("Type", "string"),
    ("_ResourceId", "string"),
    ("_SubscriptionId", "string"),
    ("_BilledSize", "real"),
    ("_IsBillable", "string"),
]

SEND_MAIL = "ACSEmailSendMailOperational"
STATUS_UPDATE = "ACSEmailStatusUpdateOperational"
USER_ENGAGEMENT = "ACSEmailUserEngagementOperational"

TABLES: dict[str, list[tuple[str, str]]] = {
    SEND_MAIL: [
        *_HEAD,
        # Size is in MB (body + subject + headers + attachments).
        ("Size", "real"),
        ("ToRecipientsCount", "int"),
        ("CcRecipientsCount", "int"),
        ("BccRecipientsCount", "int"),
        ("UniqueRecipientsCount", "int"),
        ("AttachmentsCount", "int"),
        ("TrafficSource", "string"),
        *_TAIL,
    ],
    STATUS_UPDATE: [
        *_HEAD,
        # Empty RecipientId marks a message-level row (e.g. OutForDelivery).
        ("RecipientId", "string"),
        ("DeliveryStatus", "string"),
        ("SmtpStatusCode", "string"),
        ("EnhancedSmtpStatusCode", "string"),
        ("FailureReason", "string"),
        ("FailureMessage", "string"),
        ("SenderDomain", "string"),
        ("SenderUsername", "string"),
        # A *string* in the real schema ("true"/"false"), not bool.
        ("IsHardBounce", "string"),
        *_TAIL,
    ],
    USER_ENGAGEMENT: [
        *_HEAD,
        ("RecipientId", "string"),
        ("EngagementType", "string"),  # "View" | "Click"
        ("EngagementContext", "string"),  # clicked URL for Click
        ("UserAgent", "string"),
        ("InternetMessageId", "string"),
        *_TAIL,
    ],
}

# Values written to the constant columns by the emulator.
CATEGORIES: dict[str, str] = {
    SEND_MAIL: "EmailSendMailOperational",
    STATUS_UPDATE: "EmailStatusUpdateOperational",
    USER_ENGAGEMENT: "EmailUserEngagementOperational",
}
OPERATION_NAMES: dict[str, str] = {
    SEND_MAIL: "SendMail",
    STATUS_UPDATE: "DeliveryStatusUpdate",
    USER_ENGAGEMENT: "UserEngagementUpdate",
}

DELIVERY_STATUSES: tuple[str, ...] = (
    "OutForDelivery",
    "Delivered",
    "Expanded",
    "Failed",
    "Bounced",
    "Suppressed",
    "Quarantined",
    "FilteredSpam",
)


def column_names(table: str) -> list[str]:
    """Column names of ``table`` in schema order."""
    return [name for name, _ in TABLES[table]]
