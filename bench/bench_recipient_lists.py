"""Recipient lists: upload and validate a 1,000,000-row CP932 CSV (issue 8).

Runs against a throw-away database (``portal_bench_lists`` on the project-local
PostgreSQL), created here and dropped at the end; the CSV is generated on disk
(about 60 MB, Shift_JIS like Excel's default "CSV") with 0.5% invalid addresses,
0.5% duplicates (domain part in another case) and 1,000 suppressed addresses.

1. ``recipient_list_1m_seconds``: ``mailops.campaigns.lists`` in a worker process —
   ``recipient_list_upload`` (copy into private storage, detect the encoding) then
   ``recipient_list_confirm`` + ``recipient_list_validate`` (the code the Celery task
   runs): every row checked, valid rows COPYed into a temporary table, duplicates
   and suppressed addresses sorted out in SQL, ListRecipient / ListRejection
   written, one transaction.
2. ``recipient_list_1m_peak_rss_mb``: peak VmRSS of that process (sampled every
   20 ms), Django included.
3. Baseline: the naive path — ``f.read().decode()`` of the whole file, ``csv.reader``
   over it, ``check_email`` and one ``ListRecipient.objects.create()`` per row with a
   Python set for duplicates. Its time is measured on a 20,000-row slice and
   extrapolated linearly to 1,000,000 rows; its memory is measured for real on the
   whole file (read, decode and parse, without the ORM part), in its own process.

    python bench/bench_recipient_lists.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MANAGE = str(ROOT / "manage.py")
if str(ROOT) not in sys.path:  # bench/common.py lives beside this module
    sys.path.insert(0, str(ROOT))
from bench.common import (  # noqa: E402
    bench_env,
    drop_database,
    recreate_database,
    run_command,
    tree_rss_mb,
)

BENCH_DB = "portal_bench_lists"
ROWS = int(os.environ.get("BENCH_LIST_ROWS", "1000000"))
NAIVE_SAMPLE_ROWS = 20_000
SUPPRESSED = 1_000
SECONDS_TARGET = 120.0
RSS_TARGET_MB = 300.0
RESULT_MARKER = "BENCH_RESULT "


def write_csv(path: Path, rows: int) -> int:
    """A CP932 list like an Excel export: header, Japanese names, a few bad rows."""
    with open(path, "w", encoding="cp932", newline="") as out:
        out.write("メールアドレス,会社名,氏名,顧客番号\r\n")
        for i in range(rows):
            if i % 200 == 7:
                email = f"broken{i}.example.co.jp"  # no @
            elif i % 200 == 11 and i > 11:
                email = f"user{i - 5}@EXAMPLE{(i - 5) % 97}.CO.JP"  # duplicate
            else:
                email = f"user{i}@example{i % 97}.co.jp"
            out.write(f"{email},株式会社サンプル{i % 5000},髙橋 花子{i},C{i:07d}\r\n")
    return path.stat().st_size


# --- worker: runs inside Django ---------------------------------------------------------
def _rss_mb() -> float:
    return tree_rss_mb(os.getpid())


class _PeakRss:
    def __enter__(self) -> _PeakRss:
        self.before = _rss_mb()
        self.peak = self.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def _setup() -> None:
    import django

    django.setup()
    from django.db import connection
    from django_tenants.utils import schema_context

    from mailops.models import SendingDomain, SuppressedAddress
    from tenants.accounts.audit import AuditContext
    from tenants.services import tenant_create

    for slug in ("bench", "naive"):
        tenant_create(
            ctx=AuditContext.system("bench"),
            name=f"Bench {slug}",
            slug=slug,
            owner_email=f"owner@{slug}.example.jp",
        )
        connection.set_schema_to_public()
    with schema_context("bench"):
        domain = SendingDomain.objects.create(
            name="mail.bench.example", display_name="mail.bench.example"
        )
        SuppressedAddress.objects.bulk_create(
            SuppressedAddress(
                domain=domain, email=f"user{i * 13}@example{i * 13 % 97}.co.jp"
            )
            for i in range(SUPPRESSED)
        )


def _worker(path: str) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.files.uploadedfile import UploadedFile
    from django_tenants.utils import schema_context

    from mailops.campaigns import lists
    from mailops.models import ListRecipient, ListRejection
    from tenants.accounts.audit import AuditContext

    ctx = AuditContext(
        actor_email="owner@bench.example.jp", actor_kind="user", role="owner"
    )
    size = Path(path).stat().st_size
    with schema_context("bench"), _PeakRss() as rss:
        started = time.perf_counter()
        with open(path, "rb") as handle:
            upload = UploadedFile(handle, "list.csv", "text/csv", size)
            recipient_list = lists.recipient_list_upload(
                ctx=ctx, name="bench", upload=upload
            )
        uploaded = time.perf_counter()
        recipient_list = lists.recipient_list_confirm(
            ctx=ctx,
            recipient_list=recipient_list,
            encoding=recipient_list.detected_encoding,
            email_column=recipient_list.email_column,
        )
        finished = time.perf_counter()
        stored = ListRecipient.objects.filter(recipient_list=recipient_list).count()
        rejected = ListRejection.objects.filter(recipient_list=recipient_list).count()
    return {
        "bytes": size,
        "state": recipient_list.state,
        "encoding": recipient_list.encoding,
        "upload_seconds": uploaded - started,
        "validate_seconds": finished - uploaded,
        "seconds": finished - started,
        "rows": recipient_list.total_rows,
        "valid": recipient_list.valid_count,
        "invalid": recipient_list.invalid_count,
        "duplicates": recipient_list.duplicate_count,
        "suppressed": recipient_list.suppressed_count,
        "stored": stored,
        "rejected": rejected,
        "rss_before_mb": rss.before,
        "rss_peak_mb": rss.peak,
    }


def _naive(path: str, rows: int) -> dict[str, Any]:
    """What a quick implementation does: the whole file in memory, one INSERT a row."""
    import csv
    import io

    import django

    django.setup()
    from django.db import transaction
    from django_tenants.utils import schema_context

    from mailops.csvio import check_email
    from mailops.models import ListRecipient, RecipientList

    with schema_context("naive"):
        recipient_list = RecipientList.objects.create(name="naive", state="validating")
        started = time.perf_counter()
        with open(path, "rb") as handle:
            text = handle.read().decode("cp932")
        reader = csv.reader(io.StringIO(text))
        header = next(reader)
        seen: set[str] = set()
        with transaction.atomic():
            for number, record in enumerate(reader, start=2):
                if number - 1 > rows:
                    break
                check = check_email(record[0])
                if check.normalised is None or check.normalised in seen:
                    continue
                seen.add(check.normalised)
                ListRecipient.objects.create(
                    recipient_list=recipient_list,
                    row_number=number,
                    email=check.normalised,
                    email_key=check.normalised,
                    data=dict(zip(header[1:], record[1:], strict=False)),
                )
        seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": seconds}


def _naive_memory(path: str) -> dict[str, Any]:
    """Peak RSS of reading, decoding and parsing the whole file at once."""
    import csv
    import io

    with _PeakRss() as rss:
        with open(path, "rb") as handle:
            text = handle.read().decode("cp932")
        parsed = list(csv.reader(io.StringIO(text)))
    return {
        "rows": len(parsed) - 1,
        "rss_peak_mb": rss.peak,
        "rss_before_mb": rss.before,
    }


# --- driver -----------------------------------------------------------------------------
def _run_json(args: list[str], env: dict[str, str], label: str) -> dict[str, Any]:
    _t, out = run_command(
        [PYTHON, str(Path(__file__).resolve()), *args], env, label, timeout=1800
    )
    line = next(ln for ln in reversed(out.splitlines()) if ln.startswith(RESULT_MARKER))
    return json.loads(line[len(RESULT_MARKER) :])


def run() -> list[dict[str, Any]]:
    recreate_database(BENCH_DB)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-lists-") as tmp:
            csv_path = Path(tmp) / "list.csv"
            t0 = time.perf_counter()
            size = write_csv(csv_path, ROWS)
            print(
                f"  csv: {ROWS:,} rows, {size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f}s"
            )
            env = bench_env(
                BENCH_DB,
                PORTAL_PRIVATE_MEDIA_DIR=str(Path(tmp) / "private"),
                # Validate in the measured process (what the Celery task runs).
                RECIPIENT_LIST_SYNC_MAX_BYTES=str(size + 1),
            )
            run_command(
                [PYTHON, MANAGE, "migrate_schemas", "--shared", "--noinput"],
                env,
                "migrate_schemas",
                timeout=900,
            )
            run_command(
                [PYTHON, MANAGE, "portal_init"], env, "portal_init", timeout=900
            )
            run_command(
                [PYTHON, str(Path(__file__).resolve()), "--setup"],
                env,
                "tenant set-up",
                timeout=900,
            )
            r = _run_json(["--worker", str(csv_path)], env, "list worker")
            naive = _run_json(
                ["--naive", str(csv_path), str(NAIVE_SAMPLE_ROWS)], env, "naive worker"
            )
            naive_memory = _run_json(
                ["--naive-memory", str(csv_path)], env, "naive memory"
            )
    finally:
        drop_database(BENCH_DB)
    print(f"  worker: {json.dumps(r)}")
    if r["state"] != "validated" or r["stored"] != r["valid"]:
        raise RuntimeError(f"list ended {r['state']} with {r['stored']} stored rows")
    if r["valid"] + r["invalid"] + r["duplicates"] + r["suppressed"] != r["rows"]:
        raise RuntimeError("the counts do not add up to the rows of the file")
    naive_seconds = naive["seconds"] * ROWS / naive["rows"]
    print(
        f"  lists: {r['rows']:,} rows ({r['bytes'] / 1e6:.0f} MB) uploaded in "
        f"{r['upload_seconds']:.1f}s and validated in {r['validate_seconds']:.1f}s "
        f"({r['valid']:,} valid, {r['invalid']:,} invalid, {r['duplicates']:,} "
        f"duplicates, {r['suppressed']:,} suppressed); peak RSS {r['rss_peak_mb']:.0f} MB "
        f"(before {r['rss_before_mb']:.0f} MB). Naive: {naive['rows']:,} rows in "
        f"{naive['seconds']:.1f}s -> {naive_seconds:,.0f}s for {ROWS:,}; reading the "
        f"whole file takes {naive_memory['rss_peak_mb']:.0f} MB"
    )
    return [
        {
            "name": "recipient_list_1m_seconds",
            "value": round(r["seconds"], 1),
            "unit": "s",
            "baseline": "naive read().decode() + csv + ORM create per row "
            f"({NAIVE_SAMPLE_ROWS:,}-row slice, extrapolated)",
            "baseline_value": round(naive_seconds, 1),
            "target": SECONDS_TARGET,
            "higher_is_better": False,
            "meets_target": r["seconds"] <= SECONDS_TARGET,
        },
        {
            "name": "recipient_list_1m_peak_rss_mb",
            "value": round(r["rss_peak_mb"], 1),
            "unit": "MB",
            "baseline": "naive: whole file read, decoded and parsed (measured)",
            "baseline_value": round(naive_memory["rss_peak_mb"], 1),
            "target": RSS_TARGET_MB,
            "higher_is_better": False,
            "meets_target": r["rss_peak_mb"] < RSS_TARGET_MB,
        },
    ]


def main(argv: list[str]) -> int:
    if argv[:1] == ["--setup"]:
        _setup()
        return 0
    if argv[:1] == ["--worker"]:
        print(RESULT_MARKER + json.dumps(_worker(argv[1])))
        return 0
    if argv[:1] == ["--naive"]:
        print(RESULT_MARKER + json.dumps(_naive(argv[1], int(argv[2]))))
        return 0
    if argv[:1] == ["--naive-memory"]:
        print(RESULT_MARKER + json.dumps(_naive_memory(argv[1])))
        return 0
    for row in run():
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
