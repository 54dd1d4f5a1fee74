from __future__ import annotations

import csv
import json
import re

import pytest
from openpyxl import load_workbook

from lavka.cli import main
from lavka.clients.models import Client
from lavka.imports.models import SavedMapping
from tests.factories import ClientFactory

CSV = "Name;Email;Phone\nAcme;acme@example.org;+7 916 123-45-67\nBad;bad@;\n"


def lavka(capsys, *args):
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out = capsys.readouterr()
    return exited.value.code, out.out, out.err


def test_import_clients_prints_counts_as_json_and_exits_0_with_rejected_rows(org, tmp_path, capsys):
    path = tmp_path / "clients.csv"
    path.write_text(CSV, encoding="utf-8")

    code, out, _err = lavka(capsys, "import", "clients", str(path), "--json", "--as", "rep")

    assert code == 0
    result = json.loads(out.strip().splitlines()[-1])
    assert {
        k: result[k] for k in ("created", "updated", "unchanged", "duplicates", "rejected")
    } == {"created": 1, "updated": 0, "unchanged": 0, "duplicates": 0, "rejected": 1}
    assert result["dry_run"] is False
    with open(result["error_report"], encoding="utf-8-sig") as fh:
        assert list(csv.reader(fh))[1][:2] == ["3", "Email"]
    assert Client.objects.get().owner == org.rep


def test_import_dry_run_writes_nothing(org, tmp_path, capsys):
    path = tmp_path / "clients.csv"
    path.write_text(CSV, encoding="utf-8")

    code, out, _err = lavka(capsys, "import", "clients", str(path), "--dry-run", "--as", "rep")

    assert code == 0
    assert re.search(r"^  created +1$", out, re.M)
    assert re.search(r"^  rejected +1$", out, re.M)
    assert Client.objects.count() == 0


def test_import_with_a_saved_mapping_by_name(org, tmp_path, capsys):
    SavedMapping.objects.create(name="shop", mapping={"Kunde": "name", "Post": "email"})
    path = tmp_path / "clients.csv"
    path.write_text("Kunde,Post\nAcme,acme@example.org\n", encoding="utf-8")

    code, _out, _err = lavka(
        capsys, "import", "clients", str(path), "--mapping", "shop", "--as", "rep"
    )

    assert code == 0
    assert list(Client.objects.values_list("name", "email")) == [("Acme", "acme@example.org")]


def test_an_unreadable_file_exits_1_with_the_reason(org, tmp_path, capsys):
    path = tmp_path / "clients.xlsx"
    path.write_bytes(b"not a workbook")

    code, _out, err = lavka(capsys, "import", "clients", str(path), "--as", "rep")

    assert code == 1
    assert "error: This file is not an Excel workbook (.xlsx)." in err
    assert Client.objects.count() == 0


def test_usage_errors_exit_2(org, tmp_path, capsys):
    code, _out, err = lavka(capsys, "import", "clients", "--as", "rep")

    assert code == 2
    assert "give either FILE or --resume RUN_ID" in err


def test_export_neutralises_formula_cells_in_csv_and_xlsx(org, tmp_path, capsys):
    ClientFactory(owner=org.rep, name="=HYPERLINK(evil)", notes="@SUM(1)", email="a@example.org")

    code_csv, out, _ = lavka(
        capsys,
        "export",
        "clients",
        "--format",
        "csv",
        "--out",
        str(tmp_path / "c.csv"),
        "--as",
        "rep",
    )
    code_xlsx, _, _ = lavka(
        capsys,
        "export",
        "clients",
        "--format",
        "xlsx",
        "--out",
        str(tmp_path / "c.xlsx"),
        "--as",
        "rep",
    )

    assert (code_csv, code_xlsx) == (0, 0)
    assert "Exported 1 clients" in out
    with (tmp_path / "c.csv").open(encoding="utf-8-sig") as fh:
        row = next(csv.DictReader(fh))
    assert (row["name"], row["notes"]) == ("'=HYPERLINK(evil)", "'@SUM(1)")
    sheet = load_workbook(tmp_path / "c.xlsx", read_only=True).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][values[0].index("name")] == "'=HYPERLINK(evil)"


def test_round_trip_export_is_raw_says_so_and_reimports_unchanged(org, tmp_path, capsys):
    ClientFactory(owner=org.rep, name="=Acme", email="a@example.org", external_id="X1")
    out_path = tmp_path / "rt.csv"

    code, out, _ = lavka(
        capsys, "export", "clients", "--out", str(out_path), "--round-trip", "--as", "rep"
    )
    text = out_path.read_text(encoding="utf-8-sig")
    code2, out2, _ = lavka(capsys, "import", "clients", str(out_path), "--json", "--as", "rep")

    assert code == 0
    assert "Round-trip export" in out
    assert text.startswith("# Lavka round-trip export")
    assert "=Acme" in text and "'=Acme" not in text
    assert code2 == 0
    result = json.loads(out2.strip().splitlines()[-1])
    assert (result["unchanged"], result["created"], result["updated"]) == (1, 0, 0)
