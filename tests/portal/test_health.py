from __future__ import annotations

from django.test import Client, override_settings

from portal.integrations.azure import client as azure_client


def test_healthz(db):
    response = Client(HTTP_HOST="localhost").get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_names_the_dependency_that_is_down(db):
    # Redis on a port where nothing listens, Azure pointed at a closed port.
    with override_settings(
        REDIS_URL="redis://127.0.0.1:9/0",
        AZURE_AUTHORITY="https://127.0.0.1:9",
        AZURE_TIMEOUT_SECONDS=2,
    ):
        azure_client.reset_clients()
        response = Client(HTTP_HOST="localhost").get("/readyz")
    azure_client.reset_clients()
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == {"ok": True}
    assert checks["redis"]["ok"] is False
    assert checks["azure"]["ok"] is False


def test_readyz_ok_with_real_services(db, emulator_settings):
    response = Client(HTTP_HOST="localhost").get("/readyz")
    assert response.json()["checks"] == {
        "database": {"ok": True},
        "redis": {"ok": True},
        "azure": {"ok": True},
    }
    assert response.status_code == 200
