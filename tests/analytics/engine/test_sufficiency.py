import numpy as np
from django.utils import translation

from lavka.analytics.engine.sufficiency import REASON_LABELS, Estimates, Reason


def test_missing_estimates_carry_the_reason_and_no_number():
    estimates = Estimates.missing(3, Reason.FIT_FAILED)

    assert np.isnan(estimates.value).all()
    assert estimates.reason.tolist() == [Reason.FIT_FAILED] * 3
    assert estimates.ok.tolist() == [False, False, False]


def test_every_reason_has_a_label_for_users():
    with translation.override("en"):
        labels = {reason: str(REASON_LABELS[reason]) for reason in Reason}

    assert labels[Reason.NO_REPEAT_PURCHASE] == "Not enough data: no repeat purchase yet"
    assert all(labels.values())
