"""Bulk-notification pages on a tenant host: recipient lists, compose, preview,
test send, schedule and confirm, the live progress page and the results."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from mailops import csvio
from mailops.analytics.bounces import explain
from mailops.campaigns import drafts, forms, lists
from mailops.campaigns import render as rendering
from mailops.campaigns import services as engine
from mailops.models import (
    Campaign,
    CampaignRecipient,
    ListRecipient,
    ListRejection,
    RecipientEvent,
    RecipientList,
)
from portal.access import require_capability
from portal.errors import ServiceError
from portal.http import PortalRequest
from tenants.accounts.audit import AuditContext

PAGE_SIZE = 50
# Recipient states counted on the progress bar, in the order they are shown.
PROGRESS_STATES = ("queued", "sending", "accepted", "delivered", "bounced", "failed")
LIVE_STATES = (Campaign.State.RUNNING, Campaign.State.SCHEDULED, Campaign.State.PAUSED)
# Recipient states as the campaign pages name them: "accepted" is ACS's receipt of
# the message (not the recipient's acceptance), so it gets its own wording.
STATE_LABELS = {
    **dict(CampaignRecipient.State.choices),
    "accepted": pgettext_lazy("campaign recipient", "Accepted by ACS"),
}


def _ctx(request: PortalRequest) -> AuditContext:
    return AuditContext.from_request(request)


def _get_list_for_user(request: PortalRequest, pk: int) -> RecipientList:
    return get_object_or_404(RecipientList.objects.exclude(state="discarded"), pk=pk)


def _get_campaign_for_user(request: PortalRequest, pk: int) -> Campaign:
    return get_object_or_404(
        Campaign.objects.select_related("sender__domain", "recipient_list"), pk=pk
    )


def _field_error(form: Any, exc: ServiceError) -> None:
    """Show a service's refusal next to the field it names, else above the form."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _page(request: PortalRequest, queryset: Any) -> Any:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _csv_response(rows: Any, header: list[str], filename: str) -> HttpResponse:
    response = StreamingHttpResponse(
        csvio.write_csv(rows, header, encoding="utf-8-sig"),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- recipient lists --------------------------------------------------------------------


@require_capability("campaigns.view")
def list_index(request: PortalRequest) -> HttpResponse:
    return render(
        request,
        "mailops/campaigns/list_index.html",
        {
            "lists": RecipientList.objects.exclude(state="discarded"),
            "form": forms.ListUploadForm(),
        },
    )


class _SizeLimitHandler(FileUploadHandler):
    """Stops reading an upload as soon as it passes the size limit, so a huge
    file (or one sent without a Content-Length) is never spooled to disk whole."""

    too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > settings.RECIPIENT_LIST_MAX_BYTES:
            self.too_large = True
            # The rest of the body is read and dropped, so the user gets a page.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


# The size check must run before anything reads the body, and CsrfViewMiddleware
# reads it to find the token: so CSRF is checked inside, after the size check
# (Django's documented pattern for changing upload handlers in a view).
@csrf_exempt
@require_POST
@require_capability("campaigns.manage")
def list_upload(request: PortalRequest) -> HttpResponse:
    try:
        lists.check_upload_size(int(request.META.get("CONTENT_LENGTH") or 0))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("campaign_lists")
    limit = _SizeLimitHandler(request)
    request.upload_handlers.insert(0, limit)
    return _list_upload(request, limit)


@csrf_protect
def _list_upload(request: PortalRequest, limit: _SizeLimitHandler) -> HttpResponse:
    form = forms.ListUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            recipient_list = lists.recipient_list_upload(
                ctx=_ctx(request),
                name=form.cleaned_data["name"],
                upload=form.cleaned_data["file"],
            )
        except ServiceError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("campaign_list_detail", pk=recipient_list.pk)
    if limit.too_large:
        form.errors.pop("file", None)
        form.add_error("file", lists.too_large_message())
    return render(
        request,
        "mailops/campaigns/list_index.html",
        {"lists": RecipientList.objects.exclude(state="discarded"), "form": form},
        status=400,
    )


def _list_context(
    request: PortalRequest,
    recipient_list: RecipientList,
    confirm_form: forms.ListConfirmForm | None = None,
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "rl": recipient_list,
        "encoding_label": dict(csvio.ENCODING_CHOICES).get(
            recipient_list.encoding, recipient_list.encoding
        ),
    }
    if recipient_list.state == RecipientList.State.UPLOADED:
        try:
            preview = lists.recipient_list_preview(
                recipient_list=recipient_list,
                encoding=request.GET.get("encoding") or None,
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
            preview = lists.recipient_list_preview(recipient_list=recipient_list)
        context["preview"] = preview
        context["confirm_form"] = confirm_form or forms.ListConfirmForm(
            columns=preview.columns,
            initial={
                "encoding": preview.encoding,
                "email_column": preview.email_column,
            },
        )
    if recipient_list.state in (
        RecipientList.State.VALIDATED,
        RecipientList.State.READY,
    ):
        reason = request.GET.get("reason", "")
        rejections = ListRejection.objects.filter(recipient_list=recipient_list)
        if reason in ListRejection.Reason.values:
            rejections = rejections.filter(reason=reason)
        context["rejections"] = _page(request, rejections)
        context["reason"] = reason
        context["query_prefix"] = f"reason={reason}" if reason else ""
        context["reasons"] = ListRejection.Reason.choices
        context["sample"] = ListRecipient.objects.filter(
            recipient_list=recipient_list
        ).order_by("row_number")[:5]
    return context


@require_capability("campaigns.view")
def list_detail(request: PortalRequest, pk: int) -> HttpResponse:
    recipient_list = _get_list_for_user(request, pk)
    template = "mailops/campaigns/list_detail.html"
    if request.htmx and request.GET.get("part") == "status":
        if recipient_list.state != RecipientList.State.VALIDATING:
            # The check finished: the whole page changes (counts, rows, choice).
            return HttpResponseClientRefresh()
        template += "#status"
    return render(request, template, _list_context(request, recipient_list))


@require_POST
@require_capability("campaigns.manage")
def list_confirm(request: PortalRequest, pk: int) -> HttpResponse:
    recipient_list = _get_list_for_user(request, pk)
    try:
        preview = lists.recipient_list_preview(
            recipient_list=recipient_list,
            encoding=request.POST.get("encoding") or None,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("campaign_list_detail", pk=pk)
    form = forms.ListConfirmForm(request.POST, columns=preview.columns)
    if form.is_valid():
        try:
            lists.recipient_list_confirm(
                ctx=_ctx(request), recipient_list=recipient_list, **form.cleaned_data
            )
        except ServiceError as exc:
            _field_error(form, exc)
        else:
            return redirect("campaign_list_detail", pk=pk)
    return render(
        request,
        "mailops/campaigns/list_detail.html",
        _list_context(request, recipient_list, form),
        status=400,
    )


@require_POST
@require_capability("campaigns.manage")
def list_decide(request: PortalRequest, pk: int, action: str) -> HttpResponse:
    recipient_list = _get_list_for_user(request, pk)
    try:
        if action == "import":
            recipient_list = lists.recipient_list_import(
                ctx=_ctx(request), recipient_list=recipient_list
            )
            messages.success(
                request,
                _("%(n)s recipients were imported. The list can now be used.")
                % {"n": f"{recipient_list.valid_count:,}"},
            )
        elif action == "discard":
            lists.recipient_list_discard(
                ctx=_ctx(request), recipient_list=recipient_list
            )
            messages.success(request, _("The list was discarded."))
            return redirect("campaign_lists")
        else:
            raise Http404
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("campaign_list_detail", pk=pk)


@require_capability("campaigns.view")
def list_rejections_export(request: PortalRequest, pk: int) -> HttpResponse:
    recipient_list = _get_list_for_user(request, pk)
    return _csv_response(
        lists.rejection_rows(recipient_list),
        [_("Row"), _("Value"), _("Reason"), _("Detail")],
        f"rejected-rows-{recipient_list.pk}.csv",
    )


# --- compose ----------------------------------------------------------------------------


def _compose_context(form: forms.CampaignForm, campaign: Campaign | None) -> dict:
    ready = RecipientList.objects.filter(state=RecipientList.State.READY)
    return {
        "form": form,
        "campaign": campaign,
        "list_fields": [
            (rl.pk, rl.name, [rl.email_column, *rl.fields]) for rl in ready
        ],
        "attachments": campaign.attachments.all() if campaign else [],
        "no_senders": not forms.sendable_senders().exists(),
    }


def _save_compose(request: PortalRequest, campaign: Campaign | None) -> HttpResponse:
    form = forms.CampaignForm(
        request.POST or None, request.FILES or None, instance=campaign
    )
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "attachments"}
        try:
            campaign = drafts.campaign_draft_save(
                ctx=_ctx(request),
                campaign=campaign,
                data=data,
                attachments=form.cleaned_data["attachments"],
                remove_attachments=[
                    int(v) for v in request.POST.getlist("remove") if v.isdigit()
                ],
            )
        except ServiceError as exc:
            _field_error(form, exc)
        else:
            messages.success(request, _("The draft was saved."))
            return redirect("campaign_detail", pk=campaign.pk)
    return render(
        request,
        "mailops/campaigns/compose.html",
        _compose_context(form, campaign),
        status=400 if form.errors else 200,
    )


@require_capability("campaigns.manage")
def campaign_create(request: PortalRequest) -> HttpResponse:
    return _save_compose(request, None)


@require_capability("campaigns.manage")
def campaign_edit(request: PortalRequest, pk: int) -> HttpResponse:
    campaign = _get_campaign_for_user(request, pk)
    if campaign.state != Campaign.State.DRAFT:
        messages.error(request, _("Only a draft campaign can be changed."))
        return redirect("campaign_detail", pk=pk)
    return _save_compose(request, campaign)


# --- preview and test send --------------------------------------------------------------


def _preview_row(
    campaign: Campaign, request: PortalRequest
) -> tuple[int, int, dict[str, Any], str]:
    """(index, count, merge data, address) of the recipient to preview: ``row`` is
    the 1-based position in the list, ``q`` searches an address."""
    recipient_list = campaign.recipient_list
    if recipient_list is None:
        return 0, 0, {}, ""
    rows = ListRecipient.objects.filter(recipient_list=recipient_list).order_by(
        "row_number"
    )
    count = recipient_list.valid_count
    query = (request.GET.get("q") or request.POST.get("q") or "").strip()
    found = None
    index = 1
    if query:
        found = rows.filter(email__icontains=query).first()
        if found is not None:
            index = rows.filter(row_number__lt=found.row_number).count() + 1
    if found is None:
        raw = request.GET.get("row") or request.POST.get("row") or "1"
        index = min(max(int(raw) if raw.isdigit() else 1, 1), max(count, 1))
        found = rows[index - 1 : index].first()
    if found is None:
        return 0, count, {}, ""
    data = rendering.recipient_data(
        found.email, found.data, recipient_list.email_column
    )
    return index, count, data, found.email


def _preview_context(request: PortalRequest, campaign: Campaign) -> dict[str, Any]:
    index, count, data, address = _preview_row(campaign, request)
    return {
        "campaign": campaign,
        "rendered": rendering.render(campaign, data),
        "index": index,
        "count": count,
        "address": address,
        "query": request.GET.get("q", ""),
        "test_form": forms.TestSendForm(initial={"row": index or None}),
    }


@require_capability("campaigns.view")
def campaign_preview(request: PortalRequest, pk: int) -> HttpResponse:
    campaign = _get_campaign_for_user(request, pk)
    template = "mailops/campaigns/preview.html"
    if request.htmx:
        template += "#message"
    return render(request, template, _preview_context(request, campaign))


@require_POST
@require_capability("campaigns.manage")
def campaign_test_send(request: PortalRequest, pk: int) -> HttpResponse:
    campaign = _get_campaign_for_user(request, pk)
    form = forms.TestSendForm(request.POST)
    context = _preview_context(request, campaign)
    context["test_form"] = form
    if not form.is_valid():
        return render(request, "mailops/campaigns/preview.html", context, status=400)
    _index, _count, data, _address = _preview_row(campaign, request)
    addresses = form.addresses(request.user.email)
    try:
        engine.campaign_send_test(campaign, addresses, _ctx(request), row=data or None)
    except engine.CampaignRefused as exc:
        for error in exc.errors:
            form.add_error(None, error)
        return render(request, "mailops/campaigns/preview.html", context, status=400)
    except ServiceError as exc:
        form.add_error(None, exc.message)
        return render(request, "mailops/campaigns/preview.html", context, status=400)
    messages.success(
        request,
        _("A test was sent to %(addresses)s.") % {"addresses": ", ".join(addresses)},
    )
    row = request.POST.get("row") or "1"
    return redirect(f"{reverse('campaign_preview', args=[pk])}?row={row}")


# --- schedule and confirm ---------------------------------------------------------------


def _limits() -> dict[str, Any]:
    fp = drafts.footprint()
    return {
        "footprint": fp,
        "limit_per_minute": drafts.resource_limit_per_minute(),
    }


@require_capability("campaigns.manage")
def campaign_schedule(request: PortalRequest, pk: int) -> HttpResponse:
    campaign = _get_campaign_for_user(request, pk)
    if campaign.state != Campaign.State.DRAFT:
        return redirect("campaign_detail", pk=pk)
    form = forms.ScheduleForm(
        request.POST or None, initial=forms.ScheduleForm.initial_for(campaign)
    )
    if request.method == "POST" and form.is_valid():
        start_at = (
            form.cleaned_data["start_at"]
            if form.cleaned_data["start"] == "later"
            else None
        )
        try:
            drafts.campaign_schedule_save(
                ctx=_ctx(request),
                campaign=campaign,
                window=form.window_value(),
                start_at=start_at,
                rate_cap_per_minute=form.cleaned_data["rate_cap_per_minute"],
            )
        except ServiceError as exc:
            _field_error(form, exc)
        else:
            return redirect("campaign_confirm", pk=pk)
    return render(
        request,
        "mailops/campaigns/schedule.html",
        {"campaign": campaign, "form": form, **_limits()},
        status=400 if form.errors else 200,
    )


def _window_label(campaign: Campaign) -> str:
    hours = (
        campaign.window_start_hour,
        campaign.window_end_hour,
        list(campaign.window_weekdays or []),
    )
    if campaign.window_start_hour is None:
        return _("Any time")
    days = "・".join(
        str(label) for value, label in forms.WEEKDAY_CHOICES if value in hours[2]
    )
    return _("%(days)s %(start)s:00–%(end)s:00 (JST)") % {
        "days": days,
        "start": hours[0],
        "end": hours[1],
    }


@require_capability("campaigns.manage")
def campaign_confirm(request: PortalRequest, pk: int) -> HttpResponse:
    campaign = _get_campaign_for_user(request, pk)
    if campaign.state != Campaign.State.DRAFT:
        return redirect("campaign_detail", pk=pk)
    errors = engine.campaign_check(campaign)
    if request.method == "POST" and not errors:
        try:
            engine.campaign_queue(
                campaign, _ctx(request), start_at=campaign.scheduled_at
            )
        except engine.CampaignRefused as exc:
            errors = exc.errors
        except ServiceError as exc:
            errors = [exc.message]
        else:
            messages.success(request, _("The campaign was queued."))
            return redirect("campaign_detail", pk=pk)
    recipients = campaign.recipient_list.valid_count if campaign.recipient_list else 0
    estimate = drafts.campaign_estimate(campaign, recipients)
    return render(
        request,
        "mailops/campaigns/confirm.html",
        {
            "campaign": campaign,
            "errors": errors,
            "estimate": estimate,
            "duration": _duration(estimate.minutes),
            "window_label": _window_label(campaign),
            **_limits(),
        },
        status=400 if request.method == "POST" else 200,
    )


# --- watch ------------------------------------------------------------------------------


def _progress_context(campaign: Campaign) -> dict[str, Any]:
    progress = engine.campaign_progress(campaign)
    labels = STATE_LABELS
    eta = progress.eta_seconds
    return {
        "campaign": campaign,
        "progress": progress,
        "count_rows": [
            (state, labels[state], progress.counts.get(state, 0))
            for state in PROGRESS_STATES
        ],
        "per_minute": int(progress.current_rate * 60),
        "eta": None
        if eta is None
        else f"{eta // 3600}:{eta % 3600 // 60:02d}:{eta % 60:02d}",
        "polling": campaign.state in LIVE_STATES
        or progress.counts.get("accepted", 0) > 0,
        "window_label": _window_label(campaign),
    }


@require_capability("campaigns.view")
def campaign_detail(request: PortalRequest, pk: int) -> HttpResponse:
    campaign = _get_campaign_for_user(request, pk)
    template = "mailops/campaigns/detail.html"
    if request.htmx and request.GET.get("part") == "progress":
        template += "#progress"
    context: dict[str, Any] = {"campaign": campaign}
    if campaign.state == Campaign.State.DRAFT:
        context["errors"] = engine.campaign_check(campaign)
        context["attachments"] = campaign.attachments.all()
    else:
        context.update(_progress_context(campaign))
    return render(request, template, context)


@require_POST
@require_capability("campaigns.manage")
def campaign_action(request: PortalRequest, pk: int, action: str) -> HttpResponse:
    campaign = _get_campaign_for_user(request, pk)
    ctx = _ctx(request)
    done = {
        "pause": (engine.campaign_pause, _("Paused. Sending stops within seconds.")),
        "resume": (engine.campaign_resume, _("Resumed.")),
        "cancel": (
            engine.campaign_cancel,
            _("Cancelled. Recipients not yet sent will not be sent."),
        ),
    }
    if action not in done:
        raise Http404
    service, message = done[action]
    try:
        service(campaign, ctx)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, message)
    return redirect("campaign_detail", pk=pk)


# --- results ----------------------------------------------------------------------------


def _recipients(campaign: Campaign, form: forms.RecipientFilterForm) -> Any:
    rows = CampaignRecipient.objects.filter(campaign=campaign).order_by("seq")
    if form.is_valid():
        if form.cleaned_data["state"]:
            rows = rows.filter(state=form.cleaned_data["state"])
        if form.cleaned_data["q"]:
            rows = rows.filter(email__icontains=form.cleaned_data["q"].strip())
    return rows


def _explained(recipients: list[CampaignRecipient]) -> list[tuple[Any, Any]]:
    """Each recipient with the explanation of its delivery outcome (one query)."""
    events = {
        (e.message_id, e.recipient.lower()): e
        for e in RecipientEvent.objects.filter(
            message_id__in=[str(r.operation_id) for r in recipients]
        )
    }
    out = []
    for r in recipients:
        event = events.get((str(r.operation_id), r.email.lower()))
        if event is not None:
            explanation = explain(
                event.status,
                event.enhanced_code,
                event.smtp_code,
                event.is_hard_bounce,
                event.failure_reason,
                event.domain_class,
            )
        elif r.state in ("bounced", "failed", "suppressed"):
            explanation = explain(
                r.delivery_status or r.state.capitalize(),
                r.error_code,
                r.error_code,
                failure_reason=r.error_message,
            )
        else:
            explanation = None
        out.append((r, explanation))
    return out


@require_capability("campaigns.view")
def campaign_recipients(request: PortalRequest, pk: int) -> HttpResponse:
    campaign = _get_campaign_for_user(request, pk)
    form = forms.RecipientFilterForm(request.GET)
    page = _page(request, _recipients(campaign, form))
    template = "mailops/campaigns/results.html"
    if request.htmx:
        template += "#rows"
    return render(
        request,
        template,
        {
            "campaign": campaign,
            "form": form,
            "page": page,
            "rows": _explained(list(page.object_list)),
            "query": request.GET.urlencode(),
            "filter_query": _without_page(request),
            "state_labels": STATE_LABELS,
        },
    )


@require_capability("campaigns.view")
def campaign_recipients_export(request: PortalRequest, pk: int) -> HttpResponse:
    campaign = _get_campaign_for_user(request, pk)
    labels = STATE_LABELS

    def rows() -> Any:
        for r in (
            _recipients(campaign, forms.RecipientFilterForm(request.GET))
            .only(
                "seq",
                "email",
                "state",
                "delivery_status",
                "error_code",
                "error_message",
                "accepted_at",
                "status_at",
                "operation_id",
            )
            .iterator(chunk_size=5000)
        ):
            cause = ""
            if r.state in ("bounced", "failed", "suppressed"):
                cause = str(
                    explain(
                        r.delivery_status or r.state.capitalize(),
                        r.error_code,
                        r.error_code,
                        failure_reason=r.error_message,
                    ).cause
                )
            yield (
                r.seq,
                r.email,
                str(labels.get(r.state, r.state)),
                r.delivery_status,
                r.error_code,
                cause,
                _jst(r.accepted_at),
                _jst(r.status_at),
                str(r.operation_id),
            )

    return _csv_response(
        rows(),
        [
            "#",
            _("Email address"),
            _("State"),
            _("ACS status"),
            _("Code"),
            _("Cause"),
            _("Accepted (JST)"),
            _("Final status (JST)"),
            _("Operation ID"),
        ],
        f"campaign-{campaign.pk}-recipients.csv",
    )


def _duration(minutes: int) -> str:
    if minutes < 60:
        return _("about %(m)d minutes of sending") % {"m": max(minutes, 1)}
    return _("about %(h)d h %(m)d min of sending") % {
        "h": minutes // 60,
        "m": minutes % 60,
    }


def _without_page(request: PortalRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _jst(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


@require_capability("campaigns.view")
def campaign_list(request: PortalRequest) -> HttpResponse:
    page = _page(
        request, Campaign.objects.select_related("sender__domain", "recipient_list")
    )
    campaigns = list(page.object_list)
    counts: dict[int, dict[str, int]] = {c.pk: {} for c in campaigns}
    for row in (
        CampaignRecipient.objects.filter(campaign__in=campaigns)
        .values("campaign_id", "state")
        .annotate(n=Count("pk"))
    ):
        counts[row["campaign_id"]][row["state"]] = row["n"]
    return render(
        request,
        "mailops/campaigns/campaign_list.html",
        {
            "page": page,
            "rows": [(c, counts[c.pk]) for c in campaigns],
            "lists_ready": RecipientList.objects.filter(
                Q(state=RecipientList.State.READY)
            ).count(),
        },
    )
