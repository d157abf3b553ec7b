"""Delivery analytics pages on a tenant host: dashboard, message search and
detail, CSV exports, and alerts with their thresholds."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mailops.analytics import charts, selectors
from mailops.analytics.forms import AnalyticsSettingsForm, PeriodForm, SearchForm
from mailops.analytics.services import analytics_settings_update
from mailops.csvio import write_csv
from portal.access import require_capability
from portal.http import PortalRequest
from tenants.accounts.audit import AuditContext
from tenants.alerts import alert_acknowledge, open_alerts_for_current_tenant
from tenants.models import Alert

STATUS_COLORS = {
    "Delivered": "#2f855a",
    "Bounced": "#c53030",
    "Failed": "#dd6b20",
    "Suppressed": "#6b46c1",
    "Quarantined": "#975a16",
    "FilteredSpam": "#b83280",
    "OutForDelivery": "#718096",
}
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def _status_series(rows: list[selectors.Counts]) -> list[charts.Series]:
    present = [s for s in selectors.STATUSES if any(c.get(s) for c in rows)] or [
        "Delivered"
    ]
    return [
        charts.Series(
            key=s,
            label=str(selectors.STATUS_LABELS[s]),
            values=[c.get(s) for c in rows],
            color=STATUS_COLORS[s],
        )
        for s in present
    ]


def _hour_label(moment: dt.datetime) -> str:
    return moment.strftime("%m/%d %H:00")


def _dashboard_charts(data: selectors.Dashboard) -> dict[str, object]:
    day_counts = [c for _d, c in data.daily]
    hour_counts = [c for _h, c in data.hourly]
    hour_labels = [_hour_label(h) for h, _c in data.hourly]
    return {
        "daily_chart": charts.stacked_bars(
            "chart-daily",
            _("Recipients per day by status"),
            [d.strftime("%m/%d") for d, _c in data.daily],
            _status_series(day_counts),
            y_label=_("Recipients"),
        ),
        "hourly_chart": charts.line_chart(
            "chart-hourly",
            _("Recipients per hour: sent and not delivered"),
            hour_labels,
            [
                charts.Series(
                    "sent", _("Sent"), [c.sent for c in hour_counts], "#0b5cab"
                ),
                charts.Series(
                    "failed",
                    _("Not delivered"),
                    [c.failed_total for c in hour_counts],
                    STATUS_COLORS["Bounced"],
                ),
            ],
            y_label=_("Recipients"),
        ),
        "hour_labels": hour_labels,
    }


@require_GET
@require_capability("mail.view")
def dashboard(request: PortalRequest) -> HttpResponse:
    form = PeriodForm(request.GET or None, initial={"period": "7d"})
    period = form.resolved()
    data = selectors.dashboard(period)
    context = {
        "form": form,
        "data": data,
        "statuses": selectors.STATUSES,
        "status_labels": selectors.STATUS_LABELS,
        "query": request.GET.urlencode(),
        "failure_sample": selectors.FAILURE_SAMPLE,
        **_dashboard_charts(data),
    }
    template = "mailops/analytics_dashboard.html"
    if request.htmx:
        template += "#body"
    return render(request, template, context)


def _search_form(request: PortalRequest) -> SearchForm:
    """The search form; without dates (or a message id) it shows the last 7 days."""
    data = request.GET.copy()
    if not data.get("message_id"):
        today = selectors.today_jst()
        if not data.get("date_from"):
            data["date_from"] = (today - dt.timedelta(days=6)).isoformat()
        if not data.get("date_to"):
            data["date_to"] = today.isoformat()
    return SearchForm(data)


@require_GET
@require_capability("mail.view")
def message_search(request: PortalRequest) -> HttpResponse:
    form = _search_form(request)
    filters = form.filters()
    result = selectors.message_search(filters, form.page_number())
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "filters": filters,
        "result": result,
        "query": query.urlencode(),
        "status_labels": selectors.STATUS_LABELS,
    }
    template = "mailops/analytics_messages.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


@require_GET
@require_capability("mail.view")
def message_detail(request: PortalRequest, message_id: str) -> HttpResponse:
    detail = selectors.message_detail(message_id)
    if detail is None:
        raise Http404
    return render(
        request,
        "mailops/analytics_message_detail.html",
        {"detail": detail, "status_labels": selectors.STATUS_LABELS},
    )


def _csv_response(rows: object, header: list[str], filename: str) -> HttpResponse:
    response = StreamingHttpResponse(
        write_csv(rows, header, encoding="utf-8-sig"),  # type: ignore[arg-type]
        content_type=CSV_CONTENT_TYPE,
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


MESSAGE_CSV_HEADER = [
    "sent_at",
    "message_id",
    "sender",
    "device",
    "recipient",
    "status",
    "status_at",
    "smtp_code",
    "enhanced_code",
    "cause",
    "failure_reason",
]
AGGREGATE_CSV_HEADER = [
    "date",
    "sender_domain",
    "sender_address",
    "device",
    "recipient_domain_class",
    "status",
    "count",
]


@require_GET
@require_capability("mail.view")
def message_export(request: PortalRequest) -> HttpResponse:
    filters = _search_form(request).filters()
    stamp = selectors.today_jst().strftime("%Y%m%d")
    return _csv_response(
        selectors.search_export_rows(filters),
        MESSAGE_CSV_HEADER,
        f"messages-{stamp}.csv",
    )


@require_GET
@require_capability("mail.view")
def aggregate_export(request: PortalRequest) -> HttpResponse:
    period = PeriodForm(request.GET or None).resolved()
    return _csv_response(
        selectors.aggregate_rows(period),
        AGGREGATE_CSV_HEADER,
        f"delivery-{period.first_day:%Y%m%d}-{period.last_day:%Y%m%d}.csv",
    )


def _alerts_page(
    request: PortalRequest, settings_form: AnalyticsSettingsForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "mailops/analytics_alerts.html",
        {
            "alerts": open_alerts_for_current_tenant(),
            "settings_form": settings_form,
        },
        status=status,
    )


@require_GET
@require_capability("mail.view")
def alerts(request: PortalRequest) -> HttpResponse:
    return _alerts_page(
        request, AnalyticsSettingsForm(instance=selectors.settings_for_tenant())
    )


@require_POST
@require_capability("mail.manage")
def alert_ack(request: PortalRequest, pk: int) -> HttpResponse:
    try:
        alert = alert_acknowledge(ctx=AuditContext.from_request(request), alert_id=pk)
    except Alert.DoesNotExist as exc:
        raise Http404 from exc
    messages.success(request, _("Acknowledged: %(title)s") % {"title": alert.title})
    return redirect("analytics_alerts")


@require_POST
@require_capability("mail.manage")
def alert_settings(request: PortalRequest) -> HttpResponse:
    form = AnalyticsSettingsForm(request.POST, instance=selectors.settings_for_tenant())
    if not form.is_valid():
        return _alerts_page(request, form, status=400)
    analytics_settings_update(
        ctx=AuditContext.from_request(request), values=form.cleaned_data
    )
    messages.success(request, _("Alert settings saved."))
    return redirect("analytics_alerts")


# --- Event Grid subscription URL ----------------------------------------------------------


def _eventgrid_page(
    request: PortalRequest, *, url: str = "", status: int = 200
) -> HttpResponse:
    from mailops.analytics.eventgrid import DELIVERY, ENGAGEMENT

    response = render(
        request,
        "mailops/analytics_eventgrid.html",
        {
            "issued": bool(selectors.settings_for_tenant().eventgrid_secret_hash),
            "last_event_at": selectors.last_eventgrid_event_at(),
            "event_types": [DELIVERY, ENGAGEMENT],
            "url": url,
        },
        status=status,
    )
    if url:
        # The URL carries the secret: shown once, never cached.
        response["Cache-Control"] = "no-store"
    return response


@require_GET
@require_capability("mail.manage")
def eventgrid_settings(request: PortalRequest) -> HttpResponse:
    return _eventgrid_page(request)


@require_POST
@require_capability("mail.manage")
def eventgrid_issue(request: PortalRequest) -> HttpResponse:
    """Issue (or rotate) the webhook secret and show the subscription URL once;
    the previous URL stops working at once."""
    from mailops.analytics.eventgrid import eventgrid_secret_issue, eventgrid_url

    secret = eventgrid_secret_issue(ctx=AuditContext.from_request(request))
    return _eventgrid_page(request, url=eventgrid_url(secret))
