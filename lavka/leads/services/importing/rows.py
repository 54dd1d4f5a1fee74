"""A lead import's rows: the cells of one row as a lead's cleaned values, or its
problems (the leads' own checks); the keys rows and leads are matched on."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from lavka.identity.models import User
from lavka.imports.cleaning import RowProblem
from lavka.imports.mapping import normalise
from lavka.leads.import_fields import NAME_PARTS, source_words
from lavka.leads.models import Lead
from lavka.leads.services.values import Errors, lead_fields_clean

MATCH_KEYS = ("external_id", "email", "phone")
TEXT_FIELDS = [
    "company",
    "contact_name",
    "email",
    "phone",
    "inn",
    "message",
    "campaign",
    "utm_source",
    "utm_medium",
    "utm_campaign",
]
CUT_FIELDS = ("utm_source", "utm_medium", "utm_campaign")  # cut, never a reason to refuse
# What a row may change on an existing lead.
UPDATED = ["external_id", *TEXT_FIELDS, "source"]
WRITTEN = [*UPDATED, "owner", "team", "search_text", "version", "updated_at"]
EXTERNAL_ID_LIMIT = 100
REFUSED = ("rejected", "duplicate")  # kinds of problem after which the row is not written


def _contact_name(raw: dict[str, str]) -> str:
    """The contact name as typed, or made of the name parts the way conversion splits
    it again: "First Last", or "Last First Middle" with a middle name."""
    if raw.get("contact_name"):
        return raw["contact_name"]
    last, first, middle = (" ".join(raw.get(n, "").split()) for n in NAME_PARTS)
    parts = [last, first, middle] if middle else [first, last]
    return " ".join(p for p in parts if p)


def conflicts(key: str, a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two records sharing `key` differ in a key ranked before it."""
    for earlier in MATCH_KEYS[: MATCH_KEYS.index(key)]:
        if a.get(earlier) and b.get(earlier) and a[earlier] != b[earlier]:
            return True
    return False


class RowCleaner:
    """A file row as a lead's cleaned values, or its problems. Caches owners."""

    def __init__(self, *, actor: Any, header: list[str], fields: dict[int, str]) -> None:
        self.actor = actor
        self.field_items = sorted(fields.items())
        self.columns = {
            name: header[i] if i < len(header) else str(i + 1) for i, name in fields.items()
        }
        self.sources = source_words()
        self.owners: dict[str, User | None] = {}

    def column(self, name: str) -> str:
        """The header of the column a message about `name` belongs under ("" for the
        row as a whole)."""
        if name in self.columns:
            return self.columns[name]
        alternatives = {
            "contact_name": [*NAME_PARTS[::-1], "company"],
            "email": ["phone"],
        }
        return next((self.columns[n] for n in alternatives.get(name, []) if n in self.columns), "")

    def owner(self, value: str) -> User | None:
        key = value.strip().casefold()
        if key not in self.owners:
            users = User.objects.filter(is_active=True)
            self.owners[key] = (
                users.filter(username__iexact=key).first()
                or users.filter(email__iexact=key).first()
            )
        return self.owners[key]

    def clean(
        self, number: int, cells: list[str]
    ) -> tuple[dict[str, str], dict[str, Any], list[RowProblem]]:
        """(the cells as typed by field, the cleaned values, the problems). Empty
        cells give no value: they change nothing on an existing lead."""
        width = len(cells)
        raw = {name: cells[i].strip() if i < width else "" for i, name in self.field_items}
        problems: list[RowProblem] = []
        text = {n: raw[n] for n in TEXT_FIELDS if raw.get(n)}
        name = _contact_name(raw)
        if name:
            text["contact_name"] = name
        for tag in CUT_FIELDS:
            if tag in text:
                text[tag] = " ".join(text[tag].split())[:100]
        errors: Errors = {}
        values: dict[str, Any] = lead_fields_clean(text, errors)
        for field_name, messages in errors.items():
            for message in messages:
                problems.append(self.problem(number, field_name, raw, message))
        external_id = " ".join(raw.get("external_id", "").split())
        if len(external_id) > EXTERNAL_ID_LIMIT:
            problems.append(
                self.problem(
                    number,
                    "external_id",
                    raw,
                    _("At most %(max)s characters.") % {"max": EXTERNAL_ID_LIMIT},
                )
            )
        elif external_id:
            values["external_id"] = external_id
        if raw.get("source"):
            source = self.sources.get(normalise(raw["source"]))
            if source is None:
                problems.append(
                    RowProblem(
                        number,
                        self.column("source"),
                        raw["source"][:500],
                        _("Not a source Lavka knows: the lead's source is “%(source)s”.")
                        % {"source": Lead.Source.IMPORT.label},
                        kind="note",
                    )
                )
            else:
                values["source"] = source
        if raw.get("owner"):
            owner = self.owner(raw["owner"])
            if owner is None:
                problems.append(
                    self.problem(
                        number, "owner", raw, _("There is no user with this name or email.")
                    )
                )
            else:
                values["owner"] = owner
        return raw, values, problems

    def problem(
        self, number: int, name: str, raw: dict[str, str], reason: str, kind: str = "rejected"
    ) -> RowProblem:
        value = raw.get(name) or (_contact_name(raw) if name == "contact_name" else "")
        return RowProblem(number, self.column(name), value[:500], str(reason), kind=kind)
