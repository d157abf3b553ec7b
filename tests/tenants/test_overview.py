"""Staff overview of all tenants: filters, sorting, constant queries, access."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tenants.accounts.models import User
from tenants.models import Customer, TenantSummary
from tests.conftest import PASSWORD, client_for

URL = "/staff/tenants/"


def _make_tenants(n: int, prefix: str = "bulk") -> list[Customer]:
    """``n`` registry rows without schemas (fast), each with a summary."""
    tenants = Customer.objects.bulk_create(
        [
            Customer(
                schema_name=f"{prefix}{i:04d}",
                name=f"{prefix.title()} {i:04d}",
                plan=Customer.Plan.LITE if i % 2 else Customer.Plan.STANDARD,
            )
            for i in range(n)
        ]
    )
    TenantSummary.objects.bulk_create(
        [
            TenantSummary(
                tenant=t,
                volume_7d=i * 10,
                bounce_rate=Decimal(i % 7),
                projected_charge_jpy=i * 100,
                open_alerts=i % 3,
                domains_dns_broken=1 if i % 5 == 0 else 0,
                credentials_expiring_60=1 if i % 4 == 0 else 0,
                credentials_expiring_7=1 if i % 8 == 0 else 0,
                refreshed_at=timezone.now(),
            )
            for i, t in enumerate(tenants)
        ]
    )
    return tenants


@pytest.fixture
def small_registry(personas):
    # given: five tenants with distinct figures (and alpha/beta without summaries)
    rows = [
        ("ss-a", "Aoi Trading", "lite", 500, "1.50", 30000, 0, 0, 0, 0),
        ("ss-b", "Bunka Print", "standard", 9000, "0.20", 120000, 2, 1, 0, 0),
        ("ss-c", "Chiba Clinic", "premium", 100, "7.25", 5000, 1, 0, 1, 1),
        ("ss-d", "Daito Logistics", "standard", 42000, "3.00", 480000, 0, 0, 0, 0),
        ("ss-e", "Eda Foods", "lite", 0, None, 0, 0, 0, 0, 0),
    ]
    tenants = {}
    for slug, name, plan, vol, bounce, charge, alerts, dns, exp7, expired in rows:
        tenant = Customer(schema_name=slug, name=name, plan=plan)
        tenant.auto_create_schema = False
        tenant.save()
        TenantSummary.objects.create(
            tenant=tenant,
            volume_7d=vol,
            bounce_rate=Decimal(bounce) if bounce else None,
            projected_charge_jpy=charge,
            open_alerts=alerts,
            domains_dns_broken=dns,
            credentials_expiring_60=exp7,
            credentials_expiring_30=exp7,
            credentials_expiring_7=exp7,
            credentials_expired=expired,
        )
        tenants[slug] = tenant
    connection.set_schema_to_public()
    Customer.objects.filter(schema_name="ss-e").update(status=Customer.Status.SUSPENDED)
    return tenants


def _names(response) -> list[str]:
    return [t.name for t in response.context["page"].object_list]


def _ss(names: list[str]) -> list[str]:
    """Only the fixture's tenants (the persona tenants have no figures)."""
    return [n for n in names if n[0] in "ABCDE" and " " in n]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"sort": "-volume"}, ["Daito Logistics", "Bunka Print", "Aoi Trading"]),
        ({"sort": "volume"}, ["Eda Foods", "Chiba Clinic", "Aoi Trading"]),
        ({"sort": "-bounce"}, ["Chiba Clinic", "Daito Logistics", "Aoi Trading"]),
        ({"sort": "-charge"}, ["Daito Logistics", "Bunka Print", "Aoi Trading"]),
        ({"sort": "-alerts"}, ["Bunka Print", "Chiba Clinic"]),
    ],
)
def test_overview_sorting(staff_client, small_registry, params, expected):
    response = staff_client.get(URL, params)
    assert response.status_code == 200
    assert _ss(_names(response))[: len(expected)] == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"alerts": "1"}, ["Bunka Print", "Chiba Clinic"]),
        ({"dns": "1"}, ["Bunka Print"]),
        ({"expiring": "7"}, ["Chiba Clinic"]),
        ({"expiring": "expired"}, ["Chiba Clinic"]),
        ({"plan": "lite"}, ["Aoi Trading", "Eda Foods"]),
        ({"status": "suspended"}, ["Eda Foods"]),
        ({"q": "print"}, ["Bunka Print"]),
        ({"q": "ss-d"}, ["Daito Logistics"]),
        ({"plan": "lite", "status": "active"}, ["Aoi Trading"]),
    ],
)
def test_overview_filters(staff_client, small_registry, params, expected):
    response = staff_client.get(URL, params)
    assert response.status_code == 200
    assert _ss(_names(response)) == expected


def test_unknown_sort_and_filter_values_are_ignored(staff_client, small_registry):
    response = staff_client.get(
        URL, {"sort": "schema_name; DROP", "plan": "gold", "expiring": "3"}
    )
    assert response.status_code == 200
    assert response.context["query"].sort == "name"
    assert _ss(_names(response)) == [
        "Aoi Trading",
        "Bunka Print",
        "Chiba Clinic",
        "Daito Logistics",
        "Eda Foods",
    ]


def test_overview_row_shows_summary_figures(staff_client, small_registry):
    response = staff_client.get(URL, {"q": "Daito"})
    body = response.content.decode()
    assert "¥480,000" in body
    assert "42,000" in body
    assert "3.00%" in body


def test_htmx_request_renders_only_the_rows(staff_client, small_registry):
    response = staff_client.get(URL, {"q": "Aoi"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="rows">')
    assert "<html" not in body
    assert "Aoi Trading" in body


def _count_queries(client, params: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, params)
    assert response.status_code == 200
    # django-tenants sets the search path before queries; count the real ones
    return len(
        [q for q in ctx.captured_queries if not q["sql"].startswith("SET search_path")]
    )


@pytest.mark.parametrize(
    "params", [{}, {"sort": "-charge", "alerts": "1"}, {"q": "q", "page": "2"}]
)
def test_overview_query_count_is_constant_10_vs_1000(staff_client, personas, params):
    # given: 10 tenants
    _make_tenants(10, "qa")
    at_10 = _count_queries(staff_client, params)
    # when: 990 more (1,000 in all, plus the persona tenants)
    _make_tenants(990, "qb")
    at_1000 = _count_queries(staff_client, params)
    # then
    assert Customer.objects.filter(schema_name__regex=r"^q[ab]").count() == 1000
    assert at_10 == at_1000
    # host → domain, session, user, MFA check, count, page, prefetch of domains
    assert at_1000 == 7


def test_page_size_is_50(staff_client, personas):
    _make_tenants(120, "pg")
    response = staff_client.get(URL, {"q": "pg"})
    page = response.context["page"]
    assert len(page.object_list) == 50
    assert page.paginator.count == 120
    assert page.paginator.num_pages == 3


# --- access: customer users never reach the staff console --------------------------

STAFF_PAGES = ["/staff/tenants/", "/staff/alerts/", "/staff/audit/"]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_tenant_user_on_tenant_host_gets_404(owner_a_client, path):
    assert owner_a_client.get(path).status_code == 404


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_anonymous_on_public_host_is_sent_to_login(personas, path):
    response = client_for(personas.public_host).get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_non_staff_public_user_gets_403(personas, path):
    user = User.objects.filter(email="clerk@msp.example").first()
    if user is None:
        user = User.objects.create_user(
            "clerk@msp.example", PASSWORD, role="viewer", is_staff=False
        )
    client = client_for(personas.public_host, user, schema="public")
    assert client.get(path).status_code == 403


def test_tenant_session_is_anonymous_on_public_host(personas, owner_a_client):
    # a tenant user's session cookie means nothing on the public host
    client = client_for(personas.public_host)
    client.cookies = owner_a_client.cookies
    response = client.get("/staff/tenants/")
    assert response.status_code == 302
