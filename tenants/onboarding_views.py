"""The tenant onboarding wizard and its progress page (public host, staff).

Between steps the answers live in the staff member's session, signed, as the raw
form data of each step; nothing is written to the database until "作成" on the
review step. That submit carries a one-time submission id, so a double click or a
refresh creates the tenant once and lands on its progress page.

Only staff administrators run the wizard: it creates a tenant and provisions ACS
(the support role's work) and also writes the billing contract (the billing role's
work), and ``staff_can`` gives both only to administrators.
"""

from __future__ import annotations

import secrets
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from portal.access import staff_role_required
from portal.errors import ServiceError
from portal.http import PortalRequest
from tenants import onboarding
from tenants.accounts.audit import AuditContext
from tenants.accounts.roles import StaffRole
from tenants.models import Customer
from tenants.onboarding_forms import (
    AcsForm,
    AssessmentStepForm,
    CompanyForm,
    OwnerForm,
    PlanForm,
)

SESSION_KEY = "onboarding_wizard"
_SALT = "tenants.onboarding.wizard"

# (key, title, form); the review step comes after these.
STEPS: list[tuple[str, Any, type[forms.Form]]] = [
    ("company", pgettext_lazy("onboarding step", "Company"), CompanyForm),
    ("plan", gettext_lazy("Plan and contract"), PlanForm),
    ("acs", gettext_lazy("ACS resources"), AcsForm),
    ("owner", gettext_lazy("Owner"), OwnerForm),
    ("assessment", gettext_lazy("Exchange Online assessment"), AssessmentStepForm),
]
STEP_KEYS = [key for key, _title, _form in STEPS]
REVIEW = "review"

# Staff administrators only (see the module docstring).
wizard_access = staff_role_required()
# Watching and retrying provisioning is support work.
progress_access = staff_role_required(StaffRole.SUPPORT)


def _load(request: PortalRequest) -> dict[str, Any]:
    raw = request.session.get(SESSION_KEY)
    if not raw:
        return {"data": {}}
    try:
        state: dict[str, Any] = signing.loads(
            raw,
            salt=f"{_SALT}:{request.user.pk}",
            max_age=settings.SESSION_COOKIE_AGE,
        )
    except signing.BadSignature:
        return {"data": {}}
    state.setdefault("data", {})
    return state


def _save(request: PortalRequest, state: dict[str, Any]) -> None:
    request.session[SESSION_KEY] = signing.dumps(
        state, salt=f"{_SALT}:{request.user.pk}"
    )


def _bound(key: str, state: dict[str, Any]) -> forms.Form:
    form_class = {k: f for k, _t, f in STEPS}[key]
    return form_class(data=state["data"][key])


def _defaults(key: str, state: dict[str, Any]) -> dict[str, Any]:
    if key == "plan":
        return PlanForm.defaults()
    if key == "acs":
        return AcsForm.defaults(state["data"].get("company", {}).get("slug", ""))
    if key == "owner":
        return OwnerForm.defaults()
    return {}


def _first_missing(state: dict[str, Any]) -> str:
    for key in STEP_KEYS:
        if key not in state["data"]:
            return key
    return REVIEW


def _nav(current: str, state: dict[str, Any]) -> list[dict[str, Any]]:
    missing = _first_missing(state)
    reachable = STEP_KEYS.index(missing) if missing in STEP_KEYS else len(STEP_KEYS)
    items = []
    for index, (key, title, _form) in enumerate(
        [*STEPS, (REVIEW, gettext_lazy("Review"), forms.Form)]
    ):
        items.append(
            {
                "key": key,
                "title": title,
                "number": index + 1,
                "current": key == current,
                "reachable": index <= reachable,
                "url": reverse("staff_onboarding_step", kwargs={"step": key}),
            }
        )
    return items


@wizard_access
def wizard_start(request: PortalRequest) -> HttpResponse:
    state = _load(request)
    return redirect("staff_onboarding_step", step=_first_missing(state))


@wizard_access
@require_POST
def wizard_cancel(request: PortalRequest) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    messages.info(request, _("The onboarding wizard was cleared."))
    return redirect("staff_tenants")


@wizard_access
@require_http_methods(["GET", "POST"])
def wizard_step(request: PortalRequest, step: str) -> HttpResponse:
    if step == REVIEW:
        return _review(request)
    if step not in STEP_KEYS:
        raise Http404
    state = _load(request)
    index = STEP_KEYS.index(step)
    missing = _first_missing(state)
    if missing != REVIEW and STEP_KEYS.index(missing) < index:
        return redirect("staff_onboarding_step", step=missing)
    form_class = STEPS[index][2]
    if request.method == "POST":
        form = form_class(data=request.POST)
        if form.is_valid():
            state["data"][step] = {name: request.POST.get(name) for name in form.fields}
            if step == "company":
                # New identifier: the ACS defaults derive from it.
                _refresh_acs_defaults(state)
            _save(request, state)
            following = STEP_KEYS[index + 1] if index + 1 < len(STEP_KEYS) else REVIEW
            return redirect("staff_onboarding_step", step=following)
    elif step in state["data"]:
        form = _bound(step, state)
        form.is_valid()  # show what no longer holds (e.g. the slug was taken)
    else:
        form = form_class(initial=_defaults(step, state))
    return render(
        request,
        "tenants/onboarding/step.html",
        {
            "form": form,
            "step": step,
            "title": STEPS[index][1],
            "nav": _nav(step, state),
            "back_url": reverse(
                "staff_onboarding_step", kwargs={"step": STEP_KEYS[index - 1]}
            )
            if index
            else "",
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _refresh_acs_defaults(state: dict[str, Any]) -> None:
    acs = state["data"].get("acs")
    if not acs:
        return
    slug = state["data"]["company"]["slug"]
    group = acs.get("resource_group") or ""
    if group.startswith("rg-mail-"):
        acs["resource_group"] = AcsForm.defaults(slug)["resource_group"]


def _review(request: PortalRequest) -> HttpResponse:
    state = _load(request)
    if request.method == "POST":
        return _submit(request, state)
    missing = _first_missing(state)
    if missing != REVIEW:
        return redirect("staff_onboarding_step", step=missing)
    bound = {key: _bound(key, state) for key in STEP_KEYS}
    invalid = [key for key, form in bound.items() if not form.is_valid()]
    if invalid:
        return redirect("staff_onboarding_step", step=invalid[0])
    if not state.get("submission"):
        state["submission"] = secrets.token_urlsafe(24)
        _save(request, state)
    return render(
        request,
        "tenants/onboarding/review.html",
        {
            "forms": bound,
            "sections": _sections(bound),
            "submission": state["submission"],
            "nav": _nav(REVIEW, state),
            "back_url": reverse(
                "staff_onboarding_step", kwargs={"step": STEP_KEYS[-1]}
            ),
        },
    )


def _sections(bound: dict[str, forms.Form]) -> list[dict[str, Any]]:
    """Each step's answers as (label, shown value) pairs for the review page."""
    sections = []
    for key, title, _form in STEPS:
        form = bound[key]
        rows = []
        for name, field in form.fields.items():
            value = form.cleaned_data.get(name)
            if isinstance(field, forms.BooleanField):
                shown = _("Yes") if value else _("No")
            elif isinstance(field, forms.ChoiceField) and not isinstance(
                field, forms.ModelChoiceField
            ):
                shown = str(dict(field.choices).get(value, value or "—"))
            elif value in (None, ""):
                shown = "—"
            else:
                shown = str(
                    field.label_from_instance(value)
                    if isinstance(field, forms.ModelChoiceField)
                    else value
                )
            rows.append({"name": name, "label": field.label, "value": shown})
        sections.append(
            {
                "key": key,
                "title": title,
                "rows": rows,
                "url": reverse("staff_onboarding_step", kwargs={"step": key}),
            }
        )
    return sections


def _submit(request: PortalRequest, state: dict[str, Any]) -> HttpResponse:
    posted = request.POST.get("submission", "")
    if not posted or posted != state.get("submission"):
        # Already used (refresh, second click after the first finished) or stale.
        done = onboarding.onboarded_tenant(posted)
        if done is not None:
            return redirect("staff_onboarding_progress", pk=done.pk)
        messages.error(request, _("This form has expired. Check the answers again."))
        return redirect("staff_onboarding_start")
    bound = {key: _bound(key, state) for key in STEP_KEYS}
    invalid = [key for key, form in bound.items() if not form.is_valid()]
    if invalid:
        messages.error(request, _("Some answers are no longer valid. Check them."))
        return redirect("staff_onboarding_step", step=invalid[0])
    try:
        tenant, created = onboarding.tenant_onboard(
            ctx=AuditContext.from_request(request),
            request=_request_from(bound),
            submission_id=posted,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        step = _step_of_field(exc.field)
        return redirect("staff_onboarding_step", step=step)
    request.session.pop(SESSION_KEY, None)
    if created:
        messages.success(
            request,
            _("Tenant %(name)s was created. Provisioning continues below.")
            % {"name": tenant.name},
        )
    return redirect("staff_onboarding_progress", pk=tenant.pk)


def _step_of_field(field: str | None) -> str:
    for key, _title, form_class in STEPS:
        if field and field in form_class.base_fields:
            return key
    return REVIEW


def _request_from(bound: dict[str, forms.Form]) -> onboarding.OnboardingRequest:
    company = bound["company"].cleaned_data
    plan = bound["plan"].cleaned_data
    acs = bound["acs"].cleaned_data
    owner = bound["owner"].cleaned_data
    assessment = cast(AssessmentStepForm, bound["assessment"])
    return onboarding.OnboardingRequest(
        name=company["name"],
        slug=company["slug"],
        billing_contact_name=company["billing_contact_name"],
        billing_contact_email=company["billing_contact_email"],
        corporate_number=company["corporate_number"],
        plan_code=plan["plan"].code,
        start_date=plan["start_date"],
        fx_policy=plan["fx_policy"],
        fx_rate_type=plan["fx_rate_type"],
        fixed_rate=plan["fixed_rate"],
        provision_acs=acs["provision_now"],
        with_managed_domain=acs["with_managed_domain"],
        subscription_id=acs["subscription_id"],
        resource_group=acs["resource_group"],
        owner_email=owner["owner_email"],
        owner_language=owner["owner_language"],
        assessment=assessment.prefill(),
    )


# --- progress ---------------------------------------------------------------------


def _tenant(pk: int) -> Customer:
    return get_object_or_404(
        Customer.objects.exclude(schema_name="public").exclude(
            status=Customer.Status.TEMPLATE
        ),
        pk=pk,
    )


@progress_access
def progress(request: PortalRequest, pk: int) -> HttpResponse:
    template = "tenants/onboarding/progress.html"
    if request.htmx:
        template += "#progress"
    return render(
        request, template, {"progress": onboarding.onboarding_progress(_tenant(pk))}
    )


@require_POST
@progress_access
def acs_retry(request: PortalRequest, pk: int) -> HttpResponse:
    tenant = _tenant(pk)
    try:
        onboarding.onboarding_acs_start(
            ctx=AuditContext.from_request(request), tenant=tenant
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Provisioning was queued."))
    return redirect("staff_onboarding_progress", pk=pk)
