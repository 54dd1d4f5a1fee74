"""Reads for duplicates: the open candidate pairs a viewer may see, and the name keys
(folded, legal forms removed, transliterated to Latin) that duplicate detection and
search compare."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import QuerySet

from lavka.audit.models import AuditEvent
from lavka.clients.identifiers import CYR_TO_LAT, folded
from lavka.clients.models import Client, ClientMerge, DuplicateCandidate
from lavka.clients.selectors.core import clients_visible_to
from lavka.core.errors import NotFound

# The reverse, longest Latin cluster first, for a Latin query against Cyrillic names.
LAT_TO_CYR = [
    ("shch", "щ"),
    ("sch", "щ"),
    ("zh", "ж"),
    ("kh", "х"),
    ("ts", "ц"),
    ("ch", "ч"),
    ("sh", "ш"),
    ("yu", "ю"),
    ("ya", "я"),
    ("yo", "е"),
    ("ye", "е"),
    ("iy", "ий"),
    ("a", "а"),
    ("b", "б"),
    ("v", "в"),
    ("w", "в"),
    ("g", "г"),
    ("d", "д"),
    ("e", "е"),
    ("z", "з"),
    ("i", "и"),
    ("y", "й"),
    ("k", "к"),
    ("l", "л"),
    ("m", "м"),
    ("n", "н"),
    ("o", "о"),
    ("p", "п"),
    ("r", "р"),
    ("s", "с"),
    ("t", "т"),
    ("u", "у"),
    ("f", "ф"),
    ("h", "х"),
    ("c", "к"),
    ("q", "к"),
    ("x", "кс"),
    ("j", "дж"),
]
_LAT_RE = re.compile("|".join(re.escape(k) for k, _ in LAT_TO_CYR))
_LAT_MAP = dict(LAT_TO_CYR)

LEGAL_FORMS = {
    "ооо",
    "оао",
    "зао",
    "пао",
    "ао",
    "ип",
    "нко",
    "ано",
    "гуп",
    "муп",
    "фгуп",
    "тоо",
    "llc",
    "ltd",
    "inc",
    "corp",
    "co",
    "gmbh",
    "ag",
    "sa",
    "plc",
    "oy",
    "ab",
    "bv",
    "srl",
    "limited",
    "company",
    "corporation",
    "ooo",
    "oao",
    "zao",
    "pao",
    "ao",
    "ip",
}
_WORD = re.compile(r"[\w]+", re.UNICODE)


def to_latin(text: str) -> str:
    """Folded text with Cyrillic letters spelled in Latin (GOST 7.79 B-like)."""
    return "".join(CYR_TO_LAT.get(ch, ch) for ch in folded(text))


def to_cyrillic(text: str) -> str:
    """A folded Latin text spelled in Cyrillic: a guess, good enough for search."""
    return _LAT_RE.sub(lambda m: _LAT_MAP[m.group(0)], folded(text))


def has_cyrillic(text: str) -> bool:
    return any("а" <= ch <= "я" or ch == "ё" for ch in text.casefold())


def name_key(name: str) -> str:
    """The comparable form of a name: folded, legal forms and punctuation dropped,
    transliterated to Latin, words in order ("ООО «Ромашка»" -> "romashka")."""
    words = [w for w in _WORD.findall(folded(name)) if w not in LEGAL_FORMS]
    latin = [to_latin(w) for w in words]
    return " ".join(w for w in latin if w and w not in LEGAL_FORMS)


def name_block(name: str) -> str:
    """The block a name falls into for the batch scan: the first four letters of its
    key with the spaces and doubled letters out (so "Romashka"/"Ромашка"/"Romaschka"
    meet)."""
    key = re.sub(r"[^a-z0-9]", "", name_key(name))
    return re.sub(r"(.)\1+", r"\1", key)[:4]


def duplicates_visible_to(viewer: Any) -> QuerySet[DuplicateCandidate]:
    """Candidate pairs whose both clients the viewer may read."""
    visible = clients_visible_to(viewer).values("pk")
    return DuplicateCandidate.objects.select_related(
        "a", "b", "a__owner", "b__owner", "a__tier", "b__tier"
    ).filter(a__in=visible, b__in=visible, a__deleted_at__isnull=True, b__deleted_at__isnull=True)


def duplicate_list(
    *, viewer: Any, status: str = DuplicateCandidate.Status.OPEN
) -> QuerySet[DuplicateCandidate]:
    return duplicates_visible_to(viewer).filter(status=status).order_by("-score", "-id")


def duplicate_get(*, viewer: Any, candidate_id: int) -> DuplicateCandidate:
    try:
        return duplicates_visible_to(viewer).get(pk=candidate_id)
    except (DuplicateCandidate.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="duplicate", id=candidate_id) from None


def merges_visible_to(viewer: Any) -> QuerySet[ClientMerge]:
    """Merges whose survivor the viewer may read (the merged client is in the trash)."""
    return ClientMerge.objects.select_related("survivor", "merged", "merged_by").filter(
        survivor__in=clients_visible_to(viewer).values("pk")
    )


def merge_get(*, viewer: Any, merge_id: int) -> ClientMerge:
    try:
        return merges_visible_to(viewer).get(pk=merge_id)
    except (ClientMerge.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="merge", id=merge_id) from None


def merges_for_client(*, viewer: Any, client_id: int) -> QuerySet[ClientMerge]:
    return merges_visible_to(viewer).filter(survivor_id=client_id).order_by("-merged_at")


def merged_into(client_id: int) -> list[int]:
    """Ids of the clients merged (and not un-merged) into `client_id`, at any depth:
    one recursive query, however deep the chain of merges."""
    table = connection.ops.quote_name(ClientMerge._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE merged(id) AS (
                SELECT merged_id FROM {table} WHERE survivor_id = %s AND undone_at IS NULL
                UNION
                SELECT m.merged_id FROM {table} m JOIN merged ON m.survivor_id = merged.id
                WHERE m.undone_at IS NULL
            )
            SELECT id FROM merged WHERE id <> %s
            """,  # noqa: S608 - the table name is ours, the values are bound
            [client_id, client_id],
        )
        return [row[0] for row in cursor.fetchall()]


def client_history(*, viewer: Any, client: Client) -> QuerySet[AuditEvent]:
    """The audit history of `client` (got through clients_visible_to) and of every
    client merged into it, newest first: nothing is lost by a merge."""
    if not getattr(viewer, "is_authenticated", False):
        return AuditEvent.objects.none()
    ids = [str(client.pk), *(str(pk) for pk in merged_into(client.pk))]
    return (
        AuditEvent.objects.select_related("actor")
        .filter(content_type=ContentType.objects.get_for_model(Client), object_id__in=ids)
        .order_by("-at", "-id")
    )
