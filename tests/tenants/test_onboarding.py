"""The tenant onboarding wizard (issue 7 item 5): steps, roles, atomicity,
idempotent submit and audit rows. Tasks are captured on commit, not run; the real
worker runs them in tests/browser/test_console_journey.py and tests/integration."""

from __future__ import annotations

import re
import threading
from datetime import date

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists

from billing.models import Contract, PlanAssignment
from mailops.models import AcsFootprint
from tenants import onboarding
from tenants.accounts.audit import AuditContext
from tenants.accounts.models import AuditEvent, Invitation, User
from tenants.models import Customer, Domain
from tests.billing.conftest import ensure_seed
from tests.conftest import TOTP_SECRET, client_for

SLUG = "gamma-shoji"
SCHEMA = "gamma_shoji"
# A real 法人番号 (check digit 1 over 180301018771).
CORPORATE_NUMBER = "1180301018771"

COMPANY = {
    "name": "ガンマ商事株式会社",
    "slug": SLUG,
    "billing_contact_name": "経理 花子",
    "billing_contact_email": "keiri@gamma.example",
    "corporate_number": CORPORATE_NUMBER,
}
PLAN = {
    "plan": "standard",
    "start_date": "2026-12-01",
    "fx_policy": "month_average",
    "fx_rate_type": "TTM",
    "fixed_rate": "",
}
ACS = {
    "provision_now": "on",
    "with_managed_domain": "on",
    "subscription_id": "",
    "resource_group": "",
}
OWNER = {"owner_email": "Boss@Gamma.example", "owner_language": "ja"}
ASSESSMENT = {
    "start_assessment": "on",
    "licenses": "120",
    "mailboxes": "80",
    "devices": "6",
    "daily_external": "3000",
    "uses_smtp_auth": "on",
}
ANSWERS = [
    ("company", COMPANY),
    ("plan", PLAN),
    ("acs", ACS),
    ("owner", OWNER),
    ("assessment", ASSESSMENT),
]


def _staff(email: str, staff_role: str) -> User:
    connection.set_schema_to_public()
    user = User.objects.create_user(
        email, "x" * 12, is_staff=True, staff_role=staff_role, full_name=email
    )
    TOTP.activate(user, TOTP_SECRET)
    return user


@pytest.fixture
def plans(personas):
    """Billing's seeded plans (transactional tests elsewhere may have flushed them)."""
    ensure_seed()


@pytest.fixture
def admin_client(plans) -> Client:
    return client_for("localhost", _staff("boss@msp.example", "admin"))


def _step(client: Client, step: str, data: dict, status: int = 302):
    response = client.post(f"/staff/onboarding/{step}/", data)
    assert response.status_code == status, response.content.decode()[:2000]
    return response


def _fill_all(client: Client) -> None:
    for step, data in ANSWERS:
        _step(client, step, data)


def _submission(client: Client) -> str:
    page = client.get("/staff/onboarding/review/").content.decode()
    return re.search(r'name="submission" value="([^"]+)"', page).group(1)


def _create(client: Client, submission: str):
    """Press 作成 on the review page."""
    return client.post("/staff/onboarding/review/", {"submission": submission})


def _errors(response) -> str:
    return response.content.decode()


def _nothing_created() -> None:
    connection.set_schema_to_public()
    assert not schema_exists(SCHEMA)
    assert not Customer.objects.filter(schema_name=SCHEMA).exists()
    assert not Domain.objects.filter(domain=f"{SLUG}.localhost").exists()
    assert not Contract.objects.filter(tenant__schema_name=SCHEMA).exists()
    assert not AuditEvent.objects.filter(
        action__in=["tenant.create", "tenant.onboard", "billing.contract_save"]
    ).exists()


# --- steps and their validation ------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "  ", "このフィールドは必須です。"),
        ("slug", "Gamma_Shoji", "3〜32 文字"),
        ("slug", "admin", "この識別子は予約されているため使えません。"),
        ("slug", "alpha", "この識別子はすでに使われています。"),
        (
            "corporate_number",
            "118030101877",
            "法人番号は 13 桁の数字で入力してください。",
        ),
        (
            "corporate_number",
            "2180301018771",
            "法人番号のチェックディジットが一致しません",
        ),
        ("billing_contact_email", "keiri@", "有効なメールアドレスを入力してください。"),
    ],
)
def test_company_step_refuses_bad_answers_in_japanese(
    admin_client, field, value, message
):
    # when
    response = _step(admin_client, "company", {**COMPANY, field: value}, status=400)
    # then: the message is Japanese and nothing is stored or created
    assert message in _errors(response)
    assert "onboarding_wizard" not in admin_client.session
    _nothing_created()


def test_corporate_number_accepts_full_width_digits(admin_client):
    _step(
        admin_client,
        "company",
        {**COMPANY, "corporate_number": "１１８０３０１０１８７７１"},
    )
    _fill_all(admin_client)
    page = admin_client.get("/staff/onboarding/review/").content.decode()
    assert f'data-field="corporate_number">{CORPORATE_NUMBER}<' in page


def test_steps_cannot_be_skipped(admin_client):
    response = admin_client.get("/staff/onboarding/owner/")
    assert response.status_code == 302
    assert response["Location"] == "/staff/onboarding/company/"
    response = admin_client.get("/staff/onboarding/review/")
    assert response["Location"] == "/staff/onboarding/company/"


def test_plan_step_needs_a_rate_for_a_fixed_policy(admin_client):
    _step(admin_client, "company", COMPANY)
    response = _step(admin_client, "plan", {**PLAN, "fx_policy": "fixed"}, status=400)
    assert "固定レートの契約では固定レートを入力してください。" in _errors(response)
    _step(admin_client, "plan", {**PLAN, "fx_policy": "fixed", "fixed_rate": "150.25"})


def test_acs_step_prefills_settings_defaults_and_checks_names(admin_client, settings):
    _step(admin_client, "company", COMPANY)
    _step(admin_client, "plan", PLAN)
    page = admin_client.get("/staff/onboarding/acs/").content.decode()
    assert f'value="rg-mail-{SLUG}"' in page
    assert f'value="{settings.AZURE_SUBSCRIPTION_ID}"' in page
    response = _step(
        admin_client,
        "acs",
        {**ACS, "subscription_id": "not-a-guid", "resource_group": "rg."},
        status=400,
    )
    text = _errors(response)
    assert "サブスクリプション ID は" in text
    assert "末尾にピリオドは使えません" in text


def test_owner_and_assessment_steps_validate(admin_client):
    for step, data in ANSWERS[:3]:
        _step(admin_client, step, data)
    response = _step(
        admin_client, "owner", {**OWNER, "owner_email": "boss"}, status=400
    )
    assert "有効なメールアドレスを入力してください。" in _errors(response)
    _step(admin_client, "owner", OWNER)
    response = _step(
        admin_client,
        "assessment",
        {"start_assessment": "on", "licenses": "", "mailboxes": "80"},
        status=400,
    )
    assert "診断にはこの値が必要です。" in _errors(response)
    # without the assessment nothing else is needed
    _step(admin_client, "assessment", {})


def test_back_keeps_the_answers(admin_client):
    _step(admin_client, "company", COMPANY)
    page = admin_client.get("/staff/onboarding/plan/").content.decode()
    # the Back button goes to the previous step, which shows what was entered
    assert 'href="/staff/onboarding/company/">戻る</a>' in page
    company = admin_client.get("/staff/onboarding/company/").content.decode()
    assert 'value="ガンマ商事株式会社"' in company
    assert f'value="{SLUG}"' in company


def test_a_tampered_session_restarts_the_wizard(admin_client):
    _step(admin_client, "company", COMPANY)
    session = admin_client.session
    session["onboarding_wizard"] = session["onboarding_wizard"][:-3] + "xyz"
    session.save()
    response = admin_client.get("/staff/onboarding/plan/")
    assert response["Location"] == "/staff/onboarding/company/"


def test_review_shows_everything_and_creates_nothing(admin_client):
    _fill_all(admin_client)
    page = admin_client.get("/staff/onboarding/review/").content.decode()
    for shown in (
        "ガンマ商事株式会社",
        SLUG,
        "スタンダードプラン",
        "2026-12-01",
        "boss@gamma.example",
        "日本語",
        "3000",
    ):
        assert shown in page
    assert "作成" in page
    _nothing_created()


# --- the submit ------------------------------------------------------------------------


def test_submit_creates_tenant_contract_acs_request_invitation_and_audit(
    admin_client, django_capture_on_commit_callbacks
):
    # given
    _fill_all(admin_client)
    submission = _submission(admin_client)
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = _create(admin_client, submission)
    # then
    tenant = Customer.objects.get(schema_name=SCHEMA)
    assert response.status_code == 302
    assert response["Location"] == f"/staff/tenants/{tenant.pk}/onboarding/"
    assert (tenant.name, tenant.plan, tenant.corporate_number) == (
        "ガンマ商事株式会社",
        "standard",
        CORPORATE_NUMBER,
    )
    contract = Contract.objects.get(tenant=tenant)
    assert (str(contract.start_date), contract.fx_policy, contract.fixed_rate) == (
        "2026-12-01",
        "month_average",
        None,
    )
    assert list(
        PlanAssignment.objects.filter(tenant=tenant).values_list(
            "plan__code", "effective_from"
        )
    ) == [("standard", contract.start_date)]
    # the ACS request and the owner invitation are queued after commit (2 tasks)
    assert len(callbacks) == 2
    with schema_context(SCHEMA):
        fp = AcsFootprint.objects.get()
        assert (fp.state, fp.with_managed_domain, fp.resource_group) == (
            "pending",
            True,
            f"rg-mail-{SLUG}",
        )
        assert list(Invitation.objects.values_list("email", "role", "language")) == [
            ("boss@gamma.example", "owner", "ja")
        ]
        tenant_events = list(
            AuditEvent.objects.order_by("pk").values_list("action", "actor_email")
        )
    assert tenant_events == [
        ("invitation.create", "boss@msp.example"),
        ("acs.request", "boss@msp.example"),
        ("tenant.onboard", "boss@msp.example"),
    ]
    staff_events = list(
        AuditEvent.objects.filter(
            action__in=["tenant.create", "billing.contract_save", "tenant.onboard"]
        )
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert staff_events == ["tenant.create", "billing.contract_save", "tenant.onboard"]
    record = AuditEvent.objects.get(action="tenant.onboard")
    assert record.after["submission"] == submission
    assert record.after["assessment"] == {
        "licenses": 120,
        "mailboxes": 80,
        "devices": 6,
        "daily_external": 3000,
        "uses_smtp_auth": "on",
    }
    # and the wizard's state is gone from the session
    assert "onboarding_wizard" not in admin_client.session


def test_double_submit_creates_one_tenant(
    admin_client, django_capture_on_commit_callbacks
):
    _fill_all(admin_client)
    submission = _submission(admin_client)
    with django_capture_on_commit_callbacks() as callbacks:
        first = _create(admin_client, submission)
        # a refresh / second click re-posts the same submission id
        second = _create(admin_client, submission)
    assert first["Location"] == second["Location"]
    assert Customer.objects.filter(schema_name=SCHEMA).count() == 1
    assert AuditEvent.objects.filter(action="tenant.create").count() == 1
    assert len(callbacks) == 2


def test_the_service_is_idempotent_per_submission(admin_client, personas):
    _fill_all(admin_client)
    request = onboarding.OnboardingRequest(
        name="ガンマ商事株式会社",
        slug=SLUG,
        owner_email="boss@gamma.example",
        plan_code="lite",
        start_date=date(2026, 12, 1),
    )
    ctx = _admin_ctx()
    first, created = onboarding.tenant_onboard(
        ctx=ctx, request=request, submission_id="same"
    )
    again, created_again = onboarding.tenant_onboard(
        ctx=ctx, request=request, submission_id="same"
    )
    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert Customer.objects.filter(schema_name=SCHEMA).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submits_create_one_tenant(plans):
    # given: two requests with the same submission id arrive together (double click)
    request = onboarding.OnboardingRequest(
        name="ガンマ商事株式会社",
        slug=SLUG,
        owner_email="boss@gamma.example",
        plan_code="lite",
        start_date=date(2026, 12, 1),
        provision_acs=False,  # no Azure here; the journey test provisions for real
    )
    barrier = threading.Barrier(2)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            barrier.wait(timeout=10)
            tenant, created = onboarding.tenant_onboard(
                ctx=_admin_ctx(), request=request, submission_id="double-click"
            )
            results.append((tenant.pk, created))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        # then: one created it, the other waited and got the same tenant
        assert errors == []
        assert sorted(created for _pk, created in results) == [False, True]
        assert len({pk for pk, _created in results}) == 1
        assert Customer.objects.filter(schema_name=SCHEMA).count() == 1
        assert AuditEvent.objects.filter(action="tenant.create").count() == 1
    finally:
        # A committed schema outlives the flush of a transactional test.
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')


def _admin_ctx() -> AuditContext:
    return AuditContext(
        actor_email="boss@msp.example", actor_kind="staff", is_staff=True
    )


def test_a_failing_plan_step_leaves_no_half_created_tenant(
    admin_client, monkeypatch, django_capture_on_commit_callbacks
):
    # given: the plan/contract step fails after the tenant and its schema exist
    def boom(**kwargs):
        raise RuntimeError("billing database unavailable")

    monkeypatch.setattr(onboarding.billing_settings, "contract_save", boom)
    _fill_all(admin_client)
    submission = _submission(admin_client)
    # when
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
    ):
        _create(admin_client, submission)
    # then: no schema, tenant, domain, contract, audit row or queued task
    _nothing_created()
    assert callbacks == []


def test_a_slug_taken_meanwhile_sends_staff_back_to_the_company_step(admin_client):
    _fill_all(admin_client)
    submission = _submission(admin_client)
    Domain.objects.create(
        domain=f"{SLUG}.localhost", tenant=Customer.objects.get(schema_name="alpha")
    )
    response = _create(admin_client, submission)
    assert response["Location"] == "/staff/onboarding/company/"
    assert not Customer.objects.filter(schema_name=SCHEMA).exists()


# --- roles ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/staff/onboarding/", "/staff/onboarding/company/", "/staff/onboarding/review/"],
)
def test_only_staff_administrators_reach_the_wizard(personas, plans, path):
    billing = client_for("localhost", _staff("ledger@msp.example", "billing"))
    support = client_for("localhost", _staff("helpdesk@msp.example", "support"))
    # the staff persona has no staff role, which counts as support
    persona = client_for("localhost", personas.staff)
    for client in (billing, support, persona):
        assert client.get(path).status_code == 403
        assert client.post(path, COMPANY).status_code == 403
    # anonymous: sign in first
    anonymous = Client(HTTP_HOST="localhost").get(path)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    _nothing_created()


def test_customer_users_never_reach_the_wizard(owner_a_client, personas, plans):
    # on their own host the console does not exist
    assert owner_a_client.get("/staff/onboarding/company/").status_code == 404
    assert owner_a_client.post("/staff/onboarding/company/", COMPANY).status_code == 404
    # their tenant session means nothing on the public host
    public = Client(HTTP_HOST="localhost")
    public.cookies = owner_a_client.cookies
    response = public.post("/staff/onboarding/company/", COMPANY)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    _nothing_created()


# --- progress ------------------------------------------------------------------------


def _created(admin_client) -> Customer:
    _fill_all(admin_client)
    _create(admin_client, _submission(admin_client))
    return Customer.objects.get(schema_name=SCHEMA)


def test_progress_shows_each_step_and_polls_while_pending(admin_client):
    tenant = _created(admin_client)
    page = admin_client.get(f"/staff/tenants/{tenant.pk}/onboarding/").content.decode()
    assert 'data-step="schema" data-state="done"' in page
    assert 'data-step="plan" data-state="done"' in page
    assert 'data-step="acs" data-state="wait"' in page
    assert 'data-step="invitation" data-state="wait"' in page
    assert 'hx-trigger="every 2s"' in page
    assert (
        "/assessment/?licenses=120&amp;mailboxes=80&amp;devices=6"
        "&amp;daily_external=3000&amp;uses_smtp_auth=on"
    ) in page
    # htmx asks for the fragment only
    fragment = admin_client.get(
        f"/staff/tenants/{tenant.pk}/onboarding/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert fragment.lstrip().startswith('<div id="progress"')


def test_failed_provisioning_shows_the_error_and_a_retry(
    admin_client, personas, django_capture_on_commit_callbacks
):
    tenant = _created(admin_client)
    with schema_context(SCHEMA):
        AcsFootprint.objects.update(
            state="failed",
            completed_steps=["email_service"],
            last_error="ARM 403 AuthorizationFailed",
        )
        Invitation.objects.update(sent_at=timezone.now())
    page = admin_client.get(f"/staff/tenants/{tenant.pk}/onboarding/").content.decode()
    assert 'data-step="acs" data-state="failed"' in page
    assert "ARM 403 AuthorizationFailed" in page
    assert 'data-acs-step="managed_domain" data-state="failed"' in page
    assert 'id="acs-retry"' in page
    assert 'data-polling="0"' in page
    # support staff may retry; the flow is queued again
    support = client_for("localhost", personas.staff)
    with django_capture_on_commit_callbacks() as callbacks:
        response = support.post(f"/staff/tenants/{tenant.pk}/onboarding/acs/")
    assert response.status_code == 302
    assert len(callbacks) == 1
    with schema_context(SCHEMA):
        assert AcsFootprint.objects.get().state == "pending"
        assert AuditEvent.objects.filter(action="acs.retry").count() == 1


def test_billing_staff_cannot_retry_provisioning(admin_client, personas):
    tenant = _created(admin_client)
    billing = client_for("localhost", _staff("ledger@msp.example", "billing"))
    assert billing.get(f"/staff/tenants/{tenant.pk}/onboarding/").status_code == 403
    assert (
        billing.post(f"/staff/tenants/{tenant.pk}/onboarding/acs/").status_code == 403
    )
