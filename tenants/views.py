"""The staff console on the public host."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_tenants.utils import schema_context

from portal.access import staff_required, staff_role_required
from portal.errors import ServiceError
from portal.http import PortalRequest
from tenants import alerts as alert_services
from tenants import services
from tenants.accounts.audit import AuditContext, audit_record
from tenants.accounts.models import AuditEvent, Invitation, SupportGrant, User
from tenants.accounts.roles import StaffRole
from tenants.accounts.views import render_audit_list
from tenants.forms import (
    AlertAssignForm,
    AlertNoteForm,
    AlertResolveForm,
    SuspendForm,
    TenantCreateForm,
)
from tenants.guardrail_views import guardrail_panel
from tenants.hosts import tenant_origin
from tenants.models import Alert, Customer, TenantSummary
from tenants.selectors import (
    OVERVIEW_SORTS,
    PAGE_SIZE,
    AlertQuery,
    OverviewQuery,
    alert_kinds,
    alert_queue,
    tenant_overview,
)


def _tenants() -> object:
    return Customer.objects.exclude(schema_name="public").exclude(
        status=Customer.Status.TEMPLATE
    )


@staff_required
def tenant_list(request: PortalRequest) -> HttpResponse:
    """Overview of every tenant from the precomputed summaries (constant queries)."""
    query = OverviewQuery.from_params(request.GET)
    page = Paginator(tenant_overview(query), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    template = "tenants/tenant_list.html"
    if request.htmx:
        template += "#rows"
    context = {
        "page": page,
        "query": query,
        "sort_links": _sort_links(query),
        "page_params": urlencode(query.as_params()),
        "statuses": [
            c for c in Customer.Status.choices if c[0] != Customer.Status.TEMPLATE
        ],
        "plans": Customer.Plan.choices,
        "expiry_choices": EXPIRY_CHOICES,
    }
    return render(request, template, context)


EXPIRY_CHOICES = [
    ("7", _lazy("within 7 days")),
    ("30", _lazy("within 30 days")),
    ("60", _lazy("within 60 days")),
    ("expired", _lazy("expired")),
]


def _sort_links(query: OverviewQuery) -> dict[str, str]:
    """Per column: the query string that sorts by it (toggling the direction)."""
    links = {}
    for key in OVERVIEW_SORTS:
        # Figures sort biggest first on the first click; names A→Z.
        first = key if key == "name" else f"-{key}"
        if query.sort == first:
            first = first[1:] if first.startswith("-") else f"-{first}"
        links[key] = urlencode(query.as_params(sort=first, page=""))
    return links


@staff_role_required(StaffRole.SUPPORT)
@require_http_methods(["GET", "POST"])
def tenant_create(request: PortalRequest) -> HttpResponse:
    form = TenantCreateForm(request.POST or None, domain=settings.TENANT_BASE_DOMAIN)
    if request.method == "POST" and form.is_valid():
        try:
            tenant, invitation = services.tenant_create(
                ctx=AuditContext.from_request(request),
                owner_language=get_language() or "ja",
                **form.cleaned_data,
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _("Tenant %(name)s was created and %(email)s was invited as owner.")
                % {"name": tenant.name, "email": invitation.email},
            )
            return redirect("staff_tenant_detail", pk=tenant.pk)
    return render(
        request,
        "tenants/tenant_create.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@staff_required
def tenant_detail(request: PortalRequest, pk: int) -> HttpResponse:
    tenant = get_object_or_404(_tenants(), pk=pk)
    with schema_context(tenant.schema_name):
        members = list(
            User.objects.filter(is_support=False)
            .order_by("email")
            .values("email", "full_name", "role")
        )
        invitations = list(
            Invitation.objects.pending().values("email", "role", "expires_at")
        )
        events = list(AuditEvent.objects.all()[:20])
        grants = list(SupportGrant.objects.all()[:10])
        provisioning = list(
            AuditEvent.objects.filter(
                action__regex=r"^(acs|domain|credential)\."
            ).order_by("-occurred_at", "-id")[:TIMELINE_LIMIT]
        )
    staff_events = list(
        AuditEvent.objects.filter(
            Q(target_type="tenants.customer", target_id=str(tenant.pk))
            | Q(target_type="tenants.alert", after__tenant_id=tenant.pk)
        ).order_by("-occurred_at", "-id")[:TIMELINE_LIMIT]
    )
    alerts = list(
        Alert.objects.filter(tenant=tenant)
        .select_related("assigned_to")
        .order_by("-opened_at", "-pk")[:TIMELINE_LIMIT]
    )
    context = {
        "tenant": tenant,
        "origin": tenant_origin(tenant),
        "summary": TenantSummary.objects.filter(tenant=tenant).first(),
        "open_alerts": [a for a in alerts if a.state != Alert.State.RESOLVED],
        "timeline": _timeline(tenant, alerts, staff_events, provisioning),
        "invoices": _recent_invoices(tenant),
        "members": members,
        "invitations": invitations,
        "events": events,
        "staff_events": staff_events[:20],
        "grants": grants,
        "suspend_form": SuspendForm(),
    }
    context.update(guardrail_panel(tenant))
    return render(request, "tenants/tenant_detail.html", context)


TIMELINE_LIMIT = 50
INVOICE_LIMIT = 12


def _recent_invoices(tenant: Customer) -> list[Any]:
    """The tenant's latest invoices (metadata only; the PDF column is not read)."""
    # Read-only view of billing's table: the console is where the apps meet.
    from billing.models import Invoice

    return list(
        Invoice.objects.filter(tenant=tenant)
        .defer("pdf")
        .order_by("-period", "-id")[:INVOICE_LIMIT]
    )


def _timeline(
    tenant: Customer,
    alerts: list[Alert],
    staff_events: list[AuditEvent],
    provisioning: list[AuditEvent],
) -> list[dict[str, Any]]:
    """Provisioning steps, alerts and staff actions, newest first."""
    items: list[dict[str, Any]] = [
        {"at": tenant.created_at, "kind": "tenant", "text": _("Tenant created")}
    ]
    for alert in alerts:
        items.append(
            {
                "at": alert.opened_at,
                "kind": f"alert-{alert.severity}",
                "text": _("Alert opened: %(title)s") % {"title": alert.title},
            }
        )
        if alert.resolved_at:
            items.append(
                {
                    "at": alert.resolved_at,
                    "kind": "alert-resolved",
                    "text": _("Alert resolved: %(title)s") % {"title": alert.title},
                }
            )
    for event in provisioning:
        items.append(
            {
                "at": event.occurred_at,
                "kind": "provisioning",
                "text": f"{event.action} {event.target_label}".strip(),
                "actor": event.actor_email,
            }
        )
    for event in staff_events:
        items.append(
            {
                "at": event.occurred_at,
                "kind": "staff",
                "text": event.action,
                "actor": event.actor_email,
            }
        )
    items.sort(key=lambda item: item["at"], reverse=True)
    return items[:TIMELINE_LIMIT]


@require_POST
@staff_role_required(StaffRole.SUPPORT)
def tenant_suspend(request: PortalRequest, pk: int) -> HttpResponse:
    tenant = get_object_or_404(_tenants(), pk=pk)
    form = SuspendForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the reason for the suspension."))
        return redirect("staff_tenant_detail", pk=pk)
    try:
        services.tenant_suspend(
            ctx=AuditContext.from_request(request),
            tenant=tenant,
            reason=form.cleaned_data["reason"],
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The tenant was suspended. Its data is kept."))
    return redirect("staff_tenant_detail", pk=pk)


@require_POST
@staff_role_required(StaffRole.SUPPORT)
def tenant_resume(request: PortalRequest, pk: int) -> HttpResponse:
    tenant = get_object_or_404(_tenants(), pk=pk)
    try:
        services.tenant_resume(ctx=AuditContext.from_request(request), tenant=tenant)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The tenant was resumed."))
    return redirect("staff_tenant_detail", pk=pk)


@staff_required
def staff_audit_list(request: PortalRequest) -> HttpResponse:
    return render_audit_list(request, "tenants/staff_audit_list.html")


@require_POST
@staff_role_required(StaffRole.SUPPORT)
def tenant_support_open(request: PortalRequest, pk: int) -> HttpResponse:
    """Hand the staff member over to the tenant host, if the owner consented."""
    from tenants.accounts import support

    tenant = get_object_or_404(_tenants(), pk=pk)
    with schema_context(tenant.schema_name):
        grant = support.active_grant()
    if grant is None:
        messages.error(request, _("The customer has not granted support access."))
        return redirect("staff_tenant_detail", pk=pk)
    audit_record(
        ctx=AuditContext.from_request(request),
        action="support.open",
        target=tenant,
        after={"ticket": grant.ticket_ref, "scope": grant.scope},
    )
    token = support.handoff_token(staff=request.user, schema=tenant.schema_name)
    return redirect(
        tenant_origin(tenant)
        + reverse("support_enter", urlconf="portal.urls", kwargs={"token": token})
    )


# --- alerts queue -------------------------------------------------------------------


@staff_required
def alert_list(request: PortalRequest) -> HttpResponse:
    query = AlertQuery.from_params(request.GET)
    page = Paginator(alert_queue(query, user_id=request.user.pk), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    template = "tenants/alert_list.html"
    if request.htmx:
        template += "#rows"
    context = {
        "page": page,
        "query": query,
        "page_params": urlencode(query.as_params()),
        "kinds": alert_kinds(),
        "states": Alert.State.choices,
        "severities": Alert.Severity.choices,
        # One query for the assignee menus of every row.
        "staff_users": list(AlertAssignForm().fields["assignee"].queryset),
    }
    return render(request, template, context)


def _alert_or_404(pk: int) -> Alert:
    return get_object_or_404(Alert, pk=pk)


def _back_to_queue(request: PortalRequest) -> HttpResponse:
    # Return to the filtered queue the form was posted from (same-host paths only).
    target = request.POST.get("next", "")
    if not target.startswith("/staff/alerts/"):
        target = reverse("staff_alerts")
    if request.htmx:
        return HttpResponseClientRedirect(target)
    return redirect(target)


@require_POST
@staff_role_required(StaffRole.SUPPORT)
def alert_assign(request: PortalRequest, pk: int) -> HttpResponse:
    alert = _alert_or_404(pk)
    form = AlertAssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a staff user."))
        return _back_to_queue(request)
    try:
        alert_services.alert_assign(
            ctx=AuditContext.from_request(request),
            alert_id=alert.pk,
            assignee=form.cleaned_data["assignee"],
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The alert was assigned."))
    return _back_to_queue(request)


@require_POST
@staff_role_required(StaffRole.SUPPORT)
def alert_acknowledge(request: PortalRequest, pk: int) -> HttpResponse:
    alert = _alert_or_404(pk)
    try:
        alert_services.alert_acknowledge_by_staff(
            ctx=AuditContext.from_request(request), alert_id=alert.pk
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The alert was acknowledged."))
    return _back_to_queue(request)


@require_POST
@staff_role_required(StaffRole.SUPPORT)
def alert_resolve(request: PortalRequest, pk: int) -> HttpResponse:
    alert = _alert_or_404(pk)
    form = AlertResolveForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    alert_services.alert_resolve_by_staff(
        ctx=AuditContext.from_request(request), alert_id=alert.pk, note=note
    )
    messages.success(request, _("The alert was resolved."))
    return _back_to_queue(request)


@require_POST
@staff_role_required(StaffRole.SUPPORT)
def alert_note(request: PortalRequest, pk: int) -> HttpResponse:
    alert = _alert_or_404(pk)
    form = AlertNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a note."))
        return _back_to_queue(request)
    alert_services.alert_add_note(
        ctx=AuditContext.from_request(request),
        alert_id=alert.pk,
        text=form.cleaned_data["text"],
    )
    messages.success(request, _("The note was added."))
    return _back_to_queue(request)
