"""Enqueueing helpers shared by every app."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django_tenants.utils import schema_context


def enqueue_on_commit(task: Any, *args: Any) -> None:
    """Queue ``task(*args)`` after the current transaction commits, in the schema
    that is active *now*.

    The on-commit callback may run after a ``schema_context`` has exited (for
    example when a tenant is created inside a public-schema transaction), and
    tenant-schemas-celery takes the schema from the connection at send time, so
    the schema is captured here and restored around the send.
    """
    schema = connection.schema_name

    def send() -> None:
        with schema_context(schema):
            task.delay(*args)

    transaction.on_commit(send)
