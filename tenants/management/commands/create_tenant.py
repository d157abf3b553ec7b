from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from portal.errors import ServiceError
from tenants.accounts.audit import AuditContext
from tenants.hosts import tenant_origin
from tenants.models import Customer
from tenants.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant (schema, host) and invite its first owner, atomically."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--slug", required=True, help="host label, e.g. sakura")
        parser.add_argument("--name", required=True, help="display name (Japanese)")
        parser.add_argument("--owner-email", required=True)
        parser.add_argument(
            "--plan", default=Customer.Plan.STANDARD, choices=Customer.Plan.values
        )
        parser.add_argument("--billing-contact-name", default="")
        parser.add_argument("--billing-contact-email", default="")
        parser.add_argument("--corporate-number", default="")
        parser.add_argument("--language", default="ja", choices=["ja", "en"])

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            tenant, invitation = tenant_create(
                ctx=AuditContext.system("manage.py create_tenant"),
                name=options["name"],
                slug=options["slug"],
                owner_email=options["owner_email"],
                plan=options["plan"],
                billing_contact_name=options["billing_contact_name"],
                billing_contact_email=options["billing_contact_email"],
                corporate_number=options["corporate_number"],
                owner_language=options["language"],
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"created {tenant.schema_name} at {tenant_origin(tenant)}/ "
            f"(owner invitation to {invitation.email})"
        )
