"""Onboarding a tenant from the staff console: the wizard's one write and the reads
behind its progress page.

``tenant_onboard`` creates everything in one transaction: the tenant (schema, host,
owner invitation) through ``tenant_create``, its billing contract and plan
assignment, the ACS footprint request and the audit rows. A failure at any step
rolls all of it back, including the queued tasks, which are sent only on commit
(``portal.tasks.enqueue_on_commit``). A submission id makes the call idempotent: a
second call with the same id returns the tenant of the first.

The console is where the apps meet, so this module reads and writes billing and
mail operations through their own services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context, schema_exists

from billing.models import Contract, Plan, PlanAssignment
from billing.services import settings as billing_settings
from billing.services.tnumber import check_digit, normalize
from mailops.models import AcsFootprint
from mailops.services import footprint as footprint_services
from portal.errors import ServiceError
from tenants import services as tenant_services
from tenants.accounts.audit import AuditContext, audit_record
from tenants.accounts.models import AuditEvent, Invitation
from tenants.accounts.roles import Role
from tenants.hosts import tenant_host, tenant_origin
from tenants.models import Customer, Domain

ONBOARD_ACTION = "tenant.onboard"
# The progress page stops polling this long after the creation: whatever is still
# pending by then is a failure for staff to look at, not something to wait for.
POLL_WINDOW = timedelta(minutes=15)
# The query parameters of billing's assessment page, in its form's order.
ASSESSMENT_FIELDS = (
    "licenses",
    "trial",
    "mailboxes",
    "devices",
    "daily_external",
    "uses_smtp_auth",
)


@dataclass(frozen=True)
class OnboardingRequest:
    """Everything the wizard collected, already validated by its forms."""

    name: str
    slug: str
    owner_email: str
    plan_code: str
    start_date: date
    billing_contact_name: str = ""
    billing_contact_email: str = ""
    corporate_number: str = ""
    fx_policy: str = Contract.FxPolicy.PREV_MONTH_END
    fx_rate_type: str = "TTM"
    fixed_rate: Decimal | None = None
    provision_acs: bool = True
    with_managed_domain: bool = True
    subscription_id: str = ""
    resource_group: str = ""
    owner_language: str = "ja"
    # Prefill for billing's Exchange Online assessment; None when not wanted.
    assessment: dict[str, Any] | None = None


def slug_check(raw: str) -> str:
    """Normalise a tenant identifier and check it is well-formed, not reserved and
    not taken. Returns the slug; raises ServiceError(field="slug")."""
    slug = tenant_services._validate_slug(raw)
    if (
        Customer.objects.filter(schema_name=slug.replace("-", "_")).exists()
        or Domain.objects.filter(domain=tenant_host(slug)).exists()
    ):
        raise ServiceError(_("This identifier is already in use."), field="slug")
    return slug


def corporate_number_check(raw: str) -> str:
    """法人番号: 13 digits whose first digit is the check digit over the other 12.
    Full-width digits and hyphens are accepted. Returns "" for an empty input;
    raises ServiceError(field="corporate_number")."""
    value = normalize(raw)
    if not value:
        return ""
    if len(value) != 13 or not value.isdigit():
        raise ServiceError(
            _("Enter the corporate number as 13 digits."), field="corporate_number"
        )
    if int(value[0]) != check_digit(value[1:]):
        raise ServiceError(
            _(
                "The check digit of this corporate number does not match. Check for a typo."
            ),
            field="corporate_number",
        )
    return value


def onboarded_tenant(submission_id: str) -> Customer | None:
    """The tenant a wizard submission created, if it committed."""
    if not submission_id:
        return None
    event = (
        AuditEvent.objects.filter(
            action=ONBOARD_ACTION, after__submission=submission_id
        )
        .order_by("pk")
        .first()
    )
    if event is None:
        return None
    return Customer.objects.filter(pk=int(event.target_id)).first()


def tenant_onboard(
    *, ctx: AuditContext, request: OnboardingRequest, submission_id: str
) -> tuple[Customer, bool]:
    """Create the tenant, its contract and plan, request its ACS resources and
    invite its owner, all or nothing.

    Returns (tenant, created). ``created`` is False when this submission already
    created a tenant (double click, refresh): that tenant is returned and nothing
    else happens. Raises ServiceError (with ``field`` where one applies) and
    creates nothing when a step refuses; other exceptions also leave nothing.
    """
    if not ctx.is_staff:
        raise ServiceError(_("Only MSP staff can onboard tenants."))
    if not submission_id:
        raise ServiceError(_("This form has expired. Start the wizard again."))
    # Not durable, as tenant_create: the test suite wraps tests in a transaction.
    with transaction.atomic():
        connection.set_schema_to_public()
        # Hold a lock per submission until commit, so a second request with the
        # same id waits and then finds the first one's audit row.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))",
                [f"portal.tenant_onboard:{submission_id}"],
            )
        existing = onboarded_tenant(submission_id)
        if existing is not None:
            return existing, False
        plan = Plan.objects.filter(code=request.plan_code).first()
        if plan is None:
            raise ServiceError(_("Choose a plan."), field="plan")
        if request.fx_policy == Contract.FxPolicy.FIXED and not request.fixed_rate:
            raise ServiceError(
                _("Enter the fixed rate for a fixed-rate contract."),
                field="fixed_rate",
            )
        tenant, invitation = tenant_services.tenant_create(
            ctx=ctx,
            name=request.name,
            slug=request.slug,
            owner_email=request.owner_email,
            # The registry's plan field mirrors the billing plan where they share
            # a code; billing itself reads the PlanAssignment below.
            plan=plan.code
            if plan.code in Customer.Plan.values
            else Customer.Plan.STANDARD,
            billing_contact_name=request.billing_contact_name,
            billing_contact_email=request.billing_contact_email,
            corporate_number=request.corporate_number,
            owner_language=request.owner_language,
        )
        billing_settings.contract_save(
            tenant=tenant,
            data={
                "start_date": request.start_date,
                "fx_policy": request.fx_policy,
                "fx_rate_type": request.fx_rate_type,
                "fixed_rate": request.fixed_rate
                if request.fx_policy == Contract.FxPolicy.FIXED
                else None,
            },
            plan_id=plan.pk,
            plan_from=request.start_date,
            ctx=ctx,
        )
        summary = {
            "plan": plan.code,
            "start_date": request.start_date.isoformat(),
            "fx_policy": request.fx_policy,
            "acs": request.provision_acs,
            "managed_domain": request.with_managed_domain,
            "owner": invitation.email,
            "language": request.owner_language,
            "assessment": request.assessment,
        }
        # Staff audit row (public schema): also the submission's idempotency record.
        audit_record(
            ctx=ctx,
            action=ONBOARD_ACTION,
            target=tenant,
            after={**summary, "submission": submission_id},
        )
        with schema_context(tenant.schema_name):
            if request.provision_acs:
                footprint_services.footprint_request(
                    ctx=ctx,
                    with_managed_domain=request.with_managed_domain,
                    subscription_id=request.subscription_id,
                    resource_group=request.resource_group,
                )
            # The tenant's own audit log shows who set it up and how.
            audit_record(ctx=ctx, action=ONBOARD_ACTION, target=tenant, after=summary)
    return tenant, True


def onboarding_acs_start(*, ctx: AuditContext, tenant: Customer) -> AcsFootprint:
    """Request the tenant's ACS resources now, or retry a failed provisioning with
    the settings first asked for. Returns the footprint (queued on commit)."""
    with schema_context(tenant.schema_name):
        current = AcsFootprint.objects.first()
        return footprint_services.footprint_request(
            ctx=ctx,
            with_managed_domain=current.with_managed_domain if current else True,
            subscription_id=current.subscription_id if current else "",
            resource_group=current.resource_group if current else "",
        )


# --- progress ---------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressStep:
    key: str
    label: str
    state: str  # done | wait | failed | skipped
    detail: str = ""


@dataclass(frozen=True)
class OnboardingProgress:
    tenant: Customer
    steps: list[ProgressStep]
    acs_steps: list[ProgressStep]
    footprint: AcsFootprint | None
    assessment_url: str
    polling: bool

    @property
    def acs_can_start(self) -> bool:
        return self.footprint is None or self.footprint.state == "failed"


def _acs_steps(fp: AcsFootprint | None) -> list[ProgressStep]:
    if fp is None:
        return []
    labels = {
        "email_service": _("Email Communication Service"),
        "managed_domain": _("Azure-managed domain"),
        "communication_service": _("Communication Service"),
        "link": _("Link domain to Communication Service"),
    }
    steps = []
    current_marked = False
    for key in AcsFootprint.STEPS:
        if key == "managed_domain" and not fp.with_managed_domain:
            state = "skipped"
        elif key in fp.completed_steps:
            state = "done"
        elif not current_marked and fp.state == AcsFootprint.State.FAILED:
            state, current_marked = "failed", True
        else:
            state = "wait"
        steps.append(ProgressStep(key, labels[key], state))
    return steps


def onboarding_progress(tenant: Customer) -> OnboardingProgress:
    """Where each part of an onboarding stands, read fresh from the schema rows."""
    connection.set_schema_to_public()
    record = (
        AuditEvent.objects.filter(
            action=ONBOARD_ACTION,
            target_type="tenants.customer",
            target_id=str(tenant.pk),
        )
        .order_by("pk")
        .first()
    )
    wanted = record.after if record else {}
    assignment = (
        PlanAssignment.objects.filter(tenant=tenant).select_related("plan").first()
    )
    contract = Contract.objects.filter(tenant=tenant).first()
    ready = schema_exists(tenant.schema_name)
    with schema_context(tenant.schema_name):
        fp = AcsFootprint.objects.first()
        invitation = (
            Invitation.objects.filter(role=Role.OWNER).order_by("created_at").first()
        )
    steps = [
        ProgressStep(
            "schema",
            _("Tenant schema"),
            "done" if ready else "failed",
            tenant_origin(tenant),
        ),
        ProgressStep(
            "plan",
            _("Plan and contract"),
            "done" if assignment and contract else "failed",
            (
                f"{assignment.plan.name_ja or assignment.plan.name} / "
                f"{contract.get_fx_policy_display()}"
            )
            if assignment and contract
            else "",
        ),
        _acs_summary(fp),
        _invitation_step(invitation),
    ]
    assessment = wanted.get("assessment")
    url = ""
    if assessment:
        # JSONB does not keep key order: list the fields in the form's order.
        params = [
            (key, assessment[key]) for key in ASSESSMENT_FIELDS if key in assessment
        ]
        url = f"{reverse('public_assessment')}?{urlencode(params)}"
    pending = any(step.state == "wait" for step in steps)
    recent = timezone.now() - tenant.created_at < POLL_WINDOW
    return OnboardingProgress(
        tenant=tenant,
        steps=steps,
        acs_steps=_acs_steps(fp),
        footprint=fp,
        assessment_url=url,
        polling=pending and recent,
    )


def _acs_summary(fp: AcsFootprint | None) -> ProgressStep:
    label = _("ACS resources")
    if fp is None:
        return ProgressStep("acs", label, "skipped", _("Not requested"))
    state = {
        AcsFootprint.State.READY: "done",
        AcsFootprint.State.FAILED: "failed",
    }.get(fp.state, "wait")
    detail = _("%(done)d of %(total)d steps done") % {
        "done": len(fp.completed_steps),
        "total": len(AcsFootprint.STEPS),
    }
    if fp.last_error:
        detail = f"{detail} — {fp.last_error[:300]}"
    return ProgressStep("acs", label, state, detail)


def _invitation_step(invitation: Invitation | None) -> ProgressStep:
    label = _("Owner invitation")
    if invitation is None:
        return ProgressStep("invitation", label, "failed")
    if invitation.accepted_at:
        return ProgressStep("invitation", label, "done", _("Accepted"))
    if invitation.sent_at:
        return ProgressStep(
            "invitation",
            label,
            "done",
            _("Sent to %(email)s") % {"email": invitation.email},
        )
    if not invitation.is_open:
        return ProgressStep("invitation", label, "failed", _("No longer open"))
    return ProgressStep(
        "invitation",
        label,
        "wait",
        _("Sending to %(email)s") % {"email": invitation.email},
    )
