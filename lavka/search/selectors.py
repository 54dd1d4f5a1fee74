"""The one-box search: clients, people and contracts the viewer may see, found by
name (typos and Russian word forms tolerated), email, phone in any format, tax id
and contract number, ranked and grouped by type.

How matching works, per database:

- PostgreSQL: candidates come from the pg_trgm GIN index (substring `LIKE` and word
  similarity `<%`, which tolerates typos) and the Russian + English full-text index
  (word forms: "ромашки" finds "ромашка"), ranked by `ts_rank` + `word_similarity`.
- SQLite: candidates come from the FTS5 trigram table: first every word as a
  substring (ranked by bm25); when that finds too few, any of the query's trigrams
  (ranked by bm25, i.e. by how many and how rare), which tolerates a typo or a
  changed ending in words of five letters or more.

On both, the candidates are re-scored in Python (rapidfuzz) so that ranking is the
same everywhere, and a Latin query is also tried in Cyrillic and the other way round
("Romashka" finds "Ромашка").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from rapidfuzz import fuzz, process

from lavka.clients.identifiers import folded, phone_search_key
from lavka.clients.models import Client, Contract, Person
from lavka.clients.selectors import clients_visible_to
from lavka.clients.selectors.duplicates import has_cyrillic, to_cyrillic, to_latin
from lavka.identity.access import Action, Area, scope_queryset

PHONE_LIKE = re.compile(r"^[\d\s()+\-.]+$")
_WORD = re.compile(r"[^\s]+")
FUZZY_MIN = 72  # mean best-token similarity a fuzzy candidate needs (0-100)
PG_WORD_SIMILARITY = 0.4
MIN_LENGTH = 3  # shorter queries can use no trigram index: they would scan the table


@dataclass
class Hit:
    kind: str  # "client" | "person" | "contract"
    obj: Any
    score: float
    exact: bool


@dataclass
class SearchResults:
    query: str
    too_short: bool = False
    terms: list[str] = field(default_factory=list)  # folded words to highlight
    clients: list[Hit] = field(default_factory=list)
    people: list[Hit] = field(default_factory=list)
    contracts: list[Hit] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.clients) + len(self.people) + len(self.contracts)


def query_variants(query: str) -> list[list[str]]:
    """The ways to read a query: its words as typed (folded), the same in the other
    alphabet, and, for digits, the phone key (E.164 digits) and the bare digits."""
    text = folded(query)
    if not text:
        return []
    variants: list[list[str]] = []
    if PHONE_LIKE.match(text) and len(re.sub(r"\D", "", text)) >= 5:
        digits = re.sub(r"\D", "", text)
        for key in (phone_search_key(text), digits):
            if key and [key] not in variants:
                variants.append([key])
        return variants
    words = _WORD.findall(text)
    variants.append(words)
    other = [to_latin(w) for w in words] if has_cyrillic(text) else [to_cyrillic(w) for w in words]
    if other != words and any(re.search(r"[a-zа-я]", w) for w in words):
        variants.append(other)
    return variants


def _fts5_phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _trigrams(word: str) -> list[str]:
    return [word[i : i + 3] for i in range(len(word) - 2)]


def _sqlite_candidates(
    qs: QuerySet[Any], table: str, words: list[str], *, fuzzy: bool
) -> QuerySet[Any]:
    fts = f"search_{table.removeprefix('clients_')}_fts"
    long_words = [w for w in words if len(w) >= 3]
    for short in (w for w in words if len(w) < 3):
        qs = qs.filter(search_text__contains=short)
    if not long_words:
        return qs.order_by("name" if qs.model is Client else "last_name", "id")
    if fuzzy:
        grams = sorted({g for w in long_words for g in _trigrams(w)})
        match = " OR ".join(_fts5_phrase(g) for g in grams)
    else:
        match = " AND ".join(_fts5_phrase(w) for w in long_words)
    return qs.extra(  # noqa: S610 - parameters are bound, the table name is ours
        select={"search_rank": f"bm25({fts})"},
        tables=[fts],
        where=[f"{fts}.rowid = {table}.id", f"{fts} MATCH %s"],
        params=[match],
        order_by=["search_rank"],
    )


TSV = "(to_tsvector('russian'::regconfig, {col}) || to_tsvector('english'::regconfig, {col}))"


def _pg_candidates(
    qs: QuerySet[Any], table: str, words: list[str], *, fuzzy: bool
) -> QuerySet[Any]:
    """Rows the GIN indexes find, in no particular order: ordering by similarity
    would score every match (tens of thousands for a common word at a million rows),
    while an unordered LIMIT stops at the first CANDIDATES; rapidfuzz ranks them."""
    col = f"{table}.search_text"
    phrase = " ".join(words)
    if not fuzzy:
        for word in words:
            qs = qs.filter(search_text__contains=word)
        return qs.order_by()
    condition = f"(%s <%% {col}"
    params: list[Any] = [phrase]
    if table == "clients_client":
        condition += (
            f" OR {TSV.format(col=col)} @@ "
            "(plainto_tsquery('russian'::regconfig, %s)"
            " || plainto_tsquery('english'::regconfig, %s))"
        )
        params += [phrase, phrase]
    condition += ")"
    return qs.filter(RawSQL(condition, params, output_field=BooleanField())).order_by()  # noqa: S611 - bound parameters


def _score(words: list[str], text: str) -> tuple[float, bool]:
    """How well `words` match `text`, 0-100, and whether every word is in it as is."""
    if all(w in text for w in words):
        return 100.0, True
    tokens = re.findall(r"[^\s,.;:«»\"'()/-]+", text)
    if not tokens:
        return 0.0, False
    total = 0.0
    for word in words:
        if word in text:
            total += 100
            continue
        best = process.extractOne(word, tokens, scorer=fuzz.ratio)
        prefix = process.extractOne(word, tokens, scorer=fuzz.partial_ratio)
        total += max(best[1] if best else 0, (prefix[1] - 10) if prefix else 0)
    return total / len(words), False


def _search_model(
    qs: QuerySet[Any], table: str, variants: list[list[str]], limit: int
) -> list[tuple[Any, float, bool]]:
    """Exact (substring) matches first, variant by variant; the fuzzy pass only when
    they are fewer than `limit`. Each query hands at most `5 * limit` (>= 40) rows
    to the re-scoring."""
    pg = connection.vendor == "postgresql"
    candidates_per_query = max(5 * limit, 40)
    found: dict[int, tuple[Any, float, bool]] = {}
    for fuzzy in (False, True):
        if fuzzy and pg:
            # Word similarity of a transliterated spelling ("nortvind" ~ "northwind")
            # is around 0.45; the default threshold of 0.6 would miss it.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)",
                    [str(PG_WORD_SIMILARITY)],
                )
        for words in variants:
            if fuzzy and (
                (len(words) == 1 and words[0].isdigit()) or all(len(w) < 4 for w in words)
            ):
                continue
            if pg:
                candidates = _pg_candidates(qs, table, words, fuzzy=fuzzy)
            else:
                candidates = _sqlite_candidates(qs, table, words, fuzzy=fuzzy)
            for obj in candidates[:candidates_per_query]:
                score, exact = _score(words, obj.search_text)
                if not exact and score < FUZZY_MIN:
                    continue
                previous = found.get(obj.pk)
                if previous is None or previous[1] < score:
                    found[obj.pk] = (obj, score, exact)
            if len(found) >= limit:
                break
        if len(found) >= limit:
            break
    return sorted(found.values(), key=lambda hit: (-hit[1], str(hit[0])))[:limit]


def _contract_number_matches(number: str) -> Q:
    """On PostgreSQL `lower(number) LIKE` (its trigram index); SQLite's LOWER folds
    only ASCII, so there the number is also tried as typed."""
    if connection.vendor == "postgresql":
        return Q(number_lower__contains=number.casefold())
    return Q(number__contains=number) | Q(number__icontains=number)


def people_visible_to(viewer: Any) -> QuerySet[Person]:
    """Contact persons the viewer may read (the clients area's read scope)."""
    return scope_queryset(Person.objects.all(), viewer, Area.CLIENTS, Action.READ)


def search_everything(*, viewer: Any, query: str, limit: int = 8) -> SearchResults:
    """Clients, people and contracts matching `query` that `viewer` may see, each
    group ranked best first and at most `limit` long."""
    query = query.strip()[:200]
    variants = query_variants(query)
    results = SearchResults(query=query)
    if not variants:
        return results
    if is_too_short(query):
        results.too_short = True
        return results
    results.terms = sorted({w for words in variants for w in words}, key=len, reverse=True)
    clients = clients_visible_to(viewer)
    results.clients = [
        Hit("client", obj, score, exact)
        for obj, score, exact in _search_model(clients, "clients_client", variants, limit)
    ]
    people = people_visible_to(viewer)
    results.people = [
        Hit("person", obj, score, exact)
        for obj, score, exact in _search_model(people, "clients_person", variants, limit)
    ]
    number = query.strip()
    if len(number) >= 2:
        contracts = (
            Contract.objects.select_related("client")
            .filter(client__in=clients.values("pk"))
            .annotate(number_lower=Lower("number"))
            .filter(_contract_number_matches(number))
            .order_by("number", "id")[:limit]
        )
        results.contracts = [
            Hit("contract", c, 100.0 if c.number.casefold() == number.casefold() else 90.0, True)
            for c in contracts
        ]
    return results


def is_too_short(query: str) -> bool:
    return len(re.sub(r"\s", "", folded(query))) < MIN_LENGTH


def client_ids_matching(*, viewer: Any, query: str, limit: int = 500) -> list[int] | None:
    """Ids of the visible clients matching `query`, best first (for the client list);
    None when the query is too short for the index (the caller filters plainly)."""
    variants = query_variants(query)
    if not variants:
        return []
    if is_too_short(query):
        return None
    hits = _search_model(clients_visible_to(viewer), "clients_client", variants, limit)
    return [obj.pk for obj, _score, _exact in hits]
