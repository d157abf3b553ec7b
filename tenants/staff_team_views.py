"""Staff administration pages (public host, staff administrators)."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from portal.access import staff_role_required
from portal.errors import ServiceError
from portal.http import PortalRequest
from tenants.accounts import staff
from tenants.accounts.audit import AuditContext
from tenants.accounts.models import Invitation, User
from tenants.accounts.roles import StaffRole


class StaffInviteForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Email address"))
    staff_role = forms.ChoiceField(
        label=gettext_lazy("Role"), choices=StaffRole.choices
    )


class StaffRoleForm(forms.Form):
    staff_role = forms.ChoiceField(choices=StaffRole.choices)


def _page(
    request: PortalRequest, form: StaffInviteForm, status: int = 200
) -> HttpResponse:
    members = list(User.objects.filter(is_staff=True).order_by("email"))
    with_mfa = set(
        Authenticator.objects.filter(
            user__in=members, type=Authenticator.Type.TOTP
        ).values_list("user_id", flat=True)
    )
    return render(
        request,
        "tenants/staff_team.html",
        {
            "members": [(m, m.pk in with_mfa) for m in members],
            "invitations": Invitation.objects.pending().exclude(staff_role=""),
            "form": form,
            "roles": StaffRole.choices,
        },
        status=status,
    )


@staff_role_required()
def team(request: PortalRequest) -> HttpResponse:
    return _page(request, StaffInviteForm())


@require_POST
@staff_role_required()
def team_invite(request: PortalRequest) -> HttpResponse:
    form = StaffInviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = staff.staff_invite(
                ctx=AuditContext.from_request(request), **form.cleaned_data
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s.") % {"email": invitation.email},
            )
            return redirect("staff_team")
    return _page(request, form, status=400)


@require_POST
@staff_role_required()
def team_role(request: PortalRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(User, pk=pk, is_staff=True)
    form = StaffRoleForm(request.POST)
    if form.is_valid():
        try:
            staff.staff_change_role(
                ctx=AuditContext.from_request(request),
                member=member,
                staff_role=form.cleaned_data["staff_role"],
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Role updated."))
    return redirect("staff_team")


@require_POST
@staff_role_required()
def team_deactivate(request: PortalRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(User, pk=pk, is_staff=True)
    try:
        staff.staff_deactivate(ctx=AuditContext.from_request(request), member=member)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("%(email)s can no longer sign in.") % {"email": member.email}
        )
    return redirect("staff_team")
