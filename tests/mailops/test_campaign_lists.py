"""Recipient lists: encodings, bad rows, duplicates, suppression, all-or-nothing."""

from __future__ import annotations

import gc
import io
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.utils import translation
from django_tenants.utils import schema_context

from mailops.campaigns import lists
from mailops.models import (
    ListRecipient,
    ListRejection,
    RecipientList,
    SendingDomain,
    SuppressedAddress,
)
from portal.errors import ServiceError
from tests.conftest import TENANT_A
from tests.mailops.conftest import OWNER_CTX

pytestmark = pytest.mark.django_db

VIEWER_CTX = OWNER_CTX.__class__(
    actor_id=2, actor_email="viewer@alpha.example", actor_kind="user", role="viewer"
)


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path, personas):
    settings.PORTAL_PRIVATE_MEDIA_DIR = tmp_path / "private"
    with schema_context(TENANT_A), translation.override("en"):
        ListRecipient.objects.all().delete()
        ListRejection.objects.all().delete()
        RecipientList.objects.all().delete()
        yield


def _upload(text: str | bytes, encoding: str = "utf-8", name: str = "顧客.csv"):
    data = text if isinstance(text, bytes) else text.encode(encoding)
    return SimpleUploadedFile(name, data, content_type="text/csv")


JA_CSV = (
    "メールアドレス,会社名,氏名\r\n"
    "taro@example.co.jp,株式会社山田商店,山田 太郎\r\n"
    "not-an-address,株式会社壊れ,壊 太郎\r\n"
    "hanako@EXAMPLE.co.jp,髙橋工業㈱,髙橋 花子\r\n"
    "Taro@example.co.jp,大文字商事,太郎（大文字）\r\n"
    "taro@Example.CO.JP,重複商事,重複 太郎\r\n"
    "stop@example.jp,配信停止株式会社,停止 三郎\r\n"
)


def _suppress(email: str, domain: str = "mail.alpha.example") -> None:
    sending, _ = SendingDomain.objects.get_or_create(
        name=domain, defaults={"display_name": domain, "state": "verified"}
    )
    SuppressedAddress.objects.create(domain=sending, email=email, address_id="x")


def test_cp932_list_is_detected_validated_and_imported(
    django_capture_on_commit_callbacks,
):
    # given a Shift_JIS file from Excel with a bad, a duplicate and a suppressed row
    _suppress("stop@example.jp")
    # when it is uploaded
    rl = lists.recipient_list_upload(
        ctx=OWNER_CTX, name="11月のお知らせ", upload=_upload(JA_CSV, "cp932")
    )
    # then the encoding and e-mail column are guessed, nothing validated yet
    assert rl.state == "uploaded"
    assert rl.detected_encoding == "cp932"
    assert rl.email_column == "メールアドレス"
    preview = lists.recipient_list_preview(recipient_list=rl)
    assert preview.readable
    assert preview.header == ["メールアドレス", "会社名", "氏名"]
    assert preview.rows[1] == ["not-an-address", "株式会社壊れ", "壊 太郎"]
    assert preview.rows[2][1] == "髙橋工業㈱"
    assert ListRecipient.objects.count() == 0
    # when the user confirms
    rl = lists.recipient_list_confirm(
        ctx=OWNER_CTX,
        recipient_list=rl,
        encoding="cp932",
        email_column="メールアドレス",
    )
    # then the counts, the rows and the reasons are exact
    assert rl.state == "validated"
    assert (
        rl.total_rows,
        rl.valid_count,
        rl.invalid_count,
        rl.duplicate_count,
        rl.suppressed_count,
    ) == (6, 3, 1, 1, 1)
    assert rl.fields == ["会社名", "氏名"]
    recipients = list(
        ListRecipient.objects.filter(recipient_list=rl).values_list(
            "row_number", "email", "data"
        )
    )
    assert recipients == [
        (2, "taro@example.co.jp", {"会社名": "株式会社山田商店", "氏名": "山田 太郎"}),
        (4, "hanako@example.co.jp", {"会社名": "髙橋工業㈱", "氏名": "髙橋 花子"}),
        (5, "Taro@example.co.jp", {"会社名": "大文字商事", "氏名": "太郎（大文字）"}),
    ]
    rejections = list(
        ListRejection.objects.filter(recipient_list=rl).values_list(
            "row_number", "reason", "value", "detail"
        )
    )
    assert [r[:3] for r in rejections] == [
        (3, "invalid", "not-an-address"),
        (6, "duplicate", "taro@example.co.jp"),
        (7, "suppressed", "stop@example.jp"),
    ]
    assert "row 2" in rejections[1][3] or "2 行目" in rejections[1][3]
    assert "mail.alpha.example" in rejections[2][3]
    # when the user imports the valid rows
    with django_capture_on_commit_callbacks(execute=True):
        rl = lists.recipient_list_import(ctx=OWNER_CTX, recipient_list=rl)
    assert rl.state == "ready"
    assert not list((lists._storage_root()).rglob("*.csv"))


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("utf-8-sig", "\ufeffemail,名前\r\na@example.jp,あ\r\n".encode()),
        ("utf-8", "email,名前\na@example.jp,あ\n".encode()),
        ("cp932", "email,名前\r\na@example.jp,あ\r\n".encode("cp932")),
    ],
)
def test_each_excel_encoding_is_detected(encoding, data):
    rl = lists.recipient_list_upload(ctx=OWNER_CTX, name="x", upload=_upload(data))
    assert rl.detected_encoding == encoding
    rl = lists.recipient_list_confirm(
        ctx=OWNER_CTX, recipient_list=rl, encoding=encoding, email_column="email"
    )
    assert rl.valid_count == 1
    assert ListRecipient.objects.get().data == {"名前": "あ"}


def test_wrong_encoding_shows_mojibake_warning():
    rl = lists.recipient_list_upload(
        ctx=OWNER_CTX, name="x", upload=_upload(JA_CSV, "cp932")
    )
    preview = lists.recipient_list_preview(recipient_list=rl, encoding="utf-8")
    assert not preview.readable
    assert "�" in preview.problem or "UTF-8" in preview.problem


def test_confirming_the_wrong_encoding_fails_and_keeps_nothing():
    # Only the last row is not ASCII: the sample looks like UTF-8 then breaks.
    data = "email,name\r\n" + "a{}@example.jp,a\r\n" * 3 + "z@example.jp,髙\r\n"
    rl = lists.recipient_list_upload(
        ctx=OWNER_CTX,
        name="x",
        upload=_upload(data.format(*range(3)).encode("cp932")),
    )
    rl = lists.recipient_list_confirm(
        ctx=OWNER_CTX, recipient_list=rl, encoding="utf-8", email_column="email"
    )
    assert rl.state == "failed"
    assert "5" in rl.last_error
    assert ListRecipient.objects.count() == 0
    assert ListRejection.objects.count() == 0
    assert not list(lists._storage_root().rglob("*.csv"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04rest-of-a-workbook", "Excel"),
        (b"a@example.jp,x\r\nb@example.jp,y\r\n", "header"),
        ("会社名,氏名\r\n山田,太郎\r\n".encode(), "column"),
        (b"", "empty"),
    ],
)
def test_unreadable_files_fail_with_a_reason(data, message):
    rl = lists.recipient_list_upload(ctx=OWNER_CTX, name="x", upload=_upload(data))
    assert rl.state == "failed"
    assert message in rl.last_error
    assert rl.upload_path == ""
    assert not list(lists._storage_root().rglob("*.csv"))


def test_discard_deletes_rows_and_file(django_capture_on_commit_callbacks):
    rl = lists.recipient_list_upload(
        ctx=OWNER_CTX, name="x", upload=_upload(JA_CSV, "cp932")
    )
    rl = lists.recipient_list_confirm(
        ctx=OWNER_CTX,
        recipient_list=rl,
        encoding="cp932",
        email_column="メールアドレス",
    )
    with django_capture_on_commit_callbacks(execute=True):
        rl = lists.recipient_list_discard(ctx=OWNER_CTX, recipient_list=rl)
    assert rl.state == "discarded"
    assert not list(lists._storage_root().rglob("*.csv"))
    assert ListRecipient.objects.count() == 0
    assert ListRejection.objects.count() == 0


def test_viewer_cannot_upload_and_nothing_is_stored():
    with pytest.raises(ServiceError):
        lists.recipient_list_upload(
            ctx=VIEWER_CTX, name="x", upload=_upload(JA_CSV, "cp932")
        )
    assert RecipientList.objects.count() == 0
    assert not list(lists._storage_root().rglob("*"))


def test_too_large_upload_is_refused(settings):
    settings.RECIPIENT_LIST_MAX_BYTES = 1024
    with pytest.raises(ServiceError, match="MB"):
        lists.recipient_list_upload(
            ctx=OWNER_CTX, name="x", upload=_upload("email\r\n" + "a@b.jp\r\n" * 400)
        )
    assert RecipientList.objects.count() == 0


def test_validate_twice_does_the_work_once():
    rl = lists.recipient_list_upload(
        ctx=OWNER_CTX, name="x", upload=_upload(JA_CSV, "cp932")
    )
    rl = lists.recipient_list_confirm(
        ctx=OWNER_CTX,
        recipient_list=rl,
        encoding="cp932",
        email_column="メールアドレス",
    )
    again = lists.recipient_list_validate(list_id=rl.pk)
    assert again.valid_count == 4
    assert ListRecipient.objects.count() == 4
    with pytest.raises(ServiceError):
        lists.recipient_list_confirm(
            ctx=OWNER_CTX,
            recipient_list=rl,
            encoding="cp932",
            email_column="メールアドレス",
        )


class _GeneratedCsv(io.RawIOBase):
    """A CSV of ``rows`` rows produced on the fly, so the test holds no file."""

    def __init__(self, rows: int) -> None:
        self._lines = self._generate(rows)
        self._pending = b""

    @staticmethod
    def _generate(rows: int):
        yield "メールアドレス,会社名,担当者\r\n".encode("cp932")
        for i in range(rows):
            yield f"user{i}@example{i % 50}.co.jp,株式会社テスト{i},担当 {i}\r\n".encode(
                "cp932"
            )

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while len(self._pending) < len(buffer):
            chunk = next(self._lines, None)
            if chunk is None:
                break
            self._pending += chunk
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def test_200k_rows_validate_with_flat_memory(tmp_path, settings, record_property):
    # given a ~200,000-row CP932 file written to disk in a stream
    rows = 200_000
    path = tmp_path / "big.csv"
    with open(path, "wb") as out:
        source = _GeneratedCsv(rows)
        while chunk := source.read(1 << 20):
            out.write(chunk)
    size = path.stat().st_size
    assert size > 9_000_000
    gc.collect()
    tracemalloc.start()
    try:
        # when it is uploaded (as Django hands over a spooled temp file) and validated
        with open(path, "rb") as handle:
            # What Django hands over for a large upload: a file on disk.
            upload = UploadedFile(handle, "big.csv", "text/csv", size)
            rl = lists.recipient_list_upload(ctx=OWNER_CTX, name="big", upload=upload)
        settings.RECIPIENT_LIST_SYNC_MAX_BYTES = size  # validate in this process
        rl = lists.recipient_list_confirm(
            ctx=OWNER_CTX,
            recipient_list=rl,
            encoding=rl.detected_encoding,
            email_column=rl.email_column,
        )
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    record_property("peak_traced_bytes", peak)
    record_property("file_bytes", size)
    # then every row is in, and Python never held more than a few MB
    assert rl.state == "validated"
    assert rl.valid_count == rows
    assert ListRecipient.objects.filter(recipient_list=rl).count() == rows
    assert peak < 8 * 1024 * 1024, (
        f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.0f} MB file"
    )


def test_large_file_is_validated_by_the_task_after_commit(
    settings, django_capture_on_commit_callbacks
):
    # given a file above the in-request limit
    settings.RECIPIENT_LIST_SYNC_MAX_BYTES = 10
    rl = lists.recipient_list_upload(
        ctx=OWNER_CTX, name="x", upload=_upload(JA_CSV, "cp932")
    )
    # when confirmed, the list waits for the task queued on commit
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        translation.override("ja"),  # the user's language at confirm time
    ):
        rl = lists.recipient_list_confirm(
            ctx=OWNER_CTX,
            recipient_list=rl,
            encoding="cp932",
            email_column="メールアドレス",
        )
    assert rl.state == "validating"
    assert len(callbacks) == 1
    # then the (eager) task validates it, with reasons in the user's language
    callbacks[0]()
    rl.refresh_from_db()
    assert (rl.state, rl.valid_count, rl.invalid_count) == ("validated", 4, 1)
    detail = ListRejection.objects.get(recipient_list=rl, reason="duplicate").detail
    assert "行目と同じアドレス" in detail


def test_task_marks_the_list_failed_after_repeated_database_errors(
    settings, monkeypatch
):
    from celery.exceptions import Retry
    from django.db import DatabaseError

    settings.RECIPIENT_LIST_SYNC_MAX_BYTES = 10
    settings.PORTAL_TASK_RETRY_SECONDS = 0
    rl = lists.recipient_list_upload(
        ctx=OWNER_CTX, name="x", upload=_upload(JA_CSV, "cp932")
    )
    rl = lists.recipient_list_confirm(
        ctx=OWNER_CTX,
        recipient_list=rl,
        encoding="cp932",
        email_column="メールアドレス",
    )
    calls = []

    def broken(*, list_id):
        calls.append(list_id)
        raise DatabaseError("disk full")

    # Patched: a failing database cannot be produced on demand otherwise.
    monkeypatch.setattr(lists, "recipient_list_validate", broken)
    task = lists.recipient_list_validate_task
    # an early attempt asks Celery to retry (the list still waits) ...
    task.push_request(retries=0)
    try:
        with pytest.raises((Retry, DatabaseError)):
            task.run(rl.pk, "en")
    finally:
        task.pop_request()
    rl.refresh_from_db()
    assert rl.state == "validating"
    # ... and the last one gives up and says so
    task.push_request(retries=lists.VALIDATE_MAX_RETRIES)
    try:
        task.run(rl.pk, "en")
    finally:
        task.pop_request()
    rl.refresh_from_db()
    assert len(calls) == 2
    assert rl.state == "failed"
    assert "Upload the file again" in rl.last_error
    assert ListRecipient.objects.count() == 0
