from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import translation
from django_tenants.utils import schema_context

from tenants.accounts.audit import AuditContext
from tenants.accounts.models import Invitation, User
from tenants.accounts.roles import Role, StaffRole
from tenants.accounts.services import invitation_accept, invitation_create
from tenants.hosts import public_origin, tenant_origin
from tenants.models import Customer
from tenants.services import ensure_public_tenant, ensure_template_schema, tenant_create

DEMO_PASSWORD = "Kakehashi-demo-2026"
STAFF_EMAIL = "staff@kakehashi.example"

# (slug, name, plan, owner, viewer, corporate number)
DEMO_TENANTS = [
    (
        "sakura",
        "株式会社さくら精機",
        "standard",
        "owner@sakura.example.jp",
        "viewer@sakura.example.jp",
        "7010001000001",
    ),
    (
        "fuji",
        "富士ロジスティクス株式会社",
        "premium",
        "owner@fuji.example.jp",
        "viewer@fuji.example.jp",
        "",
    ),
    ("minato", "みなと会計事務所", "lite", "owner@minato.example.jp", "", ""),
]


class Command(BaseCommand):
    help = "Create demo staff, tenants and users. Safe to run again."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--logins-file",
            default=str(Path(settings.BASE_DIR) / ".local" / "demo-logins.txt"),
            help="where to write the demo URLs and logins (make run prints it)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Commands run untranslated by default; alert titles and mails stored now
        # should read as they would when raised by the workers (the site language).
        translation.activate(settings.LANGUAGE_CODE)
        ensure_public_tenant()
        ensure_template_schema()
        ctx = AuditContext.system("manage.py seed_demo")
        lines = [f"Staff console  {public_origin()}/  {STAFF_EMAIL} / {DEMO_PASSWORD}"]
        with transaction.atomic():
            self._ensure_user(
                STAFF_EMAIL, "MSP サポート", role=Role.VIEWER, is_staff=True
            )
            # The demo staff member administers the console (staff team included).
            User.objects.filter(email=STAFF_EMAIL, staff_role="").update(
                staff_role=StaffRole.ADMIN
            )
        for slug, name, plan, owner, viewer, corporate in DEMO_TENANTS:
            tenant = Customer.objects.filter(schema_name=slug).first()
            if tenant is None:
                tenant, _ = tenant_create(
                    ctx=ctx,
                    name=name,
                    slug=slug,
                    owner_email=owner,
                    plan=plan,
                    corporate_number=corporate,
                    billing_contact_email=owner,
                )
            with schema_context(tenant.schema_name):
                self._accept(ctx, owner, "管理 太郎")
                if viewer:
                    if not User.objects.filter(email=viewer).exists():
                        owner_ctx = AuditContext(
                            actor_id=User.objects.get(email=owner).pk,
                            actor_email=owner,
                            actor_kind="user",
                            role=Role.OWNER,
                        )
                        if (
                            not Invitation.objects.pending()
                            .filter(email=viewer)
                            .exists()
                        ):
                            invitation_create(
                                ctx=owner_ctx, email=viewer, role=Role.VIEWER
                            )
                    self._accept(ctx, viewer, "閲覧 花子")
            origin = tenant_origin(tenant)
            lines.append(f"{name}  {origin}/  {owner} / {DEMO_PASSWORD}")
            if viewer:
                lines.append(f"{name}  {origin}/  {viewer} / {DEMO_PASSWORD} (viewer)")
        self._seed_mail(verbose=options["verbosity"] > 1)
        out = Path(options["logins_file"])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        for line in lines:
            self.stdout.write(line)

    def _seed_mail(self, *, verbose: bool) -> None:
        """ACS resources, domains, history, campaigns and caps (emulator only)."""
        from tenants.demo_mail import seed_mail_demo

        started = time.monotonic()

        def log(line: str) -> None:
            if verbose:
                self.stdout.write(f"  [{time.monotonic() - started:5.1f}s] {line}")

        try:
            skipped = seed_mail_demo(log)
        except Exception as exc:  # noqa: BLE001 - a demo must never stop `make run`
            if verbose:
                self.stderr.write(traceback.format_exc())
            skipped = f"{exc.__class__.__name__}: {str(exc)[:300]}"
        if skipped:
            self.stdout.write(f"Mail demo data skipped: {skipped}.")
        else:
            self.stdout.write(
                f"Mail demo data ready ({time.monotonic() - started:.1f}s)."
            )

    def _accept(self, ctx: AuditContext, email: str, full_name: str) -> None:
        if User.objects.filter(email=email).exists():
            return
        invitation = Invitation.objects.pending().get(email=email)
        invitation_accept(
            ctx=ctx, invitation=invitation, full_name=full_name, password=DEMO_PASSWORD
        )

    def _ensure_user(self, email: str, name: str, *, role: str, is_staff: bool) -> None:
        user, created = User.objects.get_or_create(
            email=email,
            defaults={"full_name": name, "role": role, "is_staff": is_staff},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
            EmailAddress.objects.create(
                user=user, email=email, verified=True, primary=True
            )
