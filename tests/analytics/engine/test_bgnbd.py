import warnings

import numpy as np
import pytest
from scipy import special

from lavka.analytics.engine import bgnbd, summary
from lavka.analytics.engine.simulate import simulate_transactions
from lavka.analytics.engine.sufficiency import NotEnoughData, Reason
from lavka.analytics.engine.units import TimeUnit
from tests.analytics.engine.numeric import central_differences

# Fader, Hardie and Lee (2005), CDNOW sample, 39-week calibration period.
PUBLISHED = {"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258}
PUBLISHED_LL = -9582.43


@pytest.fixture(scope="module")
def cdnow_fit(cdnow_summary):
    return bgnbd.fit(cdnow_summary.x, cdnow_summary.t_x, cdnow_summary.T, unit=TimeUnit.WEEKS)


def test_fit_reproduces_the_published_cdnow_estimates(cdnow_fit):
    assert isinstance(cdnow_fit, bgnbd.BgNbdFit)
    for name, value in PUBLISHED.items():
        assert getattr(cdnow_fit, name) == pytest.approx(value, rel=1e-3), name
    assert cdnow_fit.log_likelihood == pytest.approx(PUBLISHED_LL, abs=0.005)
    assert cdnow_fit.n == 2357
    assert cdnow_fit.converged
    assert cdnow_fit.unit is TimeUnit.WEEKS


def test_published_conditional_expectation_for_a_cdnow_customer(cdnow_fit):
    # FHL 2005: a customer with x = 2, t_x = 30.43, T = 38.86 is expected to make
    # 1.226 purchases in the next 39 weeks.
    expected = bgnbd.conditional_expected_purchases(cdnow_fit, 39, [2], [30.43], [38.86])

    assert round(float(expected[0]), 3) == 1.226


def test_grouped_rows_give_the_same_fit(cdnow_summary, cdnow_fit):
    groups = cdnow_summary.groups()

    grouped = bgnbd.fit(groups.x, groups.t_x, groups.T, weights=groups.weight, unit=TimeUnit.WEEKS)

    assert groups.x.size < 2357
    for name in ("r", "alpha", "a", "b", "log_likelihood"):
        assert getattr(grouped, name) == pytest.approx(getattr(cdnow_fit, name), rel=1e-6)


def test_analytic_gradient_matches_finite_differences(cdnow_summary):
    s = cdnow_summary
    theta = np.array([0.3, 5.0, 0.7, 2.0])

    analytic = bgnbd.log_likelihood_gradient(theta, s.x, s.t_x, s.T)
    numeric = central_differences(lambda t: bgnbd.log_likelihood(t, s.x, s.t_x, s.T), theta)

    np.testing.assert_allclose(analytic, numeric, rtol=1e-5)


def test_probability_alive_follows_the_closed_form(cdnow_fit):
    r, alpha, a, b = cdnow_fit.r, cdnow_fit.alpha, cdnow_fit.a, cdnow_fit.b
    x, t_x, T = 2.0, 30.43, 38.86
    by_hand = 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))

    p_alive = bgnbd.probability_alive(cdnow_fit, [0, 2, 2], [0, 30.43, 5.0], [38.86] * 3)

    assert p_alive[0] == 1.0  # no repeat purchase: has not had a chance to leave
    assert p_alive[1] == pytest.approx(by_hand, rel=1e-12)
    assert p_alive[2] < p_alive[1]  # same purchases, long silent since: less alive


def test_euler_transformed_expectation_equals_the_textbook_formula(cdnow_fit):
    r, alpha, a, b = cdnow_fit.r, cdnow_fit.alpha, cdnow_fit.a, cdnow_fit.b
    x = np.array([0.0, 1.0, 2.0, 7.0, 15.0])
    t_x = np.array([0.0, 2.0, 30.43, 20.0, 37.0])
    T = np.array([38.86, 30.0, 38.86, 38.86, 38.0])
    t = 39.0
    z = t / (alpha + T + t)
    textbook = (
        (a + b + x - 1)
        / (a - 1)
        * (
            1
            - ((alpha + T) / (alpha + T + t)) ** (r + x)
            * special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        )
        / (1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    )

    ours = bgnbd.conditional_expected_purchases(cdnow_fit, t, x, t_x, T)

    np.testing.assert_allclose(ours, textbook, rtol=1e-9)


def test_a_new_client_is_a_client_with_no_history_yet(cdnow_fit):
    new = bgnbd.expected_purchases_new_client(cdnow_fit, [10.0, 39.0, 78.0])
    same = bgnbd.conditional_expected_purchases(
        cdnow_fit, [10.0, 39.0, 78.0], [0] * 3, [0] * 3, [0] * 3
    )

    np.testing.assert_allclose(new, same, rtol=1e-12)
    assert np.all(np.diff(new) > 0)


def test_horizons_are_in_days_whatever_the_unit(cdnow_fit):
    horizons = bgnbd.expected_purchases_for_horizons(cdnow_fit, [2], [30.43], [38.86])

    assert sorted(horizons) == [30, 90, 365]
    for days in (30, 90, 365):
        direct = bgnbd.conditional_expected_purchases(cdnow_fit, days / 7, [2], [30.43], [38.86])
        assert horizons[days][0] == pytest.approx(direct[0], rel=1e-12)


def test_undiscounted_monthly_sum_is_the_expectation_over_the_whole_horizon(cdnow_fit):
    x, t_x, T = [0, 2, 9], [0.0, 30.43, 12.0], [38.86, 38.86, 38.86]

    summed = bgnbd.discounted_expected_purchases(
        cdnow_fit, x, t_x, T, months=12, monthly_discount_rate=0.0
    )
    discounted = bgnbd.discounted_expected_purchases(
        cdnow_fit, x, t_x, T, months=12, monthly_discount_rate=0.01
    )

    year = 12 * 365.25 / 12 / 7
    np.testing.assert_allclose(
        summed, bgnbd.conditional_expected_purchases(cdnow_fit, year, x, t_x, T), rtol=1e-12
    )
    assert np.all(discounted < summed)


def test_score_gives_the_same_numbers_as_the_single_functions(cdnow_summary, cdnow_fit):
    s = cdnow_summary

    scores = bgnbd.score(cdnow_fit, s.x, s.t_x, s.T, months=6, monthly_discount_rate=0.02)

    np.testing.assert_array_equal(
        scores.p_alive, bgnbd.probability_alive(cdnow_fit, s.x, s.t_x, s.T)
    )
    np.testing.assert_allclose(
        scores.expected[90],
        bgnbd.conditional_expected_purchases(cdnow_fit, 90 / 7, s.x, s.t_x, s.T),
        rtol=1e-12,
    )


def test_extreme_histories_give_finite_numbers_without_warnings(cdnow_fit):
    # One-time buyers, a first purchase today (T = 0), hundreds of purchases, a heavy
    # buyer silent for years, a purchase every day.
    x = np.array([0, 0, 1, 500, 500, 5000, 1])
    t_x = np.array([0.0, 0.0, 0.0, 1.0, 100.0, 700.0, 1e-9])
    T = np.array([0.0, 1000.0, 0.0, 1000.0, 100.0, 700.0, 1e6])

    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        p_alive = bgnbd.probability_alive(cdnow_fit, x, t_x, T)
        scores = bgnbd.score(cdnow_fit, x, t_x, T)
        ll = bgnbd.log_likelihood(cdnow_fit, x, t_x, T)

    assert np.isfinite(p_alive).all() and np.isfinite(ll)
    assert p_alive[3] < 1e-100  # 500 purchases, then 999 weeks of silence
    # Bought just now: only the chance of leaving right after that purchase remains.
    assert p_alive[4] == pytest.approx(1 / (1 + cdnow_fit.a / (cdnow_fit.b + 499)), rel=1e-12)
    for values in (*scores.expected.values(), scores.discounted_purchases):
        assert np.isfinite(values).all() and (values >= 0).all()


def test_fit_recovers_the_parameters_of_simulated_clients():
    true = {"r": 0.8, "alpha": 30.0, "a": 0.7, "b": 4.0}
    data = simulate_transactions(
        n_clients=20_000,
        **true,
        p=6.0,
        q=4.0,
        gamma=150.0,
        first_day=19_000,
        acquisition_days=365,
        observation_end=19_000 + 730,
        seed=5,
    )
    s = summary.summarize(data.client_id, data.day, data.amount, observation_end=19_000 + 730)
    groups = s.groups()

    fitted = bgnbd.fit(groups.x, groups.t_x, groups.T, weights=groups.weight)

    assert isinstance(fitted, bgnbd.BgNbdFit)
    for name, value in true.items():
        assert getattr(fitted, name) == pytest.approx(value, rel=0.1), name


def test_too_few_clients_is_not_enough_data():
    x = [0] * 80 + [1] * 20
    t_x = [0.0] * 80 + [3.0] * 20
    T = [10.0] * 100

    assert isinstance(bgnbd.fit(x, t_x, T), bgnbd.BgNbdFit)
    result = bgnbd.fit(x[1:], t_x[1:], T[1:])

    assert result == NotEnoughData(
        reason=Reason.TOO_FEW_CLIENTS,
        detail=(
            "BG/NBD needs at least 100 clients of whom 20 with a repeat purchase; "
            "there are 99 and 20"
        ),
        required=100,
        available=99,
    )


def test_no_repeat_buyers_is_not_enough_data_either():
    result = bgnbd.fit([0] * 500, [0.0] * 500, [10.0] * 500)

    assert isinstance(result, NotEnoughData)
    assert result.reason is Reason.TOO_FEW_CLIENTS
    assert result.available == 0


@pytest.mark.parametrize(
    ("x", "t_x", "T", "message"),
    [
        ([1.5], [1.0], [2.0], "whole number"),
        ([-1], [0.0], [2.0], "whole number"),
        ([1], [3.0], [2.0], "t_x <= T"),
        ([0], [1.0], [2.0], "t_x must be 0"),
        ([1], [np.nan], [2.0], "finite"),
        ([1, 2], [1.0], [2.0], "same length"),
    ],
)
def test_impossible_summaries_are_refused(x, t_x, T, message):
    with pytest.raises(ValueError, match=message):
        bgnbd.fit(x, t_x, T)
