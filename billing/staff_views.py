"""Billing pages for MSP staff on the public host: close, drafts, finalize, settings."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from billing.models import (
    ROUNDING_CHOICES,
    CloseRun,
    Contract,
    FxRate,
    Invoice,
    IssuerSettings,
    Plan,
    PriceVersion,
    RateType,
)
from billing.selectors import IssuedSearch, issued_documents
from billing.services import adjustments, corrections, finalize
from billing.services import settings as billing_settings
from billing.services.documents import jst_today
from billing.services.pricing import BillingDataMissing
from billing.services.tnumber import validate_tnumber
from billing.tasks import close_run_task
from portal.access import staff_required, staff_role_required
from portal.http import PortalRequest
from tenants.accounts.audit import AuditContext
from tenants.accounts.roles import StaffRole
from tenants.models import Customer

MONTH_FORMATS = ["%Y-%m"]

# Reading is open to all staff; changing billing data needs the billing staff role
# (staff administrators always have it).
billing_staff = staff_role_required(StaffRole.BILLING)


class MonthForm(forms.Form):
    month = forms.DateField(label=gettext_lazy("Month"), input_formats=MONTH_FORMATS)


class AdjustmentForm(forms.Form):
    description = forms.CharField(label=gettext_lazy("Description"), max_length=300)
    amount_jpy = forms.IntegerField(
        label=gettext_lazy("Amount (JPY, tax excluded; negative for a discount)")
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500)


class PriceForm(forms.Form):
    effective_from = forms.DateField(label=gettext_lazy("Effective from"))
    email_usd = forms.DecimalField(
        label=gettext_lazy("USD per email"),
        max_digits=20,
        decimal_places=8,
        min_value=0,
    )
    megabyte_usd = forms.DecimalField(
        label=gettext_lazy("USD per MB"), max_digits=20, decimal_places=8, min_value=0
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


class FxForm(forms.Form):
    day = forms.DateField(label=gettext_lazy("Date"))
    rate = forms.DecimalField(
        label=gettext_lazy("JPY per USD"), max_digits=20, decimal_places=8, min_value=0
    )
    rate_type = forms.ChoiceField(
        label=gettext_lazy("Rate type"), choices=RateType.choices
    )
    source = forms.CharField(label=gettext_lazy("Source"), max_length=100)


class IssuerForm(forms.ModelForm):
    registration_number = forms.CharField(
        label=gettext_lazy("Registration number (T + 13 digits)"), max_length=40
    )

    class Meta:
        model = IssuerSettings
        fields = [
            "name",
            "registration_number",
            "address",
            "contact",
            "bank_account",
            "payment_terms_days",
            "fx_rounding",
            "tax_rounding",
            "tax_rate_percent",
            "usage_closing_day",
        ]
        widgets = {
            "fx_rounding": forms.Select(choices=ROUNDING_CHOICES),
            "tax_rounding": forms.Select(choices=ROUNDING_CHOICES),
            "address": forms.Textarea(attrs={"rows": 2}),
            "bank_account": forms.Textarea(attrs={"rows": 2}),
        }

    def clean_registration_number(self) -> str:
        """Normalise full-width digits and hyphens before the model's length check;
        a bad format is a form error, a check-digit mismatch only a warning."""
        return validate_tnumber(self.cleaned_data["registration_number"]).normalized


class PlanForm(forms.ModelForm):
    class Meta:
        model = Plan
        fields = [
            "code",
            "name",
            "name_ja",
            "monthly_fee_jpy",
            "included_emails",
            "overage",
            "overage_jpy_per_1000",
            "change_mode",
        ]

    def validate_unique(self) -> None:
        """Saving an existing code updates that plan (upsert by code)."""


class ContractForm(forms.ModelForm):
    plan = forms.ModelChoiceField(
        label=gettext_lazy("Plan"), queryset=Plan.objects.all(), required=False
    )
    plan_from = forms.DateField(
        label=gettext_lazy("Plan effective from"), required=False
    )

    class Meta:
        model = Contract
        fields = ["start_date", "fx_policy", "fx_rate_type", "fixed_rate"]


def _ctx(request: PortalRequest) -> AuditContext:
    return AuditContext.from_request(request)


def _month(request: PortalRequest) -> date:
    form = MonthForm(request.GET or None)
    if form.is_valid():
        return form.cleaned_data["month"].replace(day=1)
    latest = (
        Invoice.objects.order_by("-period").values_list("period", flat=True).first()
    )
    return latest or jst_today().replace(day=1)


@staff_required
def invoice_list(request: PortalRequest) -> HttpResponse:
    period = _month(request)
    invoices = (
        Invoice.objects.filter(period=period)
        .select_related("tenant")
        .order_by("status", "tenant__name", "id")
    )
    run = CloseRun.objects.filter(period=period).first()
    return render(
        request,
        "billing/staff_invoice_list.html",
        {"period": period, "invoices": invoices, "run": run},
    )


@billing_staff
@require_POST
def close_start(request: PortalRequest) -> HttpResponse:
    form = MonthForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the month as YYYY-MM."))
        return redirect("billing_staff_invoices")
    period = form.cleaned_data["month"].replace(day=1)
    run = CloseRun.objects.create(period=period, started_by=request.user.email)
    transaction.on_commit(lambda: close_run_task.delay(run.pk, request.user.email))
    return redirect("billing_staff_close_run", pk=run.pk)


@staff_required
def close_run(request: PortalRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(CloseRun, pk=pk)
    template = (
        "billing/_close_progress.html"
        if request.htmx
        else "billing/staff_close_run.html"
    )
    return render(request, template, {"run": run})


@staff_required
def invoice_detail(request: PortalRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(
        Invoice.objects.select_related("tenant", "original"), pk=pk
    )
    related = Invoice.objects.filter(original=invoice)
    return render(
        request,
        "billing/staff_invoice_detail.html",
        {
            "invoice": invoice,
            "lines": invoice.lines.all(),
            "related": related,
            "adjust_form": AdjustmentForm(),
            "reason_form": ReasonForm(),
        },
    )


def _service(request: PortalRequest, func, **kwargs):
    try:
        return func(ctx=_ctx(request), **kwargs)
    except (finalize.InvoiceStateError, BillingDataMissing) as exc:
        messages.error(request, str(exc))
    return None


@billing_staff
@require_POST
def invoice_line_add(request: PortalRequest, pk: int) -> HttpResponse:
    form = AdjustmentForm(request.POST)
    if form.is_valid():
        if _service(request, adjustments.line_add, invoice_id=pk, **form.cleaned_data):
            messages.success(request, _("Line added."))
    else:
        messages.error(request, _("Enter a description, an amount and a reason."))
    return redirect("billing_staff_invoice", pk=pk)


@billing_staff
@require_POST
def invoice_line_remove(request: PortalRequest, pk: int, line_pk: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    if form.is_valid():
        if _service(
            request,
            adjustments.line_remove,
            line_id=line_pk,
            reason=form.cleaned_data["reason"],
        ):
            messages.success(request, _("Line removed."))
    else:
        messages.error(request, _("Give a reason."))
    return redirect("billing_staff_invoice", pk=pk)


@billing_staff
@require_POST
def invoice_finalize(request: PortalRequest, pk: int) -> HttpResponse:
    invoice = _service(request, finalize.invoice_finalize, invoice_id=pk)
    if invoice:
        messages.success(
            request, _("Issued as %(number)s.") % {"number": invoice.number}
        )
    return redirect("billing_staff_invoice", pk=pk)


@billing_staff
@require_POST
def invoice_credit(request: PortalRequest, pk: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason."))
        return redirect("billing_staff_invoice", pk=pk)
    corrected = request.POST.get("corrected") == "1"
    func = (
        corrections.corrected_invoice_create
        if corrected
        else corrections.credit_note_issue
    )
    doc = _service(request, func, original_id=pk, reason=form.cleaned_data["reason"])
    if doc:
        return redirect("billing_staff_invoice", pk=doc.pk)
    return redirect("billing_staff_invoice", pk=pk)


@staff_required
def invoice_pdf(request: PortalRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk)
    if invoice.is_final:
        data = bytes(invoice.pdf)
    else:
        from billing.services.documents import render as render_pdf

        data = render_pdf(invoice)
    name = invoice.number or f"draft-{invoice.pk}"
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    return response


@billing_staff
def prices(request: PortalRequest) -> HttpResponse:
    form = PriceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        billing_settings.price_version_create(ctx=_ctx(request), **form.cleaned_data)
        messages.success(request, _("Price version saved."))
        return redirect("billing_staff_prices")
    return render(
        request,
        "billing/staff_prices.html",
        {
            "form": form,
            "plan_form": PlanForm(),
            "versions": PriceVersion.objects.all(),
            "plans": Plan.objects.all(),
        },
    )


@billing_staff
@require_POST
def plan_save(request: PortalRequest) -> HttpResponse:
    form = PlanForm(request.POST)
    if form.is_valid():
        billing_settings.plan_save(data=form.cleaned_data, ctx=_ctx(request))
        messages.success(request, _("Plan saved."))
    else:
        messages.error(request, _("Check the plan fields."))
    return redirect("billing_staff_prices")


@billing_staff
def rates(request: PortalRequest) -> HttpResponse:
    form = FxForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if FxRate.objects.filter(
            date=form.cleaned_data["day"],
            rate_type=form.cleaned_data["rate_type"],
            source=form.cleaned_data["source"],
        ).exists():
            form.add_error(
                "day", _("A rate of this type and source exists for that day.")
            )
        else:
            billing_settings.fx_rate_create(ctx=_ctx(request), **form.cleaned_data)
            messages.success(request, _("Rate saved."))
            return redirect("billing_staff_rates")
    return render(
        request,
        "billing/staff_rates.html",
        {"form": form, "rates": FxRate.objects.all()[:200]},
    )


@billing_staff
def issuer(request: PortalRequest) -> HttpResponse:
    current = IssuerSettings.objects.order_by("pk").first()
    form = IssuerForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            _issuer, check = billing_settings.issuer_save(
                data=form.cleaned_data, ctx=_ctx(request)
            )
        except ValidationError as exc:
            form.add_error("registration_number", exc)
        else:
            if check.warning:
                messages.warning(request, check.warning)
            messages.success(request, _("Issuer settings saved."))
            return redirect("billing_staff_issuer")
    return render(request, "billing/staff_issuer.html", {"form": form})


@billing_staff
def contract(request: PortalRequest, tenant_pk: int) -> HttpResponse:
    tenant = get_object_or_404(
        Customer.objects.exclude(schema_name="public"), pk=tenant_pk
    )
    current = Contract.objects.filter(tenant=tenant).first()
    form = ContractForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in ContractForm.Meta.fields}
        plan = form.cleaned_data.get("plan")
        billing_settings.contract_save(
            tenant=tenant,
            data=data,
            plan_id=plan.pk if plan else None,
            plan_from=form.cleaned_data.get("plan_from"),
            ctx=_ctx(request),
        )
        messages.success(request, _("Contract saved."))
        return redirect("billing_staff_contract", tenant_pk=tenant.pk)
    return render(
        request,
        "billing/staff_contract.html",
        {
            "form": form,
            "tenant": tenant,
            "assignments": tenant.plan_assignments.select_related("plan"),
        },
    )


class SearchForm(forms.Form):
    issued_from = forms.DateField(label=gettext_lazy("Issued from"), required=False)
    issued_to = forms.DateField(label=gettext_lazy("Issued to"), required=False)
    amount_min = forms.IntegerField(
        label=gettext_lazy("Total from (JPY)"), required=False
    )
    amount_max = forms.IntegerField(
        label=gettext_lazy("Total to (JPY)"), required=False
    )
    customer = forms.CharField(label=gettext_lazy("Customer"), required=False)


@staff_required
def search(request: PortalRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    results = None
    if form.is_valid():
        results = issued_documents(IssuedSearch(**form.cleaned_data))[:500]
    return render(
        request, "billing/staff_search.html", {"form": form, "results": results}
    )


class ExportForm(forms.Form):
    month = forms.DateField(
        label=gettext_lazy("Issue month"), input_formats=MONTH_FORMATS
    )
    format = forms.ChoiceField(
        label=gettext_lazy("Format"),
        choices=[(f, f) for f in ("csv", "freee", "moneyforward", "yayoi", "pdf")],
    )


@staff_required
def export(request: PortalRequest) -> HttpResponse:
    """Accounting CSV of the documents issued in a month, or their issued PDFs (zip)."""
    import io
    import zipfile

    from billing.exports import build_export, pdf_filename
    from billing.services.documents import finalized_queryset, to_document

    form = ExportForm(request.GET or None)
    if not form.is_valid():
        return render(request, "billing/staff_export.html", {"form": form})
    month = form.cleaned_data["month"].replace(day=1)
    fmt = form.cleaned_data["format"]
    invoices = list(finalized_queryset(month))
    if fmt == "pdf":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
            for inv in invoices:
                doc = to_document(inv, list(inv.lines.all()))
                archive.writestr(pdf_filename(doc), bytes(inv.pdf))  # as issued
        response = HttpResponse(buf.getvalue(), content_type="application/zip")
        response["Content-Disposition"] = (
            f'attachment; filename="{month:%Y-%m}_pdf.zip"'
        )
        return response
    docs = [to_document(inv, list(inv.lines.all())) for inv in invoices]
    name, content = build_export(docs, fmt, month)[0]
    response = HttpResponse(content, content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
