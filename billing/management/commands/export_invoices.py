"""``manage.py export_invoices YYYY-MM --format FMT --out DIR``.

Exports the month's finalized invoices (including credit notes and
corrections issued in that month) for accounting, or writes one PDF per
document. Documents come from ``billing.services.documents.finalized_documents``
(the billing core maps its models to ``InvoiceDocument``), imported lazily so
this command's module imports without the models and tests can substitute a
provider.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.documents import InvoiceDocument
from billing.exports import FORMATS, build_export

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(value: str) -> date:
    match = _MONTH.match(value)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise CommandError(f"month must be YYYY-MM, got {value!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)


def load_documents(month: date) -> list[InvoiceDocument]:
    """Finalized documents of ``month`` from the billing core (lazy import)."""
    try:
        from billing.services.documents import finalized_documents
    except ImportError as exc:  # the billing core has not provided the hook
        raise CommandError(
            "billing.services.documents.finalized_documents is not available"
        ) from exc
    return list(finalized_documents(month))


class Command(BaseCommand):
    help = "Export a month's finalized invoices as accounting CSV or PDF files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("month", help="YYYY-MM (billing month)")
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument("--out", required=True, help="output directory")

    def handle(self, *args: Any, **options: Any) -> None:
        month = parse_month(options["month"])
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        docs = load_documents(month)
        written: list[Path] = []
        for name, content in build_export(docs, options["format"], month):
            path = out / name
            path.write_bytes(content)
            written.append(path)
        for path in written:
            self.stdout.write(str(path))
        self.stderr.write(f"{len(docs)} document(s), {len(written)} file(s) written")
