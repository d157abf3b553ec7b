"""Read-mostly view of one tenant's mail operations for MSP staff (public host)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_tenants.utils import schema_context

from mailops.models import AcsFootprint, QuotaTier, SendingDomain, SmtpCredential
from mailops.services import footprint
from portal.access import staff_required
from portal.errors import ServiceError
from portal.http import PortalRequest
from tenants.accounts.audit import AuditContext
from tenants.models import Customer


class FootprintRequestForm(forms.Form):
    subscription_id = forms.CharField(
        label=gettext_lazy("Subscription"), max_length=64, required=False
    )
    resource_group = forms.CharField(
        label=gettext_lazy("Resource group"), max_length=90, required=False
    )
    with_managed_domain = forms.BooleanField(
        label=gettext_lazy("Azure-managed domain"), required=False, initial=True
    )


class QuotaForm(forms.Form):
    tier = forms.ChoiceField(label=gettext_lazy("Quota"), choices=QuotaTier.choices)
    per_minute = forms.IntegerField(label=gettext_lazy("Per minute"), min_value=1)
    per_hour = forms.IntegerField(label=gettext_lazy("Per hour"), min_value=1)


def _tenant(pk: int) -> Customer:
    return get_object_or_404(
        Customer.objects.exclude(schema_name="public").exclude(status="template"), pk=pk
    )


@staff_required
def tenant_mail(request: PortalRequest, pk: int) -> HttpResponse:
    tenant = _tenant(pk)
    with schema_context(tenant.schema_name):
        fp = AcsFootprint.objects.first()
        domains = list(SendingDomain.objects.all())
        credentials = list(
            SmtpCredential.objects.select_related("sender__domain").prefetch_related(
                "secrets"
            )
        )
        rows = [
            {
                "label": c.label,
                "username": c.username,
                "state": c.get_state_display(),
                "secret": c.current_secret,
            }
            for c in credentials
        ]
    context = {
        "tenant": tenant,
        "footprint": fp,
        "domains": domains,
        "credentials": rows,
        "request_form": FootprintRequestForm(),
        "quota_form": QuotaForm(
            initial={
                "tier": fp.quota_tier,
                "per_minute": fp.quota_per_minute,
                "per_hour": fp.quota_per_hour,
            }
            if fp
            else None
        ),
    }
    return render(request, "mailops/staff_tenant_mail.html", context)


@require_POST
@staff_required
def tenant_mail_request(request: PortalRequest, pk: int) -> HttpResponse:
    tenant = _tenant(pk)
    form = FootprintRequestForm(request.POST)
    if form.is_valid():
        with schema_context(tenant.schema_name):
            footprint.footprint_request(
                ctx=AuditContext.from_request(request),
                with_managed_domain=form.cleaned_data["with_managed_domain"],
                subscription_id=form.cleaned_data["subscription_id"].strip(),
                resource_group=form.cleaned_data["resource_group"].strip(),
            )
        messages.success(request, _("Provisioning was queued."))
    return redirect("staff_tenant_mail", pk=pk)


@require_POST
@staff_required
def tenant_mail_quota(request: PortalRequest, pk: int) -> HttpResponse:
    tenant = _tenant(pk)
    form = QuotaForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the quota values."))
        return redirect("staff_tenant_mail", pk=pk)
    try:
        with schema_context(tenant.schema_name):
            footprint.footprint_set_quota(
                ctx=AuditContext.from_request(request), **form.cleaned_data
            )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The quota tier was recorded."))
    return redirect("staff_tenant_mail", pk=pk)
