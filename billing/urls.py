"""Customer billing URLs (tenant host), included under ``billing/``."""

from __future__ import annotations

from django.urls import path

from billing import views

urlpatterns = [
    path("", views.invoice_list, name="billing_invoices"),
    path("invoices/<int:pk>/", views.invoice_detail, name="billing_invoice"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="billing_invoice_pdf"),
]
