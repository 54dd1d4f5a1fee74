"""The gettext catalogues are complete, compiled, and in step with the code.

No database: these tests read lavka/locale/*/LC_MESSAGES/django.{po,mo} directly
(and, for the "in step" check, run makemessages on a temporary copy of the package).
"""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lavka"
LOCALE = PACKAGE / "locale"
LANGUAGES = ("ru", "en")

RU_PLURAL_FORMS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
    "(n%100<10 || n%100>=20) ? 1 : 2);"
)
EN_PLURAL_FORMS = "nplurals=2; plural=(n != 1);"

# %(name)s, %(count)d, bare %s / %d, and str.format's {name}.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdifr]|%[sdifr]|\{\w*\}")


# --- a small .po reader -----------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    def __str__(self) -> str:
        ctxt = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"line {self.line}: {ctxt}{self.msgid!r}"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')


def _unquote(text: str, where: str) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"{where}: not a quoted string: {text}")
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], text[1:-1])


def parse_po(path: Path) -> tuple[Entry, list[Entry]]:
    """(header, entries) of a .po file; obsolete (#~) entries are left out."""
    entries: list[Entry] = []
    cur: Entry | None = None
    target: tuple[str, int] | None = None
    pending_flags: set[str] = set()
    last_was_msgstr = False
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        where = f"{path}:{number}"
        if not line:
            pending_flags = set()  # flags belong to the entry right below them
            continue
        if line.startswith("#"):
            if line.startswith("#,"):
                pending_flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword, index, value = match.group(1), match.group(2), _unquote(match.group(3), where)
            if keyword in ("msgctxt", "msgid") and (cur is None or last_was_msgstr):
                cur = Entry(flags=pending_flags, line=number)
                entries.append(cur)
                pending_flags = set()
            assert cur is not None, f"{where}: {keyword} before msgid"
            if keyword.startswith("msgstr"):
                target = ("msgstr", int(index) if index is not None else 0)
                cur.msgstr[target[1]] = value
                last_was_msgstr = True
            else:
                target = (keyword, 0)
                setattr(cur, keyword, value)
                last_was_msgstr = False
            continue
        if line.startswith('"') and cur is not None and target is not None:
            value = _unquote(line, where)
            if target[0] == "msgstr":
                cur.msgstr[target[1]] += value
            else:
                setattr(cur, target[0], (getattr(cur, target[0]) or "") + value)
            continue
        raise ValueError(f"{where}: cannot read {raw!r}")
    assert entries and entries[0].msgid == "", f"{path}: no header entry"
    return entries[0], entries[1:]


def header_fields(header: Entry) -> dict[str, str]:
    fields = {}
    for line in header.msgstr.get(0, "").splitlines():
        name, _, value = line.partition(":")
        fields[name.strip()] = value.strip()
    return fields


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "django.po"


def mo_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "django.mo"


def load_mo(lang: str) -> gettext.GNUTranslations:
    with mo_path(lang).open("rb") as fh:
        return gettext.GNUTranslations(fh)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


# --- (a) the .po files are complete ----------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_po_parses_and_has_entries(lang):
    header, entries = parse_po(po_path(lang))
    assert len(entries) > 100, f"{lang}: only {len(entries)} entries"
    keys = [e.key for e in entries]
    assert len(keys) == len(set(keys)), f"{lang}: duplicate msgids"
    assert "fuzzy" not in header.flags, f"{lang}: the header is marked fuzzy"


def test_headers():
    ru = header_fields(parse_po(po_path("ru"))[0])
    assert ru.get("Language") == "ru"
    assert ru.get("Plural-Forms") == RU_PLURAL_FORMS
    assert ru.get("Content-Type") == "text/plain; charset=UTF-8"
    en = header_fields(parse_po(po_path("en"))[0])
    assert en.get("Language") == "en"
    assert en.get("Plural-Forms") == EN_PLURAL_FORMS
    assert en.get("Content-Type") == "text/plain; charset=UTF-8"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_untranslated_or_fuzzy_entry(lang):
    header, entries = parse_po(po_path(lang))
    nplurals = int(re.search(r"nplurals=(\d+)", header_fields(header)["Plural-Forms"])[1])
    problems = []
    for e in entries:
        if "fuzzy" in e.flags:
            problems.append(f"fuzzy: {e}")
        if e.msgid_plural is None:
            if set(e.msgstr) != {0} or not e.msgstr[0]:
                problems.append(f"untranslated: {e}")
        elif set(e.msgstr) != set(range(nplurals)) or not all(e.msgstr.values()):
            problems.append(f"plural forms missing (need {nplurals}): {e}")
    assert not problems, f"{lang}.po:\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_are_kept(lang):
    _, entries = parse_po(po_path(lang))
    problems = []
    for e in entries:
        for index, text in e.msgstr.items():
            source = e.msgid if e.msgid_plural is None or index == 0 else e.msgid_plural
            # A plural form may use either English form's placeholders; they match here.
            if placeholders(text) != placeholders(source):
                problems.append(f"{e} msgstr[{index}] {text!r}")
    assert not problems, f"{lang}.po: placeholders differ:\n" + "\n".join(problems)


def test_english_catalogue_is_identity():
    _, entries = parse_po(po_path("en"))
    wrong = []
    for e in entries:
        expected = {0: e.msgid} if e.msgid_plural is None else {0: e.msgid, 1: e.msgid_plural}
        if e.msgstr != expected:
            wrong.append(str(e))
    assert not wrong, "en.po: msgstr differs from msgid:\n" + "\n".join(wrong)


def test_russian_uses_guillemets():
    _, entries = parse_po(po_path("ru"))
    wrong = [
        str(e)
        for e in entries
        if "“" in e.msgid and any("«" not in s or "“" in s or "”" in s for s in e.msgstr.values())
    ]
    assert not wrong, "ru.po: quote names with «ёлочки»:\n" + "\n".join(wrong)


# --- (b) the compiled .mo files match the .po files ------------------------------


class _Missing:
    """A fallback that records what the compiled catalogue lacks."""

    def __init__(self) -> None:
        self.missing: list[str] = []

    def gettext(self, message: str) -> str:
        self.missing.append(message)
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        self.missing.append(singular)
        return singular if n == 1 else plural

    def pgettext(self, context: str, message: str) -> str:
        self.missing.append(f"[{context}] {message}")
        return message

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        self.missing.append(f"[{context}] {singular}")
        return singular if n == 1 else plural


def _sample_for_each_form(translations: gettext.GNUTranslations, nplurals: int) -> dict[int, int]:
    samples: dict[int, int] = {}
    for n in range(0, 200):
        samples.setdefault(translations.plural(n), n)
    assert sorted(samples) == list(range(nplurals)), samples
    return samples


@pytest.mark.parametrize("lang", LANGUAGES)
def test_mo_is_compiled_from_the_po(lang):
    assert mo_path(lang).exists(), f"{mo_path(lang)} is missing: run compilemessages"
    header, entries = parse_po(po_path(lang))
    translations = load_mo(lang)
    fallback = _Missing()
    translations.add_fallback(fallback)
    nplurals = int(re.search(r"nplurals=(\d+)", header_fields(header)["Plural-Forms"])[1])
    samples = _sample_for_each_form(translations, nplurals)
    stale = []
    for e in entries:
        if e.msgid_plural is None:
            if e.msgctxt is None:
                got = translations.gettext(e.msgid)
            else:
                got = translations.pgettext(e.msgctxt, e.msgid)
            if got != e.msgstr[0]:
                stale.append(f"{e}: .mo has {got!r}, .po has {e.msgstr[0]!r}")
            continue
        for index, n in samples.items():
            if e.msgctxt is None:
                got = translations.ngettext(e.msgid, e.msgid_plural, n)
            else:
                got = translations.npgettext(e.msgctxt, e.msgid, e.msgid_plural, n)
            if got != e.msgstr.get(index):
                stale.append(f"{e} (n={n}): .mo has {got!r}, .po has {e.msgstr.get(index)!r}")
    stale += [f"not in .mo: {m!r}" for m in fallback.missing]
    assert not stale, f"{lang}: django.mo is stale, run compilemessages:\n" + "\n".join(
        dict.fromkeys(stale)
    )


# --- (c) Russian plural forms ----------------------------------------------------


def test_russian_plural_forms():
    _, entries = parse_po(po_path("ru"))
    plurals = [e for e in entries if e.msgid_plural is not None and e.msgctxt is None]
    assert plurals, "ru.po has no plural entry"
    entry = next((e for e in plurals if e.msgid == "%(counter)s client"), plurals[0])
    ru = load_mo("ru")

    def form(n: int) -> str:
        return ru.ngettext(entry.msgid, entry.msgid_plural, n)

    one, few, many = form(1), form(3), form(5)
    assert len({one, few, many}) == 3, (one, few, many)
    assert (one, few, many) == (entry.msgstr[0], entry.msgstr[1], entry.msgstr[2])
    assert form(21) == one
    assert form(22) == few
    assert form(25) == many
    assert form(11) == many
    assert form(12) == many
    assert form(0) == many


def test_russian_plural_words():
    """The three forms of the client count read 1 клиент, 2 клиента, 5 клиентов."""
    ru = load_mo("ru")
    samples = {1: "1 клиент", 2: "2 клиента", 5: "5 клиентов", 21: "21 клиент", 11: "11 клиентов"}
    for n, expected in samples.items():
        text = ru.ngettext("%(counter)s client", "%(counter)s clients", n) % {"counter": n}
        assert text == expected


def test_django_serves_the_project_catalogue():
    """Django's own catalogues (other plural rules, same msgids) do not shadow ours."""
    from django.utils import translation

    _, entries = parse_po(po_path("ru"))
    with translation.override("ru"):
        shadowed = [
            f"{e}: Django gives {translation.gettext(e.msgid)!r}"
            for e in entries
            if e.msgid_plural is None
            and e.msgctxt is None
            and translation.gettext(e.msgid) != e.msgstr[0]
        ]
        words = [
            translation.ngettext("%(counter)s client", "%(counter)s clients", n) % {"counter": n}
            for n in (1, 3, 5, 21)
        ]
    assert not shadowed, "\n".join(shadowed)
    assert words == ["1 клиент", "3 клиента", "5 клиентов", "21 клиент"]


# --- (d) the catalogue holds exactly the strings in the code ---------------------


def test_po_matches_the_strings_in_the_code(tmp_path):
    if shutil.which("xgettext") is None:
        if os.environ.get("LAVKA_REQUIRE_SERVICES"):
            pytest.fail("xgettext is not installed (apt-get install gettext)")
        pytest.skip("xgettext is not installed")
    copy = tmp_path / "src"
    shutil.copytree(
        PACKAGE, copy / "lavka", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo")
    )
    shutil.copy2(ROOT / "manage.py", copy / "manage.py")
    data = tmp_path / "data"
    data.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(copy),
        "DJANGO_SETTINGS_MODULE": "lavka.config.settings",
        "LAVKA_DATA_DIR": str(data),
    }
    result = subprocess.run(
        [
            sys.executable,
            str(copy / "manage.py"),
            "makemessages",
            "-l",
            "ru",
            "--no-obsolete",
            "--ignore",
            "tests/*",
        ],
        cwd=copy / "lavka",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    def ids(path: Path) -> set[tuple[str | None, str, str | None]]:
        return {(e.msgctxt, e.msgid, e.msgid_plural) for e in parse_po(path)[1]}

    in_code = ids(copy / "lavka" / "locale" / "ru" / "LC_MESSAGES" / "django.po")
    committed = ids(po_path("ru"))
    # A string in the code without a translation fails; an entry no longer used is
    # harmless (the next makemessages --no-obsolete drops it).
    missing = sorted(in_code - committed, key=str)
    assert not missing, (
        "lavka/locale/ru/LC_MESSAGES/django.po misses strings that are in the code; run "
        "makemessages (see docs/architecture.md), translate, and compilemessages.\n"
        f"in the code, not in the catalogue: {missing}"
    )
