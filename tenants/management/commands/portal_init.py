from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tenants.services import ensure_public_tenant, ensure_template_schema


class Command(BaseCommand):
    help = "Create the public tenant, its host and the tenant template schema (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        public = ensure_public_tenant()
        created = ensure_template_schema()
        self.stdout.write(
            f"public tenant ok ({public.domains.first()}); "
            f"template schema {'created' if created else 'ok'}"
        )
