import numpy as np
import pytest
from django.utils import translation

from lavka.analytics.engine import rfm
from lavka.analytics.engine.rfm import QuantileScore, RfmConfig, Segment, ThresholdScore


def test_five_distinct_clients_get_one_score_each():
    result = rfm.score(
        recency_days=[1, 10, 30, 90, 365],
        frequency=[9, 7, 5, 3, 1],
        monetary=[500.0, 400.0, 300.0, 200.0, 100.0],
    )

    assert result.r.tolist() == [5, 4, 3, 2, 1]  # fewer days since the last purchase = better
    assert result.f.tolist() == [5, 4, 3, 2, 1]
    assert result.m.tolist() == [5, 4, 3, 2, 1]
    assert result.segments() == [
        Segment.CHAMPIONS,
        Segment.CHAMPIONS,
        Segment.NEEDS_ATTENTION,
        Segment.HIBERNATING,
        Segment.LOST,
    ]


def test_ties_share_the_mid_rank_score():
    # Frequencies 1, 1, 1, 2, 3: the three 1s sit at (0 + 3/2) / 5 = 30% -> score 2,
    # the 2 at (3 + 1/2) / 5 = 70% -> 4, the 3 at 90% -> 5.
    result = rfm.score([5] * 5, [1, 1, 1, 2, 3], [10.0] * 5)

    assert result.f.tolist() == [2, 2, 2, 4, 5]


def test_a_single_client_is_in_the_middle():
    result = rfm.score([400], [1], [0.0])

    assert (result.r.tolist(), result.f.tolist(), result.m.tolist()) == ([3], [3], [3])
    assert result.segments() == [Segment.NEEDS_ATTENTION]


def test_all_equal_values_all_get_three():
    result = rfm.score([7] * 4, [2] * 4, [50.0] * 4)

    assert result.r.tolist() == result.f.tolist() == result.m.tolist() == [3, 3, 3, 3]


def test_zero_revenue_clients_rank_below_paying_ones():
    # 0, 0 at (0 + 1) / 4 = 25% -> 2; 10 at (2 + 0.5) / 4 = 62.5% -> 4; 20 at 87.5% -> 5.
    result = rfm.score([1, 1, 1, 1], [1, 1, 1, 1], [0.0, 0.0, 10.0, 20.0])

    assert result.m.tolist() == [2, 2, 4, 5]


def test_fixed_thresholds_in_days_and_counts():
    config = RfmConfig(
        recency=ThresholdScore(thresholds=(30, 90, 180, 365)),
        frequency=ThresholdScore(thresholds=(2, 3, 5, 10)),
    )

    result = rfm.score(
        recency_days=[0, 30, 31, 365, 366],
        frequency=[1, 2, 4, 10, 50],
        monetary=[1.0, 2.0, 3.0, 4.0, 5.0],
        config=config,
    )

    assert result.r.tolist() == [5, 5, 4, 2, 1]
    assert result.f.tolist() == [1, 2, 3, 5, 5]


def test_custom_quantile_cuts():
    config = RfmConfig(monetary=QuantileScore(cuts=(0.5, 0.6, 0.7, 0.8)))

    result = rfm.score([1] * 4, [1] * 4, [1.0, 2.0, 3.0, 4.0], config)

    # Percentiles 12.5%, 37.5%, 62.5%, 87.5%.
    assert result.m.tolist() == [1, 1, 3, 5]


@pytest.mark.parametrize(
    ("r", "f", "m", "segment"),
    [
        (5, 5, 4, Segment.CHAMPIONS),  # FM = (5 + 4) / 2 rounded half up = 5
        (4, 4, 3, Segment.CHAMPIONS),  # FM = 3.5 -> 4
        (5, 3, 3, Segment.LOYAL),
        (3, 5, 5, Segment.LOYAL),
        (5, 1, 1, Segment.PROMISING),
        (4, 2, 1, Segment.PROMISING),  # FM = 1.5 -> 2
        (3, 1, 2, Segment.NEEDS_ATTENTION),
        (2, 4, 3, Segment.AT_RISK),
        (1, 3, 3, Segment.AT_RISK),
        (1, 5, 4, Segment.CANT_LOSE),
        (2, 5, 5, Segment.CANT_LOSE),
        (2, 1, 2, Segment.HIBERNATING),
        (1, 2, 1, Segment.LOST),
    ],
)
def test_segment_grid(r, f, m, segment):
    thresholds = ThresholdScore(thresholds=(2, 3, 4, 5))
    recency = ThresholdScore(thresholds=(1, 2, 3, 4))  # score 5 for 1 day ... 1 for 5 days
    config = RfmConfig(recency=recency, frequency=thresholds, monetary=thresholds)

    result = rfm.score([6 - r], [f], [m], config)

    assert (result.r[0], result.f[0], result.m[0]) == (r, f, m)
    assert result.segments() == [segment]


def test_counts_list_every_segment():
    result = rfm.score([1, 10, 30, 90, 365], [9, 7, 5, 3, 1], [5.0, 4.0, 3.0, 2.0, 1.0])

    counts = result.counts()

    assert list(counts) == list(Segment)
    assert counts[Segment.CHAMPIONS] == 2
    assert counts[Segment.LOYAL] == 0
    assert sum(counts.values()) == 5


def test_a_custom_grid_replaces_the_default():
    everyone_loyal = tuple((Segment.LOYAL,) * 5 for _ in range(5))

    result = rfm.score([1, 400], [9, 1], [9.0, 1.0], RfmConfig(segment_grid=everyone_loyal))

    assert result.segments() == [Segment.LOYAL, Segment.LOYAL]


def test_segment_names_are_translatable():
    with translation.override("en"):
        assert [str(rfm.SEGMENT_LABELS[s]) for s in Segment] == [
            "Champions",
            "Loyal",
            "Promising",
            "Needs attention",
            "At risk",
            "Can't lose",
            "Hibernating",
            "Lost",
        ]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: QuantileScore(cuts=(0.2, 0.2, 0.6, 0.8)), "strictly ascending"),
        (lambda: QuantileScore(cuts=(0.0, 0.4, 0.6, 0.8)), "between 0 and 1"),
        (lambda: ThresholdScore(thresholds=(1, 2, 3)), "four"),
        (lambda: RfmConfig(segment_grid=((Segment.LOST,) * 5,) * 4), "5 x 5"),
        (lambda: rfm.score([1], [1, 2], [1.0]), "one length"),
        (lambda: rfm.score([np.nan], [1], [1.0]), "finite"),
    ],
)
def test_invalid_configuration_is_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()
