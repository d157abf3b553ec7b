from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from mailops.models import SuppressedAddress
from mailops.services import suppression
from portal.errors import ServiceError
from tests.mailops.conftest import OWNER_CTX

pytestmark = pytest.mark.emulator


def test_add_and_remove_reaches_acs(verified_domain, acs):
    with schema_context("alpha"):
        entry = suppression.suppression_add(
            ctx=OWNER_CTX,
            domain=verified_domain,
            email="Taro@Example.JP",
            notes="配信停止",
        )
        assert entry.email == "Taro@example.jp"
        with pytest.raises(ServiceError):
            suppression.suppression_add(
                ctx=OWNER_CTX, domain=verified_domain, email="taro@EXAMPLE.jp"
            )
        with pytest.raises(ServiceError):
            suppression.suppression_add(
                ctx=OWNER_CTX, domain=verified_domain, email="not-an-address"
            )
        suppression.suppression_remove(ctx=OWNER_CTX, entry=entry)
        assert SuppressedAddress.objects.count() == 0


def _csv(text: str, encoding: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "list.csv", text.encode(encoding), content_type="text/csv"
    )


def test_cp932_upload_previews_then_imports_all_or_nothing(
    owner_a_client, verified_domain
):
    content = "メールアドレス,備考\r\na@example.jp,x\r\nB@Example.jp,y\r\nb@example.JP,dup\r\nbroken,z\r\n"
    page = owner_a_client.post(
        f"/mail/domains/{verified_domain.pk}/suppression/upload/",
        {"file": _csv(content, "cp932"), "encoding": ""},
    )
    body = page.content.decode()
    assert page.status_code == 200
    assert 'id="import-preview"' in body
    assert "broken" in body
    with schema_context("alpha"):
        assert SuppressedAddress.objects.count() == 0  # nothing yet
    token = body.split('name="token" value="')[1].split('"')[0]
    response = owner_a_client.post(
        f"/mail/domains/{verified_domain.pk}/suppression/import/", {"token": token}
    )
    assert response.status_code == 302
    with schema_context("alpha"):
        # Duplicates are found case-insensitively on the domain part only: local
        # parts are case-sensitive by RFC 5321, so B@ and b@ are two addresses.
        assert sorted(SuppressedAddress.objects.values_list("email", flat=True)) == [
            "B@example.jp",
            "a@example.jp",
            "b@example.jp",
        ]
    # the same token cannot import twice
    owner_a_client.post(
        f"/mail/domains/{verified_domain.pk}/suppression/import/", {"token": token}
    )
    with schema_context("alpha"):
        assert SuppressedAddress.objects.count() == 3


def test_failed_import_is_undone(verified_domain, acs):
    emu, _fp = acs
    emu.admin("/faults", "POST", {"endpoint": "arm", "kind": "500", "rate": 1.0})
    try:
        with schema_context("alpha"), pytest.raises(ServiceError):
            suppression.suppression_import(
                ctx=OWNER_CTX,
                domain=verified_domain,
                addresses=["a@example.jp", "b@example.jp"],
            )
    finally:
        emu.admin("/faults", "DELETE")
    with schema_context("alpha"):
        assert SuppressedAddress.objects.count() == 0


def test_export_in_shift_jis(owner_a_client, verified_domain):
    with schema_context("alpha"):
        suppression.suppression_add(
            ctx=OWNER_CTX, domain=verified_domain, email="c@example.jp", notes="解約"
        )
    response = owner_a_client.get(
        f"/mail/domains/{verified_domain.pk}/suppression/export/?encoding=cp932"
    )
    data = b"".join(response.streaming_content).decode("cp932")
    assert data.splitlines()[0] == "email,notes,added"
    assert data.splitlines()[1].startswith("c@example.jp,解約,")


def test_viewer_cannot_change_suppression(viewer_a_client, verified_domain):
    response = viewer_a_client.post(
        f"/mail/domains/{verified_domain.pk}/suppression/add/",
        {"email": "x@example.jp"},
    )
    assert response.status_code == 403
    assert (
        viewer_a_client.get(
            f"/mail/domains/{verified_domain.pk}/suppression/"
        ).status_code
        == 200
    )
    with schema_context("alpha"):
        assert SuppressedAddress.objects.count() == 0
