"""Staff page: the quota-increase readiness pack of one tenant (public host)."""

from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _

from portal.access import staff_required
from portal.http import PortalRequest
from tenants.readiness import (
    Answers,
    default_answers,
    readiness_build,
    readiness_document,
)
from tenants.selectors import served_tenants

LANGUAGES = (("ja", "日本語"), ("en", "English"))


class AnswersForm(forms.Form):
    """What staff expect; a GET form (nothing is stored)."""

    lang = forms.ChoiceField(label=_("Document language"), choices=LANGUAGES)
    expected_monthly = forms.IntegerField(
        label=_("Expected emails per month"), min_value=1, max_value=10**10
    )
    expected_peak_minute = forms.IntegerField(
        label=_("Expected peak per minute"), min_value=1, max_value=10**8
    )
    expected_peak_hour = forms.IntegerField(
        label=_("Expected peak per hour"), min_value=1, max_value=10**9
    )
    use_case = forms.CharField(
        label=_("Use case"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


@staff_required
def readiness_pack(request: PortalRequest, pk: int) -> HttpResponse:
    tenant = get_object_or_404(served_tenants(), pk=pk)
    pack = readiness_build(tenant=tenant)
    defaults = default_answers(pack)
    initial = {"lang": "ja", **defaults.__dict__}
    form = AnswersForm({**initial, **request.GET.dict()} if request.GET else initial)
    values = form.cleaned_data if form.is_valid() else initial
    answers = Answers(
        expected_monthly=values["expected_monthly"],
        expected_peak_minute=values["expected_peak_minute"],
        expected_peak_hour=values["expected_peak_hour"],
        use_case=values["use_case"],
    )
    language = values["lang"]
    document = readiness_document(pack, answers, language=language)
    if request.GET.get("format") == "txt":
        response = HttpResponse(document, content_type="text/plain; charset=utf-8")
        name = f"quota-increase-{tenant.schema_name}-{language}.txt"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    params = request.GET.copy()
    params["format"] = "txt"
    context = {
        "tenant": tenant,
        "pack": pack,
        "checks": pack.checks,
        "form": form,
        "document": document,
        "download_query": params.urlencode(),
        "language": language,
    }
    return render(request, "tenants/readiness.html", context)
