"""Reads for the staff console: the tenant overview and the alerts queue.

Both run a constant number of queries whatever the number of tenants: the overview
joins ``TenantSummary`` (precomputed) and never opens a tenant schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet

from tenants.models import Alert, Customer

PAGE_SIZE = 50
# Query value → ORM ordering; "-" in front of the value sorts descending.
OVERVIEW_SORTS: dict[str, str] = {
    "name": "name",
    "volume": "summary__volume_7d",
    "bounce": "summary__bounce_rate",
    "charge": "summary__projected_charge_jpy",
    "alerts": "summary__open_alerts",
}
EXPIRY_FILTERS: dict[str, str] = {
    "60": "summary__credentials_expiring_60__gt",
    "30": "summary__credentials_expiring_30__gt",
    "7": "summary__credentials_expiring_7__gt",
    "expired": "summary__credentials_expired__gt",
}


def _flag(params: Mapping[str, str], name: str) -> bool:
    return params.get(name, "") in {"1", "on", "true", "yes"}


@dataclass(frozen=True)
class OverviewQuery:
    """Whitelisted overview parameters (unknown values are ignored)."""

    q: str = ""
    status: str = ""
    plan: str = ""
    has_alerts: bool = False
    dns_broken: bool = False
    expiring: str = ""
    sort: str = "name"

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> OverviewQuery:
        sort = params.get("sort", "name")
        if sort.lstrip("-") not in OVERVIEW_SORTS:
            sort = "name"
        status = params.get("status", "")
        plan = params.get("plan", "")
        expiring = params.get("expiring", "")
        return cls(
            q=params.get("q", "").strip()[:100],
            status=status if status in Customer.Status.values else "",
            plan=plan if plan in Customer.Plan.values else "",
            has_alerts=_flag(params, "alerts"),
            dns_broken=_flag(params, "dns"),
            expiring=expiring if expiring in EXPIRY_FILTERS else "",
            sort=sort,
        )

    def as_params(self, **override: Any) -> dict[str, str]:
        """Non-empty query parameters (for links that keep the filters)."""
        values: dict[str, Any] = {
            "q": self.q,
            "status": self.status,
            "plan": self.plan,
            "alerts": "1" if self.has_alerts else "",
            "dns": "1" if self.dns_broken else "",
            "expiring": self.expiring,
            "sort": "" if self.sort == "name" else self.sort,
        }
        values.update(override)
        return {k: str(v) for k, v in values.items() if v}


def served_tenants() -> QuerySet[Customer]:
    return Customer.objects.exclude(schema_name="public").exclude(
        status=Customer.Status.TEMPLATE
    )


def tenant_overview(query: OverviewQuery) -> QuerySet[Customer]:
    """Tenants with their summary (LEFT JOIN), filtered and sorted.

    Tenants without a summary yet are listed with empty figures; "descending"
    sorts put them last.
    """
    tenants = served_tenants().select_related("summary").prefetch_related("domains")
    if query.q:
        tenants = tenants.filter(
            Q(name__icontains=query.q) | Q(schema_name__icontains=query.q)
        )
    if query.status:
        tenants = tenants.filter(status=query.status)
    if query.plan:
        tenants = tenants.filter(plan=query.plan)
    if query.has_alerts:
        tenants = tenants.filter(summary__open_alerts__gt=0)
    if query.dns_broken:
        tenants = tenants.filter(summary__domains_dns_broken__gt=0)
    if query.expiring:
        tenants = tenants.filter(**{EXPIRY_FILTERS[query.expiring]: 0})
    key = query.sort.lstrip("-")
    column = F(OVERVIEW_SORTS[key])
    descending = query.sort.startswith("-")
    order = column.desc(nulls_last=True) if descending else column.asc(nulls_last=True)
    if key == "name":
        return tenants.order_by(order, "pk")
    return tenants.order_by(order, "name", "pk")


# --- alerts queue -----------------------------------------------------------------------


@dataclass(frozen=True)
class AlertQuery:
    state: str = "live"  # live = open or acknowledged
    severity: str = ""
    kind: str = ""
    tenant: str = ""  # schema name
    assigned: str = ""  # "me", "none" or ""

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> AlertQuery:
        state = params.get("state", "live")
        if state not in {"live", "all", *Alert.State.values}:
            state = "live"
        severity = params.get("severity", "")
        assigned = params.get("assigned", "")
        return cls(
            state=state,
            severity=severity if severity in Alert.Severity.values else "",
            kind=params.get("kind", "").strip()[:40],
            tenant=params.get("tenant", "").strip()[:63],
            assigned=assigned if assigned in {"me", "none"} else "",
        )

    def as_params(self, **override: Any) -> dict[str, str]:
        values: dict[str, Any] = {
            "state": "" if self.state == "live" else self.state,
            "severity": self.severity,
            "kind": self.kind,
            "tenant": self.tenant,
            "assigned": self.assigned,
        }
        values.update(override)
        return {k: str(v) for k, v in values.items() if v}


def alert_queue(query: AlertQuery, *, user_id: int | None) -> QuerySet[Alert]:
    """Every tenant's alerts, newest first, with tenant, assignee and notes."""
    alerts = Alert.objects.select_related("tenant", "assigned_to").prefetch_related(
        "notes"
    )
    if query.state == "live":
        alerts = alerts.exclude(state=Alert.State.RESOLVED)
    elif query.state != "all":
        alerts = alerts.filter(state=query.state)
    if query.severity:
        alerts = alerts.filter(severity=query.severity)
    if query.kind:
        alerts = alerts.filter(kind__startswith=query.kind)
    if query.tenant:
        alerts = alerts.filter(tenant__schema_name=query.tenant)
    if query.assigned == "me":
        alerts = alerts.filter(assigned_to_id=user_id)
    elif query.assigned == "none":
        alerts = alerts.filter(assigned_to__isnull=True)
    return alerts.order_by("-opened_at", "-pk")


def alert_kinds() -> list[str]:
    return list(
        Alert.objects.order_by("kind").values_list("kind", flat=True).distinct()
    )
