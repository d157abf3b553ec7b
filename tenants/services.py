"""Creating, suspending and resuming tenants.

``tenant_create`` is one transaction: the Customer row, its schema (PostgreSQL DDL is
transactional), its Domain, the owner invitation and both audit events commit
together or not at all.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from portal.errors import ServiceError
from tenants.accounts.audit import AuditContext, audit_record
from tenants.accounts.models import Invitation
from tenants.accounts.roles import Role
from tenants.accounts.services import invitation_create
from tenants.hosts import tenant_host
from tenants.models import (
    RESERVED_SLUGS,
    SLUG_VALIDATOR,
    TEMPLATE_SCHEMA,
    Customer,
    Domain,
)


def _validate_slug(slug: str) -> str:
    slug = slug.strip().lower()
    try:
        SLUG_VALIDATOR(slug)
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages), field="slug") from None
    if slug in RESERVED_SLUGS or slug.replace("-", "_") == TEMPLATE_SCHEMA:
        raise ServiceError(_("This identifier is reserved."), field="slug")
    return slug


def tenant_create(
    *,
    ctx: AuditContext,
    name: str,
    slug: str,
    owner_email: str,
    plan: str = Customer.Plan.STANDARD,
    billing_contact_name: str = "",
    billing_contact_email: str = "",
    corporate_number: str = "",
    owner_language: str = "ja",
) -> tuple[Customer, Invitation]:
    """Create a tenant with its schema, host and first owner invitation.

    Returns the tenant and the invitation. Raises ServiceError (nothing is created)
    for a taken or invalid identifier, a bad owner address or any failing step.
    """
    slug = _validate_slug(slug)
    name = name.strip()
    if not name:
        raise ServiceError(_("Enter the company name."), field="name")
    try:
        validate_email(owner_email)
    except ValidationError:
        raise ServiceError(
            _("Enter a valid email address."), field="owner_email"
        ) from None
    if corporate_number and not (
        corporate_number.isdigit() and len(corporate_number) == 13
    ):
        raise ServiceError(_("Enter 13 digits."), field="corporate_number")
    schema_name = slug.replace("-", "_")
    host = tenant_host(slug)

    # Not durable: the test suite wraps each test in a transaction. Callers are
    # views and commands that are never inside another transaction.
    with transaction.atomic():
        # Serialise creations: django-tenants' clone re-creates shared helper types
        # in the public schema, which fails when two clones run at once.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext('portal.tenant_create'))"
            )
        if (
            Customer.objects.filter(schema_name=schema_name).exists()
            or Domain.objects.filter(domain=host).exists()
        ):
            raise ServiceError(_("This identifier is already in use."), field="slug")
        tenant = Customer(
            schema_name=schema_name,
            name=name,
            plan=plan,
            billing_contact_name=billing_contact_name,
            billing_contact_email=billing_contact_email,
            corporate_number=corporate_number,
        )
        tenant.save()  # creates the schema (clone of the template or migrations)
        connection.set_schema_to_public()
        Domain.objects.create(domain=host, tenant=tenant, is_primary=True)
        audit_record(
            ctx=ctx,
            action="tenant.create",
            target=tenant,
            after={
                "schema": schema_name,
                "host": host,
                "owner": owner_email,
                "plan": plan,
            },
        )
        with schema_context(tenant.schema_name):
            invitation = invitation_create(
                ctx=ctx, email=owner_email, role=Role.OWNER, language=owner_language
            )
    return tenant, invitation


def _set_status(
    *, ctx: AuditContext, tenant: Customer, status: str, reason: str, action: str
) -> Customer:
    with transaction.atomic():
        tenant = Customer.objects.select_for_update().get(pk=tenant.pk)
        if tenant.status == Customer.Status.TEMPLATE or tenant.is_public:
            raise ServiceError(_("This tenant cannot be changed."))
        before = tenant.status
        tenant.status = status
        tenant.suspended_reason = reason
        tenant.save(update_fields=["status", "suspended_reason", "updated_at"])
        audit_record(
            ctx=ctx,
            action=action,
            target=tenant,
            before={"status": before},
            after={"status": status, "reason": reason},
        )
    return tenant


def tenant_suspend(*, ctx: AuditContext, tenant: Customer, reason: str) -> Customer:
    """Block the tenant's portal with a notice page; its data stays untouched."""
    return _set_status(
        ctx=ctx,
        tenant=tenant,
        status=Customer.Status.SUSPENDED,
        reason=reason.strip(),
        action="tenant.suspend",
    )


def tenant_resume(*, ctx: AuditContext, tenant: Customer) -> Customer:
    return _set_status(
        ctx=ctx,
        tenant=tenant,
        status=Customer.Status.ACTIVE,
        reason="",
        action="tenant.resume",
    )


def ensure_template_schema() -> bool:
    """Create the migrated template schema that new tenants are cloned from.

    Returns True when it was created now. ``migrate_schemas`` keeps it current
    because it is an ordinary Customer row (without a Domain, so never served).
    """
    if Customer.objects.filter(schema_name=TEMPLATE_SCHEMA).exists():
        return False
    template = Customer(
        schema_name=TEMPLATE_SCHEMA, name="(template)", status=Customer.Status.TEMPLATE
    )
    template.save()
    connection.set_schema_to_public()
    return True


def ensure_public_tenant() -> Customer:
    """The public tenant and its Domain(s), so the public host resolves."""
    from django.conf import settings

    public, _created = Customer.objects.get_or_create(
        schema_name="public", defaults={"name": "MSP"}
    )
    Domain.objects.get_or_create(
        domain=settings.PUBLIC_HOST, defaults={"tenant": public, "is_primary": True}
    )
    return public
