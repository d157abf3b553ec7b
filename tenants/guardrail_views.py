"""Usage caps: the staff panel on the tenant detail page, and the owner's page.

Staff administrators and support staff set caps and lift hard actions on the
public host (billing staff only read). On the tenant host, owners, admins and
billing users see the caps; only owners lift.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.access import require_capability, staff_role_required
from portal.errors import ServiceError
from portal.http import PortalRequest
from tenants import guardrails
from tenants.accounts.audit import AuditContext
from tenants.accounts.roles import StaffRole, role_can
from tenants.guardrail_forms import GuardrailForm, LiftForm
from tenants.models import Customer, Guardrail, GuardrailAction
from tenants.selectors import served_tenants

ACTION_LIMIT = 10


def _panel(tenant: Customer) -> dict[str, Any]:
    guardrail = Guardrail.objects.filter(tenant=tenant).first()
    actions: list[GuardrailAction] = []
    if guardrail is not None:
        actions = list(guardrail.actions.all()[:ACTION_LIMIT])
    return {
        "guardrail": guardrail,
        "cap_bars": guardrails.cap_bars(guardrail),
        "cap_actions": actions,
        "cap_in_force": [a for a in actions if a.state in GuardrailAction.LIVE_STATES],
        "lift_form": LiftForm(),
    }


def guardrail_panel(tenant: Customer) -> dict[str, Any]:
    """Context of the tenant detail page's usage-cap section (three queries)."""
    context = _panel(tenant)
    guardrail = context["guardrail"]
    context["guardrail_form"] = GuardrailForm(
        initial={
            "monthly_send_cap": guardrail.monthly_send_cap,
            "monthly_spend_cap_jpy": guardrail.monthly_spend_cap_jpy,
            "hard_action": guardrail.hard_action,
        }
        if guardrail
        else None
    )
    return context


def _form_errors(form: GuardrailForm) -> list[str]:
    return [str(error) for errors in form.errors.values() for error in errors]


@require_POST
@staff_role_required(StaffRole.SUPPORT)
def staff_guardrail_update(request: PortalRequest, pk: int) -> HttpResponse:
    tenant = get_object_or_404(served_tenants(), pk=pk)
    form = GuardrailForm(request.POST)
    if not form.is_valid():
        for error in _form_errors(form):
            messages.error(request, error)
        return redirect("staff_tenant_detail", pk=pk)
    try:
        guardrails.guardrail_set_caps(
            ctx=AuditContext.from_request(request), tenant=tenant, **form.cleaned_data
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The usage caps were saved."))
    return redirect("staff_tenant_detail", pk=pk)


@require_POST
@staff_role_required(StaffRole.SUPPORT)
def staff_guardrail_lift(request: PortalRequest, pk: int) -> HttpResponse:
    tenant = get_object_or_404(served_tenants(), pk=pk)
    form = LiftForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    _lift(request, tenant, reason)
    return redirect("staff_tenant_detail", pk=pk)


def _lift(request: PortalRequest, tenant: Customer, reason: str) -> None:
    try:
        guardrails.guardrail_lift(
            ctx=AuditContext.from_request(request), tenant=tenant, reason=reason
        )
    except Guardrail.DoesNotExist:
        messages.error(request, _("Nothing is stopped by the usage cap."))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The usage cap was lifted. Sending works again."))


# --- tenant host ----------------------------------------------------------------------


@require_capability("caps.view")
def tenant_caps(request: PortalRequest) -> HttpResponse:
    context = _panel(request.tenant)
    context["can_lift"] = role_can(request.user.role, "caps.lift")
    return render(request, "tenants/caps.html", context)


@require_POST
@require_capability("caps.lift")
def tenant_caps_lift(request: PortalRequest) -> HttpResponse:
    form = LiftForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    _lift(request, request.tenant, reason)
    return redirect("tenant_caps")
