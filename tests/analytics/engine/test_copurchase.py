"""Co-purchase suggestions on a hand-made base of four clients.

| client | bought       |
|--------|--------------|
| 1      | 10, 20       |
| 2      | 10, 20, 30   |
| 3      | 10, 30       |
| 4      | 20           |

Buyers: 10 -> 3, 20 -> 3, 30 -> 2. Together: (10, 20) 2, (10, 30) 2, (20, 30) 1.
Cosine = together / sqrt(buyers x buyers): 10-20 2/3 = 0.6667, 10-30 2/sqrt(6) =
0.8165, 20-30 1/sqrt(6) = 0.4082. Lift = together x clients / (buyers x buyers):
10-30 2 x 4 / 6 = 1.3333, 10-20 8/9, 20-30 4/6.

A client's score for a product is the sum of the cosines from what they bought:
- client 1 (10, 20): 30 gets 0.8165 + 0.4082 = 1.2247; the reason is 10 (0.8165 > 0.4082),
  and 2 of the 3 buyers of 10 also bought 30;
- client 2 bought everything: nothing to suggest;
- client 3 (10, 30): 20 gets 0.6667 + 0.4082 = 1.0749, because of 10 (2 of its 3 buyers);
- client 4 (20): 10 (0.6667) beats 30 (0.4082), because of 20 (2 of its 3 buyers).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lavka.analytics.engine import copurchase as cp

CLIENTS = [1, 1, 2, 2, 2, 3, 3, 4, 1]
PRODUCTS = [10, 20, 10, 20, 30, 10, 30, 20, 10]  # client 1 bought 10 twice
COS_10_20, COS_10_30, COS_20_30 = 2 / 3, 2 / math.sqrt(6), 1 / math.sqrt(6)


def _run(**kwargs):
    basket = cp.baskets(CLIENTS, PRODUCTS)
    chunk = kwargs.pop("chunk_clients", cp.CHUNK_CLIENTS)
    assoc = cp.associations(
        basket,
        min_support=kwargs.pop("min_support", 1),
        neighbours=kwargs.pop("neighbours", cp.NEIGHBOURS),
        chunk_clients=chunk,
    )
    candidates = kwargs.pop("candidates", None)
    return basket, assoc, cp.suggest(basket, assoc, candidates=candidates, chunk_clients=chunk)


def test_baskets_keep_each_client_product_pair_once():
    basket = cp.baskets(CLIENTS, PRODUCTS)

    assert basket.client_id.tolist() == [1, 2, 3, 4]
    assert basket.product_id.tolist() == [10, 20, 30]
    assert basket.matrix.toarray().tolist() == [[1, 1, 0], [1, 1, 1], [1, 0, 1], [0, 1, 0]]
    assert basket.buyers.tolist() == [3, 3, 2]


def test_associations_are_cosines_of_clients_who_bought_both():
    _, assoc, _ = _run()

    np.testing.assert_allclose(
        assoc.similarity.toarray(),
        [[0, COS_10_20, COS_10_30], [COS_10_20, 0, COS_20_30], [COS_10_30, COS_20_30, 0]],
    )
    assert assoc.together.toarray().tolist() == [[0, 2, 2], [2, 0, 1], [2, 1, 0]]
    assert assoc.clients == 4


def test_top_pairs_by_cosine_with_lift():
    _, assoc, _ = _run()

    pairs = cp.top_pairs(assoc, limit=2)

    assert [(p.first, p.second, p.together) for p in pairs] == [(10, 30, 2), (10, 20, 2)]
    assert pairs[0].cosine == pytest.approx(COS_10_30)
    assert pairs[0].lift == pytest.approx(4 / 3)
    assert pairs[1].lift == pytest.approx(8 / 9)


def test_each_client_gets_the_best_product_not_bought_yet_with_the_reason():
    _, _, s = _run()

    assert s.client_id.tolist() == [1, 2, 3, 4]
    assert s.product_id.tolist() == [30, -1, 20, 10]
    assert s.because_id.tolist() == [10, -1, 10, 20]
    np.testing.assert_allclose(
        s.score, [COS_10_30 + COS_20_30, 0, COS_10_20 + COS_20_30, COS_10_20]
    )
    np.testing.assert_allclose(s.share, [2 / 3, 0, 2 / 3, 2 / 3])


def test_chunks_of_one_client_give_the_same_answer():
    _, _, whole = _run()
    _, _, chunked = _run(chunk_clients=1)

    assert chunked.product_id.tolist() == whole.product_id.tolist()
    np.testing.assert_allclose(chunked.score, whole.score)


def test_pairs_below_the_minimum_support_do_not_count():
    # 20-30 (one client) is dropped: client 1 gets 30 from 10 alone, client 3 gets 20
    # from 10 alone.
    _, assoc, s = _run(min_support=2)

    assert assoc.similarity[1, 2] == 0
    assert s.product_id.tolist() == [30, -1, 20, 10]
    np.testing.assert_allclose(s.score, [COS_10_30, 0, COS_10_20, COS_10_20])


def test_products_that_may_not_be_offered_are_left_out():
    _, _, s = _run(candidates=np.array([True, True, False]))

    # Client 1 bought 10 and 20; 30 may not be offered: nothing. Client 4: 10.
    assert s.product_id.tolist() == [-1, -1, 20, 10]


def test_only_the_strongest_neighbours_are_kept():
    # One neighbour each: 10 -> 30, 20 -> 10, 30 -> 10. Client 3 (10, 30) has bought
    # both neighbours of theirs: nothing.
    _, assoc, s = _run(neighbours=1)

    assert assoc.similarity.nnz == 3
    assert s.product_id.tolist() == [30, -1, -1, 10]
    np.testing.assert_allclose(s.score, [COS_10_30, 0, 0, COS_10_20])


def test_no_purchases_no_suggestions():
    basket = cp.baskets([], [])
    assoc = cp.associations(basket)

    assert len(cp.suggest(basket, assoc)) == 0
    assert cp.top_pairs(assoc) == []


def test_sparse_ids_give_the_same_suggestions():
    big = 10**15
    basket = cp.baskets([c * big for c in CLIENTS], [p * big for p in PRODUCTS])
    assoc = cp.associations(basket, min_support=1)

    s = cp.suggest(basket, assoc)

    assert s.client_id.tolist() == [big, 2 * big, 3 * big, 4 * big]
    assert s.product_id.tolist() == [30 * big, -1, 20 * big, 10 * big]
    assert s.because_id.tolist() == [10 * big, -1, 10 * big, 20 * big]
