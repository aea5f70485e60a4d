"""No string of ours is left untranslated: every msgid of the pt_BR and en catalogues has its
text (Portuguese sources map to themselves in pt_BR and to English in en), nothing is fuzzy,
the compiled .mo files match the .po files, and (where GNU gettext is installed) a fresh
`makemessages` over the code finds no string missing from either catalogue."""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import django
import pytest
from django.conf import settings

from blingsync.admin.django_q_strings import DJANGO_Q_STRINGS
from blingsync.login_lockout import AXES_STRINGS

BASE = Path(settings.BASE_DIR)
LANGS = ("pt_BR", "en")
_FIELD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) (".*")$')


def po_entries(path: Path) -> list[dict]:
    """The entries of a .po file (obsolete ones left out), with their flags."""
    entries: list[dict] = []
    current: dict | None = None
    field = ""
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if current and "msgid" in current and not current.get("obsolete"):
                entries.append(current)
            current, field = None, ""
            continue
        current = current if current is not None else {"flags": set()}
        if line.startswith("#~"):
            current["obsolete"] = True
        elif line.startswith("#,"):
            current["flags"] |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif match := _FIELD.match(line):
            field = match.group(1)
            current[field] = ast.literal_eval(match.group(2))
        elif line.startswith('"'):
            current[field] += ast.literal_eval(line)
    return [e for e in entries if e["msgid"]]


def _translations(entry: dict) -> list[str]:
    return [value for key, value in entry.items() if key.startswith("msgstr")]


def _django_catalogue(lang: str) -> dict:
    """Django's own catalogues (core and admin): their strings are translated there."""
    root = Path(django.__file__).parent
    catalogue: dict = {}
    for base in (root / "conf" / "locale", root / "contrib" / "admin" / "locale"):
        mo = base / lang / "LC_MESSAGES" / "django.mo"
        if mo.is_file():
            with mo.open("rb") as handle:
                catalogue.update(gettext.GNUTranslations(handle)._catalog)
    return catalogue


DJANGOS = _django_catalogue("pt_BR")
# English strings of django-q2 and django-axes (no pt-BR catalogue of their own): ours
# translates them into Portuguese.
THIRD_PARTY_STRINGS = {*DJANGO_Q_STRINGS, *AXES_STRINGS}


def _left_empty_on_purpose(lang: str, msgid: str) -> bool:
    """Django's own strings are Django's to translate; django-q2's and django-axes' English
    ones need no English."""
    if msgid in DJANGOS:
        return True
    return lang == "en" and msgid in THIRD_PARTY_STRINGS


def _untranslated(lang: str, entries: list[dict]) -> list[str]:
    return sorted(
        e["msgid"]
        for e in entries
        if not all(_translations(e)) and not _left_empty_on_purpose(lang, e["msgid"])
    )


@pytest.mark.parametrize("lang", LANGS)
def test_every_msgid_is_translated_and_none_is_fuzzy(lang):
    entries = po_entries(BASE / "locale" / lang / "LC_MESSAGES" / "django.po")
    assert len(entries) > 300
    assert _untranslated(lang, entries) == []
    assert sorted(e["msgid"] for e in entries if "fuzzy" in e["flags"]) == []


def test_portuguese_maps_to_itself_and_english_differs_somewhere():
    pt = {e["msgid"]: e for e in po_entries(BASE / "locale/pt_BR/LC_MESSAGES/django.po")}
    ours = [e for k, e in pt.items() if k not in THIRD_PARTY_STRINGS and k not in DJANGOS]
    assert [e["msgid"] for e in ours if e.get("msgstr", e["msgid"]) != e["msgid"]] == []


@pytest.mark.parametrize("lang", LANGS)
def test_the_compiled_catalogue_matches_the_po_file(lang):
    folder = BASE / "locale" / lang / "LC_MESSAGES"
    with (folder / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog
    stale = []
    for entry in po_entries(folder / "django.po"):
        if "msgid_plural" in entry or not entry.get("msgstr"):
            continue
        key = entry["msgid"]
        if "msgctxt" in entry:
            key = f"{entry['msgctxt']}\x04{key}"
        if compiled.get(key) != entry["msgstr"]:
            stale.append(entry["msgid"])
    assert stale == [], "run compilemessages (see locale/README.md)"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_no_string_in_the_code_is_missing_from_the_catalogues(tmp_path):
    """A fresh makemessages (in a copy, the repository is left alone) adds no empty entry."""
    for name in ("blingsync", "products", "webhooks", "templates", "locale"):
        shutil.copytree(BASE / name, tmp_path / name, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(BASE / "manage.py", tmp_path / "manage.py")
    env = {**os.environ, "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "blingsync.settings"}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "pt_BR", "-l", "en"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    for lang in LANGS:
        entries = po_entries(tmp_path / "locale" / lang / "LC_MESSAGES" / "django.po")
        # msgmerge marks a new string "fuzzy" with a guess: that is not a translation.
        missing = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
        missing += _untranslated(lang, entries)
        assert sorted(set(missing)) == [], f"add them to locale/{lang}/LC_MESSAGES/django.po"
