"""Public (no sign-in) pages on the public host: cost estimator and the
Exchange Online → ACS assessment.

Both are GET forms: the result is a pure function of the query string, so a
result page can be bookmarked or shared, nothing is stored and no CSRF token
is needed. Money stays Decimal/int end to end (Django's DecimalField returns
Decimal; templates only format, never compute).
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from billing import estimator

# Upper bounds keep Decimal maths and page rendering cheap for any input.
MAX_EMAILS = 1_000_000_000
MAX_LICENSES = 10_000_000


def _plan_choices() -> list[tuple[str, str]]:
    choices = []
    for code in estimator.plan_codes():
        terms = estimator.plan_terms(code)
        choices.append((code, f"{terms.name} (¥{terms.monthly_fee_jpy:,})"))
    return choices


class EstimateForm(forms.Form):
    emails = forms.IntegerField(
        label=_("Emails per month"),
        min_value=0,
        max_value=MAX_EMAILS,
        help_text=_("Count every recipient: one message to 5 recipients is 5 emails."),
    )
    avg_kb = forms.DecimalField(
        label=_("Average message size (KB)"),
        min_value=Decimal(0),
        max_value=Decimal(100_000),
        max_digits=12,
        decimal_places=3,
        help_text=_("Including attachments. 1 MB = 1,024 KB."),
    )
    plan = forms.ChoiceField(label=_("Plan"), choices=())
    rate = forms.DecimalField(
        label=_("Exchange rate (JPY per USD)"),
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal(10_000),
        max_digits=14,
        decimal_places=6,
        help_text=_("Leave empty to use the latest rate we have entered."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["plan"].choices = _plan_choices()  # type: ignore[attr-defined]


class AssessmentForm(forms.Form):
    licenses = forms.IntegerField(
        label=_("Exchange Online licences"),
        min_value=0,
        max_value=MAX_LICENSES,
        help_text=_("Purchased (non-trial) Exchange Online or EOP licences."),
    )
    trial = forms.BooleanField(label=_("Trial tenant"), required=False)
    mailboxes = forms.IntegerField(
        label=_("Mailboxes that send"), min_value=0, max_value=MAX_LICENSES
    )
    devices = forms.IntegerField(
        label=_("Devices and applications that send"),
        min_value=0,
        max_value=MAX_LICENSES,
        initial=0,
        help_text=_("Multifunction printers, business systems, scripts."),
    )
    daily_external = forms.IntegerField(
        label=_("External recipients per day"),
        min_value=0,
        max_value=MAX_EMAILS,
        help_text=_("Across the whole tenant, at the busiest day."),
    )
    uses_smtp_auth = forms.BooleanField(
        label=_("Uses SMTP AUTH with a password (Basic authentication)"),
        required=False,
    )


def estimate_view(request: HttpRequest) -> HttpResponse:
    form = EstimateForm(request.GET or None)
    context: dict[str, object] = {"form": form}
    if form.is_valid():
        data = form.cleaned_data
        plan = estimator.plan_terms(data["plan"])
        if data["rate"] is not None:
            rate = estimator.RateInfo(data["rate"], "", None, "")
        else:
            rate = estimator.current_rate()
        email_price, mb_price = estimator.current_prices()
        fx_rounding, tax_rounding = estimator.issuer_rounding()
        context.update(
            plan=plan,
            rate=rate,
            result=estimator.estimate_monthly(
                data["emails"],
                data["avg_kb"],
                plan.monthly_fee_jpy,
                plan.included_emails,
                rate.rate,
                price_per_email=email_price,
                price_per_mb=mb_price,
                rounding=fx_rounding,
                tax_rounding=tax_rounding,
            ),
        )
    return render(request, "billing/estimate.html", context)


def assessment_view(request: HttpRequest) -> HttpResponse:
    form = AssessmentForm(request.GET or None)
    rate = estimator.current_rate()
    context: dict[str, object] = {
        "form": form,
        "limits": estimator.LIMIT_SOURCES,
        "timeline": estimator.SMTP_AUTH_TIMELINE,
        "rate": rate,
    }
    if form.is_valid():
        data = form.cleaned_data
        email_price, mb_price = estimator.current_prices()
        fx_rounding, tax_rounding = estimator.issuer_rounding()
        result = estimator.exo_assess(
            data["licenses"],
            data["trial"],
            data["mailboxes"],
            data["devices"] or 0,
            data["daily_external"],
            data["uses_smtp_auth"],
            rate=rate.rate,
            price_per_email=email_price,
            price_per_mb=mb_price,
            rounding=fx_rounding,
            tax_rounding=tax_rounding,
        )
        context.update(
            result=result, plan=estimator.plan_terms(result.recommended_plan)
        )
    return render(request, "billing/assessment.html", context)
