"""Members, invitations and the audit log on a tenant host."""

from __future__ import annotations

from allauth.account.internal.flows.login import record_authentication
from django.contrib import messages
from django.contrib.auth import login
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal.access import require_capability
from portal.errors import ServiceError
from portal.http import PortalRequest
from tenants.accounts import services
from tenants.accounts.audit import AuditContext
from tenants.accounts.forms import (
    AcceptInvitationForm,
    AuditFilterForm,
    InviteForm,
    RoleForm,
)
from tenants.accounts.models import Invitation, User
from tenants.accounts.roles import Role, assignable_roles
from tenants.accounts.selectors import audit_events_filtered


def _get_member_for_user(request: PortalRequest, pk: int) -> User:
    return get_object_or_404(User, pk=pk)


@require_capability("members.view")
def member_list(request: PortalRequest) -> HttpResponse:
    roles = assignable_roles(request.user.role)
    context = {
        "members": User.objects.filter(is_support=False).order_by("email"),
        "invitations": Invitation.objects.pending().select_related("invited_by"),
        "invite_form": InviteForm(roles=roles),
        "assignable_roles": [(r, Role(r).label) for r in roles],
    }
    return render(request, "accounts/member_list.html", context)


@require_POST
@require_capability("members.manage")
def member_invite(request: PortalRequest) -> HttpResponse:
    roles = assignable_roles(request.user.role)
    form = InviteForm(request.POST, roles=roles)
    if form.is_valid():
        try:
            invitation = services.invitation_create(
                ctx=AuditContext.from_request(request),
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                language=get_language() or "ja",
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s.") % {"email": invitation.email},
            )
            return redirect("member_list")
    context = {
        "members": User.objects.filter(is_support=False).order_by("email"),
        "invitations": Invitation.objects.pending().select_related("invited_by"),
        "invite_form": form,
        "assignable_roles": [(r, Role(r).label) for r in roles],
    }
    return render(request, "accounts/member_list.html", context, status=400)


@require_POST
@require_capability("members.manage")
def member_change_role(request: PortalRequest, pk: int) -> HttpResponse:
    member = _get_member_for_user(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid role."))
        return redirect("member_list")
    try:
        services.member_change_role(
            ctx=AuditContext.from_request(request),
            member=member,
            role=form.cleaned_data["role"],
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Role updated."))
    return redirect("member_list")


@require_POST
@require_capability("members.manage")
def member_remove(request: PortalRequest, pk: int) -> HttpResponse:
    member = _get_member_for_user(request, pk)
    try:
        services.member_remove(ctx=AuditContext.from_request(request), member=member)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(email)s was removed.") % {"email": member.email})
    return redirect("member_list")


@require_POST
@require_capability("members.manage")
def invitation_revoke(request: PortalRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=pk)
    try:
        services.invitation_revoke(
            ctx=AuditContext.from_request(request), invitation=invitation
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Invitation revoked."))
    return redirect("member_list")


@require_http_methods(["GET", "POST"])
def invitation_accept(request: PortalRequest, token: str) -> HttpResponse:
    invitation = services.invitation_from_token(token)
    if invitation is None:
        raise Http404
    if not invitation.is_open:
        return render(
            request,
            "accounts/invitation_closed.html",
            {"invitation": invitation},
            status=410,
        )
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                ctx=AuditContext.from_request(request),
                invitation=invitation,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password"],
            )
        except ServiceError as exc:
            form.add_error("password" if exc.field == "password" else None, exc.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            # The password was just typed on this page: tell allauth, or it asks
            # for it again before the mandatory second-factor enrolment.
            record_authentication(request, user, method="password", email=user.email)
            messages.success(request, _("Welcome! Your account is ready."))
            # Staff invitations are accepted on the public host.
            return redirect("public_home" if user.is_staff else "dashboard")
    return render(
        request,
        "accounts/invitation_accept.html",
        {"invitation": invitation, "form": form},
    )


def render_audit_list(request: PortalRequest, template: str) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(audit_events_filtered(filters), 50).get_page(
        request.GET.get("page")
    )
    if request.htmx:
        # Both audit pages share the table; htmx asks only for its inline partial.
        template = "accounts/_audit_table.html#events"
    return render(request, template, {"form": form, "page": page})


@require_capability("audit.view")
def audit_list(request: PortalRequest) -> HttpResponse:
    return render_audit_list(request, "accounts/audit_list.html")
