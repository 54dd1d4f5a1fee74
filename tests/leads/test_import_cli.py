"""`lavka import leads`: JSON output, the import's campaign, dry run, a saved mapping,
re-runs."""

from __future__ import annotations

import csv
import json

import pytest

from lavka.cli import main
from lavka.imports.models import SavedMapping
from lavka.leads.models import Lead

CSV = (
    "Компания;ФИО;E-mail;Телефон;ИНН\n"
    "ООО Ромашка;Иван Петров;ivan@romashka.example;8 (495) 123-45-67;7707083893\n"
    "ИП Сидоров;Пётр Сидоров;petr@@example;;\n"
    "Ромашка;Иван;ivan@romashka.example;;\n"
)
COUNTS = ("created", "updated", "unchanged", "duplicates", "client_matches", "rejected")


@pytest.fixture(autouse=True)
def _private_data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()


def lavka(capsys, *args):
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out = capsys.readouterr()
    return exited.value.code, out.out, out.err


@pytest.fixture
def leads_file(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_bytes(CSV.encode("cp1251"))
    return path


def test_import_leads_prints_counts_and_the_report_as_json(org, leads_file, capsys):
    code, out, _err = lavka(
        capsys, "import", "leads", str(leads_file), "--json", "--as", "rep", "--campaign", "Expo"
    )

    assert code == 0
    result = json.loads(out)  # the whole output is the JSON document
    assert {k: result[k] for k in ("dry_run", *COUNTS)} == {
        "dry_run": False,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 1,
        "client_matches": 0,
        "rejected": 1,
    }
    with open(result["error_report"], encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[1][:4] == [
        "3",
        "E-mail",
        "petr@@example",
        "“petr@@example” is not a valid email address.",
    ]
    lead = Lead.objects.get()
    assert (lead.source, lead.campaign, lead.owner) == ("import", "Expo", org.rep)


def test_running_it_twice_changes_nothing(org, leads_file, capsys):
    lavka(capsys, "import", "leads", str(leads_file), "--json", "--as", "rep")
    before = list(Lead.objects.values_list("id", "version"))

    code, out, _err = lavka(capsys, "import", "leads", str(leads_file), "--json", "--as", "rep")

    result = json.loads(out)
    assert code == 0
    assert (result["created"], result["unchanged"], result["duplicates"]) == (0, 1, 1)
    assert list(Lead.objects.values_list("id", "version")) == before


def test_a_dry_run_prints_the_counts_and_writes_nothing(org, leads_file, capsys):
    code, out, _err = lavka(capsys, "import", "leads", str(leads_file), "--dry-run", "--as", "rep")

    assert code == 0
    assert "Checked (dry run, nothing written)" in out
    assert "  created         1" in out
    assert "  rejected        1" in out
    assert "Row errors: " in out
    assert Lead.objects.count() == 0


def test_a_saved_mapping_by_name(org, tmp_path, capsys):
    path = tmp_path / "odd.csv"
    path.write_text("Org;Who;Mail\nАльфа;Олег;oleg@alfa.example\n", encoding="utf-8")
    SavedMapping.objects.create(
        name="Odd",
        target="leads",
        mapping={"Org": "company", "Who": "contact_name", "Mail": "email"},
    )

    code, out, _err = lavka(
        capsys, "import", "leads", str(path), "--mapping", "Odd", "--json", "--as", "rep"
    )

    assert code == 0
    assert json.loads(out)["created"] == 1
    assert Lead.objects.get().company == "Альфа"


def test_someone_without_the_sales_area_is_told_so(org, leads_file, capsys):
    code, _out, err = lavka(capsys, "import", "leads", str(leads_file), "--as", "analyst")

    assert code == 2
    assert err.startswith("error: ")
    assert Lead.objects.count() == 0
