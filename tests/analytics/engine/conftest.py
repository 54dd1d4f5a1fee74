"""The CDNOW sample of Fader, Hardie and Lee (2005), read from the data files of the
`lifetimes` package (a test dependency; the package itself is never imported)."""

from __future__ import annotations

import datetime as dt
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from lavka.analytics.engine import summary
from lavka.analytics.engine.units import TimeUnit

CALIBRATION_END = dt.date(1997, 9, 30)


def lifetimes_datasets() -> Path:
    spec = importlib.util.find_spec("lifetimes")  # finds, does not import
    assert spec is not None and spec.submodule_search_locations, (
        "the CDNOW sample ships with the `lifetimes` package: pip install -e '.[test]'"
    )
    return Path(next(iter(spec.submodule_search_locations))) / "datasets"


@dataclass(frozen=True)
class Transactions:
    client_id: np.ndarray
    date: np.ndarray
    amount: np.ndarray


@pytest.fixture(scope="session")
def cdnow_transactions() -> Transactions:
    """CDNOW_sample.txt: one line per purchase, whitespace-separated: master id,
    sample id (1..2357), date YYYYMMDD, number of CDs, dollar value. 1997-01..1998-06."""
    lines = (lifetimes_datasets() / "CDNOW_sample.txt").read_text().split("\n")
    fields = [line.split() for line in lines if line.strip()]
    return Transactions(
        client_id=np.array([int(f[1]) for f in fields], dtype=np.int64),
        date=np.array(
            [f"{f[2][:4]}-{f[2][4:6]}-{f[2][6:]}" for f in fields], dtype="datetime64[D]"
        ),
        amount=np.array([float(f[4]) for f in fields]),
    )


@pytest.fixture(scope="session")
def cdnow_summary(cdnow_transactions: Transactions) -> summary.ClientSummary:
    """The calibration-period summary in weeks, built by our own summary.py."""
    return summary.summarize(
        cdnow_transactions.client_id,
        cdnow_transactions.date,
        cdnow_transactions.amount,
        observation_end=CALIBRATION_END,
        unit=TimeUnit.WEEKS,
    )


@pytest.fixture(scope="session")
def cdnow_published_summary() -> np.ndarray:
    """cdnow_customers_summary_with_transactions.csv: ID, x, t_x, T, zbar as published
    with the papers (t_x, T in weeks and zbar in dollars, rounded to 2 decimals)."""
    path = lifetimes_datasets() / "cdnow_customers_summary_with_transactions.csv"
    return np.loadtxt(path, delimiter=",", skiprows=1)
