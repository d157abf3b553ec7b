"""The onboarding wizard's forms, one per step. Each re-validates at the final
submit, so a slug taken in the meantime is caught before anything is created."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from billing.models import Contract, Plan, RateType
from billing.public_views import AssessmentForm
from billing.services.documents import jst_today
from mailops.services.common import default_names
from portal.errors import ServiceError
from tenants import onboarding

# Azure's naming rules (ARM): subscription ids are GUIDs; resource groups are 1–90
# letters, digits, underscores, hyphens, periods and parentheses, not ending in ".".
SUBSCRIPTION_RE = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
RESOURCE_GROUP_RE = re.compile(r"^[-\w.()]{0,89}[-\w()]$")


def _service_check(check: Any, value: str) -> str:
    try:
        return str(check(value))
    except ServiceError as exc:
        raise ValidationError(exc.message) from None


class CompanyForm(forms.Form):
    name = forms.CharField(label=_("Display name"), max_length=200)
    slug = forms.CharField(
        label=_("Identifier (subdomain)"),
        max_length=32,
        help_text=_(
            "3–32 lower-case letters, digits and hyphens. The portal address becomes "
            "<identifier>.%(domain)s"
        ),
    )
    billing_contact_name = forms.CharField(
        label=_("Billing contact"), max_length=200, required=False
    )
    billing_contact_email = forms.EmailField(
        label=_("Billing contact email"), required=False
    )
    corporate_number = forms.CharField(
        label=_("Corporate number (13 digits, optional)"),
        max_length=20,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].help_text = self.fields["slug"].help_text % {
            "domain": settings.TENANT_BASE_DOMAIN
        }

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("Enter the company name."))
        return name

    def clean_slug(self) -> str:
        return _service_check(onboarding.slug_check, self.cleaned_data["slug"])

    def clean_corporate_number(self) -> str:
        return _service_check(
            onboarding.corporate_number_check, self.cleaned_data["corporate_number"]
        )


class PlanChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Plan) -> str:
        return f"{obj.name_ja or obj.name} (¥{obj.monthly_fee_jpy:,})"


class PlanForm(forms.Form):
    plan = PlanChoiceField(
        label=_("Plan"),
        queryset=Plan.objects.all(),
        to_field_name="code",
        empty_label=None,
    )
    start_date = forms.DateField(
        label=_("Contract start date"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    fx_policy = forms.ChoiceField(
        label=_("FX policy (USD usage is invoiced in JPY)"),
        choices=Contract.FxPolicy.choices,
    )
    fx_rate_type = forms.ChoiceField(label=_("Rate type"), choices=RateType.choices)
    fixed_rate = forms.DecimalField(
        label=_("Fixed rate (JPY per USD)"),
        required=False,
        max_digits=20,
        decimal_places=8,
        min_value=0,
        help_text=_("Only for the fixed-rate policy."),
    )

    @staticmethod
    def defaults() -> dict[str, Any]:
        first = Plan.objects.order_by("monthly_fee_jpy").first()
        return {
            "plan": first.code if first else "",
            "start_date": jst_today().isoformat(),
            "fx_policy": Contract.FxPolicy.PREV_MONTH_END,
            "fx_rate_type": RateType.TTM,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        policy = data.get("fx_policy")
        rate = data.get("fixed_rate")
        if policy == Contract.FxPolicy.FIXED and not rate:
            self.add_error(
                "fixed_rate", _("Enter the fixed rate for a fixed-rate contract.")
            )
        if policy != Contract.FxPolicy.FIXED:
            data["fixed_rate"] = None
        return data


class AcsForm(forms.Form):
    provision_now = forms.BooleanField(
        label=_("Provision the ACS resources now"), required=False
    )
    with_managed_domain = forms.BooleanField(
        label=_("Also create an Azure-managed domain (for quick tests; 5/min, 10/h)"),
        required=False,
    )
    subscription_id = forms.CharField(
        label=_("Subscription"), max_length=64, required=False
    )
    resource_group = forms.CharField(
        label=_("Resource group"), max_length=90, required=False
    )

    @staticmethod
    def defaults(slug: str) -> dict[str, Any]:
        names = default_names(slug.replace("-", "_"))
        return {
            "provision_now": "on",
            "with_managed_domain": "on",
            "subscription_id": names["subscription_id"],
            "resource_group": names["resource_group"],
        }

    def clean_subscription_id(self) -> str:
        value = self.cleaned_data["subscription_id"].strip()
        if value and not SUBSCRIPTION_RE.match(value):
            raise ValidationError(
                _("A subscription ID looks like 00000000-0000-0000-0000-000000000000.")
            )
        return value

    def clean_resource_group(self) -> str:
        value = self.cleaned_data["resource_group"].strip()
        if value and not RESOURCE_GROUP_RE.match(value):
            raise ValidationError(
                _(
                    "Use up to 90 letters, digits, hyphens, underscores, periods and "
                    "parentheses, not ending with a period."
                )
            )
        return value


class OwnerForm(forms.Form):
    owner_email = forms.EmailField(label=_("Owner's email address"))
    owner_language = forms.ChoiceField(
        label=_("Language of the invitation and portal"),
        choices=[("ja", "日本語"), ("en", "English")],
    )

    @staticmethod
    def defaults() -> dict[str, Any]:
        return {"owner_language": "ja"}

    def clean_owner_email(self) -> str:
        return str(self.cleaned_data["owner_email"]).strip().lower()


class AssessmentStepForm(AssessmentForm):
    """billing's Exchange Online assessment inputs, optional unless wanted."""

    REQUIRED = ("licenses", "mailboxes", "daily_external")
    field_order = ["start_assessment"]

    start_assessment = forms.BooleanField(
        label=_("Start an Exchange Online assessment for this customer"),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "start_assessment":
                field.required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("start_assessment"):
            for name in self.REQUIRED:
                if data.get(name) is None and name not in self.errors:
                    self.add_error(name, _("Enter this to run the assessment."))
        return data

    def prefill(self) -> dict[str, Any] | None:
        """The assessment page's query parameters, or None when not wanted."""
        data = self.cleaned_data
        if not data.get("start_assessment"):
            return None
        params: dict[str, Any] = {
            name: data[name]
            for name in ("licenses", "mailboxes", "devices", "daily_external")
            if data.get(name) is not None
        }
        for flag in ("trial", "uses_smtp_auth"):
            if data.get(flag):
                params[flag] = "on"
        return params
