"""Celery tasks of billing: thin wrappers that take ids and call services."""

from __future__ import annotations

from datetime import date

from billing.models import CloseRun, IssuerSettings
from billing.services import close, money
from billing.services.documents import jst_today
from portal.celery import app
from tenants.accounts.audit import AuditContext


@app.task
def close_run_task(run_id: int, actor_email: str = "system") -> None:
    """Run one queued close (staff UI or beat); progress is written to the row."""
    run = CloseRun.objects.get(pk=run_id)
    try:
        close.close_month(
            period=run.period,
            ctx=AuditContext(actor_email=actor_email, actor_kind="staff"),
            run=run,
        )
    except Exception as exc:
        CloseRun.objects.filter(pk=run_id).update(
            state=CloseRun.State.FAILED, error=str(exc)[:2000]
        )
        raise


def due_period(today: date, closing_day: int) -> date | None:
    """The month to close: the previous one, from its usage-closing day on."""
    if today.day < closing_day:
        return None
    return money.previous_month(today.replace(day=1))


@app.task
def close_month_scheduled_task() -> int | None:
    """Daily: from the usage-closing day, close the previous month once (drafts only).

    Runs once per month: a beat run already recorded for the month is not repeated
    (staff re-run the close from the UI if late usage arrives). A missed day is caught
    up the next day.
    """
    issuer = IssuerSettings.objects.order_by("pk").first()
    if issuer is None:
        return None
    period = due_period(jst_today(), issuer.usage_closing_day)
    if period is None:
        return None
    if CloseRun.objects.filter(period=period, started_by="beat").exists():
        return None
    run = CloseRun.objects.create(period=period, started_by="beat")
    close.close_month(period=period, ctx=AuditContext.system("beat"), run=run)
    return run.pk


@app.task
def invoice_notify_task(invoice_id: int) -> None:
    from billing.services.notify import invoice_notify

    invoice_notify(invoice_id=invoice_id)
