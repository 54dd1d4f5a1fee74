import numpy as np
import pytest

from lavka.analytics.engine import bgnbd
from lavka.analytics.engine import gamma_gamma as gg
from lavka.analytics.engine.sufficiency import NotEnoughData, Reason
from lavka.analytics.engine.units import TimeUnit
from tests.analytics.engine.numeric import central_differences

# Fader, Hardie and Lee (2005) "RFM and CLV"; Hardie (2013) "The Gamma-Gamma model of
# monetary value": the 946 CDNOW sample customers with a repeat purchase in the
# calibration period, each with the average value of their repeat purchases.
PUBLISHED = {"p": 6.2488, "q": 3.7446, "gamma": 15.4477}


@pytest.fixture(scope="module")
def cdnow_spend_fit(cdnow_summary):
    return gg.fit(cdnow_summary.x, cdnow_summary.monetary)


def test_fit_reproduces_the_published_cdnow_estimates(cdnow_spend_fit):
    # Built by summary.py: same-day transactions merged, the first purchase left out,
    # repeat purchase values averaged per customer, unrounded.
    assert isinstance(cdnow_spend_fit, gg.GammaGammaFit)
    assert cdnow_spend_fit.n == 946
    for name, value in PUBLISHED.items():
        assert getattr(cdnow_spend_fit, name) == pytest.approx(value, rel=1e-3), name


def test_published_estimates_come_from_averages_rounded_to_the_cent(cdnow_published_summary):
    # The published spreadsheet holds the averages rounded to cents; fitted on those,
    # the estimates agree to their last printed digit.
    x, zbar = cdnow_published_summary[:, 1], cdnow_published_summary[:, 4]

    fitted = gg.fit(x, zbar)

    for name, value in PUBLISHED.items():
        assert getattr(fitted, name) == pytest.approx(value, abs=1e-4), name


def test_analytic_gradient_matches_finite_differences(cdnow_summary):
    keep = cdnow_summary.x > 0
    x, m = cdnow_summary.x[keep], cdnow_summary.monetary[keep]
    theta = np.array([6.0, 3.5, 15.0])

    analytic = gg.log_likelihood_gradient(tuple(theta), x, m)
    numeric = central_differences(lambda t: gg.log_likelihood(tuple(t), x, m), theta)

    np.testing.assert_allclose(analytic, numeric, rtol=1e-5)


def test_clients_without_usable_spend_are_left_out_and_say_why(cdnow_summary, cdnow_spend_fit):
    x = np.append(cdnow_summary.x, [0, 3, 2])
    m = np.append(cdnow_summary.monetary, [np.nan, 0.0, -12.5])

    refit = gg.fit(x, m)
    reasons = gg.spend_reasons(x, m)

    assert refit == cdnow_spend_fit
    assert reasons[-3:].tolist() == [
        Reason.NO_REPEAT_PURCHASE,
        Reason.NON_POSITIVE_SPEND,
        Reason.NON_POSITIVE_SPEND,
    ]


def test_expected_average_spend_by_hand():
    params = gg.GammaGammaFit(
        p=6.0, q=4.0, gamma=15.0, log_likelihood=0.0, n=0, converged=True, iterations=0
    )

    spend = gg.conditional_expected_average_spend(params, [2, 0, 1, 3], [20.0, np.nan, 30.0, -1.0])

    # p (gamma + x m) / (p x + q - 1): 6 (15 + 40) / 15 = 22; 6 (15 + 30) / 9 = 30.
    assert spend.value[[0, 2]].tolist() == [22.0, 30.0]
    assert np.isnan(spend.value[[1, 3]]).all()
    assert spend.reason.tolist() == [
        Reason.OK,
        Reason.NO_REPEAT_PURCHASE,
        Reason.OK,
        Reason.NON_POSITIVE_SPEND,
    ]
    assert params.population_mean == 30.0  # 6 * 15 / 3


def test_spend_is_undefined_where_the_model_has_no_mean():
    params = gg.GammaGammaFit(
        p=0.2, q=0.5, gamma=1.0, log_likelihood=0.0, n=0, converged=True, iterations=0
    )

    spend = gg.conditional_expected_average_spend(params, [1, 10], [5.0, 5.0])

    assert spend.reason.tolist() == [Reason.UNDEFINED, Reason.OK]  # 0.2 + 0.5 - 1 < 0
    assert np.isnan(spend.value[0])
    assert spend.value[1] == pytest.approx(0.2 * (1 + 50) / 1.5)
    assert params.population_mean == float("inf")


def test_lifetime_value_is_expected_spend_times_discounted_purchases(
    cdnow_summary, cdnow_spend_fit
):
    s = cdnow_summary
    purchases = bgnbd.fit(s.x, s.t_x, s.T, unit=TimeUnit.WEEKS)
    clv = gg.customer_lifetime_value(
        purchases,
        cdnow_spend_fit,
        s.x,
        s.t_x,
        s.T,
        s.monetary,
        months=12,
        monthly_discount_rate=0.01,
    )

    # Client 1 (x = 2, t_x = 30.43, T = 38.86, average repeat spend 22.345), by hand:
    year = [(k * 365.25 / 12) / 7 for k in range(13)]
    expected = bgnbd.conditional_expected_purchases(
        purchases, year, [2] * 13, [s.t_x[0]] * 13, [s.T[0]] * 13
    )
    discounted = sum((expected[k] - expected[k - 1]) / 1.01**k for k in range(1, 13))
    p, q, gamma = cdnow_spend_fit.p, cdnow_spend_fit.q, cdnow_spend_fit.gamma
    spend = p * (gamma + 2 * s.monetary[0]) / (p * 2 + q - 1)

    assert clv.value[0] == pytest.approx(spend * discounted, rel=1e-10)
    assert clv.reason[0] == Reason.OK
    # One-time buyers get no CLV, with the reason.
    one_time = s.x == 0
    assert np.isnan(clv.value[one_time]).all()
    assert set(clv.reason[one_time].tolist()) == {Reason.NO_REPEAT_PURCHASE}
    assert clv.ok.sum() == 946


def test_no_fit_means_markers_for_everybody():
    missing = NotEnoughData(reason=Reason.TOO_FEW_CLIENTS, detail="", required=30, available=3)
    params = gg.GammaGammaFit(
        p=6.0, q=4.0, gamma=15.0, log_likelihood=0.0, n=0, converged=True, iterations=0
    )

    spend = gg.conditional_expected_average_spend(missing, [2, 3], [10.0, 20.0])
    clv = gg.customer_lifetime_value(missing, params, [2], [1.0], [2.0], [10.0])

    assert spend.reason.tolist() == [Reason.TOO_FEW_CLIENTS] * 2
    assert np.isnan(spend.value).all()
    assert clv.reason.tolist() == [Reason.TOO_FEW_CLIENTS]


def test_too_few_clients_with_spend_is_not_enough_data():
    result = gg.fit([1] * 29 + [0] * 100, [10.0] * 129)

    assert result == NotEnoughData(
        reason=Reason.TOO_FEW_CLIENTS,
        detail=(
            "Gamma-Gamma needs at least 30 clients with a repeat purchase and a positive "
            "average spend; there are 29"
        ),
        required=30,
        available=29,
    )


def test_impossible_repeat_counts_are_refused():
    with pytest.raises(ValueError, match="whole number"):
        gg.fit([1.5, 2.0], [10.0, 10.0])
