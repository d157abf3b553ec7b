from __future__ import annotations

import getpass
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_tenants.utils import schema_context

from tenants.accounts.audit import AuditContext, audit_record
from tenants.accounts.models import User


class Command(BaseCommand):
    help = "Create an MSP staff user in the public schema (TOTP is enrolled at first sign-in)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="")
        parser.add_argument("--superuser", action="store_true")
        parser.add_argument(
            "--role", default="admin", choices=["admin", "support", "billing"]
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"].strip().lower()
        password = getpass.getpass("Password: ")
        with schema_context("public"), transaction.atomic():
            if User.objects.filter(email=email).exists():
                raise CommandError(f"{email} already exists")
            user = User(
                email=email,
                full_name=options["name"],
                is_staff=True,
                staff_role=options["role"],
                is_superuser=options["superuser"],
            )
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            user.set_password(password)
            user.save()
            EmailAddress.objects.create(
                user=user, email=email, verified=True, primary=True
            )
            audit_record(
                ctx=AuditContext.system("manage.py create_staff"),
                action="staff.create",
                target=user,
                after={"email": email, "superuser": options["superuser"]},
            )
        self.stdout.write(
            f"staff user {email} created; they enrol TOTP at first sign-in"
        )
