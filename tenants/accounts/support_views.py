"""Support access pages: the owner's consent page and the tenant-side handoff."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from portal.access import require_capability
from portal.errors import ServiceError
from portal.http import PortalRequest
from tenants.accounts import support
from tenants.accounts.audit import AuditContext
from tenants.accounts.models import AuditEvent, SupportGrant


class GrantForm(forms.Form):
    scope = forms.ChoiceField(
        label=gettext_lazy("Access"), choices=SupportGrant.Scope.choices
    )
    hours = forms.IntegerField(
        label=gettext_lazy("Hours"),
        min_value=1,
        max_value=support.MAX_GRANT_HOURS,
        initial=24,
    )
    ticket_ref = forms.CharField(label=gettext_lazy("Ticket reference"), max_length=100)


def _page(request: PortalRequest, form: GrantForm, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "grants": SupportGrant.objects.select_related("granted_by", "revoked_by")[:50],
        "events": AuditEvent.objects.filter(actor_kind="support")[:100],
    }
    return render(request, "accounts/support_access.html", context, status=status)


@require_GET
@require_capability("support.grant")
def support_access(request: PortalRequest) -> HttpResponse:
    return _page(request, GrantForm())


@require_POST
@require_capability("support.grant")
def support_grant(request: PortalRequest) -> HttpResponse:
    form = GrantForm(request.POST)
    if form.is_valid():
        try:
            support.grant_create(
                ctx=AuditContext.from_request(request), **form.cleaned_data
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Support access was granted."))
            return redirect("support_access")
    return _page(request, form, status=400)


@require_POST
@require_capability("support.grant")
def support_revoke(request: PortalRequest, pk: int) -> HttpResponse:
    grant = get_object_or_404(SupportGrant, pk=pk)
    support.grant_revoke(ctx=AuditContext.from_request(request), grant=grant)
    messages.success(request, _("Support access was revoked. Staff are signed out."))
    return redirect("support_access")


@require_GET
def support_enter(request: PortalRequest, token: str) -> HttpResponse:
    """The end of the staff handoff: sign in as this tenant's support identity."""
    try:
        identity, grant, staff_email = support.support_enter(
            token=token,
            ip=request.META.get("REMOTE_ADDR"),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:400],
        )
    except ServiceError as exc:
        return render(
            request, "accounts/support_ended.html", {"reason": exc.message}, status=403
        )
    login(request, identity, backend="django.contrib.auth.backends.ModelBackend")
    request.session[support.SESSION_GRANT] = grant.pk
    request.session[support.SESSION_STAFF] = staff_email
    # The session cannot outlive the grant.
    request.session.set_expiry(grant.expires_at)
    return redirect("dashboard")
