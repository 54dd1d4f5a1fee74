"""Entry chains (Tool 2): the best ways from our own staff, through people we know, to
a person on the client's side (usually the power point).

The relationship graph is read set-based (ids and strengths as flat arrays, never ORM
objects), compacted into sparse matrices, and kept in memory per process and database
until a relationship is added, changed or removed (one aggregate query tells).
Relationships count both ways. Two measures:

- *shortest*: fewest people in between; among equally short chains, the strongest;
- *strongest*: the chain whose links' strengths multiply to the most, i.e. the least
  sum of -log(strength / 6) (strength 5 costs 0.18, strength 1 costs 1.79), so one
  strong acquaintance beats two weak ones.

One Dijkstra run from the target per measure (scipy's csgraph, C code) gives the best
chain from every member of staff at once; the best few are returned.
"""

from __future__ import annotations

import itertools
import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import router
from django.db.models import Count, Max
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from lavka.keyaccounts.models import Relationship

STRENGTH_SCALE = 6.0
# The tie-break weight of strength within "fewest hops": below one hop for any chain
# shorter than ~50 links.
HOP_TIE_BREAK = 0.01


def person_node(person_id: int) -> int:
    return person_id * 2


def user_node(user_id: int) -> int:
    return user_id * 2 + 1


def link_cost(strength: int | float) -> float:
    """The cost of one link on the strongest measure."""
    return -math.log(float(strength) / STRENGTH_SCALE)


@dataclass(frozen=True)
class RelationshipGraph:
    version: tuple[Any, ...]
    keys: np.ndarray  # sorted node keys: person_node / user_node
    strongest: csr_matrix
    shortest: csr_matrix

    @property
    def node_count(self) -> int:
        return int(self.keys.size)

    @property
    def edge_count(self) -> int:
        """Distinct links (each stored in both directions)."""
        return int(self.strongest.nnz) // 2


@dataclass(frozen=True)
class RawChain:
    """A chain as node keys from a member of staff to the target, with its cost."""

    nodes: tuple[int, ...]
    cost: float

    @property
    def user_id(self) -> int:
        return self.nodes[0] // 2

    @property
    def hops(self) -> int:
        return len(self.nodes) - 1


_cache: dict[str, RelationshipGraph] = {}
_lock = threading.Lock()


def _version(alias: str) -> tuple[Any, ...]:
    stats = Relationship.objects.using(alias).aggregate(
        n=Count("id"), last=Max("id"), changed=Max("updated_at")
    )
    return (stats["n"], stats["last"], stats["changed"])


def _edges(alias: str, source: str) -> np.ndarray:
    """(source id, target person id, strength) of every relationship from `source`
    ("from_person" or "from_user"), as an n x 3 integer array."""
    rows = list(
        Relationship.objects.using(alias)
        .filter(**{f"{source}__isnull": False})
        .order_by()
        .values_list(f"{source}_id", "to_person_id", "strength")
    )
    flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64, count=3 * len(rows))
    return flat.reshape(-1, 3)


def graph_from_arrays(
    sources: np.ndarray,
    targets: np.ndarray,
    strengths: np.ndarray,
    *,
    version: tuple[Any, ...] = (),
) -> RelationshipGraph:
    """The graph of node keys `sources[i]` - `targets[i]` with `strengths[i]` (1-5).
    Of several links between two nodes, the strongest counts."""
    keys = np.unique(np.concatenate([sources, targets]))
    a = np.searchsorted(keys, sources)
    b = np.searchsorted(keys, targets)
    low, high = np.minimum(a, b), np.maximum(a, b)
    cost = -np.log(strengths.astype(np.float64) / STRENGTH_SCALE)
    keep = low != high
    low, high, cost = low[keep], high[keep], cost[keep]
    order = np.lexsort((cost, high, low))
    low, high, cost = low[order], high[order], cost[order]
    first = np.ones(low.size, dtype=bool)
    first[1:] = (low[1:] != low[:-1]) | (high[1:] != high[:-1])
    low, high, cost = low[first], high[first], cost[first]
    size = keys.size
    # Both directions stored once here, so that each search runs on a directed graph:
    # asked for an undirected search, scipy would transpose the matrix on every call.
    rows, columns = np.concatenate([low, high]), np.concatenate([high, low])
    cost = np.concatenate([cost, cost])
    strongest = csr_matrix((cost, (rows, columns)), shape=(size, size))
    shortest = csr_matrix((1.0 + HOP_TIE_BREAK * cost, (rows, columns)), shape=(size, size))
    return RelationshipGraph(version=version, keys=keys, strongest=strongest, shortest=shortest)


def relationship_graph(*, using: str | None = None) -> RelationshipGraph:
    """The whole relationship graph, built once per process and reused until the
    relationships change."""
    alias = using or router.db_for_read(Relationship)
    version = _version(alias)
    cached = _cache.get(alias)
    if cached is not None and cached.version == version:
        return cached
    with _lock:
        people = _edges(alias, "from_person")
        staff = _edges(alias, "from_user")
        graph = graph_from_arrays(
            np.concatenate([people[:, 0] * 2, staff[:, 0] * 2 + 1]),
            np.concatenate([people[:, 1] * 2, staff[:, 1] * 2]),
            np.concatenate([people[:, 2], staff[:, 2]]),
            version=version,
        )
        _cache[alias] = graph
    return graph


def best_chains(
    graph: RelationshipGraph,
    *,
    target: int,
    measure: str = "strongest",
    limit: int = 3,
    staff: set[int] | None = None,
) -> list[RawChain]:
    """Up to `limit` chains to the node `target`, each from a different member of
    staff (user nodes; only those in `staff` when given), best first."""
    index = int(np.searchsorted(graph.keys, target))
    if index >= graph.keys.size or graph.keys[index] != target:
        return []
    matrix = graph.strongest if measure == "strongest" else graph.shortest
    distances, predecessors = dijkstra(
        matrix, directed=True, indices=index, return_predecessors=True
    )
    users = np.flatnonzero((graph.keys % 2 == 1) & np.isfinite(distances))
    if staff is not None:
        allowed = np.array(sorted(user_node(u) for u in staff), dtype=np.int64)
        users = users[np.isin(graph.keys[users], allowed)]
    best = users[np.lexsort((graph.keys[users], distances[users]))][:limit]
    chains = []
    for start in best:
        path = [int(start)]
        while path[-1] != index:
            path.append(int(predecessors[path[-1]]))
        chains.append(
            RawChain(nodes=tuple(int(graph.keys[i]) for i in path), cost=float(distances[start]))
        )
    return chains


def chain_strength(strengths: list[int]) -> float:
    """How strong a chain is, 0-1: the product of strength / 6 of its links (a direct
    strength-5 link is 0.83)."""
    return math.prod(s / STRENGTH_SCALE for s in strengths) if strengths else 0.0
