"""Entry chains over a small hand-made graph with known answers, and agreement with
networkx on a random graph."""

from __future__ import annotations

import math
import random

import networkx as nx
import numpy as np
import pytest

from lavka.clients.services.blocks import person_create
from lavka.keyaccounts.chains import (
    best_chains,
    graph_from_arrays,
    link_cost,
    person_node,
    relationship_graph,
    user_node,
)
from lavka.keyaccounts.selectors import entry_chains
from lavka.keyaccounts.services import relationship_create, stakeholder_add

# Staff 1 and 2; people 10 (A), 11 (B), 12 (C), 13 (D), 20 (the power point P).
#   1 -2- A -1- P           two links, weak:   2/6 * 1/6 = 0.056
#   1 -3- D -3- P           two links, medium: 3/6 * 3/6 = 0.25
#   2 -5- B -5- C -5- P     three links, strong: (5/6)^3 = 0.579
EDGES = [
    (user_node(1), person_node(10), 2),
    (person_node(10), person_node(20), 1),
    (user_node(1), person_node(13), 3),
    (person_node(13), person_node(20), 3),
    (user_node(2), person_node(11), 5),
    (person_node(11), person_node(12), 5),
    (person_node(12), person_node(20), 5),
]


def small_graph():
    return arrays_graph(EDGES)


def arrays_graph(edges):
    columns = zip(*edges, strict=True)
    sources, targets, strengths = (np.array(c, dtype=np.int64) for c in columns)
    return graph_from_arrays(sources, targets, strengths)


def test_the_shortest_chain_has_the_fewest_links_and_among_those_the_strongest():
    chains = best_chains(small_graph(), target=person_node(20), measure="shortest")

    assert [c.nodes for c in chains] == [
        (user_node(1), person_node(13), person_node(20)),
        (user_node(2), person_node(11), person_node(12), person_node(20)),
    ]


def test_the_strongest_chain_can_be_longer():
    chains = best_chains(small_graph(), target=person_node(20), measure="strongest")

    assert chains[0].nodes == (user_node(2), person_node(11), person_node(12), person_node(20))
    assert math.exp(-chains[0].cost) == pytest.approx((5 / 6) ** 3)
    assert chains[1].nodes == (user_node(1), person_node(13), person_node(20))


def test_chains_can_be_limited_to_some_of_the_staff():
    chains = best_chains(small_graph(), target=person_node(20), measure="strongest", staff={1})

    assert [c.user_id for c in chains] == [1]


def test_nobody_we_know_leads_to_a_stranger():
    assert best_chains(small_graph(), target=person_node(999)) == []


def test_the_strongest_of_two_links_between_the_same_people_counts():
    graph = graph_from_arrays(
        np.array([user_node(1), user_node(1)]),
        np.array([person_node(5), person_node(5)]),
        np.array([1, 4]),
    )

    chain = best_chains(graph, target=person_node(5))[0]

    assert chain.cost == pytest.approx(link_cost(4))


def test_the_chains_agree_with_networkx_on_a_random_graph():
    rng = random.Random(7)
    edges = []
    for _ in range(3000):
        a, b = rng.randrange(400), rng.randrange(400)
        if a != b:
            edges.append((person_node(a), person_node(b), rng.randint(1, 5)))
    for user in range(1, 6):
        for _ in range(5):
            edges.append((user_node(user), person_node(rng.randrange(400)), rng.randint(1, 5)))
    graph = arrays_graph(edges)
    reference = nx.Graph()
    for a, b, s in edges:
        if not reference.has_edge(a, b) or reference[a][b]["cost"] > link_cost(s):
            reference.add_edge(a, b, cost=link_cost(s))

    for target in (person_node(3), person_node(77), person_node(311)):
        ours = best_chains(graph, target=target, measure="strongest", limit=5)
        expected = sorted(
            nx.single_source_dijkstra_path_length(reference, target, weight="cost").items()
        )
        best_users = sorted((cost, node) for node, cost in expected if node % 2 == 1)[:5]
        assert [round(c.cost, 9) for c in ours] == [round(cost, 9) for cost, _n in best_users]
        fewest = nx.single_source_shortest_path_length(reference, target)
        for chain in best_chains(graph, target=target, measure="shortest", limit=5):
            assert chain.hops == fewest[chain.nodes[0]]


# --- from the database ------------------------------------------------------------------


def test_a_chain_from_a_colleague_to_the_power_point_is_shown_with_names(romashka, org):
    p = romashka.people
    stakeholder_add(actor=org.rep, key_account=romashka.account, person=p.vera, role="power")
    relationship_create(
        actor=org.rep, from_user=org.colleague, to_person=p.anna, kind="worked_together", strength=5
    )
    relationship_create(actor=org.rep, from_person=p.anna, to_person=p.vera, strength=4)
    relationship_create(actor=org.rep, from_user=org.manager, to_person=p.vera, strength=1)

    chains = entry_chains(viewer=org.rep, key_account=romashka.account)

    shortest = [c for c in chains if c.measure == "shortest"]
    strongest = [c for c in chains if c.measure == "strongest"]
    assert [s.label for s in shortest[0].steps] == [org.manager.get_full_name(), "Vera Smirnova"]
    assert [s.label for s in strongest[0].steps] == [
        org.colleague.get_full_name(),
        "Anna Petrova",
        "Vera Smirnova",
    ]
    assert [(s.kind, s.strength) for s in strongest[0].steps[1:]] == [
        ("worked together", 5),
        ("knows", 4),
    ]
    assert strongest[0].strength == pytest.approx(5 / 6 * 4 / 6)


def test_the_graph_is_rebuilt_when_a_relationship_changes(romashka, org):
    p = romashka.people
    relationship_create(actor=org.rep, from_user=org.colleague, to_person=p.anna)
    first = relationship_graph()
    relationship_create(actor=org.rep, from_person=p.anna, to_person=p.vera)

    second = relationship_graph()

    assert first is not second
    assert (first.edge_count, second.edge_count) == (1, 2)
    assert relationship_graph() is second


def test_a_person_the_viewer_cannot_see_stays_nameless_in_a_chain(romashka, org):
    from tests.factories import ClientFactory

    spb_client = ClientFactory(owner=org.spb_rep)
    stranger = person_create(actor=org.spb_rep, first_name="Secret", organisation=spb_client)
    stakeholder_add(
        actor=org.rep, key_account=romashka.account, person=romashka.people.vera, role="power"
    )
    relationship_create(actor=org.spb_rep, from_user=org.spb_rep, to_person=stranger, strength=5)
    relationship_create(
        actor=org.admin, from_person=romashka.people.vera, to_person=stranger, strength=5
    )

    chain = entry_chains(viewer=org.rep, key_account=romashka.account)[0]

    middle = chain.steps[1]
    assert (middle.is_hidden, middle.label, middle.person_id) == (True, "", None)
