"""Finding clients that are probably the same one: same email, same phone (E.164),
same INN, or a similar name (rapidfuzz over folded names with legal forms removed,
transliterated to Latin so "Ромашка" and "Romashka" meet).

Every email and phone of a client counts, the primary one on the client and the others
in its contact block (ContactPoint).

Scores (0-100): INN 100, email 95, phone 90, name = its similarity (at least
NAME_MIN); each further matching rule adds 5, up to 100.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from rapidfuzz import fuzz

from lavka.audit.services import Action, audit_record
from lavka.clients import identifiers
from lavka.clients.models import Client, ContactPoint, DuplicateCandidate
from lavka.clients.permissions import can_edit_client
from lavka.clients.selectors.core import clients_visible_to
from lavka.clients.selectors.duplicates import name_block, name_key, to_cyrillic
from lavka.core.errors import NotPermitted

RULE_SCORES = {"inn": 100, "email": 95, "phone": 90}
NAME_MIN = 85
EXTRA_REASON = 5
BLOCK_MAX = 2_000  # a name block larger than this is compared by exact key only


@dataclass
class Match:
    client: Client
    score: int
    reasons: list[str] = field(default_factory=list)


def _normalised(fields: dict[str, Any]) -> dict[str, str]:
    """The identifying values of unsaved input; bad values are simply not compared."""
    out = {"name": str(fields.get("name") or "").strip()}
    for name, normalise in (
        ("email", identifiers.email_normalised),
        ("phone", identifiers.phone_normalised),
        ("inn", identifiers.inn_normalised),
    ):
        try:
            out[name] = normalise(str(fields.get(name) or ""))
        except identifiers.BadValue:
            out[name] = ""
    return out


def pair_score(a: dict[str, str], b: dict[str, str]) -> tuple[int, list[str]]:
    """Score and reasons for two clients' identifying values ({name,email,phone,inn})."""
    reasons: list[tuple[str, int]] = []
    for rule in ("inn", "email", "phone"):
        if a.get(rule) and a.get(rule) == b.get(rule):
            reasons.append((rule, RULE_SCORES[rule]))
    key_a, key_b = name_key(a.get("name", "")), name_key(b.get("name", ""))
    if key_a and key_b:
        similarity = round(fuzz.token_sort_ratio(key_a, key_b))
        if similarity >= NAME_MIN:
            reasons.append(("name", similarity))
    if not reasons:
        return 0, []
    best = max(score for _rule, score in reasons)
    return min(100, best + EXTRA_REASON * (len(reasons) - 1)), [rule for rule, _ in reasons]


def _values(client: Client) -> dict[str, str]:
    return {"name": client.name, "email": client.email, "phone": client.phone, "inn": client.inn}


CONTACT_RULES = ("email", "phone")  # the rules a ContactPoint of the same kind also answers


def _contact_values(client_ids: Iterable[int]) -> dict[int, dict[str, set[str]]]:
    """Each client's emails and phones from its contact block, by rule."""
    found: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for client_id, kind, value in ContactPoint.objects.filter(
        client_id__in=list(client_ids), kind__in=CONTACT_RULES
    ).values_list("client_id", "kind", "value"):
        found[client_id][kind].add(value)
    return found


def duplicates_for(
    *,
    fields: dict[str, Any],
    exclude_id: int | None = None,
    viewer: Any = None,
    limit: int = 10,
    also: dict[str, set[str]] | None = None,
) -> list[Match]:
    """Clients that look like the one described by `fields` (name, email, phone, inn;
    raw input is fine), best first. Usable before saving. `also` adds more normalised
    emails/phones of the same client (its contact block). With `viewer`, only
    clients the viewer may read are returned (so a warning never leaks a name)."""
    values = _normalised(fields)
    keys = {rule: {values[rule]} - {""} for rule in RULE_SCORES}
    for rule, more in (also or {}).items():
        keys[rule] |= set(more) - {""}
    base = clients_visible_to(viewer) if viewer is not None else Client.objects.all()
    if exclude_id:
        base = base.exclude(pk=exclude_id)
    exact = Q(pk__in=[])
    for rule in RULE_SCORES:
        if keys[rule]:
            exact |= Q(**{f"{rule}__in": keys[rule]})
            if rule in CONTACT_RULES:
                exact |= Q(
                    pk__in=ContactPoint.objects.filter(kind=rule, value__in=keys[rule]).values(
                        "client_id"
                    )
                )
    candidates: dict[int, Client] = {c.pk: c for c in base.filter(exact)[:200]}
    key = name_key(values["name"])
    if key:
        longest = max(key.split(), key=len)
        stems = {longest[:4], to_cyrillic(longest)[:4]}
        by_name = Q(pk__in=[])
        for stem in stems:
            if len(stem) >= 3:
                by_name |= Q(search_text__contains=stem)
        for client in base.filter(by_name)[:500]:
            candidates.setdefault(client.pk, client)
    points = _contact_values(candidates) if any(keys[r] for r in CONTACT_RULES) else {}
    matches = []
    for client in candidates.values():
        mine, theirs = dict(values), _values(client)
        for rule in CONTACT_RULES:
            common = keys[rule] & ({theirs[rule]} | points.get(client.pk, {}).get(rule, set()))
            if common:
                mine[rule] = theirs[rule] = min(common)
        score, reasons = pair_score(mine, theirs)
        if score:
            matches.append(Match(client=client, score=score, reasons=reasons))
    matches.sort(key=lambda m: (-m.score, m.client.pk))
    return matches[:limit]


def _upsert(pairs: Iterable[tuple[int, int, int, list[str]]]) -> int:
    """Record candidate pairs; a pair already known keeps its status (a dismissed
    pair is not brought back), an open one gets the new score. Returns how many new."""
    rows = {(min(a, b), max(a, b)): (score, reasons) for a, b, score, reasons in pairs if a != b}
    if not rows:
        return 0
    existing = {
        (c.a_id, c.b_id): c
        for c in DuplicateCandidate.objects.filter(
            a_id__in={a for a, _ in rows}, b_id__in={b for _, b in rows}
        )
    }
    new = []
    for (a, b), (score, reasons) in rows.items():
        known = existing.get((a, b))
        if known is None:
            new.append(DuplicateCandidate(a_id=a, b_id=b, score=score, reasons=reasons))
        elif known.status == DuplicateCandidate.Status.OPEN and (
            known.score != score or known.reasons != reasons
        ):
            DuplicateCandidate.objects.filter(pk=known.pk).update(score=score, reasons=reasons)
    DuplicateCandidate.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    return len(new)


@transaction.atomic
def duplicates_check(*, client_id: int) -> int:
    """Record the open candidates for one saved client (after create, edit or import).
    Idempotent; returns how many new pairs were found."""
    client = Client.objects.filter(pk=client_id).first()
    if client is None:
        return 0
    also = _contact_values([client.pk]).get(client.pk, {})
    matches = duplicates_for(fields=_values(client), exclude_id=client.pk, limit=50, also=also)
    return _upsert((client.pk, m.client.pk, m.score, m.reasons) for m in matches)


def on_client_saved(payload: dict[str, Any]) -> None:
    """Outbox handler for client.created / client.updated."""
    fields = payload.get("fields")
    if fields is not None and not {"name", "email", "phone", "inn", "contact_points"} & set(fields):
        return
    duplicates_check(client_id=int(payload["client_id"]))


def _blocks(clients: Any) -> Iterator[list[int]]:
    """Groups of client ids sharing an exact key (email, phone, INN): one GROUP BY
    each, so only the groups with two or more members are read."""
    for rule in ("inn", "email", "phone"):
        keys = (
            clients.exclude(**{rule: ""})
            .values(rule)
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .values_list(rule, flat=True)
        )
        ids_by_key: dict[str, list[int]] = defaultdict(list)
        for pk, value in clients.filter(**{f"{rule}__in": keys}).values_list("pk", rule):
            ids_by_key[value].append(pk)
        yield from ids_by_key.values()


def _contact_blocks(clients: Any) -> tuple[list[list[int]], dict[int, dict[str, set[str]]]]:
    """Groups of clients sharing an email or phone anywhere in their contact blocks
    (primary or not), and those clients' emails and phones by rule."""
    points = ContactPoint.objects.filter(client__in=clients.values("pk"), kind__in=CONTACT_RULES)
    shared = (
        points.values("kind", "value")
        .annotate(n=Count("client_id", distinct=True))
        .filter(n__gt=1)
        .values_list("kind", "value")
    )
    ids_by_key: dict[tuple[str, str], set[int]] = defaultdict(set)
    for kind, value in shared:
        ids_by_key[(kind, value)] = set()
    if not ids_by_key:
        return [], {}
    for client_id, kind, value in points.filter(
        value__in={value for _kind, value in ids_by_key}
    ).values_list("client_id", "kind", "value"):
        if (kind, value) in ids_by_key:
            ids_by_key[(kind, value)].add(client_id)
    members = {pk for ids in ids_by_key.values() for pk in ids}
    return [sorted(ids) for ids in ids_by_key.values()], _contact_values(members)


def duplicates_scan(*, actor: Any, progress: Any = None) -> dict[str, int]:
    """Fill DuplicateCandidate for every client `actor` may read: exact-key blocks by
    GROUP BY (on the client and in the contact blocks), then names compared only within
    a block of the same name key (first four letters of the transliterated, folded
    name). Idempotent."""
    clients = clients_visible_to(actor).order_by()
    values: dict[int, dict[str, str]] = {}
    by_name: dict[str, list[int]] = defaultdict(list)
    total = 0
    for pk, name, email, phone, inn in clients.values_list(
        "pk", "name", "email", "phone", "inn"
    ).iterator(chunk_size=5000):
        values[pk] = {"name": name, "email": email, "phone": phone, "inn": inn}
        block = name_block(name)
        if block:
            by_name[block].append(pk)
        total += 1
    contact_groups, points = _contact_blocks(clients)
    pairs: dict[tuple[int, int], tuple[int, list[str]]] = {}
    compared = 0
    groups = (
        list(_blocks(clients))
        + contact_groups
        + [ids for ids in by_name.values() if len(ids) <= BLOCK_MAX]
    )
    for done, ids in enumerate(groups, start=1):
        for a, b in combinations(sorted(ids), 2):
            if (a, b) in pairs or a not in values or b not in values:
                continue
            compared += 1
            mine, theirs = dict(values[a]), dict(values[b])
            for rule in CONTACT_RULES:
                common = ({mine[rule]} | points.get(a, {}).get(rule, set())) & (
                    {theirs[rule]} | points.get(b, {}).get(rule, set())
                ) - {""}
                if common:
                    mine[rule] = theirs[rule] = min(common)
            score, reasons = pair_score(mine, theirs)
            if score:
                pairs[(a, b)] = (score, reasons)
        if progress is not None and done % 500 == 0:
            progress(done, len(groups))
    new = 0
    with transaction.atomic():
        new = _upsert((a, b, s, r) for (a, b), (s, r) in pairs.items())
    return {"clients": total, "compared": compared, "found": len(pairs), "new": new}


@transaction.atomic
def duplicate_dismiss(*, actor: Any, candidate: DuplicateCandidate) -> DuplicateCandidate:
    """Mark a pair "not a duplicate"; it will not be proposed again."""
    locked = (
        DuplicateCandidate.objects.select_for_update().select_related("a", "b").get(pk=candidate.pk)
    )
    if not (can_edit_client(actor, locked.a) and can_edit_client(actor, locked.b)):
        raise NotPermitted(action="dismiss", resource="duplicate")
    if locked.status != DuplicateCandidate.Status.DISMISSED:
        locked.status = DuplicateCandidate.Status.DISMISSED
        locked.resolved_by = actor
        locked.resolved_at = timezone.now()
        locked.save(update_fields=["status", "resolved_by", "resolved_at"])
        for subject, other in ((locked.a, locked.b), (locked.b, locked.a)):
            audit_record(
                action=Action.UPDATE,
                subject=subject,
                actor=actor,
                changes={"not_a_duplicate_of": [None, {"id": other.pk, "label": other.name}]},
            )
    return locked
