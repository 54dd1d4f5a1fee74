"""Turning a file row into cleaned client values, or the list of its problems.

`RowCleaner.clean_cells` needs no database, so the command line runs it in worker
processes; `RowCleaner.resolve` looks up owners and tiers (cached)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.utils.translation import gettext as _

from lavka.clients import identifiers
from lavka.clients.models import Client, Tier
from lavka.clients.services.core import client_fields_clean, search_text_for
from lavka.core.errors import ValidationFailed
from lavka.identity.access import Action as AccessAction
from lavka.identity.access import Area, can_access
from lavka.identity.models import User

# Fields that land on the client itself; the other importable ones are handled apart.
DIRECT_FIELDS = [
    "external_id",
    "kind",
    "name",
    "legal_name",
    "first_name",
    "middle_name",
    "last_name",
    "email",
    "phone",
    "website",
    "industry",
    "size",
    "annual_revenue",
    "currency",
    "inn",
    "kpp",
    "ogrn",
    "vat",
    "city",
    "notes",
]
EXTRA_FIELDS = ["mobile", "owner", "tier", "tags"]
IMPORTED_FIELDS = [*DIRECT_FIELDS, *EXTRA_FIELDS]
MATCH_KEYS = ("external_id", "email", "inn")
SEARCH_FIELDS = (
    "name",
    "legal_name",
    "email",
    "phone",
    "inn",
    "ogrn",
    "vat",
    "city",
    "external_id",
)

KIND_WORDS = {
    "organisation": Client.Kind.ORGANISATION,
    "organization": Client.Kind.ORGANISATION,
    "company": Client.Kind.ORGANISATION,
    "org": Client.Kind.ORGANISATION,
    "организация": Client.Kind.ORGANISATION,
    "компания": Client.Kind.ORGANISATION,
    "юрлицо": Client.Kind.ORGANISATION,
    "юр лицо": Client.Kind.ORGANISATION,
    "юридическое лицо": Client.Kind.ORGANISATION,
    "person": Client.Kind.PERSON,
    "private person": Client.Kind.PERSON,
    "individual": Client.Kind.PERSON,
    "contact": Client.Kind.PERSON,
    "физлицо": Client.Kind.PERSON,
    "физ лицо": Client.Kind.PERSON,
    "физическое лицо": Client.Kind.PERSON,
    "частное лицо": Client.Kind.PERSON,
}


@dataclass
class RowProblem:
    row: int
    column: str
    value: str
    reason: str
    kind: str = "rejected"


class RowCleaner:
    """Turns a file row into cleaned client values, or the list of its problems.

    Caches the lookups (tiers, owners) so a million rows cost a handful of queries."""

    def __init__(self, *, actor: Any, header: list[str], fields: dict[int, str]) -> None:
        self.actor = actor
        self.header = header
        self.fields = fields
        self.field_items = sorted(fields.items())
        mapped = set(fields.values())
        self.direct = [n for n in DIRECT_FIELDS if n in mapped]
        self.columns = {
            name: header[i] if i < len(header) else str(i + 1) for i, name in fields.items()
        }
        self.tiers: dict[str, Tier] = {}
        for tier in Tier.objects.all():
            self.tiers[tier.code.casefold()] = tier
            self.tiers[tier.name.casefold()] = tier
            self.tiers[str(tier.display_name).casefold()] = tier
        self.owners: dict[str, User | None] = {}

    def owner(self, value: str) -> User | None:
        key = value.strip().casefold()
        if key not in self.owners:
            self.owners[key] = (
                User.objects.filter(username__iexact=key).first()
                or User.objects.filter(email__iexact=key).first()
            )
        return self.owners[key]

    def clean(self, number: int, cells: list[str]) -> tuple[dict[str, Any], list[RowProblem]]:
        raw, cleaned, problems = self.clean_cells(number, cells)
        return self.resolve(number, raw, cleaned, problems)

    def clean_cells(
        self, number: int, cells: list[str]
    ) -> tuple[dict[str, str], dict[str, Any], list[RowProblem]]:
        """The part of cleaning that needs no database (so it can run in another
        process): the client's own fields, tags, and the search text of a new client."""
        width = len(cells)
        raw = {name: cells[i].strip() if i < width else "" for i, name in self.field_items}
        problems: list[RowProblem] = []
        values: dict[str, Any] = {n: raw[n] for n in self.direct}
        values.setdefault("name", "")
        if "kind" in values:
            word = identifiers.folded(values["kind"]).strip() if values["kind"] else ""
            values["kind"] = KIND_WORDS.get(word.replace("-", " "), word) or (
                Client.Kind.ORGANISATION
            )
        if raw.get("mobile") and not values.get("phone"):
            values["phone"] = raw["mobile"]
        try:
            cleaned = client_fields_clean(values)
        except ValidationFailed as exc:
            for name, messages in exc.fields.items():
                column_field = name
                if name == "phone" and "phone" not in raw and "mobile" in raw:
                    column_field = "mobile"
                for message in messages:
                    problems.append(
                        RowProblem(
                            number,
                            self.columns.get(column_field, ""),
                            str(raw.get(column_field, ""))[:500],
                            str(message),
                        )
                    )
            cleaned = {}
        # An empty cell changes nothing: a new client gets the field's default, an
        # existing one keeps its value.
        cleaned = {k: v for k, v in cleaned.items() if v not in ("", None) or k == "name"}
        if raw.get("tags"):
            parts = raw["tags"].replace(";", ",").split(",")
            cleaned["tags"] = sorted({p.strip()[:60] for p in parts if p.strip()}, key=str.casefold)
        if not problems:
            probe = SimpleNamespace(**{n: cleaned.get(n, "") for n in SEARCH_FIELDS})
            cleaned["_search"] = search_text_for(probe)  # type: ignore[arg-type]
        return raw, cleaned, problems

    def resolve(
        self, number: int, raw: dict[str, str], cleaned: dict[str, Any], problems: list[RowProblem]
    ) -> tuple[dict[str, Any], list[RowProblem]]:
        """Owner and tier, which need the database (cached)."""
        if raw.get("owner"):
            owner = self.owner(raw["owner"])
            if owner is None:
                problems.append(
                    RowProblem(
                        number,
                        self.columns["owner"],
                        raw["owner"][:500],
                        _("There is no user with this name or email."),
                    )
                )
            elif not can_access(
                self.actor,
                area=Area.CLIENTS,
                action=AccessAction.WRITE,
                owner_id=owner.pk,
                team_id=owner.team_id,
            ):
                problems.append(
                    RowProblem(
                        number,
                        self.columns["owner"],
                        raw["owner"][:500],
                        _("You cannot give clients to this user."),
                    )
                )
            else:
                cleaned["owner"] = owner
        if raw.get("tier"):
            tier = self.tiers.get(raw["tier"].casefold())
            if tier is None:
                problems.append(
                    RowProblem(
                        number, self.columns["tier"], raw["tier"][:500], _("There is no such tier.")
                    )
                )
            else:
                cleaned["tier"] = tier
        return cleaned, problems
