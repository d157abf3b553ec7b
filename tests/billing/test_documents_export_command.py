"""``manage.py export_invoices`` against a substituted document provider.

The billing core's ``billing.services.documents.finalized_documents`` is
replaced by a fake returning the reference example, so this tests the
command itself (arguments, files, formats), not the month's selection.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billing import exports
from tests.billing.doc_examples import example_a

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(monkeypatch):
    import billing.services.documents as documents

    calls: list[date] = []

    def finalized_documents(month: date):
        calls.append(month)
        return [example_a(), example_a(number="INV-2025-000043")]

    monkeypatch.setattr(
        documents, "finalized_documents", finalized_documents, raising=False
    )
    return calls


@pytest.mark.parametrize(
    ("fmt", "filename", "encoding"),
    [
        ("csv", "2025-04_invoices.csv", "utf-8-sig"),
        ("freee", "2025-04_freee.csv", "utf-8"),
        ("moneyforward", "2025-04_moneyforward.csv", "utf-8"),
        ("yayoi", "2025-04_yayoi.csv", "cp932"),
    ],
)
def test_csv_formats(provider, tmp_path, fmt, filename, encoding):
    out = io.StringIO()
    call_command(
        "export_invoices",
        "2025-04",
        "--format",
        fmt,
        "--out",
        str(tmp_path),
        stdout=out,
    )
    assert provider == [date(2025, 4, 1)]
    path = tmp_path / filename
    assert out.getvalue().strip() == str(path)
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode(encoding))))
    header = 0 if fmt == "yayoi" else 1
    assert len(rows) == 2 + header
    assert "INV-2025-000043" in ",".join(rows[-1])


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="no poppler-utils")
def test_pdf_format_writes_one_file_per_document(provider, tmp_path):
    call_command(
        "export_invoices", "2025-04", "--format", "pdf", "--out", str(tmp_path / "o")
    )
    files = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert files == [
        "20250501_株式会社霞商店_38030_INV-2025-000042.pdf",
        "20250501_株式会社霞商店_38030_INV-2025-000043.pdf",
    ]
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "o" / files[0]), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "¥38,030" in text


@pytest.mark.parametrize("month", ["2025-13", "2025-4", "april"])
def test_bad_month_is_rejected(month, tmp_path):
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("export_invoices", month, "--out", str(tmp_path))


def test_missing_provider_is_a_clear_error(monkeypatch, tmp_path):
    import billing.services.documents as documents

    monkeypatch.delattr(documents, "finalized_documents", raising=False)
    with pytest.raises(CommandError, match="finalized_documents"):
        call_command("export_invoices", "2025-04", "--out", str(tmp_path))


def test_pdf_filename_is_safe():
    doc = example_a(number="INV/2025 1")
    assert exports.pdf_filename(doc) == ("20250501_株式会社霞商店_38030_INV_2025_1.pdf")


def test_build_export_rejects_unknown_format():
    with pytest.raises(ValueError, match="unknown export format"):
        exports.build_export([example_a()], "xlsx", date(2025, 4, 1))
