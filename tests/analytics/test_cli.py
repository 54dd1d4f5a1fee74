from __future__ import annotations

import json

from click.testing import CliRunner

from lavka.analytics.models import ComputeRun
from lavka.cli import cli
from lavka.cli.base import Failure


def test_recompute_json_prints_parameters_counts_and_step_times(history, org):
    result = CliRunner().invoke(
        cli, ["analytics", "recompute", "--as-of", "2026-06-30", "--json", "--as", "analyst"]
    )

    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["as_of"] == "2026-06-30"
    assert printed["clients"] == 5
    assert printed["orders"] == 28
    assert sum(printed["segments"].values()) == 5
    assert printed["bgnbd"]["not_enough_data"] == 3
    assert list(printed["steps"]) == [
        "load",
        "convert",
        "summary",
        "rfm",
        "abc_xyz",
        "bgnbd_fit",
        "gamma_gamma_fit",
        "scoring",
        "products",
        "write",
    ]
    assert ComputeRun.objects.get(is_current=True).pk == printed["run_id"]


def test_recompute_text_shows_the_fit(simulated_base, org):
    result = CliRunner().invoke(
        cli, ["analytics", "recompute", "--as-of", "2026-06-30", "--as", "admin"]
    )

    assert result.exit_code == 0, result.output
    assert "BG/NBD: r = " in result.output
    assert "log-likelihood -" in result.output
    assert "champions" in result.output
    assert "write" in result.output


def test_a_rep_cannot_recompute_from_the_command_line(history, org):
    result = CliRunner().invoke(cli, ["analytics", "recompute", "--as", "rep"])

    assert isinstance(result.exception, Failure)
    assert result.exception.message == "You do not have permission to do this."
    assert ComputeRun.objects.count() == 0


def test_a_bad_date_is_refused(history, org):
    result = CliRunner().invoke(
        cli, ["analytics", "recompute", "--as-of", "30.06.2026", "--as", "admin"]
    )

    assert isinstance(result.exception, Failure)
    assert result.exception.message == "--as-of '30.06.2026' is not a date"
    assert ComputeRun.objects.count() == 0
