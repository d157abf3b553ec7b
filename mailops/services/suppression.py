"""Suppression lists per sending domain (ACS suppressionListAddresses)."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from typing import IO

from django.db import transaction
from django.utils.translation import gettext as _

from mailops.models import SendingDomain, SuppressedAddress
from mailops.services.common import azure_message, ready_footprint, ref, require
from portal.errors import ServiceError
from portal.integrations.azure import client
from portal.integrations.azure.errors import AzureError
from tenants.accounts.audit import AuditContext, audit_record


def _address_id(email: str) -> str:
    # Deterministic: re-adding the same address after a crash hits the same resource.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"suppression:{email.lower()}"))


def _clean(raw: str) -> str:
    from mailops.csvio import check_email

    check = check_email(raw)
    if check.error or not check.normalised:
        raise ServiceError(
            check.error or _("Enter a valid email address."), field="email"
        )
    return check.normalised


def suppression_add(
    *, ctx: AuditContext, domain: SendingDomain, email: str, notes: str = ""
) -> SuppressedAddress:
    require(ctx, "mail.manage")
    email = _clean(email)
    if SuppressedAddress.objects.filter(domain=domain, email__iexact=email).exists():
        raise ServiceError(_("This address is already suppressed."), field="email")
    fp = ready_footprint()
    address_id = _address_id(email)
    try:
        client.suppression_list_ensure(ref(fp), fp.email_service_name, domain.name)
        client.suppression_address_put(
            ref(fp),
            fp.email_service_name,
            domain.name,
            address_id,
            email=email,
            notes=notes,
        )
    except AzureError as exc:
        raise ServiceError(azure_message(exc)) from exc
    with transaction.atomic():
        entry = SuppressedAddress.objects.create(
            domain=domain, email=email, address_id=address_id, notes=notes[:200]
        )
        audit_record(
            ctx=ctx, action="suppression.add", target=entry, after={"email": email}
        )
    return entry


def suppression_remove(*, ctx: AuditContext, entry: SuppressedAddress) -> None:
    require(ctx, "mail.manage")
    fp = ready_footprint()
    try:
        client.suppression_address_delete(
            ref(fp), fp.email_service_name, entry.domain.name, entry.address_id
        )
    except AzureError as exc:
        raise ServiceError(azure_message(exc)) from exc
    with transaction.atomic():
        audit_record(
            ctx=ctx,
            action="suppression.remove",
            target=entry,
            before={"email": entry.email},
        )
        entry.delete()


@dataclass
class ImportPreview:
    encoding: str
    encoding_label: str
    total: int
    valid: list[str]
    duplicates: int
    already_present: int
    errors: list[tuple[int, str, str]] = field(
        default_factory=list
    )  # line, raw, message
    error_count: int = 0

    @property
    def clean(self) -> bool:
        return self.error_count == 0


def suppression_preview(
    *, domain: SendingDomain, stream: IO[bytes], encoding: str | None = None
) -> ImportPreview:
    """Read a CSV without changing anything and report what an import would do."""
    from mailops.csvio import CsvError, detect_encoding, import_addresses

    try:
        guess = detect_encoding(stream)
        chosen = encoding or guess.encoding
        result = import_addresses(stream, chosen)
    except CsvError as exc:
        raise ServiceError(str(exc), field="file") from None
    except UnicodeDecodeError:
        raise ServiceError(
            _("The file could not be read as %(encoding)s. Choose another encoding.")
            % {"encoding": encoding or ""},
            field="file",
        ) from None
    present = {
        e.lower()
        for e in SuppressedAddress.objects.filter(domain=domain).values_list(
            "email", flat=True
        )
    }
    new = [e for e in result.addresses if e.lower() not in present]
    return ImportPreview(
        encoding=chosen,
        encoding_label=guess.label if chosen == guess.encoding else chosen,
        total=result.total,
        valid=new,
        duplicates=result.duplicates,
        already_present=len(result.addresses) - len(new),
        errors=[(e.line, e.raw, str(e.message)) for e in result.errors],
        error_count=result.invalid,
    )


def suppression_import(
    *, ctx: AuditContext, domain: SendingDomain, addresses: list[str], notes: str = ""
) -> int:
    """Add every address, or none: on an Azure failure the ones added by this
    import are removed again and ServiceError is raised."""
    require(ctx, "mail.manage")
    fp = ready_footprint()
    added: list[tuple[str, str]] = []
    try:
        client.suppression_list_ensure(ref(fp), fp.email_service_name, domain.name)
        for email in addresses:
            address_id = _address_id(email)
            client.suppression_address_put(
                ref(fp),
                fp.email_service_name,
                domain.name,
                address_id,
                email=email,
                notes=notes,
            )
            added.append((email, address_id))
    except AzureError as exc:
        for _email, address_id in added:
            with contextlib.suppress(AzureError):
                client.suppression_address_delete(
                    ref(fp), fp.email_service_name, domain.name, address_id
                )
        raise ServiceError(
            _("The import was stopped and undone: %(reason)s")
            % {"reason": azure_message(exc)}
        ) from exc
    with transaction.atomic():
        SuppressedAddress.objects.bulk_create(
            [
                SuppressedAddress(
                    domain=domain, email=email, address_id=address_id, notes=notes
                )
                for email, address_id in added
            ],
            ignore_conflicts=True,
        )
        audit_record(
            ctx=ctx,
            action="suppression.import",
            target=domain,
            after={"count": len(added)},
        )
    return len(added)
