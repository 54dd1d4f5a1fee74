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
from lavka.clients.models import Client, Contract
from lavka.clients.selectors import clients_visible_to
from lavka.clients.selectors.blocks import people_visible_to
from lavka.clients.selectors.duplicates import has_cyrillic, to_cyrillic, to_latin

PHONE_LIKE = re.compile(r"^[\d\s()+\-.]+$")
_WORD = re.compile(r"[^\s]+")
FUZZY_MIN = 72  # mean best-token similarity a fuzzy candidate needs (0-100)
PG_WORD_SIMILARITY = 0.4
MIN_LENGTH = 3  # shorter queries can use no trigram index: they would scan the table
# The fuzzy pass needs a word this long: a misspelt shorter word shares too few
# trigrams with the right one to be found (see the README's table), and looking costs a
# read of every row that merely shares a trigram (thousands at a million rows).
FUZZY_WORD = 5


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

# The columns the search reads and shows, per table: a candidate is built from these
# alone (a client has some fifty columns, and its owner, team and tier are not shown).
SHOWN_FIELDS = {
    "clients_client": ("kind", "name", "city", "email", "phone", "inn", "search_text"),
    "clients_person": ("first_name", "middle_name", "last_name", "email", "phone", "search_text"),
}


def _pg_candidates(
    qs: QuerySet[Any], table: str, variants: list[list[str]], *, fuzzy: bool, limit: int
) -> QuerySet[Any]:
    """Rows the GIN indexes find for any of the query's readings (one query, an OR of
    them), in no particular order: ordering by similarity would score every match
    (tens of thousands for a common word at a million rows), while an unordered LIMIT
    stops at the first candidates; rapidfuzz ranks them. The fuzzy query is a union of
    at most `limit` similar spellings and `limit` word forms."""
    col = f"{table}.search_text"
    if not fuzzy:
        matches = Q(pk__in=[])
        for words in variants:
            every = Q()
            for word in words:
                every &= Q(search_text__contains=word)
            matches |= every
        return qs.filter(matches).order_by()
    similar: list[str] = []
    similar_params: list[Any] = []
    forms: list[str] = []
    forms_params: list[Any] = []
    for words in variants:
        phrase = " ".join(words)
        similar.append(f"%s <%% {col}")
        similar_params.append(phrase)
        if table == "clients_client":
            forms.append(
                f"{TSV.format(col=col)} @@ "
                "(plainto_tsquery('russian'::regconfig, %s)"
                " || plainto_tsquery('english'::regconfig, %s))"
            )
            forms_params += [phrase, phrase]
    by_similarity = qs.filter(
        RawSQL("(" + " OR ".join(similar) + ")", similar_params, output_field=BooleanField())  # noqa: S611 - bound parameters
    ).order_by()
    if not forms:
        return by_similarity
    # Word forms apart, as a second branch of one query: in one OR with the lossy
    # trigram condition, every trigram candidate would be rechecked against both,
    # computing two text vectors per candidate row.
    by_form = qs.filter(
        RawSQL("(" + " OR ".join(forms) + ")", forms_params, output_field=BooleanField())  # noqa: S611 - bound parameters
    ).order_by()
    return by_similarity[:limit].union(by_form[:limit], all=True)


def _pg_word_similarity() -> None:
    """Set pg_trgm's word similarity threshold for this connection, once: in
    autocommit the setting stays with the connection; inside a transaction (which may
    roll it back) it is set every time."""
    raw = connection.connection
    if not connection.in_atomic_block and getattr(raw, "_lavka_word_similarity", None) == (
        PG_WORD_SIMILARITY
    ):
        return
    with connection.cursor() as cursor:
        # Word similarity of a transliterated spelling ("nortvind" ~ "northwind") is
        # around 0.45; the default threshold of 0.6 would miss it.
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)",
            [str(PG_WORD_SIMILARITY)],
        )
    if not connection.in_atomic_block:
        raw._lavka_word_similarity = PG_WORD_SIMILARITY  # type: ignore[union-attr]


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
    """Exact (substring) matches first; the fuzzy pass only when they are fewer than
    `limit` and a word has FUZZY_WORD letters. Readings are tried in order (as typed
    first), the next only while fewer than `limit` are found; on PostgreSQL the fuzzy
    pass is one query for all of them. Each reading hands at most `limit` exact rows,
    or `5 * limit` (>= 40) fuzzy ones, to the re-scoring."""
    pg = connection.vendor == "postgresql"
    fields = SHOWN_FIELDS.get(table)
    if fields:
        qs = qs.select_related(None).only(*fields)
    found: dict[int, tuple[Any, float, bool]] = {}

    def consider(objects: Any, readings: list[list[str]]) -> None:
        for obj in objects:
            score, exact = max(_score(words, obj.search_text) for words in readings)
            if not exact and score < FUZZY_MIN:
                continue
            previous = found.get(obj.pk)
            if previous is None or previous[1] < score:
                found[obj.pk] = (obj, score, exact)

    for fuzzy in (False, True):
        readings = [
            words
            for words in variants
            if not (
                fuzzy
                and (
                    (len(words) == 1 and words[0].isdigit())
                    or all(len(w) < FUZZY_WORD for w in words)
                )
            )
        ]
        if not readings:
            continue
        # Every exact candidate scores 100: `limit` of them are as good as more. Fuzzy
        # ones are ranked by their score, so more are looked at.
        per_reading = max(5 * limit, 40) if fuzzy else limit
        if pg and fuzzy:
            # One query for every reading: the scores rank what it finds.
            _pg_word_similarity()
            wanted = per_reading * len(readings)
            candidates = _pg_candidates(qs, table, readings, fuzzy=True, limit=wanted)
            consider(candidates[: 2 * wanted], readings)
        elif pg:
            # Exact matches all score 100: the query as typed goes first, and its
            # other alphabet only when it leaves room ("Ольг" finds Ольга before Volga).
            for words in readings:
                candidates = _pg_candidates(qs, table, [words], fuzzy=False, limit=per_reading)
                consider(candidates[:per_reading], [words])
                if len(found) >= limit:
                    break
        else:
            for words in readings:
                candidates = _sqlite_candidates(qs, table, words, fuzzy=fuzzy)
                consider(candidates[:per_reading], [words])
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
            .only("number", "subject", "client__name")
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
