from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mailops.models import SenderAddress, SendingDomain, SmtpCredential


class DomainForm(forms.Form):
    name = forms.CharField(
        label=_("Domain name"),
        max_length=253,
        help_text=_(
            "For example mail.example.co.jp. Japanese domain names are accepted."
        ),
    )


class SenderForm(forms.Form):
    username = forms.CharField(label=_("Local part (before @)"), max_length=64)
    display_name = forms.CharField(
        label=_("Display name"), max_length=256, required=False
    )


class CredentialForm(forms.Form):
    label = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Type"), choices=SmtpCredential.Kind.choices)
    vendor = forms.ChoiceField(
        label=_("Vendor"),
        choices=[("", "—"), *SmtpCredential.Vendor.choices],
        required=False,
    )
    model = forms.CharField(label=_("Model"), max_length=100, required=False)
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    owner_name = forms.CharField(
        label=_("Person in charge"), max_length=100, required=False
    )
    sender = forms.ModelChoiceField(
        label=_("Sender address"),
        queryset=SenderAddress.objects.none(),
        empty_label=None,
        help_text=_("The device must send From this address."),
    )
    months = forms.IntegerField(
        label=_("Password lifetime (months)"),
        min_value=1,
        max_value=settings.CREDENTIAL_MAX_MONTHS,
        initial=settings.CREDENTIAL_MAX_MONTHS,
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["sender"].queryset = SenderAddress.objects.filter(  # type: ignore[attr-defined]
            state=SenderAddress.State.ACTIVE,
            domain__state=SendingDomain.State.VERIFIED,
            domain__linked=True,
        ).select_related("domain")


class RotateForm(forms.Form):
    months = forms.IntegerField(
        label=_("Password lifetime (months)"),
        min_value=1,
        max_value=settings.CREDENTIAL_MAX_MONTHS,
        initial=settings.CREDENTIAL_MAX_MONTHS,
    )
    grace_days = forms.IntegerField(
        label=_("Keep the old password working for (days)"),
        min_value=0,
        max_value=90,
        initial=7,
    )


class SmtpTestForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput(render_value=False))
    recipient = forms.EmailField(label=_("Send the test message to"))


class SuppressionForm(forms.Form):
    email = forms.CharField(label=_("Email address"), max_length=254)
    notes = forms.CharField(label=_("Notes"), max_length=200, required=False)


class SuppressionUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))
    encoding = forms.ChoiceField(
        label=_("Character encoding"),
        required=False,
        choices=[
            ("", _("Detect automatically")),
            ("utf-8-sig", "UTF-8"),
            ("cp932", "Shift_JIS (CP932)"),
        ],
    )
