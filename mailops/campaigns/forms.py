"""Forms of the bulk-notification pages (lists, compose, schedule, test send)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mailops import csvio
from mailops.campaigns.services import MAX_RECIPIENTS_PER_MESSAGE
from mailops.models import (
    Campaign,
    CampaignRecipient,
    RecipientList,
    SenderAddress,
    SendingDomain,
)


class ListUploadForm(forms.Form):
    name = forms.CharField(
        label=_("List name"),
        max_length=200,
        help_text=_("For example: 2026年12月 価格改定のお知らせ 送付先"),
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8 (with or without BOM) or Shift_JIS from Excel, up to 200 MB. "
            "The first row must be a header; each column becomes a merge field."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class ListConfirmForm(forms.Form):
    encoding = forms.ChoiceField(
        label=_("Character encoding"), choices=csvio.ENCODING_CHOICES
    )
    email_column = forms.ChoiceField(label=_("E-mail address column"), choices=())

    def __init__(self, *args: Any, columns: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email_column"].choices = [(c, c) for c in columns]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def sendable_senders() -> Any:
    """Active sender addresses of verified, linked domains: the only ones offered."""
    return SenderAddress.objects.filter(
        state=SenderAddress.State.ACTIVE,
        domain__state=SendingDomain.State.VERIFIED,
        domain__linked=True,
    ).select_related("domain")


class SenderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: SenderAddress) -> str:
        if obj.display_name:
            return f"{obj.display_name} <{obj.address}>"
        return obj.address


class CampaignForm(forms.ModelForm):
    sender = SenderChoiceField(
        label=_("Sender"),
        queryset=SenderAddress.objects.none(),
        help_text=_("Only active senders of verified domains can send."),
    )
    recipient_list = forms.ModelChoiceField(
        label=_("Recipient list"),
        queryset=RecipientList.objects.none(),
        help_text=_("Only imported lists can be used."),
    )
    attachments = MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_(
            "PDF, Office, image, text or ZIP; 10 MB in total once encoded (about "
            "7.5 MB of files). Programs such as .exe are refused."
        ),
    )

    class Meta:
        model = Campaign
        fields = [
            "name",
            "recipient_list",
            "sender",
            "reply_to",
            "subject",
            "body_text",
            "body_html",
        ]
        widgets = {
            "subject": forms.TextInput(attrs={"data-merge-target": "1"}),
            "body_text": forms.Textarea(attrs={"rows": 12, "data-merge-target": "1"}),
            "body_html": forms.Textarea(attrs={"rows": 8, "data-merge-target": "1"}),
        }
        help_texts = {
            "body_html": _(
                "Optional. A safe subset is kept (paragraphs, links, lists, tables, "
                "bold); scripts, styles and forms are removed."
            ),
            "reply_to": _("Where replies go, if not to the sender."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sender"].queryset = sendable_senders()
        self.fields["recipient_list"].queryset = RecipientList.objects.filter(
            state=RecipientList.State.READY
        )
        self.fields["name"].label = _("Campaign name")
        self.fields["name"].help_text = _("Only you see it, e.g. 2026年12月 価格改定")
        self.fields["body_text"].label = _("Body (plain text)")
        self.fields["body_html"].label = _("Body (HTML, optional)")


WINDOW_CHOICES = [
    ("business", _("JST business hours (Mon–Fri 9:00–18:00)")),
    ("any", _("Any time")),
    ("custom", pgettext_lazy("send window", "Custom")),
]
WEEKDAY_CHOICES = [
    (0, _("Mon")),
    (1, _("Tue")),
    (2, _("Wed")),
    (3, _("Thu")),
    (4, _("Fri")),
    (5, _("Sat")),
    (6, _("Sun")),
]
HOUR_CHOICES = [(h, f"{h}:00") for h in range(24)]
# "Any time" is stored as every day with no hours, so that a draft nobody has
# scheduled yet (no days at all) can still default to business hours.
ANY_TIME: tuple[None, None, list[int]] = (None, None, [0, 1, 2, 3, 4, 5, 6])


class ScheduleForm(forms.Form):
    window = forms.ChoiceField(
        label=_("Send window"),
        choices=WINDOW_CHOICES,
        widget=forms.RadioSelect,
        initial="business",
    )
    start_hour = forms.TypedChoiceField(
        label=pgettext_lazy("send window", "From"),
        choices=HOUR_CHOICES,
        coerce=int,
        initial=9,
        required=False,
    )
    end_hour = forms.TypedChoiceField(
        label=pgettext_lazy("send window", "Until"),
        choices=HOUR_CHOICES,
        coerce=int,
        initial=18,
        required=False,
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Days"),
        choices=WEEKDAY_CHOICES,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        initial=[0, 1, 2, 3, 4],
        required=False,
    )
    start = forms.ChoiceField(
        label=_("Start"),
        choices=[("now", _("Now")), ("later", _("At a set time"))],
        widget=forms.RadioSelect,
        initial="now",
    )
    start_at = forms.DateTimeField(
        label=_("Start at (JST)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    rate_cap_per_minute = forms.IntegerField(
        label=_("Rate cap (messages per minute)"), min_value=1, required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("window") == "custom":
            if data.get("start_hour") is None or data.get("end_hour") is None:
                self.add_error("start_hour", _("Choose the hours of the window."))
            elif data["start_hour"] == data["end_hour"]:
                self.add_error("end_hour", _("The window must not be empty."))
            if not data.get("weekdays"):
                self.add_error("weekdays", _("Choose at least one day."))
        if data.get("start") == "later" and not data.get("start_at"):
            self.add_error("start_at", _("Enter the start time."))
        return data

    def window_value(self) -> tuple[Any, Any, list[int]]:
        data = self.cleaned_data
        if data["window"] == "business":
            from mailops.campaigns.drafts import BUSINESS_HOURS

            return BUSINESS_HOURS
        if data["window"] == "custom":
            return data["start_hour"], data["end_hour"], sorted(data["weekdays"])
        return ANY_TIME

    @staticmethod
    def initial_for(campaign: Campaign) -> dict[str, Any]:
        from mailops.campaigns.drafts import BUSINESS_HOURS

        hours = (
            campaign.window_start_hour,
            campaign.window_end_hour,
            list(campaign.window_weekdays or []),
        )
        if hours == ANY_TIME:
            window = "any"
        elif hours == BUSINESS_HOURS or campaign.window_start_hour is None:
            window = "business"  # also the default of a new draft
        else:
            window = "custom"
        initial: dict[str, Any] = {
            "window": window,
            "rate_cap_per_minute": campaign.rate_cap_per_minute,
        }
        if window == "custom":
            initial.update(start_hour=hours[0], end_hour=hours[1], weekdays=hours[2])
        if campaign.scheduled_at:
            initial.update(start="later", start_at=campaign.scheduled_at)
        return initial


class TestSendForm(forms.Form):
    extra = forms.CharField(
        label=_("Also send to"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional: more addresses, one per line or separated by commas."),
    )
    row = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def addresses(self, own: str) -> list[str]:
        raw = self.cleaned_data.get("extra") or ""
        extra = [a.strip() for a in raw.replace(",", "\n").splitlines() if a.strip()]
        return [own, *[a for a in extra if a.lower() != own.lower()]]

    def clean_extra(self) -> str:
        raw = self.cleaned_data.get("extra") or ""
        extra = [a.strip() for a in raw.replace(",", "\n").splitlines() if a.strip()]
        if len(extra) + 1 > MAX_RECIPIENTS_PER_MESSAGE:
            raise forms.ValidationError(
                _("A test goes to at most %(max)d addresses (you included yourself).")
                % {"max": MAX_RECIPIENTS_PER_MESSAGE}
            )
        for address in extra:
            check = csvio.check_email(address)
            if check.normalised is None:
                raise forms.ValidationError(
                    _("%(address)s: %(error)s")
                    % {"address": address, "error": check.error}
                )
        return raw


class RecipientFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All"))]
        + [
            (value, pgettext_lazy("campaign recipient", "Accepted by ACS"))
            if value == "accepted"
            else (value, label)
            for value, label in CampaignRecipient.State.choices
        ],
    )
    q = forms.CharField(label=_("Address"), required=False, max_length=320)
