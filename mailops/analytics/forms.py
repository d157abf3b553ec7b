"""Forms of the analytics pages (GET filters and the alert settings)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mailops.analytics import selectors
from mailops.analytics.services import EDITABLE_FIELDS
from mailops.models import AnalyticsSettings


class DateInput(forms.DateInput):
    input_type = "date"


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"), choices=selectors.PERIODS, required=False
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("period") == "custom" and not (
            data.get("date_from") and data.get("date_to")
        ):
            raise forms.ValidationError(
                _("Choose both dates for a custom period."), code="dates"
            )
        return data

    def resolved(self) -> selectors.Period:
        """The period asked for, or the last 7 days when the form is invalid."""
        if not self.is_valid():
            return selectors.period_for("7d")
        data = self.cleaned_data
        return selectors.period_for(
            data.get("period") or "7d", data.get("date_from"), data.get("date_to")
        )


class SearchForm(forms.Form):
    recipient = forms.CharField(
        label=_("Recipient"),
        required=False,
        max_length=320,
        help_text=_("An address, or @domain for every address of a domain."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    sender = forms.CharField(
        label=_("Sender"),
        required=False,
        max_length=320,
        help_text=_("An address or a domain."),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    message_id = forms.CharField(
        label=_("Message ID"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"type": "search", "class": "mono"}),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    device = forms.TypedChoiceField(
        label=_("Device"), required=False, coerce=int, empty_value=None
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any status"))] + [
            (s, selectors.STATUS_LABELS[s]) for s in selectors.STATUSES
        ]
        self.fields["device"].choices = [("", _("Any device"))] + [
            (str(pk), label) for pk, label in selectors.devices()
        ]

    def filters(self) -> selectors.SearchFilters:
        """The search asked for; an invalid form searches the last 7 days."""
        today = selectors.today_jst()
        default_from = today - dt.timedelta(days=6)
        if not self.is_valid():
            return selectors.SearchFilters(date_from=default_from, date_to=today)
        d = self.cleaned_data
        has_id = bool(d.get("message_id"))
        return selectors.SearchFilters(
            recipient=d.get("recipient") or "",
            sender=d.get("sender") or "",
            message_id=d.get("message_id") or "",
            status=d.get("status") or "",
            date_from=d.get("date_from") or (None if has_id else default_from),
            date_to=d.get("date_to") or (None if has_id else today),
            device=d.get("device"),
        )

    def page_number(self) -> int:
        return (self.cleaned_data.get("page") if self.is_valid() else None) or 1


class AnalyticsSettingsForm(forms.ModelForm):
    class Meta:
        model = AnalyticsSettings
        fields = list(EDITABLE_FIELDS)
        widgets = {
            "bounce_rate_threshold": forms.NumberInput(
                attrs={"step": "0.1", "min": "0"}
            ),
            "failure_spike_factor": forms.NumberInput(
                attrs={"step": "0.5", "min": "1"}
            ),
        }
