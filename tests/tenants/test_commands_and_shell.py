from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.accounts.models import Invitation, User
from tenants.models import Customer, Domain
from tenants.tasks import invitations_expire_all_task


def test_seed_demo_is_idempotent(personas, tmp_path, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # Users and tenants only: the mail demo data (emulator) is
    # tests/tenants/test_seed_demo.py's; never reach a developer's emulator.
    settings.AZURE_TARGET = "azure"
    logins = tmp_path / "logins.txt"
    call_command("seed_demo", logins_file=str(logins))
    first = logins.read_text()
    counts = {}
    for slug in ("sakura", "fuji", "minato"):
        with schema_context(slug):
            counts[slug] = User.objects.count()
    call_command("seed_demo", logins_file=str(logins))
    connection.set_schema_to_public()
    assert logins.read_text() == first
    assert "http://sakura.localhost:8000/" in first
    assert "staff@kakehashi.example" in first
    assert User.objects.get(email="staff@kakehashi.example").staff_role == "admin"
    assert (
        Customer.objects.filter(schema_name__in=["sakura", "fuji", "minato"]).count()
        == 3
    )
    for slug, count in counts.items():
        with schema_context(slug):
            assert User.objects.count() == count
            assert User.objects.filter(role="owner").count() == 1
    assert counts == {"sakura": 2, "fuji": 2, "minato": 1}
    with schema_context("sakura"):
        assert Customer.objects.get(schema_name="sakura").name == "株式会社さくら精機"


def test_expiry_fan_out_revokes_only_expired(personas, settings):
    with schema_context("alpha"):
        fresh = Invitation.objects.create(
            email="fresh@alpha.example",
            role="viewer",
            expires_at=timezone.now() + timedelta(days=1),
        )
        stale = Invitation.objects.create(
            email="stale@alpha.example",
            role="viewer",
            expires_at=timezone.now() - timedelta(days=1),
        )
    assert invitations_expire_all_task.delay().get() >= 2  # alpha and beta at least
    with schema_context("alpha"):
        assert Invitation.objects.get(pk=stale.pk).revoked_at is not None
        assert Invitation.objects.get(pk=fresh.pk).revoked_at is None


def test_htmx_is_served_locally(personas):
    page = Client(HTTP_HOST="localhost").get("/").content.decode()
    assert "/static/django_htmx/htmx" in page or "/static/django-htmx/htmx" in page
    for cdn in ("unpkg.com", "cdn.jsdelivr", "cdnjs"):
        assert cdn not in page


def _queries(client, path: str) -> int:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_member_list_query_count_is_constant(owner_a_client, personas):
    baseline = _queries(owner_a_client, "/members/")
    with schema_context("alpha"):
        for i in range(5):
            User.objects.create_user(f"m{i}@alpha.example", "x" * 12, role="viewer")
            Invitation.objects.create(
                email=f"i{i}@alpha.example",
                role="viewer",
                expires_at=timezone.now() + timedelta(days=1),
            )
    assert _queries(owner_a_client, "/members/") == baseline
    # django-tenants sets search_path before each query, so 7 queries count as 14.
    assert baseline <= 14


def test_tenant_list_query_count_is_constant(staff_client):
    baseline = _queries(staff_client, "/staff/tenants/")
    for slug in ("q1", "q2", "q3"):
        tenant = Customer(schema_name=slug, name=slug, status="suspended")
        tenant.auto_create_schema = False  # registry rows are all the list reads
        tenant.save()
        Domain.objects.create(domain=f"{slug}.localhost", tenant=tenant)
    assert _queries(staff_client, "/staff/tenants/") == baseline
    assert baseline <= 14
