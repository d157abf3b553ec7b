"""The bounce explanation table: every status and common code maps to a cause."""

from __future__ import annotations

import pytest
from django.utils import translation

from mailops.analytics import bounces
from mailops.analytics.bounces import explain
from mailops.analytics.bounces_ja import JA_COPY


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("status", "code", "category", "severity", "cause_starts"),
    [
        ("Delivered", "", "delivered", "ok", "Delivered to"),
        ("delivered", "", "delivered", "ok", "Delivered to"),
        ("OutForDelivery", "", "pending", "info", "The message is on its way"),
        ("Expanded", "", "pending", "info", "The address is a distribution list"),
        ("Suppressed", "", "suppressed", "error", "The address is on the suppression"),
        ("Quarantined", "", "quarantined", "error", "The recipient's mail system"),
        ("FilteredSpam", "", "spam", "error", "The message was rejected as spam"),
        ("Bounced", "5.1.1", "mailbox", "error", "The recipient's mailbox does not"),
        ("Bounced", "5.1.10", "mailbox", "error", "The recipient's mailbox does not"),
        ("Bounced", "5.2.1", "mailbox", "error", "The recipient's mailbox is disabled"),
        (
            "Failed",
            "5.2.2",
            "mailbox_full",
            "warning",
            "The recipient's mailbox is full",
        ),
        (
            "Failed",
            "4.2.2",
            "mailbox_full",
            "warning",
            "The recipient's mailbox is full",
        ),
        ("Failed", "5.2.3", "size", "error", "The message is larger"),
        ("Failed", "5.3.4", "size", "error", "The message is too large"),
        ("Failed", "4.4.1", "temporary", "warning", "The receiving server did not"),
        ("Failed", "4.4.7", "routing", "error", "The message expired"),
        ("Failed", "5.4.1", "mailbox", "error", "The recipient's server refused"),
        ("Failed", "5.4.4", "routing", "error", "The recipient's domain has no"),
        ("Failed", "5.7.1", "policy", "error", "The receiving server refused"),
        (
            "Failed",
            "5.7.23",
            "authentication",
            "error",
            "The receiving server rejected",
        ),
        (
            "Failed",
            "5.7.26",
            "authentication",
            "error",
            "The receiving server could not",
        ),
        ("Failed", "5.7.509", "authentication", "error", "The sending domain does not"),
        ("Failed", "5.7.708", "reputation", "error", "Microsoft 365 does not accept"),
        ("Failed", "5.7.606", "reputation", "error", "The sending IP is on"),
        (
            "Failed",
            "4.7.0",
            "temporary",
            "warning",
            "The receiving server is temporarily",
        ),
        ("Failed", "4.7.650", "reputation", "warning", "Microsoft 365 is temporarily"),
    ],
)
def test_table(status, code, category, severity, cause_starts):
    # when
    result = explain(status, code, "", False, "", "gmail")
    # then
    assert (result.category, result.severity) == (category, severity)
    assert str(result.cause).startswith(cause_starts)


def test_code_is_found_inside_smtp_text():
    assert bounces.normalise_code("550 5.1.1 <a@b.jp>: User unknown") == "5.1.1"
    assert bounces.normalise_code("#5.07.001") == "5.7.1"
    assert bounces.normalise_code("") == ""
    assert explain("Bounced", "550 5.1.1 user unknown").category == "mailbox"


def test_failure_reason_without_code():
    assert explain("Failed", failure_reason="DestinationMailboxFull").category == (
        "mailbox_full"
    )
    assert explain("Failed", failure_reason="Mailbox not found").category == "mailbox"


def test_fallbacks_by_class_basic_code_and_hard_bounce():
    assert explain("Failed", "4.3.2").category == "temporary"
    assert explain("Failed", "5.7.999").category == "policy"
    assert explain("Failed", "5.1.99").category == "mailbox"
    assert explain("Failed", "", "421").category == "temporary"
    assert explain("Bounced", "", "", True).category == "mailbox"
    assert explain("Failed").category == "unknown"
    assert explain("SomethingNew").category == "unknown"


@pytest.mark.parametrize("carrier", ["docomo", "au", "softbank"])
def test_carrier_hint_is_added_for_japanese_mobile_recipients(carrier):
    # when
    result = explain("Bounced", "5.1.1", "550", True, "", carrier)
    plain = explain("Bounced", "5.1.1", "550", True, "", "gmail")
    # then
    assert str(result.cause) == str(plain.cause)
    assert str(result.action) == f"{plain.action} {bounces.CARRIER_HINT}"
    assert "domain-specific reception" in str(result.action)
    assert "reception" not in str(plain.action)


def test_no_carrier_hint_for_temporary_or_delivered():
    assert str(explain("Delivered", domain_class="docomo").action) == "Nothing to do."
    temp = explain("Failed", "4.4.1", domain_class="au")
    assert "reception" not in str(temp.action)


def _msgids() -> set[str]:
    ids: set[str] = set()
    tables = [
        *bounces.STATUS_TABLE.values(),
        *bounces.CODE_TABLE.values(),
        *bounces.SUBJECT_TABLE.values(),
        *(e for _k, e in bounces.REASON_TABLE),
        bounces.TEMPORARY_REFUSAL,
    ]
    for e in tables:
        ids.update({str(e.cause), str(e.action)})
    ids.add(str(bounces.CARRIER_HINT))
    ids.update(str(v) for v in bounces.CATEGORY_LABELS.values())
    return ids


def test_every_message_has_japanese_copy():
    # given
    ids = _msgids()
    # then
    assert ids == set(JA_COPY)
    assert all(JA_COPY[m] and JA_COPY[m] != m for m in ids)
    assert JA_COPY["The recipient's mailbox does not exist."] == (
        "受信者のメールボックスが存在しません。"
    )
    assert "ドメイン指定受信" in JA_COPY[str(bounces.CARRIER_HINT)]
