"""Products a client is likely to buy next, from what similar clients bought together
(item-to-item collaborative filtering, as in Linden, Smith and York, "Amazon.com
recommendations: item-to-item collaborative filtering", IEEE Internet Computing 2003).

1. `baskets`: the distinct (client, product) pairs of the order lines, as a sparse
   client x product matrix of ones. Quantities and dates do not matter: a client either
   bought a product or not.
2. `associations`: the product x product co-occurrence `C = X'X` (C[i, j] = clients
   who bought both i and j; C[i, i] = clients who bought i), accumulated over chunks
   of clients so memory stays bounded by the result, not by the clients. A pair counts
   only with at least `min_support` clients who bought both. Its strength is the
   cosine `C[i, j] / sqrt(C[i, i] C[j, j])`: unlike the lift it does not make a pair of
   two rare products look strong, and unlike the confidence it does not favour the
   best sellers. Each product keeps its `neighbours` strongest partners.
3. `suggest`: for each client, every product a neighbour of what they bought, scored by
   the sum of the cosines from the products they bought (so a product close to several
   of their purchases wins); products they already bought are left out, and so are
   products outside `candidates` (say, no longer on sale). The best one is the
   suggestion (ties: the smaller product index, that is the smaller id). Its *reason* is
   the purchase that contributes most to it, with the *share*: of the clients who
   bought that product, the part who also bought the suggestion ("62% of clients who
   buy X also buy Y").

Clients without a purchase of a product with a neighbour get no suggestion (-1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

MIN_SUPPORT = 3
NEIGHBOURS = 20
CHUNK_CLIENTS = 100_000


@dataclass(frozen=True, slots=True)
class Baskets:
    """Distinct (client, product) pairs: `matrix[c, p] = 1` when client `client_id[c]`
    bought product `product_id[p]` (CSR, canonical: rows and columns sorted)."""

    client_id: IntArray
    product_id: IntArray
    matrix: sparse.csr_matrix

    @property
    def buyers(self) -> IntArray:
        """Clients who bought each product."""
        return np.bincount(self.matrix.indices, minlength=self.product_id.size).astype(np.int64)


@dataclass(frozen=True, slots=True)
class Associations:
    """For each product (rows and columns indexed like `Baskets.product_id`), its
    strongest partners: `similarity[i, j]` (cosine) and `together[i, j]` (clients who
    bought both), same sparsity, CSR with sorted columns."""

    product_id: IntArray
    buyers: IntArray
    clients: int
    similarity: sparse.csr_matrix
    together: sparse.csr_matrix


@dataclass(frozen=True, slots=True)
class Pair:
    first: int  # product ids, first < second
    second: int
    together: int
    cosine: float
    lift: float


@dataclass(frozen=True, slots=True)
class Suggestions:
    """One row per client of the baskets: the suggested product id (-1 none), its score
    (sum of cosines), the purchase it comes from, and the share of that purchase's
    buyers who also bought the suggestion (0..1)."""

    client_id: IntArray
    product_id: IntArray
    score: FloatArray
    because_id: IntArray
    share: FloatArray

    def __len__(self) -> int:
        return int(self.client_id.size)


def _compact(values: IntArray) -> tuple[IntArray, IntArray]:
    if values.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    low, high = int(values.min()), int(values.max())
    if low >= 0 and high - low <= 4 * values.size + 1_000_000:
        present = np.bincount(values - low, minlength=high - low + 1) > 0
        distinct = np.flatnonzero(present).astype(np.int64) + low
        table = np.cumsum(present, dtype=np.int64) - 1
        return distinct, table[values - low]
    distinct, index = np.unique(values, return_inverse=True)
    return distinct.astype(np.int64), index.astype(np.int64).reshape(-1)


def baskets(client: ArrayLike, product: ArrayLike) -> Baskets:
    """The distinct (client, product) pairs of the rows (one per order line)."""
    clients = np.asarray(client, dtype=np.int64)
    products = np.asarray(product, dtype=np.int64)
    if clients.size != products.size:
        raise ValueError("client and product must have the same length")
    client_ids, ci = _compact(clients)
    product_ids, pi = _compact(products)
    n_products = max(int(product_ids.size), 1)
    key = ci * n_products + pi
    del ci, pi
    key.sort()
    if key.size:
        keep = np.empty(key.size, dtype=bool)
        keep[0] = True
        np.not_equal(key[1:], key[:-1], out=keep[1:])
        key = key[keep]
    rows, cols = np.divmod(key, n_products)
    indptr = np.zeros(client_ids.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=client_ids.size), out=indptr[1:])
    matrix = sparse.csr_matrix(
        (np.ones(key.size, dtype=np.float32), cols.astype(np.int32), indptr),
        shape=(client_ids.size, product_ids.size),
    )
    matrix.has_sorted_indices = True
    return Baskets(client_ids, product_ids, matrix)


def cooccurrence(basket: Baskets, *, chunk_clients: int = CHUNK_CLIENTS) -> sparse.csr_matrix:
    """C = X'X (int64 counts), summed over chunks of `chunk_clients` clients."""
    n = basket.product_id.size
    total = sparse.csr_matrix((n, n), dtype=np.int64)
    x = basket.matrix
    for start in range(0, x.shape[0], chunk_clients):
        part = x[start : start + chunk_clients]
        product = (part.T.tocsr() @ part).tocsr()
        product.data = np.rint(product.data).astype(np.int64)
        total = total + product.astype(np.int64)
    total.sum_duplicates()
    total.sort_indices()
    return total


def associations(
    basket: Baskets,
    *,
    min_support: int = MIN_SUPPORT,
    neighbours: int = NEIGHBOURS,
    chunk_clients: int = CHUNK_CLIENTS,
) -> Associations:
    """Each product's `neighbours` strongest partners with at least `min_support`
    clients who bought both (see the module docstring)."""
    n = basket.product_id.size
    counts = cooccurrence(basket, chunk_clients=chunk_clients).tocoo()
    buyers = basket.buyers
    row, col, both = counts.row.astype(np.int64), counts.col.astype(np.int64), counts.data
    keep = (row != col) & (both >= min_support)
    row, col, both = row[keep], col[keep], both[keep]
    cosine = both / np.sqrt(buyers[row].astype(np.float64) * buyers[col])
    # Strongest first within each row (ties: the smaller column), then the first
    # `neighbours` of each row.
    order = np.lexsort((col, -cosine, row))
    row, col, both, cosine = row[order], col[order], both[order], cosine[order]
    if row.size:
        starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
        rank = np.arange(row.size) - np.repeat(starts, np.diff(np.r_[starts, row.size]))
        top = rank < neighbours
        row, col, both, cosine = row[top], col[top], both[top], cosine[top]
    similarity = sparse.csr_matrix((cosine, (row, col)), shape=(n, n))
    together = sparse.csr_matrix((both.astype(np.float64), (row, col)), shape=(n, n))
    similarity.sort_indices()
    together.sort_indices()
    return Associations(
        product_id=basket.product_id,
        buyers=buyers,
        clients=int(basket.client_id.size),
        similarity=similarity,
        together=together,
    )


def top_pairs(assoc: Associations, *, limit: int = 10) -> list[Pair]:
    """The strongest pairs kept (each pair once), by cosine, then by clients together."""
    coo = sparse.triu(assoc.similarity.maximum(assoc.similarity.T), k=1).tocoo()
    if coo.nnz == 0:
        return []
    both = np.asarray(
        assoc.together.maximum(assoc.together.T)[coo.row, coo.col], dtype=np.float64
    ).reshape(-1)
    order = np.lexsort((coo.col, coo.row, -both, -coo.data))[:limit]
    pairs = []
    for k in order.tolist():
        i, j = int(coo.row[k]), int(coo.col[k])
        n_both = float(both[k])
        lift = n_both * assoc.clients / (float(assoc.buyers[i]) * float(assoc.buyers[j]))
        pairs.append(
            Pair(
                first=int(assoc.product_id[i]),
                second=int(assoc.product_id[j]),
                together=int(n_both),
                cosine=float(coo.data[k]),
                lift=lift,
            )
        )
    return pairs


def _lookup(matrix: sparse.csr_matrix, rows: IntArray, cols: IntArray) -> FloatArray:
    """matrix[rows[k], cols[k]] for each k (0 where nothing is stored), by searching the
    sorted (row, column) keys of a canonical CSR matrix."""
    n = matrix.shape[1]
    stored_rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    stored = stored_rows * n + matrix.indices.astype(np.int64)
    wanted = rows * n + cols
    at = np.searchsorted(stored, wanted)
    at = np.minimum(at, max(stored.size - 1, 0))
    found = stored.size > 0
    values = np.zeros(wanted.size, dtype=np.float64)
    if found:
        hit = stored[at] == wanted
        values[hit] = matrix.data[at[hit]]
    return values


def _row_first_max(indptr: IntArray, data: FloatArray) -> tuple[IntArray, NDArray[np.bool_]]:
    """Per row of a CSR structure: the position in `data` of its largest value (the
    first such, i.e. the smallest column in a canonical matrix), and whether the row
    has any value at all."""
    n_rows = indptr.size - 1
    lengths = np.diff(indptr)
    nonempty = lengths > 0
    position = np.full(n_rows, -1, dtype=np.int64)
    if data.size == 0:
        return position, nonempty
    starts = indptr[:-1][nonempty]
    row_max = np.maximum.reduceat(data, starts)
    rows = np.repeat(np.flatnonzero(nonempty), lengths[nonempty])
    full_max = np.zeros(n_rows, dtype=data.dtype)
    full_max[nonempty] = row_max
    at_max = np.flatnonzero(data == full_max[rows])
    max_rows = rows[at_max]
    first = np.r_[True, max_rows[1:] != max_rows[:-1]]
    position[max_rows[first]] = at_max[first]
    return position, nonempty


def suggest(
    basket: Baskets,
    assoc: Associations,
    *,
    candidates: NDArray[np.bool_] | None = None,
    chunk_clients: int = CHUNK_CLIENTS,
) -> Suggestions:
    """The best product for each client of `basket` (see the module docstring).
    `candidates`: which products (indexed like `basket.product_id`) may be suggested."""
    n_clients = basket.client_id.size
    product = np.full(n_clients, -1, dtype=np.int64)
    because = np.full(n_clients, -1, dtype=np.int64)
    score = np.zeros(n_clients, dtype=np.float64)
    share = np.zeros(n_clients, dtype=np.float64)
    similarity = assoc.similarity
    if candidates is not None:
        similarity = (similarity @ sparse.diags(candidates.astype(np.float64))).tocsr()
        similarity.eliminate_zeros()
        similarity.sort_indices()
    x = basket.matrix
    for start in range(0, n_clients, chunk_clients):
        part = x[start : start + chunk_clients]
        scores = (part @ similarity).tocsr()
        # Leave out what the client bought already.
        scores = (scores - scores.multiply(part)).tocsr()
        scores.eliminate_zeros()
        scores.sort_indices()
        best, has = _row_first_max(scores.indptr.astype(np.int64), scores.data)
        rows = np.flatnonzero(has)
        if rows.size == 0:
            continue
        chosen = scores.indices[best[rows]].astype(np.int64)
        best_score = scores.data[best[rows]]
        # The purchase contributing most: over the client's products i, S[i, chosen].
        sub = part[rows]
        own_rows = np.repeat(np.arange(rows.size), np.diff(sub.indptr))
        own = sub.indices.astype(np.int64)
        contribution = _lookup(similarity, own, chosen[own_rows])
        top, _ = _row_first_max(sub.indptr.astype(np.int64), contribution)
        source = own[top]
        clients = start + rows
        product[clients] = basket.product_id[chosen]
        because[clients] = basket.product_id[source]
        score[clients] = best_score
        together = _lookup(assoc.together, source, chosen)
        share[clients] = together / assoc.buyers[source]
    return Suggestions(basket.client_id, product, score, because, share)
