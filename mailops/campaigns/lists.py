"""Recipient lists: upload, confirm the encoding, validate, then import or discard.

The flow is built so that a 1,000,000-row file never sits in memory and a partly
invalid file is never half-imported:

1. ``recipient_list_upload`` streams the upload into private storage (never served)
   and guesses the encoding from its first 64 KiB.
2. The user sees the guess with a few decoded rows (``recipient_list_preview``) and
   confirms or picks another encoding and the e-mail column
   (``recipient_list_confirm``).
3. ``recipient_list_validate`` (a worker task for large files) reads the file row by
   row in ONE transaction: every address is checked, valid rows are COPYed into a
   temporary table, invalid rows into ``ListRejection``; duplicates (domain part
   compared case-insensitively) and suppressed addresses are then found with set
   operations in PostgreSQL, so memory stays flat whatever the size. The list ends
   ``validated`` with its counts, or ``failed`` with nothing kept.
4. The user chooses: ``recipient_list_import`` (``ready``: campaigns may use it) or
   ``recipient_list_discard`` (rows deleted).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from mailops import csvio
from mailops.models import ListRecipient, ListRejection, RecipientList
from mailops.services.common import require
from portal.celery import app
from portal.errors import ServiceError
from portal.tasks import enqueue_on_commit
from tenants.accounts.audit import AuditContext, audit_record

# Rows shown under the encoding guess: enough to spot mojibake in names.
SAMPLE_ROWS = 5
# psycopg's COPY buffers rows and flushes them in large writes by itself; the
# temporary table is merged into ListRecipient with one INSERT … SELECT, so there
# is no per-row round trip and no batch held in Python.
State = RecipientList.State


@dataclass
class ListPreview:
    """What the confirm page shows: the file as read with ``encoding``."""

    encoding: str
    encoding_label: str
    header: list[str]
    rows: list[list[str]]
    email_column: str
    readable: bool = True
    problem: str = ""
    columns: list[str] = field(default_factory=list)


# --- storage --------------------------------------------------------------------------


def _storage_root() -> Path:
    return Path(settings.PORTAL_PRIVATE_MEDIA_DIR) / "recipient-lists"


def upload_file_path(recipient_list: RecipientList) -> Path:
    return _storage_root() / recipient_list.upload_path


def _remove_upload(recipient_list: RecipientList) -> None:
    if recipient_list.upload_path:
        upload_file_path(recipient_list).unlink(missing_ok=True)


def _store(upload: UploadedFile) -> tuple[str, int]:
    """Copy the upload chunk by chunk into private storage; return (path, size)."""
    relative = f"{connection.schema_name}/{uuid.uuid4().hex}.csv"
    target = _storage_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    partial = target.with_suffix(".part")
    with open(partial, "wb") as out:
        for chunk in upload.chunks():
            size += len(chunk)
            if size > settings.RECIPIENT_LIST_MAX_BYTES:
                out.close()
                partial.unlink(missing_ok=True)
                raise ServiceError(too_large_message(), field="file")
            out.write(chunk)
    partial.rename(target)
    return relative, size


def too_large_message() -> str:
    return _("The file is larger than %(mb)d MB. Split it into smaller files.") % {
        "mb": settings.RECIPIENT_LIST_MAX_BYTES // (1024 * 1024)
    }


def check_upload_size(content_length: int) -> None:
    """Refuse an upload by its declared size before Django spools it to disk."""
    # Multipart framing adds a little; allow 1 MB of it.
    if content_length > settings.RECIPIENT_LIST_MAX_BYTES + 1024 * 1024:
        raise ServiceError(too_large_message(), field="file")


# --- reading the head of the file -----------------------------------------------------


def _head(path: Path, encoding: str, rows: int) -> tuple[list[list[str]], bool]:
    """First ``rows`` non-blank records decoded with ``encoding``; and whether every
    byte of them decoded (U+FFFD marks a byte that did not)."""
    records: list[list[str]] = []
    with open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        for record in csv.reader(text):
            cells = [c.strip() for c in record]
            if any(cells):
                records.append(cells)
            if len(records) >= rows:
                break
    if records:
        records[0][0] = records[0][0].lstrip("\ufeff")
    clean = not any("\ufffd" in cell for record in records for cell in record)
    return records, clean


def _guess_email_column(header: list[str], rows: list[list[str]]) -> str:
    """The header cell csvio would pick, else the first column holding an '@'."""
    normalised = [csvio._normalise_header(cell) for cell in header]
    for candidate in csvio.DEFAULT_EMAIL_COLUMNS:
        key = csvio._normalise_header(candidate)
        if key in normalised:
            return header[normalised.index(key)]
    for index, name in enumerate(header):
        if name and any(index < len(r) and "@" in r[index] for r in rows):
            return name
    return ""


def recipient_list_preview(
    *, recipient_list: RecipientList, encoding: str | None = None
) -> ListPreview:
    """Decode the head of the stored file with ``encoding`` (default: the chosen or
    detected one) for the confirm page. Raises ServiceError for an unknown encoding.
    """
    try:
        codec = csvio.normalise_encoding(
            encoding or recipient_list.encoding or recipient_list.detected_encoding
        )
    except csvio.CsvError as exc:
        raise ServiceError(str(exc), field="encoding") from None
    records, clean = _head(upload_file_path(recipient_list), codec, SAMPLE_ROWS + 1)
    header, rows = (records[0], records[1:]) if records else ([], [])
    preview = ListPreview(
        encoding=codec,
        encoding_label=dict(csvio.ENCODING_CHOICES)[codec],
        header=header,
        rows=rows,
        email_column=recipient_list.email_column or _guess_email_column(header, rows),
        columns=[name for name in header if name],
    )
    if not clean:
        preview.readable = False
        preview.problem = _(
            "Some characters do not read correctly as %(encoding)s (shown as �). "
            "Choose another encoding."
        ) % {"encoding": preview.encoding_label}
    return preview


# --- upload ---------------------------------------------------------------------------


def _fail(recipient_list: RecipientList, message: str) -> RecipientList:
    """Mark the list unreadable and keep nothing of it."""
    _remove_upload(recipient_list)
    with transaction.atomic():
        ListRecipient.objects.filter(recipient_list=recipient_list).delete()
        ListRejection.objects.filter(recipient_list=recipient_list).delete()
        RecipientList.objects.filter(pk=recipient_list.pk).update(
            state=State.FAILED, last_error=message[:2000], upload_path=""
        )
    recipient_list.refresh_from_db()
    return recipient_list


def recipient_list_upload(
    *, ctx: AuditContext, name: str, upload: UploadedFile
) -> RecipientList:
    """Store an uploaded CSV and guess its encoding; nothing is validated yet.

    Returns the list in state ``uploaded`` (waiting for the user to confirm the
    encoding and e-mail column) or ``failed`` with ``last_error`` when the file
    cannot be read at all (Excel workbook, UTF-16, no header, no e-mail column).
    Raises ServiceError (and stores nothing) for a file over the size limit.
    """
    require(ctx, "campaigns.manage")
    if upload.size and upload.size > settings.RECIPIENT_LIST_MAX_BYTES:
        raise ServiceError(too_large_message(), field="file")
    relative, size = _store(upload)
    with transaction.atomic():
        recipient_list = RecipientList.objects.create(
            name=name[:200],
            source_filename=(upload.name or "")[:255],
            upload_path=relative,
            upload_size=size,
            created_by=ctx.actor_email,
        )
        audit_record(
            ctx=ctx,
            action="recipient_list.upload",
            target=recipient_list,
            after={"file": recipient_list.source_filename, "bytes": size},
        )
    problem = _first_look(recipient_list)
    if problem:
        return _fail(recipient_list, problem)
    return recipient_list


def _first_look(recipient_list: RecipientList) -> str:
    """Detect the encoding and e-mail column; return why the file is unusable, or ""."""
    path = upload_file_path(recipient_list)
    with open(path, "rb") as stream:
        try:
            guess = csvio.detect_encoding(stream)
        except csvio.CsvError as exc:
            return str(exc)
    if recipient_list.upload_size == 0:
        return _("The file is empty.")
    records, _clean = _head(path, guess.encoding, SAMPLE_ROWS + 1)
    if not records:
        return _("The file is empty.")
    header, rows = records[0], records[1:]
    if any("@" in cell for cell in header):
        return _(
            "The first row contains an e-mail address, so the file has no header "
            "row. Add a header row (for example メールアドレス,会社名,氏名) so merge "
            "fields have names."
        )
    column = _guess_email_column(header, rows)
    if not column:
        return _(
            "No e-mail address column was found. Put a header such as "
            '"メールアドレス" or "email" above the addresses.'
        )
    RecipientList.objects.filter(pk=recipient_list.pk).update(
        detected_encoding=guess.encoding,
        encoding=guess.encoding,
        email_column=column,
    )
    recipient_list.detected_encoding = recipient_list.encoding = guess.encoding
    recipient_list.email_column = column
    return ""


def recipient_list_confirm(
    *,
    ctx: AuditContext,
    recipient_list: RecipientList,
    encoding: str,
    email_column: str,
) -> RecipientList:
    """The user confirmed the encoding and e-mail column: validate the file.

    Small files are validated before this returns; larger ones by a worker (the
    list is ``validating`` meanwhile). Raises ServiceError when the list is not
    waiting for confirmation or the choices are not valid.
    """
    require(ctx, "campaigns.manage")
    try:
        codec = csvio.normalise_encoding(encoding)
    except csvio.CsvError as exc:
        raise ServiceError(str(exc), field="encoding") from None
    preview = recipient_list_preview(recipient_list=recipient_list, encoding=codec)
    if email_column not in preview.columns:
        raise ServiceError(_("Choose the e-mail address column."), field="email_column")
    language = translation.get_language() or settings.LANGUAGE_CODE
    with transaction.atomic():
        claimed = RecipientList.objects.filter(
            pk=recipient_list.pk, state=State.UPLOADED
        ).update(state=State.VALIDATING, encoding=codec, email_column=email_column)
        if not claimed:
            raise ServiceError(_("This list has already been checked."))
        audit_record(
            ctx=ctx,
            action="recipient_list.confirm",
            target=recipient_list,
            after={"encoding": codec, "email_column": email_column},
        )
        if recipient_list.upload_size > settings.RECIPIENT_LIST_SYNC_MAX_BYTES:
            enqueue_on_commit(recipient_list_validate_task, recipient_list.pk, language)
    if recipient_list.upload_size <= settings.RECIPIENT_LIST_SYNC_MAX_BYTES:
        return recipient_list_validate(list_id=recipient_list.pk)
    recipient_list.refresh_from_db()
    return recipient_list


# --- validation -----------------------------------------------------------------------

_ROWS = "campaign_list_rows"  # every data row of the file, as read
_FIRSTS = "campaign_list_firsts"  # the first row of each distinct address


def recipient_list_validate(*, list_id: int) -> RecipientList:
    """Read the whole file once, in one transaction; see the module docstring.

    Idempotent: a list that is not ``validating`` is returned unchanged, so a task
    delivered twice (or re-run after a worker crash, which rolled the transaction
    back) does the work exactly once. A file that turns out unreadable half-way
    (bad bytes, broken quoting) ends ``failed`` with nothing kept.
    """
    recipient_list = RecipientList.objects.get(pk=list_id)
    if recipient_list.state != State.VALIDATING:
        return recipient_list
    try:
        with transaction.atomic():
            locked = (
                RecipientList.objects.select_for_update()
                .filter(pk=list_id, state=State.VALIDATING)
                .first()
            )
            if locked is None:
                return RecipientList.objects.get(pk=list_id)
            counts = _load(locked)
            RecipientList.objects.filter(pk=list_id).update(
                state=State.VALIDATED, validated_at=timezone.now(), **counts
            )
    except csvio.CsvError as exc:
        return _fail(recipient_list, str(exc))
    except FileNotFoundError:
        return _fail(recipient_list, _("The uploaded file is no longer available."))
    recipient_list.refresh_from_db()
    return recipient_list


def _copy_file(cursor: Any, recipient_list: RecipientList) -> tuple[int, list[str]]:
    """COPY every data row into the temp table; return (rows, merge-field names).

    Invalid addresses get a NULL key and their reason; the COPY streams, so
    nothing accumulates in Python whatever the file size.
    """
    column = recipient_list.email_column
    total = 0
    merge_fields: list[str] = []
    with (
        open(upload_file_path(recipient_list), "rb") as stream,
        cursor.copy(
            f"COPY {_ROWS} (row_number, email, email_key, data, error) FROM STDIN"
        ) as copy,
    ):
        for row in csvio.iter_rows(
            stream, recipient_list.encoding, email_column_candidates=[column]
        ):
            total += 1
            if total == 1:
                merge_fields = [name for name in row.fields if name != column]
            check = csvio.check_email(row.email)
            if check.normalised is None:
                copy.write_row(
                    (row.line, row.email[:320], None, None, str(check.error)[:400])
                )
                continue
            data = {k: v for k, v in row.fields.items() if k != column}
            copy.write_row(
                (
                    row.line,
                    check.normalised,
                    # check_email already folds the domain: the address is its key.
                    check.normalised,
                    json.dumps(data, ensure_ascii=False),
                    None,
                )
            )
    return total, merge_fields


def _load(recipient_list: RecipientList) -> dict[str, Any]:
    """Stream the file into temp tables, then sort it out with four statements."""
    list_id = recipient_list.pk
    rejection = ListRejection._meta.db_table
    recipient = ListRecipient._meta.db_table
    Reason = ListRejection.Reason
    with connection.cursor() as cursor:
        # Dropped first: inside an outer transaction (tests) ON COMMIT has not run.
        cursor.execute(
            f"DROP TABLE IF EXISTS {_ROWS}, {_FIRSTS}, campaign_list_suppressed"
        )
        cursor.execute(
            f"CREATE TEMP TABLE {_ROWS} (row_number integer, email text, "
            "email_key text, data text, error text) ON COMMIT DROP"
        )
        total, merge_fields = _copy_file(cursor.cursor, recipient_list)
        cursor.execute(
            f"INSERT INTO {rejection} (recipient_list_id, row_number, reason, value, "
            f"detail) SELECT %s, row_number, %s, email, error FROM {_ROWS} "
            "WHERE email_key IS NULL",
            [list_id, Reason.INVALID],
        )
        invalid = cursor.rowcount
        cursor.execute(
            f"CREATE TEMP TABLE {_FIRSTS} ON COMMIT DROP AS SELECT DISTINCT ON "
            f"(email_key) row_number, email, email_key, data FROM {_ROWS} "
            "WHERE email_key IS NOT NULL ORDER BY email_key, row_number"
        )
        cursor.execute(
            f"INSERT INTO {rejection} (recipient_list_id, row_number, reason, value, "
            "detail) SELECT %s, r.row_number, %s, r.email, "
            "left(replace(%s, '{row}', f.row_number::text), 400) "
            f"FROM {_ROWS} r JOIN {_FIRSTS} f ON f.email_key = r.email_key "
            "AND f.row_number <> r.row_number",
            [
                list_id,
                Reason.DUPLICATE,
                _("Same address as row %(row)s; only the first is kept.")
                % {"row": "{row}"},
            ],
        )
        duplicates = cursor.rowcount
        suppressed = _reject_suppressed(cursor, list_id)
        cursor.execute(
            f"INSERT INTO {recipient} (recipient_list_id, row_number, email, "
            f"email_key, data) SELECT %s, row_number, email, email_key, data::jsonb "
            f"FROM {_FIRSTS}",
            [list_id],
        )
        valid = cursor.rowcount
    return {
        "total_rows": total,
        "valid_count": valid,
        "invalid_count": invalid,
        "duplicate_count": duplicates,
        "suppressed_count": suppressed,
        "fields": merge_fields,
        "last_error": "",
    }


def _reject_suppressed(cursor: Any, list_id: int) -> int:
    """Move addresses suppressed on ANY of the tenant's sending domains out of the
    list: a list is not tied to a sender yet, and ACS would drop them anyway for
    the domain that suppressed them. The reason names the domain(s)."""
    from mailops.models import SendingDomain, SuppressedAddress

    suppressed = SuppressedAddress._meta.db_table
    domain = SendingDomain._meta.db_table
    cursor.execute(
        f"CREATE TEMP TABLE campaign_list_suppressed ON COMMIT DROP AS "
        f"SELECT f.row_number, f.email, string_agg(DISTINCT d.display_name, ', ') "
        f"AS domains FROM {_FIRSTS} f JOIN {suppressed} s ON lower(s.email) = "
        f"lower(f.email) JOIN {domain} d ON d.id = s.domain_id "
        "GROUP BY f.row_number, f.email"
    )
    cursor.execute(
        f"INSERT INTO {ListRejection._meta.db_table} (recipient_list_id, row_number, "
        "reason, value, detail) SELECT %s, row_number, %s, email, "
        "left(replace(%s, '{domains}', domains), 400) FROM campaign_list_suppressed",
        [
            list_id,
            ListRejection.Reason.SUPPRESSED,
            _("On the suppression list of %(domains)s.") % {"domains": "{domains}"},
        ],
    )
    count = cursor.rowcount
    cursor.execute(
        f"DELETE FROM {_FIRSTS} f USING campaign_list_suppressed s "
        "WHERE s.row_number = f.row_number"
    )
    return count


VALIDATE_MAX_RETRIES = 3


@app.task(bind=True, max_retries=VALIDATE_MAX_RETRIES)
def recipient_list_validate_task(self: Any, list_id: int, language: str) -> None:
    """Validate a large list in a worker; rejection reasons in the user's language.

    A database or disk error rolls the whole check back; it is retried a few times,
    then the list is marked failed so the page stops waiting.
    """
    with translation.override(language):
        try:
            recipient_list_validate(list_id=list_id)
        except (DatabaseError, OSError) as exc:
            if self.request.retries < VALIDATE_MAX_RETRIES:
                raise self.retry(
                    exc=exc, countdown=settings.PORTAL_TASK_RETRY_SECONDS
                ) from exc
            _fail(
                RecipientList.objects.get(pk=list_id),
                _("The check could not finish. Upload the file again."),
            )


# --- the user's choice ----------------------------------------------------------------


def recipient_list_import(
    *, ctx: AuditContext, recipient_list: RecipientList
) -> RecipientList:
    """Make the validated rows usable by campaigns (state ``ready``).

    Raises ServiceError unless the list is ``validated`` with at least one row.
    """
    require(ctx, "campaigns.manage")
    with transaction.atomic():
        claimed = RecipientList.objects.filter(
            pk=recipient_list.pk, state=State.VALIDATED, valid_count__gt=0
        ).update(state=State.READY, imported_at=timezone.now(), upload_path="")
        if not claimed:
            raise ServiceError(
                _("Only a checked list with valid rows can be imported.")
            )
        audit_record(
            ctx=ctx,
            action="recipient_list.import",
            target=recipient_list,
            after={"rows": recipient_list.valid_count},
        )
        path = upload_file_path(recipient_list) if recipient_list.upload_path else None
        if path is not None:
            transaction.on_commit(lambda: path.unlink(missing_ok=True))
    recipient_list.refresh_from_db()
    return recipient_list


def recipient_list_discard(
    *, ctx: AuditContext, recipient_list: RecipientList
) -> RecipientList:
    """Throw a list away before it is used: rows, rejections and file deleted.

    Raises ServiceError for a list that is being validated or already in use.
    """
    require(ctx, "campaigns.manage")
    allowed = (State.UPLOADED, State.VALIDATED, State.FAILED, State.READY)
    with transaction.atomic():
        locked = (
            RecipientList.objects.select_for_update()
            .filter(pk=recipient_list.pk, state__in=allowed)
            .first()
        )
        if locked is None:
            raise ServiceError(_("This list cannot be discarded now."))
        if locked.campaigns.exists():
            raise ServiceError(
                _("A campaign uses this list; it is kept as a record of who was sent.")
            )
        ListRecipient.objects.filter(recipient_list=locked).delete()
        ListRejection.objects.filter(recipient_list=locked).delete()
        path = upload_file_path(locked) if locked.upload_path else None
        RecipientList.objects.filter(pk=locked.pk).update(
            state=State.DISCARDED, upload_path=""
        )
        audit_record(ctx=ctx, action="recipient_list.discard", target=locked)
        if path is not None:
            transaction.on_commit(lambda: path.unlink(missing_ok=True))
    recipient_list.refresh_from_db()
    return recipient_list


def rejection_rows(recipient_list: RecipientList) -> Iterator[tuple[Any, ...]]:
    """(row, value, reason, detail) of every rejected row, streamed from the DB."""
    labels = dict(ListRejection.Reason.choices)
    for row_number, value, reason, detail in (
        ListRejection.objects.filter(recipient_list=recipient_list)
        .order_by("row_number")
        .values_list("row_number", "value", "reason", "detail")
        .iterator(chunk_size=5000)
    ):
        yield row_number, value, str(labels.get(reason, reason)), detail
