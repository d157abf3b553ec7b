"""Monthly send and spend caps per tenant ("guardrails") and their hard actions.

Evaluation reads the month-to-date billable emails from billing's usage ledger
(``UsageDay``) and the month's accrued charge in yen as billing prices it
(``tenants.summaries.month_charge``: the invoice total if the month closed today).
At 80% of a cap a warning alert opens, at 100% a critical one, and the tenant's
owners are mailed; each (month, cap, threshold) is alerted once
(``Guardrail.notified``), even after staff resolve the alert.

The optional hard action at 100%:

* **disable SMTP usernames**: ACS's SmtpUsername resource has no "disabled" flag,
  so the resource is DELETEd (SMTP AUTH then fails) and PUT back on lifting with
  the same username, Entra application and tenant. Every username's state is saved
  after its Azure call (``GuardrailAction.items``), so a crash half-way is finished
  by running the step again; Azure calls happen outside DB transactions.
* **pause bulk sends**: ``Customer.bulk_sends_blocked_reason`` is set; the
  campaign workers stop while it is non-empty.

The action holds until staff or the owner lift it (it then stays off for the rest
of the month) or a cap is raised above the current use. Every action, lift and
cap change is audited in the tenant's log and in the staff (public) log.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from portal.errors import ServiceError
from portal.integrations.azure.errors import AzureError
from tenants.accounts.audit import AuditContext, audit_record
from tenants.models import Alert, Customer, Guardrail, GuardrailAction, TenantSummary
from tenants.summaries import JST, guardrail_summary_values, month_charge

logger = logging.getLogger(__name__)

SEND = "send"
SPEND = "spend"
RULES = (SEND, SPEND)
ALERT_KINDS = {SEND: "guardrail.send_cap", SPEND: "guardrail.spend_cap"}
WARN_PERCENT = 80
CAP_PERCENT = 100
THRESHOLDS = (WARN_PERCENT, CAP_PERCENT)
SYSTEM = AuditContext.system("guardrail")


def current_period(now: dt.datetime) -> dt.date:
    """First day of ``now``'s month in JST (billing months are JST months)."""
    return now.astimezone(JST).date().replace(day=1)


def cap_percent(used: int | None, cap: int | None) -> int | None:
    """Whole percent of ``cap`` used, rounded down (79.99% is 79); None without cap."""
    if not cap or used is None:
        return None
    return used * 100 // cap


@dataclass(frozen=True)
class Crossing:
    """A threshold of one cap crossed for the first time this month."""

    rule: str
    threshold: int
    percent: int
    used: int
    cap: int


@dataclass
class Evaluation:
    guardrail: Guardrail | None
    crossings: list[Crossing] = field(default_factory=list)
    emailed: int = 0
    enforced: bool = False


def _month_emails(tenant: Customer, now: dt.datetime) -> int:
    from billing.models import UsageDay

    today = now.astimezone(JST).date()
    total = UsageDay.objects.filter(
        tenant=tenant, day__gte=today.replace(day=1), day__lte=today
    ).aggregate(n=Sum("billable_emails"))["n"]
    return int(total or 0)


def _has_caps(guardrail: Guardrail) -> bool:
    return bool(guardrail.monthly_send_cap or guardrail.monthly_spend_cap_jpy)


def _used_and_cap(guardrail: Guardrail, rule: str) -> tuple[int, int | None]:
    if rule == SEND:
        return guardrail.emails_mtd, guardrail.monthly_send_cap
    return guardrail.spend_mtd_jpy or 0, guardrail.monthly_spend_cap_jpy


def _reached_rule(guardrail: Guardrail) -> str | None:
    for rule in RULES:
        percent = guardrail.send_percent if rule == SEND else guardrail.spend_percent
        if percent is not None and percent >= CAP_PERCENT:
            return rule
    return None


def _live_actions(guardrail: Guardrail) -> list[GuardrailAction]:
    return list(
        guardrail.actions.filter(state__in=GuardrailAction.LIVE_STATES).order_by("pk")
    )


def _state_for(guardrail: Guardrail, enforced: bool) -> str:
    if enforced:
        return Guardrail.State.ENFORCED
    percent = guardrail.percent
    if percent is not None and percent >= CAP_PERCENT:
        return Guardrail.State.REACHED
    if percent is not None and percent >= WARN_PERCENT:
        return Guardrail.State.WARNING
    return Guardrail.State.OK


def _rule_label(rule: str) -> str:
    return _("monthly send cap") if rule == SEND else _("monthly spend cap")


def _figure(rule: str, value: int) -> str:
    if rule == SEND:
        return _("%(n)s emails") % {"n": f"{value:,}"}
    return f"¥{value:,}"


def _alert_title(crossing: Crossing) -> str:
    values = {
        "rule": _rule_label(crossing.rule),
        "percent": crossing.percent,
        "used": _figure(crossing.rule, crossing.used),
        "cap": _figure(crossing.rule, crossing.cap),
    }
    if crossing.threshold >= CAP_PERCENT:
        return (
            _("The %(rule)s is reached: %(used)s of %(cap)s (%(percent)s%%)") % values
        )
    return _("%(percent)s%% of the %(rule)s used: %(used)s of %(cap)s") % values


def _audit_both(
    *,
    ctx: AuditContext,
    tenant: Customer,
    action: str,
    after: dict[str, Any],
    before: dict[str, Any] | None = None,
) -> None:
    """One row in the tenant's audit log (the owner sees it) and one in the staff
    log (targeting the tenant, so its console timeline lists it)."""
    with schema_context("public"):
        audit_record(ctx=ctx, action=action, target=tenant, before=before, after=after)
    with schema_context(tenant.schema_name):
        audit_record(
            ctx=ctx,
            action=action,
            target_type="tenants.guardrail",
            target_id=str(tenant.pk),
            target_label=_("Usage caps"),
            before=before,
            after=after,
        )


def _refresh_summary(guardrail: Guardrail) -> None:
    TenantSummary.objects.update_or_create(
        tenant_id=guardrail.tenant_id,
        defaults=guardrail_summary_values(guardrail.tenant_id),
    )


# --- evaluation -----------------------------------------------------------------------


def guardrail_evaluate(
    *, tenant: Customer, now: dt.datetime | None = None
) -> Evaluation:
    """Evaluate ``tenant``'s caps now: store the figures, raise alerts and mail the
    owners for thresholds newly crossed this month, apply the hard action at 100%.

    Idempotent: a second run raises and mails nothing new. Resumes a hard action
    or a lift that an earlier run left half-way. Azure failures are logged and
    left for the next run (the action stays ``applying``); never raises for them.
    Returns what happened (``guardrail`` is None when the tenant has no caps).
    """
    now = now or timezone.now()
    found = Guardrail.objects.filter(tenant=tenant).first()
    if found is None:
        return Evaluation(guardrail=None)
    period = current_period(now)
    emails = _month_emails(tenant, now) if found.monthly_send_cap else 0
    spend = (
        month_charge(tenant, now, projected=False)[0]
        if found.monthly_spend_cap_jpy
        else None
    )
    with transaction.atomic():
        guardrail = Guardrail.objects.select_for_update().get(pk=found.pk)
        if guardrail.period != period:
            guardrail.period = period
            guardrail.notified = []
        guardrail.emails_mtd = emails
        guardrail.spend_mtd_jpy = spend
        guardrail.send_percent = cap_percent(emails, guardrail.monthly_send_cap)
        guardrail.spend_percent = cap_percent(spend, guardrail.monthly_spend_cap_jpy)
        crossings = _new_crossings(guardrail)
        guardrail.notified = sorted(
            {*guardrail.notified, *(f"{c.rule}:{c.threshold}" for c in crossings)}
        )
        reached = _reached_rule(guardrail)
        live = _live_actions(guardrail)
        enforce = (
            reached is not None
            and guardrail.hard_action != Guardrail.HardAction.NONE
            and guardrail.lifted_period != period
        )
        guardrail.state = _state_for(guardrail, enforce or bool(live))
        guardrail.evaluated_at = now
        guardrail.save()
        with schema_context(tenant.schema_name):
            _raise_alerts(guardrail, crossings)
            _resolve_old_alerts(tenant, period)
    result = Evaluation(guardrail=guardrail, crossings=crossings)
    if crossings:
        result.emailed = _mail_owners(guardrail, _highest(crossings))
    lifting = [a for a in live if a.state == GuardrailAction.State.LIFTING]
    if lifting:
        try:
            _restore_smtp(guardrail, lifting)
        except AzureError:
            logger.warning("guardrail lift of %s still incomplete", tenant.schema_name)
    elif enforce and reached:
        result.enforced = True
        try:
            guardrail_enforce(guardrail_id=guardrail.pk, rule=reached)
        except AzureError:
            logger.warning("guardrail action on %s incomplete", tenant.schema_name)
    guardrail.refresh_from_db()
    _refresh_summary(guardrail)
    result.guardrail = guardrail
    return result


def _new_crossings(guardrail: Guardrail) -> list[Crossing]:
    crossings = []
    for rule in RULES:
        used, cap = _used_and_cap(guardrail, rule)
        percent = cap_percent(used, cap)
        if percent is None or cap is None:
            continue
        for threshold in THRESHOLDS:
            if percent >= threshold and f"{rule}:{threshold}" not in guardrail.notified:
                crossings.append(Crossing(rule, threshold, percent, used, cap))
    return crossings


def _highest(crossings: list[Crossing]) -> list[Crossing]:
    """Per cap, only the highest threshold crossed: a jump past 80% and 100% at
    once alerts and mails 100% (80% is still recorded as notified)."""
    highest: dict[str, Crossing] = {}
    for crossing in crossings:
        highest[crossing.rule] = crossing
    return list(highest.values())


def _raise_alerts(guardrail: Guardrail, crossings: list[Crossing]) -> None:
    from tenants.alerts import alert_raise

    with translation.override(settings.LANGUAGE_CODE):
        for crossing in _highest(crossings):
            alert_raise(
                kind=ALERT_KINDS[crossing.rule],
                cause_key=f"{guardrail.period:%Y-%m}:{crossing.threshold}",
                severity=(
                    Alert.Severity.CRITICAL
                    if crossing.threshold >= CAP_PERCENT
                    else Alert.Severity.WARNING
                ),
                title=_alert_title(crossing)[:200],
                detail=_action_note(guardrail) if crossing.threshold >= 100 else "",
            )


def _action_note(guardrail: Guardrail) -> str:
    if guardrail.hard_action == Guardrail.HardAction.NONE:
        return _("No hard action is configured: sending continues.")
    return _("Hard action: %(action)s, until staff or the owner lift it.") % {
        "action": guardrail.get_hard_action_display()
    }


def _resolve_old_alerts(tenant: Customer, period: dt.date) -> None:
    """A cap alert of an earlier month no longer has a cause: resolve it."""
    from tenants.alerts import alert_resolve

    stale = (
        Alert.objects.filter(tenant=tenant, kind__in=ALERT_KINDS.values())
        .exclude(state=Alert.State.RESOLVED)
        .exclude(cause_key__startswith=f"{period:%Y-%m}:")
        .values_list("kind", "cause_key")
    )
    for kind, cause_key in list(stale):
        alert_resolve(kind=kind, cause_key=cause_key)


def _owner_emails(tenant: Customer) -> list[str]:
    from tenants.accounts.models import User
    from tenants.accounts.roles import Role

    with schema_context(tenant.schema_name):
        return sorted(
            User.objects.filter(role=Role.OWNER, is_active=True, is_support=False)
            .exclude(email="")
            .values_list("email", flat=True)
        )


def _mail_owners(guardrail: Guardrail, crossings: list[Crossing]) -> int:
    """Mail the tenant's owners about the crossings (best effort; the alert stays)."""
    from portal.emails import make_message
    from tenants.hosts import tenant_origin

    tenant = guardrail.tenant
    to = _owner_emails(tenant)
    if not to:
        return 0
    language = settings.LANGUAGE_CODE
    with translation.override(language):
        lines = [_alert_title(c) for c in crossings]
        reached = any(c.threshold >= CAP_PERCENT for c in crossings)
        context = {
            "tenant": tenant,
            "lines": lines,
            "reached": reached,
            "note": _action_note(guardrail) if reached else "",
            "url": tenant_origin(tenant)
            + reverse("tenant_caps", urlconf="portal.urls"),
        }
    try:
        make_message("guardrail", to, context, language=language).send()
    except (OSError, AzureError):
        logger.exception("guardrail mail to %s failed", tenant.schema_name)
        return 0
    return len(to)


# --- hard actions -----------------------------------------------------------------------


def _reason(guardrail: Guardrail, rule: str) -> str:
    used, cap = _used_and_cap(guardrail, rule)
    with translation.override(settings.LANGUAGE_CODE):
        return (
            _("%(rule)s reached (%(used)s of %(cap)s)")
            % {
                "rule": _rule_label(rule),
                "used": _figure(rule, used),
                "cap": _figure(rule, cap or 0),
            }
        )[:200]


def guardrail_enforce(*, guardrail_id: int, rule: str) -> Guardrail:
    """Apply ``guardrail_id``'s hard action because ``rule`` reached 100%.

    Idempotent and resumable: an action already in force is extended to SMTP
    usernames created since, an interrupted one is finished. Raises ``AzureError``
    when ARM fails (what was done so far is saved; run it again to finish).
    """
    guardrail = Guardrail.objects.select_related("tenant").get(pk=guardrail_id)
    reason = _reason(guardrail, rule)
    if guardrail.pauses_bulk:
        _pause_bulk(guardrail, rule, reason)
    if guardrail.disables_smtp:
        _disable_smtp(guardrail, rule, reason)
    if _live_actions(guardrail):  # unless a lift got there first
        Guardrail.objects.filter(pk=guardrail.pk).update(state=Guardrail.State.ENFORCED)
    guardrail.refresh_from_db()
    _refresh_summary(guardrail)
    return guardrail


def _start_action(
    guardrail: Guardrail, kind: str, rule: str, reason: str, state: str
) -> GuardrailAction | None:
    """The live action of ``kind``, or a new one (audited); None when a lift holds
    the action off this month. Call inside a transaction: it locks the guardrail
    row like ``guardrail_lift`` does, so a lift racing an evaluation wins."""
    locked = Guardrail.objects.select_for_update().get(pk=guardrail.pk)
    live = (
        GuardrailAction.objects.select_for_update()
        .filter(guardrail=guardrail, kind=kind, state__in=GuardrailAction.LIVE_STATES)
        .first()
    )
    if live is not None:
        return live
    if locked.lifted_period is not None and locked.lifted_period == locked.period:
        return None
    action = GuardrailAction.objects.create(
        guardrail=guardrail,
        kind=kind,
        state=state,
        period=guardrail.period or current_period(timezone.now()),
        rule=rule,
        reason=reason,
        completed_at=timezone.now() if state == GuardrailAction.State.APPLIED else None,
    )
    _audit_both(
        ctx=SYSTEM,
        tenant=guardrail.tenant,
        action="guardrail.enforce",
        after={"kind": kind, "rule": rule, "reason": reason, "action_id": action.pk},
    )
    return action


def _pause_bulk(guardrail: Guardrail, rule: str, reason: str) -> None:
    with transaction.atomic():
        action = _start_action(
            guardrail,
            GuardrailAction.Kind.PAUSE_BULK,
            rule,
            reason,
            GuardrailAction.State.APPLIED,
        )
        if action is None:
            return
        Customer.objects.filter(
            pk=guardrail.tenant_id, bulk_sends_blocked_reason=""
        ).update(bulk_sends_blocked_reason=reason)


def _smtp_target() -> tuple[Any, str] | None:
    """(resource group ref, Communication Service name) of the current schema."""
    from mailops.models import AcsFootprint
    from mailops.services.common import ref

    fp = AcsFootprint.objects.filter(state=AcsFootprint.State.READY).first()
    if fp is None:
        return None
    return ref(fp), fp.communication_service_name


def _disable_smtp(guardrail: Guardrail, rule: str, reason: str) -> None:
    from mailops.models import SmtpCredential
    from portal.integrations.azure import client

    tenant = guardrail.tenant
    with transaction.atomic():
        action = _start_action(
            guardrail,
            GuardrailAction.Kind.DISABLE_SMTP,
            rule,
            reason,
            GuardrailAction.State.APPLYING,
        )
        if action is None or action.state == GuardrailAction.State.LIFTING:
            return  # lifted, or a lift is in progress: do not fight it
        listed = {item["credential_id"] for item in action.items}
        with schema_context(tenant.schema_name):
            for credential in SmtpCredential.objects.filter(
                state=SmtpCredential.State.ACTIVE
            ).order_by("pk"):
                if credential.pk in listed:
                    continue
                # Everything needed to PUT the resource back exactly as it was.
                action.items.append(
                    {
                        "credential_id": credential.pk,
                        "resource": credential.smtp_username_resource,
                        "username": credential.username,
                        "application_id": credential.app_id,
                        "tenant_id": settings.AZURE_TENANT_ID,
                        "state": "active",
                    }
                )
        if action.state == GuardrailAction.State.APPLIED and any(
            item["state"] == "active" for item in action.items
        ):
            action.state = GuardrailAction.State.APPLYING
        action.save(update_fields=["items", "state"])
    with schema_context(tenant.schema_name):
        target = _smtp_target()
        for item in action.items:
            if item["state"] != "active" or target is None:
                continue
            try:
                client.smtp_username_delete(target[0], target[1], item["resource"])
            except AzureError as exc:
                _save_items(action, error=str(exc))
                raise
            item["state"] = "disabled"
            item["disabled_at"] = timezone.now().isoformat()
            _save_items(action)
    GuardrailAction.objects.filter(
        pk=action.pk, state=GuardrailAction.State.APPLYING
    ).update(
        state=GuardrailAction.State.APPLIED, completed_at=timezone.now(), last_error=""
    )


def _save_items(action: GuardrailAction, *, error: str = "") -> None:
    # Saved after every Azure call: a crash loses at most the call in flight,
    # and DELETE/PUT are idempotent, so re-running repeats it harmlessly.
    GuardrailAction.objects.filter(pk=action.pk).update(
        items=action.items, last_error=error[:2000]
    )


# --- lifting and cap changes ----------------------------------------------------------------


def _may_lift(ctx: AuditContext) -> bool:
    from tenants.accounts.roles import Role

    return ctx.is_staff or ctx.actor_kind == "system" or ctx.role == Role.OWNER


def guardrail_lift(
    *,
    ctx: AuditContext,
    tenant: Customer,
    reason: str = "",
    hold_for_month: bool = True,
) -> Guardrail:
    """Lift ``tenant``'s hard actions: clear the bulk-send block and PUT the SMTP
    usernames back. With ``hold_for_month`` the action stays off for the rest of
    this month even if use stays over the cap (an explicit lift); without it (a
    cap raised above the use) it applies again when the new cap is reached.

    Staff and the tenant's owner may lift (views check staff roles). Audited in
    the tenant's and the staff log. Raises ``ServiceError`` when the caller may
    not lift, when nothing is in force, or when Azure refuses (what was restored
    stays restored; lifting again finishes the rest).
    """
    if not _may_lift(ctx):
        raise ServiceError(_("Only the owner or MSP staff can lift the usage cap."))
    reason = reason.strip()[:300]
    with transaction.atomic():
        guardrail = Guardrail.objects.select_for_update().get(tenant=tenant)
        live = list(
            GuardrailAction.objects.select_for_update()
            .filter(guardrail=guardrail, state__in=GuardrailAction.LIVE_STATES)
            .order_by("pk")
        )
        if not live:
            raise ServiceError(_("Nothing is stopped by the usage cap."))
        now = timezone.now()
        for action in live:
            action.lifted_by = ctx.actor_email
            action.lift_reason = reason
            if action.kind == GuardrailAction.Kind.PAUSE_BULK:
                action.state = GuardrailAction.State.LIFTED
                action.lifted_at = now
            else:
                action.state = GuardrailAction.State.LIFTING
            action.save()
        Customer.objects.filter(pk=tenant.pk).update(bulk_sends_blocked_reason="")
        if hold_for_month:
            guardrail.lifted_period = guardrail.period or current_period(now)
            guardrail.save(update_fields=["lifted_period", "updated_at"])
        _audit_both(
            ctx=ctx,
            tenant=tenant,
            action="guardrail.lift",
            after={
                "kinds": [a.kind for a in live],
                "actions": [a.pk for a in live],
                "reason": reason,
            },
        )
    try:
        _restore_smtp(guardrail, [a for a in live if a.state == "lifting"])
    except AzureError as exc:
        from mailops.services.common import azure_message

        raise ServiceError(azure_message(exc)) from exc
    guardrail.refresh_from_db()
    return guardrail


def _restore_smtp(guardrail: Guardrail, actions: list[GuardrailAction]) -> None:
    """PUT back every disabled SMTP username of ``actions`` (resumable)."""
    from mailops.models import SmtpCredential
    from portal.integrations.azure import client

    tenant = guardrail.tenant
    with schema_context(tenant.schema_name):
        target = _smtp_target()
        for action in actions:
            for item in action.items:
                if item["state"] not in ("disabled", "active"):
                    continue
                still_active = SmtpCredential.objects.filter(
                    pk=item["credential_id"], state=SmtpCredential.State.ACTIVE
                ).exists()
                if not still_active or target is None:
                    item["state"] = "skipped"  # revoked meanwhile: stays gone
                    _save_items(action)
                    continue
                try:
                    client.smtp_username_ensure(
                        target[0],
                        target[1],
                        item["resource"],
                        username=item["username"],
                        application_id=item["application_id"],
                    )
                except AzureError as exc:
                    _save_items(action, error=str(exc))
                    raise
                item["state"] = "restored"
                item["restored_at"] = timezone.now().isoformat()
                _save_items(action)
            GuardrailAction.objects.filter(pk=action.pk).update(
                state=GuardrailAction.State.LIFTED,
                lifted_at=timezone.now(),
                last_error="",
            )
    still_live = GuardrailAction.objects.filter(
        guardrail=guardrail, state__in=GuardrailAction.LIVE_STATES
    ).exists()
    if not still_live:
        guardrail.refresh_from_db()
        Guardrail.objects.filter(pk=guardrail.pk).update(
            state=_state_for(guardrail, enforced=False)
        )
        guardrail.refresh_from_db()
        _refresh_summary(guardrail)


def guardrail_set_caps(
    *,
    ctx: AuditContext,
    tenant: Customer,
    monthly_send_cap: int | None,
    monthly_spend_cap_jpy: int | None,
    hard_action: str,
) -> Guardrail:
    """Set ``tenant``'s caps and hard action (staff), then evaluate at once.

    A changed cap is a new cause: its threshold alerts may fire again. When the
    new caps are above the current use, a hard action in force is lifted.
    Audited in the tenant's and the staff log. Raises ``ServiceError`` for an
    invalid action or when lifting fails at Azure.
    """
    if hard_action not in Guardrail.HardAction.values:
        raise ServiceError(_("Choose an action."), field="hard_action")
    with transaction.atomic():
        guardrail, _created = Guardrail.objects.select_for_update().get_or_create(
            tenant=tenant
        )
        before = {
            "monthly_send_cap": guardrail.monthly_send_cap,
            "monthly_spend_cap_jpy": guardrail.monthly_spend_cap_jpy,
            "hard_action": guardrail.hard_action,
        }
        after = {
            "monthly_send_cap": monthly_send_cap,
            "monthly_spend_cap_jpy": monthly_spend_cap_jpy,
            "hard_action": hard_action,
        }
        changed_rules = {
            rule
            for rule, key in (
                (SEND, "monthly_send_cap"),
                (SPEND, "monthly_spend_cap_jpy"),
            )
            if before[key] != after[key]
        }
        if changed_rules:
            # A new cap is a new cause: its alerts and its hard action start over.
            guardrail.notified = [
                key
                for key in guardrail.notified
                if key.split(":")[0] not in changed_rules
            ]
            guardrail.lifted_period = None
        guardrail.monthly_send_cap = monthly_send_cap
        guardrail.monthly_spend_cap_jpy = monthly_spend_cap_jpy
        guardrail.hard_action = hard_action
        guardrail.updated_by = ctx.actor_email
        guardrail.save()
        if before != after:
            _audit_both(
                ctx=ctx,
                tenant=tenant,
                action="guardrail.caps",
                before=before,
                after=after,
            )
    result = guardrail_evaluate(tenant=tenant)
    guardrail = result.guardrail or guardrail
    if _live_actions(guardrail) and _reached_rule(guardrail) is None:
        guardrail = guardrail_lift(
            ctx=ctx,
            tenant=tenant,
            reason=_("The cap was raised above the current use."),
            hold_for_month=False,
        )
    return guardrail


# --- reads for pages ----------------------------------------------------------------------


@dataclass(frozen=True)
class CapBar:
    rule: str
    label: str
    used: int | None
    cap: int | None
    percent: int | None

    @property
    def width(self) -> int:
        return min(self.percent or 0, 100)

    @property
    def level(self) -> str:
        if self.percent is None:
            return "none"
        if self.percent >= CAP_PERCENT:
            return "bad"
        return "warn" if self.percent >= WARN_PERCENT else "ok"


def cap_bars(guardrail: Guardrail | None) -> list[CapBar]:
    """The two caps' use for the % bars (no queries)."""
    if guardrail is None:
        return []
    return [
        CapBar(
            SEND,
            _("Monthly send cap"),
            guardrail.emails_mtd,
            guardrail.monthly_send_cap,
            guardrail.send_percent,
        ),
        CapBar(
            SPEND,
            _("Monthly spend cap"),
            guardrail.spend_mtd_jpy,
            guardrail.monthly_spend_cap_jpy,
            guardrail.spend_percent,
        ),
    ]


def smtp_stopped(tenant_id: int) -> GuardrailAction | None:
    """The SMTP action in force for the tenant, if any (one query)."""
    return (
        GuardrailAction.objects.filter(
            guardrail__tenant_id=tenant_id,
            kind=GuardrailAction.Kind.DISABLE_SMTP,
            state__in=GuardrailAction.LIVE_STATES,
        )
        .order_by("-pk")
        .first()
    )


def smtp_stopped_here() -> bool:
    """Whether an SMTP stop is in force for the tenant of the current schema."""
    return GuardrailAction.objects.filter(
        guardrail__tenant__schema_name=connection.schema_name,
        kind=GuardrailAction.Kind.DISABLE_SMTP,
        state__in=GuardrailAction.LIVE_STATES,
    ).exists()
