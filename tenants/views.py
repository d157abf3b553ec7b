"""The staff console on the public host."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_tenants.utils import schema_context

from portal.access import staff_required
from portal.errors import ServiceError
from portal.http import PortalRequest
from tenants import services
from tenants.accounts.audit import AuditContext, audit_record
from tenants.accounts.models import AuditEvent, Invitation, SupportGrant, User
from tenants.accounts.views import render_audit_list
from tenants.forms import SuspendForm, TenantCreateForm
from tenants.hosts import tenant_origin
from tenants.models import Customer


def _tenants() -> object:
    return Customer.objects.exclude(schema_name="public").exclude(
        status=Customer.Status.TEMPLATE
    )


@staff_required
def tenant_list(request: PortalRequest) -> HttpResponse:
    tenants = _tenants().prefetch_related("domains")
    q = request.GET.get("q", "").strip()
    if q:
        tenants = tenants.filter(Q(name__icontains=q) | Q(schema_name__icontains=q))
    status = request.GET.get("status", "")
    if status in Customer.Status.values:
        tenants = tenants.filter(status=status)
    page = Paginator(tenants, 50).get_page(request.GET.get("page"))
    template = "tenants/tenant_list.html"
    if request.htmx:
        template += "#rows"
    return render(request, template, {"page": page, "q": q, "status": status})


@staff_required
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
        grants = list(SupportGrant.objects.all()[:10])
        invitations = list(
            Invitation.objects.pending().values("email", "role", "expires_at")
        )
        events = list(AuditEvent.objects.all()[:20])
    staff_events = AuditEvent.objects.filter(
        target_type="tenants.customer", target_id=str(tenant.pk)
    )[:20]
    context = {
        "tenant": tenant,
        "origin": tenant_origin(tenant),
        "members": members,
        "invitations": invitations,
        "events": events,
        "staff_events": staff_events,
        "suspend_form": SuspendForm(),
        "grants": grants,
    }
    return render(request, "tenants/tenant_detail.html", context)


@require_POST
@staff_required
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
@staff_required
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
@staff_required
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
