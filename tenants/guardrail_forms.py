"""Forms of the usage caps (staff console and the owner's page)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tenants.models import Guardrail

# Beyond any real month of ACS Email (about 1.4 billion emails at 2 million/hour).
MAX_EMAILS = 10**10
MAX_YEN = 10**12


def _cap_field(label: Any, maximum: int, too_big: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=1,
        max_value=maximum,
        error_messages={
            "invalid": _("Enter a whole number without commas."),
            "min_value": _("Enter 1 or more, or leave it empty for no cap."),
            "max_value": too_big,
        },
    )


class GuardrailForm(forms.Form):
    monthly_send_cap = _cap_field(
        _("Monthly send cap (emails)"),
        MAX_EMAILS,
        _("The send cap is too large."),
    )
    monthly_spend_cap_jpy = _cap_field(
        _("Monthly spend cap (JPY, tax included)"),
        MAX_YEN,
        _("The spend cap is too large."),
    )
    hard_action = forms.ChoiceField(
        label=_("Action at 100%"),
        choices=Guardrail.HardAction.choices,
        initial=Guardrail.HardAction.NONE,
        error_messages={"invalid_choice": _("Choose an action.")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        no_cap = not (data.get("monthly_send_cap") or data.get("monthly_spend_cap_jpy"))
        action = data.get("hard_action")
        if no_cap and action and action != Guardrail.HardAction.NONE:
            raise forms.ValidationError(
                _("Set a send cap or a spend cap for the action at 100% to apply.")
            )
        return data


class LiftForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (recorded in the audit log)"), max_length=300, required=False
    )
