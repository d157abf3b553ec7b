"""Project-wide fixtures: the test database with two tenants and their personas.

Personas (STYLE §8): owner and viewer of tenant A, owner of tenant B, and an MSP
staff user in the public schema. Tenants are created once per session; transactional
tests truncate public tables, so ``personas`` re-creates missing registry rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

PASSWORD = "Correct-horse-battery-9"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
TENANT_A = "alpha"
TENANT_B = "beta"


@dataclass
class Personas:
    tenant_a: object
    tenant_b: object
    owner_a: object
    viewer_a: object
    owner_b: object
    staff: object

    host_a: str = "alpha.localhost"
    host_b: str = "beta.localhost"
    public_host: str = "localhost"


def _ensure_user(email: str, role: str, *, staff: bool = False, mfa: bool = True):
    from tenants.accounts.models import User

    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email, PASSWORD, role=role, is_staff=staff, full_name=email.split("@")[0]
        )
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        if mfa:
            TOTP.activate(user, TOTP_SECRET)
    return user


def _ensure_tenant(slug: str, name: str):
    from tenants.models import Customer, Domain

    tenant = Customer.objects.filter(schema_name=slug).first()
    if tenant is None:
        # The schema survives a transactional test's flush; only the rows go.
        tenant = Customer(schema_name=slug, name=name)
        tenant.save()
        connection.set_schema_to_public()
    Domain.objects.get_or_create(
        domain=f"{slug}.localhost", defaults={"tenant": tenant, "is_primary": True}
    )
    return tenant


def ensure_personas() -> Personas:
    from tenants.services import ensure_public_tenant

    connection.set_schema_to_public()
    ensure_public_tenant()
    tenant_a = _ensure_tenant(TENANT_A, "株式会社アルファ")
    tenant_b = _ensure_tenant(TENANT_B, "ベータ商事株式会社")
    staff = _ensure_user("staff@msp.example", "viewer", staff=True)
    with schema_context(TENANT_A):
        owner_a = _ensure_user("owner@alpha.example", "owner")
        viewer_a = _ensure_user("viewer@alpha.example", "viewer", mfa=False)
    with schema_context(TENANT_B):
        owner_b = _ensure_user("owner@beta.example", "owner")
    return Personas(tenant_a, tenant_b, owner_a, viewer_a, owner_b, staff)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from tenants.services import ensure_template_schema

    with django_db_blocker.unblock():
        ensure_template_schema()
        ensure_personas()
    yield


# Tables whose rows are part of the schema, not test data.
_KEEP_TABLES = ("django_migrations", "django_content_type", "auth_permission")


def _truncate_tenant_schemas() -> None:
    """Transactional tests commit for real, and pytest-django's flush only empties the
    public schema: empty the persona tenants' schemas too, so no rows leak into
    later tests (personas are re-created on demand)."""
    with connection.cursor() as cursor:
        for schema in (TENANT_A, TENANT_B):
            cursor.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema]
            )
            tables = [t for (t,) in cursor.fetchall() if t not in _KEEP_TABLES]
            if tables:
                names = ", ".join(f'"{schema}"."{t}"' for t in tables)
                cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(autouse=True)
def _public_schema_after_test(request) -> Iterator[None]:
    yield
    if connection.connection is not None or connection.schema_name != "public":
        connection.set_schema_to_public()
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        _truncate_tenant_schemas()


@pytest.fixture
def personas(db) -> Personas:
    return ensure_personas()


def client_for(host: str, user=None, *, schema: str | None = None) -> Client:
    """A test client on ``host``, signed in as ``user`` (session in its schema)."""
    client = Client(HTTP_HOST=host)
    if user is not None:
        with schema_context(schema or "public"):
            client.force_login(
                user, backend="django.contrib.auth.backends.ModelBackend"
            )
    return client


@pytest.fixture
def owner_a_client(personas: Personas) -> Client:
    return client_for(personas.host_a, personas.owner_a, schema=TENANT_A)


@pytest.fixture
def viewer_a_client(personas: Personas) -> Client:
    return client_for(personas.host_a, personas.viewer_a, schema=TENANT_A)


@pytest.fixture
def billing_a_client(personas: Personas) -> Client:
    """A billing-role member of tenant A (no TOTP: billing users need none)."""
    with schema_context(TENANT_A):
        user = _ensure_user("billing@alpha.example", "billing", mfa=False)
    return client_for(personas.host_a, user, schema=TENANT_A)


@pytest.fixture
def owner_b_client(personas: Personas) -> Client:
    return client_for(personas.host_b, personas.owner_b, schema=TENANT_B)


@pytest.fixture
def staff_client(personas: Personas) -> Client:
    return client_for(personas.public_host, personas.staff, schema="public")


def mfa_count(schema: str) -> int:
    with schema_context(schema):
        return Authenticator.objects.count()


@pytest.fixture(scope="session")
def azure_emulator(tmp_path_factory):
    """One emulator process per test session (HTTPS, SMTP and DNS on free ports)."""
    from emulator.testing import start_emulator

    emu = start_emulator(tmp_path_factory.mktemp("emulator-state"))
    # Poll long-running operations every few milliseconds instead of every second.
    emu.admin("/config", "POST", {"retry_after_ms": 20})
    yield emu
    emu.stop()


@pytest.fixture
def emulator_settings(azure_emulator, settings):
    """Point the single Azure adapter at the test emulator (settings only)."""
    from portal.integrations.azure import client

    url = azure_emulator.url.rstrip("/")
    settings.AZURE_TARGET = "emulator"
    settings.AZURE_EMULATOR_URL = url
    settings.AZURE_AUTHORITY = url
    settings.AZURE_ARM_URL = url
    settings.AZURE_GRAPH_URL = url
    settings.AZURE_LOGS_URL = url
    settings.AZURE_METRICS_URL = url
    settings.AZURE_CA_BUNDLE = str(azure_emulator.ca_path)
    settings.AZURE_DISABLE_INSTANCE_DISCOVERY = True
    settings.DNS_NAMESERVERS = ["127.0.0.1"]
    settings.DNS_PORT = azure_emulator.dns_port
    settings.ACS_SMTP_HOST = "127.0.0.1"
    settings.ACS_SMTP_PORT = azure_emulator.smtp_port
    client.reset_clients()
    yield azure_emulator
    client.reset_clients()


@pytest.fixture
def english(settings):
    """Run a test in English (its assertions quote the English UI copy)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
