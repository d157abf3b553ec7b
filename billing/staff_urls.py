"""Staff billing URLs (public host), included under ``staff/billing/``."""

from __future__ import annotations

from django.urls import path

from billing import staff_views as v

urlpatterns = [
    path("", v.invoice_list, name="billing_staff_invoices"),
    path("close/", v.close_start, name="billing_staff_close"),
    path("close/<int:pk>/", v.close_run, name="billing_staff_close_run"),
    path("invoices/<int:pk>/", v.invoice_detail, name="billing_staff_invoice"),
    path("invoices/<int:pk>/lines/", v.invoice_line_add, name="billing_staff_line_add"),
    path(
        "invoices/<int:pk>/lines/<int:line_pk>/remove/",
        v.invoice_line_remove,
        name="billing_staff_line_remove",
    ),
    path(
        "invoices/<int:pk>/finalize/", v.invoice_finalize, name="billing_staff_finalize"
    ),
    path("invoices/<int:pk>/credit/", v.invoice_credit, name="billing_staff_credit"),
    path("invoices/<int:pk>/pdf/", v.invoice_pdf, name="billing_staff_pdf"),
    path("export/", v.export, name="billing_staff_export"),
    path("search/", v.search, name="billing_staff_search"),
    path("prices/", v.prices, name="billing_staff_prices"),
    path("plans/", v.plan_save, name="billing_staff_plan_save"),
    path("rates/", v.rates, name="billing_staff_rates"),
    path("issuer/", v.issuer, name="billing_staff_issuer"),
    path("contracts/<int:tenant_pk>/", v.contract, name="billing_staff_contract"),
]
