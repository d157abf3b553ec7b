"""Webhook URLs of a tenant host, under ``/hooks/``."""

from __future__ import annotations

from django.urls import path

from mailops import hooks

urlpatterns = [
    path(
        "eventgrid/<str:secret>/",
        hooks.eventgrid_webhook,
        name="eventgrid_webhook",
    ),
]
