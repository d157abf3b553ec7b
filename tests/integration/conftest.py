"""Fixtures for tests that need a real Celery worker process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from portal.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(emulator_settings, tmp_path):
    """Start `celery -A portal worker` against the test database and test broker."""
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.test_settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "PORTAL_TEST_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PORTAL_TEST_EMAIL_BACKEND": "portal.mail_backend.AcsEmailBackend",
        "PORTAL_TEST_FROM_EMAIL": "",
        "AZURE_TARGET": "emulator",
        "AZURE_EMULATOR_URL": emulator_settings.url,
        "AZURE_CA_BUNDLE": str(emulator_settings.ca_path),
        "EMULATOR_DNS": f"127.0.0.1:{emulator_settings.dns_port}",
        "EMULATOR_SMTP": f"127.0.0.1:{emulator_settings.smtp_port}",
        # Retry retryable Azure errors after 1 s instead of 20 s.
        "PORTAL_TASK_RETRY_SECONDS": "1",
    }
    log = tmp_path / "worker.log"
    # Drop tasks an earlier, aborted run may have left in the test queue.
    celery_app.connection_for_write().default_channel.client.delete("celery")
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # A warm shutdown waits for the running task; it is not needed any more.
            proc.kill()
            proc.wait(timeout=10)
