from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal import env

ROOT = Path(__file__).resolve().parents[2]


def test_env_bool_rejects_garbage(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env.env_bool("X_FLAG", False)


def test_env_int_and_choice(monkeypatch):
    monkeypatch.setenv("X_NUM", "12a")
    with pytest.raises(ImproperlyConfigured, match="X_NUM"):
        env.env_int("X_NUM", 1)
    monkeypatch.setenv("X_CHOICE", "mars")
    with pytest.raises(ImproperlyConfigured, match="X_CHOICE"):
        env.env_choice("X_CHOICE", "azure", choices=("azure", "emulator"))


def test_env_secret_reads_file(monkeypatch, tmp_path):
    secret = tmp_path / "s"
    secret.write_text("from-file\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env.env_secret("X_SECRET") == "from-file"


def _run_manage(
    args: list[str], extra_env: dict[str, str]
) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AZURE_"))
    }
    environment.update(extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_secrets():
    result = _run_manage(
        ["check"],
        {"DJANGO_ENV": "production", "DJANGO_SETTINGS_MODULE": "portal.settings"},
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_check_deploy_is_clean():
    result = _run_manage(
        ["check", "--deploy", "--fail-level", "WARNING"],
        {
            "DJANGO_ENV": "production",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DJANGO_SECRET_KEY": "p" * 20
            + "-production-secret-for-the-check-only-0123456789",
            "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/portal",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "AZURE_TARGET": "azure",
            "AZURE_CLIENT_SECRET": "not-used-by-check",
            "DJANGO_ALLOWED_HOSTS": "portal.example.jp,.portal.example.jp",
        },
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout
