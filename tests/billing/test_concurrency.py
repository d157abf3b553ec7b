"""Gapless numbering under concurrent finalization (real transactions, threads)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection

from billing.models import Invoice
from billing.services import close, finalize
from tenants.accounts.audit import AuditContext
from tests.billing.conftest import tts_contract

CTX = AuditContext(actor_email="staff@msp.example", actor_kind="staff", is_staff=True)


def _drafts(personas, months: list[date]) -> list[int]:
    ids = []
    for period in months:
        close.close_month(
            period=period,
            ctx=CTX,
            tenant_ids=[personas.tenant_a.pk, personas.tenant_b.pk],
        )
        ids += list(
            Invoice.objects.filter(period=period, status="draft").values_list(
                "pk", flat=True
            )
        )
    return ids


@pytest.mark.django_db(transaction=True)
def test_concurrent_finalization_is_gapless(personas, issuer) -> None:
    tts_contract(personas.tenant_a)
    tts_contract(personas.tenant_b)
    ids = _drafts(personas, [date(2025, m, 1) for m in range(1, 7)])
    assert len(ids) == 12
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    chunks = [ids[i::4] for i in range(4)]

    def worker(chunk: list[int]) -> None:
        try:
            barrier.wait()
            for pk in chunk:
                finalize.invoice_finalize(
                    invoice_id=pk, ctx=CTX, issue_date=date(2026, 1, 5)
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    numbers = sorted(
        Invoice.objects.filter(pk__in=ids).values_list("number", flat=True)
    )
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 13)]


@pytest.mark.django_db(transaction=True)
def test_failed_finalization_does_not_burn_a_number(
    personas, issuer, monkeypatch
) -> None:
    tts_contract(personas.tenant_a)
    tts_contract(personas.tenant_b)
    ids = _drafts(personas, [date(2025, 1, 1)])

    def boom(*args, **kwargs):
        raise RuntimeError("renderer down")

    with monkeypatch.context() as m:
        m.setattr("billing.services.documents.render", boom)
        with pytest.raises(RuntimeError):
            finalize.invoice_finalize(
                invoice_id=ids[0], ctx=CTX, issue_date=date(2026, 1, 5)
            )
    assert Invoice.objects.get(pk=ids[0]).status == "draft"
    inv = finalize.invoice_finalize(
        invoice_id=ids[1], ctx=CTX, issue_date=date(2026, 1, 5)
    )
    assert inv.number == "INV-2026-000001"
    inv = finalize.invoice_finalize(
        invoice_id=ids[0], ctx=CTX, issue_date=date(2026, 1, 5)
    )
    assert inv.number == "INV-2026-000002"


WORKER = """
import sys, django
django.setup()
from datetime import date
from billing.services import finalize
from tenants.accounts.audit import AuditContext
ctx = AuditContext(actor_email="proc@msp.example", actor_kind="staff")
for pk in map(int, sys.argv[1:]):
    inv = finalize.invoice_finalize(invoice_id=pk, ctx=ctx, issue_date=date(2027, 2, 1))
    print(inv.number)
"""


@pytest.mark.django_db(transaction=True)
def test_two_processes_finalize_at_once(personas, issuer) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    tts_contract(personas.tenant_a)
    tts_contract(personas.tenant_b)
    ids = _drafts(personas, [date(2025, m, 1) for m in range(1, 5)])
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    url = f"postgresql://{auth}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "PORTAL_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, *map(str, ids[i::2])],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    printed = sorted(n for out, _err in outs for n in out.split())
    assert printed == [f"INV-2027-{n:06d}" for n in range(1, 9)]
    assert (
        sorted(Invoice.objects.filter(pk__in=ids).values_list("number", flat=True))
        == printed
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_closes_leave_one_draft_per_tenant(personas, issuer) -> None:
    tts_contract(personas.tenant_a)
    tts_contract(personas.tenant_b)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            close.close_month(period=date(2025, 4, 1), ctx=CTX)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    for tenant in (personas.tenant_a, personas.tenant_b):
        assert (
            Invoice.objects.filter(tenant=tenant, period=date(2025, 4, 1)).count() == 1
        )
