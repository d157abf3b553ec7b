"""The Japanese catalog is complete and up to date with the source."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "locale" / "ja" / "LC_MESSAGES" / "django.po"


def _translated(e: polib.POEntry) -> bool:
    # Plural entries keep msgstr empty and carry msgstr[0..n] (Japanese: only [0]).
    if e.msgid_plural:
        return bool(e.msgstr_plural) and all(e.msgstr_plural.values())
    return bool(e.msgstr)


def _untranslated(po: polib.POFile) -> list[str]:
    return [
        e.msgid
        for e in po
        if e.msgid and not e.obsolete and (not _translated(e) or "fuzzy" in e.flags)
    ]


def test_every_japanese_entry_is_translated():
    assert _untranslated(polib.pofile(str(CATALOG))) == []


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext not installed")
def test_catalog_covers_every_string_in_the_source(tmp_path):
    # Extract from a copy so the committed catalog is never rewritten by a test.
    for name in ("manage.py",):
        shutil.copy(ROOT / name, tmp_path / name)
    for name in ("portal", "tenants", "mailops", "billing", "templates", "locale"):
        shutil.copytree(
            ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("*.mo")
        )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ja", "--no-obsolete"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    fresh = polib.pofile(str(tmp_path / "locale" / "ja" / "LC_MESSAGES" / "django.po"))
    assert _untranslated(fresh) == []


def test_language_switch_sets_english(personas):
    client = Client(HTTP_HOST="localhost")
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert '<html lang="en">' in page
    assert "Managed mail for Azure Communication Services" in page


def test_japanese_even_for_an_english_browser(personas):
    client = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    page = client.get("/").content.decode()
    assert '<html lang="ja">' in page
    assert "Azure Communication Services のマネージドメール" in page
