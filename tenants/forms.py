from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tenants.accounts.models import User
from tenants.accounts.roles import StaffRole
from tenants.models import Customer


class TenantCreateForm(forms.Form):
    name = forms.CharField(label=_("Company name"), max_length=200)
    slug = forms.CharField(
        label=_("Identifier (host name)"),
        max_length=32,
        help_text=_("Used in the portal address: <identifier>.%(domain)s"),
    )
    owner_email = forms.EmailField(label=_("Owner's email address"))
    plan = forms.ChoiceField(label=_("Plan"), choices=Customer.Plan.choices)
    billing_contact_name = forms.CharField(
        label=_("Billing contact"), max_length=200, required=False
    )
    billing_contact_email = forms.EmailField(
        label=_("Billing contact email"), required=False
    )
    corporate_number = forms.CharField(
        label=_("Corporate number (13 digits)"), max_length=13, required=False
    )

    def __init__(self, *args: object, domain: str = "", **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["slug"].help_text = self.fields["slug"].help_text % {
            "domain": domain
        }


class SuspendForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class AlertAssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Public schema on the staff host: staff who handle alerts (billing
        # staff do not; an empty role counts as support, as in ``staff_can``).
        self.fields["assignee"].queryset = (
            User.objects.filter(is_staff=True, is_active=True)
            .exclude(staff_role=StaffRole.BILLING)
            .order_by("email")
        )


class AlertNoteForm(forms.Form):
    text = forms.CharField(
        label=pgettext_lazy("alert note", "Note"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AlertResolveForm(forms.Form):
    note = forms.CharField(
        label=pgettext_lazy("alert note", "Note"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
