"""Mail operations pages on a tenant host: ACS resources, domains, senders,
SMTP credentials and suppression lists."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from mailops import forms
from mailops.models import (
    AcsFootprint,
    SenderAddress,
    SendingDomain,
    SmtpCredential,
    SuppressedAddress,
)
from mailops.services import credentials, domains, footprint, suppression
from mailops.services.credentials import IssuedSecret
from mailops.smtp_check import smtp_test
from portal.access import require_capability
from portal.errors import ServiceError
from portal.http import PortalRequest
from tenants.accounts.audit import AuditContext, audit_record
from tenants.hosts import tenant_origin
from tenants.models import Customer

SESSION_IMPORT_KEY = "suppression_import"


def _ctx(request: PortalRequest) -> AuditContext:
    return AuditContext.from_request(request)


def _get_domain_for_user(request: PortalRequest, pk: int) -> SendingDomain:
    return get_object_or_404(SendingDomain, pk=pk)


def _get_credential_for_user(request: PortalRequest, pk: int) -> SmtpCredential:
    return get_object_or_404(
        SmtpCredential.objects.select_related("sender_domain"), pk=pk
    )


def _error(request: PortalRequest, exc: ServiceError) -> None:
    messages.error(request, exc.message)


# --- overview and ACS resources ---------------------------------------------------------


def _overview_context(domain_form: forms.DomainForm) -> dict[str, object]:
    return {
        "footprint": AcsFootprint.objects.first(),
        "domains": SendingDomain.objects.all(),
        "domain_form": domain_form,
        "credential_count": SmtpCredential.objects.exclude(state="revoked").count(),
    }


@require_capability("mail.view")
def overview(request: PortalRequest) -> HttpResponse:
    return render(
        request, "mailops/overview.html", _overview_context(forms.DomainForm())
    )


@require_capability("mail.view")
def footprint_status(request: PortalRequest) -> HttpResponse:
    return render(
        request,
        "mailops/overview.html#footprint",
        {"footprint": AcsFootprint.objects.first()},
    )


@require_POST
@require_capability("mail.manage")
def footprint_setup(request: PortalRequest) -> HttpResponse:
    try:
        footprint.footprint_request(
            ctx=_ctx(request),
            with_managed_domain=request.POST.get("managed_domain") != "0",
        )
    except ServiceError as exc:
        _error(request, exc)
    else:
        messages.success(
            request, _("Setting up the ACS resources. This takes a minute.")
        )
    return redirect("mail_overview")


# --- domains ----------------------------------------------------------------------------


@require_POST
@require_capability("mail.manage")
def domain_add(request: PortalRequest) -> HttpResponse:
    form = forms.DomainForm(request.POST)
    if form.is_valid():
        try:
            domain = domains.domain_add(
                ctx=_ctx(request), name=form.cleaned_data["name"]
            )
        except ServiceError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(
                request,
                _("%(name)s was added. Publish the DNS records below.")
                % {"name": domain},
            )
            return redirect("mail_domain", pk=domain.pk)
    return render(request, "mailops/overview.html", _overview_context(form), status=400)


def _domain_context(request: PortalRequest, domain: SendingDomain) -> dict[str, object]:
    from mailops.dnslint import LintReport, guidance_for_host

    latest = domain.checks.first()
    host = request.GET.get("host", "onamae")
    return {
        "domain": domain,
        "records": [
            {**r, "state": domain.verification.get(r["kind"], "NotStarted")}
            for r in domain.records
        ],
        "report": LintReport.from_json(latest.report) if latest else None,
        "history": domain.checks.all()[:10],
        "senders": domain.senders.all(),
        "sender_form": forms.SenderForm(),
        "polling": domain.state
        in (SendingDomain.State.CREATING, SendingDomain.State.VERIFYING),
        "dns_host": host,
        "dns_hosts": [
            ("onamae", "お名前.com"),
            ("sakura", "さくらのドメイン"),
            ("xserver", "Xserver"),
            ("route53", "Amazon Route 53"),
            ("cloudflare", "Cloudflare"),
            ("other", _("Other")),
        ],
        "guidance": guidance_for_host(host),
    }


@require_capability("mail.view")
def domain_detail(request: PortalRequest, pk: int) -> HttpResponse:
    domain = _get_domain_for_user(request, pk)
    template = "mailops/domain_detail.html"
    if request.htmx and request.GET.get("part") == "status":
        template += "#status"
    return render(request, template, _domain_context(request, domain))


@require_POST
@require_capability("mail.manage")
def domain_action(request: PortalRequest, pk: int, action: str) -> HttpResponse:
    domain = _get_domain_for_user(request, pk)
    ctx = _ctx(request)
    try:
        if action == "verify":
            domains.domain_verify(ctx=ctx, domain=domain)
            messages.success(
                request, _("Verification requested. The states update below.")
            )
        elif action == "check":
            domains.domain_check_dns(domain_id=domain.pk)
            messages.success(request, _("DNS checked."))
        elif action == "link":
            domains.domain_set_link(ctx=ctx, domain=domain, linked=True)
            messages.success(request, _("The domain is linked and can send mail."))
        elif action == "unlink":
            domains.domain_set_link(ctx=ctx, domain=domain, linked=False)
            messages.success(request, _("The domain was unlinked."))
        elif action == "remove":
            domains.domain_remove(ctx=ctx, domain=domain)
            messages.success(request, _("The domain was removed."))
            return redirect("mail_overview")
        else:
            raise Http404
    except ServiceError as exc:
        _error(request, exc)
    return redirect("mail_domain", pk=domain.pk)


@require_POST
@require_capability("mail.manage")
def sender_add(request: PortalRequest, pk: int) -> HttpResponse:
    domain = _get_domain_for_user(request, pk)
    form = forms.SenderForm(request.POST)
    if form.is_valid():
        try:
            sender = domains.sender_add(
                ctx=_ctx(request), domain=domain, **form.cleaned_data
            )
        except ServiceError as exc:
            form.add_error("username" if exc.field == "username" else None, exc.message)
        else:
            messages.success(
                request, _("%(address)s was added.") % {"address": sender.address}
            )
            return redirect("mail_domain", pk=domain.pk)
    context = _domain_context(request, domain)
    context["sender_form"] = form
    return render(request, "mailops/domain_detail.html", context, status=400)


@require_POST
@require_capability("mail.manage")
def sender_remove(request: PortalRequest, pk: int) -> HttpResponse:
    sender = get_object_or_404(SenderAddress.objects.select_related("domain"), pk=pk)
    try:
        domains.sender_remove(ctx=_ctx(request), sender=sender)
    except ServiceError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("The sender address was removed."))
    return redirect("mail_domain", pk=sender.domain_id)


# --- SMTP credentials -------------------------------------------------------------------


@require_capability("mail.view")
def credential_list(request: PortalRequest) -> HttpResponse:
    items = SmtpCredential.objects.select_related("sender_domain").prefetch_related(
        "secrets"
    )
    return render(
        request,
        "mailops/credential_list.html",
        {"credentials": items, "now": timezone.now()},
    )


def _smtp_settings(
    credential: SmtpCredential, issued: IssuedSecret | None
) -> dict[str, object]:
    from django.conf import settings

    secret = issued.secret if issued else credential.current_secret
    return {
        "host": settings.ACS_SMTP_HOST,
        "port": settings.ACS_SMTP_PORT,
        "security": "STARTTLS",
        "auth": "LOGIN",
        "username": credential.username,
        "password": issued.password if issued else None,
        "sender_address": credential.sender.address,
        "expires_at": secret.expires_at if secret else None,
    }


def _render_issued(
    request: PortalRequest, issued: IssuedSecret, *, rotated: bool
) -> HttpResponse:
    credential = issued.credential
    tenant = Customer.objects.get(schema_name=request.tenant.schema_name)
    response = render(
        request,
        "mailops/credential_secret.html",
        {
            "credential": credential,
            "smtp": _smtp_settings(credential, issued),
            "rotated": rotated,
            "tenant_name": tenant.name,
            "portal_url": tenant_origin(tenant) + "/",
            "issued_at": timezone.now(),
            "issued_by": request.user.display_name,
            "test_form": forms.SmtpTestForm(initial={"recipient": request.user.email}),
        },
    )
    # The page holds a password: never cache it anywhere.
    response["Cache-Control"] = "no-store"
    return response


@sensitive_post_parameters()
@require_capability("mail.manage")
def credential_create(request: PortalRequest) -> HttpResponse:
    form = forms.CredentialForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = credentials.credential_create(
                ctx=_ctx(request), **form.cleaned_data
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return _render_issued(request, issued, rotated=False)
    return render(
        request,
        "mailops/credential_form.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@require_capability("mail.view")
def credential_detail(request: PortalRequest, pk: int) -> HttpResponse:
    credential = _get_credential_for_user(request, pk)
    return render(
        request,
        "mailops/credential_detail.html",
        {
            "credential": credential,
            "secrets": credential.secrets.all(),
            "rotate_form": forms.RotateForm(),
            "smtp": _smtp_settings(credential, None),
        },
    )


@require_POST
@sensitive_post_parameters()
@require_capability("mail.manage")
def credential_rotate(request: PortalRequest, pk: int) -> HttpResponse:
    credential = _get_credential_for_user(request, pk)
    form = forms.RotateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the rotation settings."))
        return redirect("mail_credential", pk=pk)
    try:
        issued = credentials.credential_rotate(
            ctx=_ctx(request),
            credential=credential,
            months=form.cleaned_data["months"],
            revoke_old_after=timezone.now()
            + timezone.timedelta(days=form.cleaned_data["grace_days"]),
        )
    except ServiceError as exc:
        _error(request, exc)
        return redirect("mail_credential", pk=pk)
    return _render_issued(request, issued, rotated=True)


@require_POST
@sensitive_post_parameters()
@require_capability("mail.manage")
def credential_resume(request: PortalRequest, pk: int) -> HttpResponse:
    credential = _get_credential_for_user(request, pk)
    try:
        issued = credentials.credential_resume(ctx=_ctx(request), credential=credential)
    except ServiceError as exc:
        _error(request, exc)
        return redirect("mail_credential", pk=pk)
    return _render_issued(request, issued, rotated=False)


@require_POST
@require_capability("mail.manage")
def credential_action(request: PortalRequest, pk: int, action: str) -> HttpResponse:
    credential = _get_credential_for_user(request, pk)
    ctx = _ctx(request)
    try:
        if action == "retire-old":
            count = credentials.credential_retire_old(ctx=ctx, credential=credential)
            messages.success(
                request, _("%(n)d old password(s) revoked.") % {"n": count}
            )
        elif action == "revoke":
            credentials.credential_revoke(ctx=ctx, credential=credential)
            messages.success(
                request, _("The credential was revoked. The device can no longer send.")
            )
        else:
            raise Http404
    except ServiceError as exc:
        _error(request, exc)
    return redirect("mail_credential", pk=pk)


@require_POST
@sensitive_post_parameters("password")
@require_capability("mail.manage")
def credential_smtp_test(request: PortalRequest, pk: int) -> HttpResponse:
    """Log in to the relay with the password the admin still has on screen."""
    credential = _get_credential_for_user(request, pk)
    form = forms.SmtpTestForm(request.POST)
    if not form.is_valid():
        result = None
        error = _("Enter the recipient address.")
    else:
        result = smtp_test(
            username=credential.username,
            password=form.cleaned_data["password"],
            sender=_smtp_settings(credential, None)["sender_address"],  # type: ignore[arg-type]
            recipient=form.cleaned_data["recipient"],
        )
        error = ""
        audit_record(
            ctx=_ctx(request),
            action="credential.smtp_test",
            target=credential,
            after={"ok": result.ok, "step": result.step},
        )
    return render(
        request, "mailops/_smtp_test_result.html", {"result": result, "error": error}
    )


@require_capability("mail.view")
def credential_sheet(request: PortalRequest, pk: int) -> HttpResponse:
    credential = _get_credential_for_user(request, pk)
    tenant = Customer.objects.get(schema_name=request.tenant.schema_name)
    return render(
        request,
        "mailops/credential_sheet.html",
        {
            "credential": credential,
            "smtp": _smtp_settings(credential, None),
            "tenant_name": tenant.name,
            "portal_url": tenant_origin(tenant) + "/",
            "issued_at": timezone.now(),
            "issued_by": request.user.display_name,
        },
    )


# --- suppression lists ------------------------------------------------------------------


@require_capability("mail.view")
def suppression_list(request: PortalRequest, pk: int) -> HttpResponse:
    domain = _get_domain_for_user(request, pk)
    return render(
        request,
        "mailops/suppression.html",
        {
            "domain": domain,
            "entries": domain.suppressed.all(),
            "form": forms.SuppressionForm(),
            "upload_form": forms.SuppressionUploadForm(),
            "preview": None,
        },
    )


@require_POST
@require_capability("mail.manage")
def suppression_add(request: PortalRequest, pk: int) -> HttpResponse:
    domain = _get_domain_for_user(request, pk)
    form = forms.SuppressionForm(request.POST)
    if form.is_valid():
        try:
            suppression.suppression_add(
                ctx=_ctx(request), domain=domain, **form.cleaned_data
            )
        except ServiceError as exc:
            _error(request, exc)
        else:
            messages.success(
                request, _("The address was added to the suppression list.")
            )
    return redirect("mail_suppression", pk=pk)


@require_POST
@require_capability("mail.manage")
def suppression_remove(request: PortalRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(SuppressedAddress.objects.select_related("domain"), pk=pk)
    try:
        suppression.suppression_remove(ctx=_ctx(request), entry=entry)
    except ServiceError as exc:
        _error(request, exc)
    else:
        messages.success(
            request, _("The address was removed from the suppression list.")
        )
    return redirect("mail_suppression", pk=entry.domain_id)


@require_POST
@require_capability("mail.manage")
def suppression_upload(request: PortalRequest, pk: int) -> HttpResponse:
    """Step 1 of an import: read the file, change nothing, show what would happen."""
    domain = _get_domain_for_user(request, pk)
    form = forms.SuppressionUploadForm(request.POST, request.FILES)
    preview = None
    if form.is_valid():
        try:
            preview = suppression.suppression_preview(
                domain=domain,
                stream=form.cleaned_data["file"],
                encoding=form.cleaned_data["encoding"] or None,
            )
        except ServiceError as exc:
            form.add_error("file", exc.message)
        else:
            token = secrets.token_urlsafe(16)
            request.session[SESSION_IMPORT_KEY] = {
                "token": token,
                "domain": domain.pk,
                "addresses": preview.valid[:10000],
            }
            preview.token = token  # type: ignore[attr-defined]
    return render(
        request,
        "mailops/suppression.html",
        {
            "domain": domain,
            "entries": domain.suppressed.all(),
            "form": forms.SuppressionForm(),
            "upload_form": form,
            "preview": preview,
        },
        status=400 if form.errors else 200,
    )


@require_POST
@require_capability("mail.manage")
def suppression_import(request: PortalRequest, pk: int) -> HttpResponse:
    """Step 2: the user confirmed; import every valid address or none."""
    domain = _get_domain_for_user(request, pk)
    pending = request.session.get(SESSION_IMPORT_KEY) or {}
    if (
        pending.get("token") != request.POST.get("token")
        or pending.get("domain") != domain.pk
    ):
        messages.error(request, _("The import has expired. Upload the file again."))
        return redirect("mail_suppression", pk=pk)
    try:
        count = suppression.suppression_import(
            ctx=_ctx(request), domain=domain, addresses=pending["addresses"]
        )
    except ServiceError as exc:
        _error(request, exc)
    else:
        del request.session[SESSION_IMPORT_KEY]
        messages.success(request, _("%(n)d addresses were imported.") % {"n": count})
    return redirect("mail_suppression", pk=pk)


@require_capability("mail.view")
def suppression_export(request: PortalRequest, pk: int) -> HttpResponse:
    from mailops.csvio import write_csv

    domain = _get_domain_for_user(request, pk)
    encoding = "cp932" if request.GET.get("encoding") == "cp932" else "utf-8-sig"
    rows = (
        (e.email, e.notes, timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M"))
        for e in domain.suppressed.all().iterator()
    )
    response = StreamingHttpResponse(
        write_csv(rows, ["email", "notes", "added"], encoding=encoding),
        content_type=f"text/csv; charset={'shift_jis' if encoding == 'cp932' else 'utf-8'}",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="suppression-{domain.name}.csv"'
    )
    return response
