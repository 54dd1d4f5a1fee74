import numpy as np

from lavka.analytics.engine.simulate import simulate_transactions

PARAMS = {"r": 0.8, "alpha": 30.0, "a": 0.7, "b": 4.0, "p": 6.0, "q": 4.0, "gamma": 150.0}


def simulate(seed: int):
    return simulate_transactions(
        n_clients=2_000,
        **PARAMS,
        first_day=100,
        acquisition_days=50,
        observation_end=400,
        seed=seed,
    )


def test_same_seed_same_base():
    first, again = simulate(3), simulate(3)

    np.testing.assert_array_equal(first.client_id, again.client_id)
    np.testing.assert_array_equal(first.day, again.day)
    np.testing.assert_array_equal(first.amount, again.amount)


def test_every_client_buys_first_within_acquisition_and_nothing_after_the_end():
    data = simulate(4)

    first_rows = np.flatnonzero(np.diff(data.client_id, prepend=0))
    assert np.unique(data.client_id).tolist() == list(range(1, 2_001))
    assert data.day[first_rows].min() >= 100 and data.day[first_rows].max() < 150
    assert data.day.max() <= 400
    assert (data.amount > 0).all()
    # Each client's rows are in date order, starting with the first purchase.
    same_client = data.client_id[1:] == data.client_id[:-1]
    assert (np.diff(data.day)[same_client] >= 0).all()
