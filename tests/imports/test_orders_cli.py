"""`lavka import orders`: JSON output, dry run, mappings, resume."""

from __future__ import annotations

import csv
import json

import pytest

from lavka.cli import main
from lavka.imports.models import ImportRun, SavedMapping
from lavka.sales.models import Order, OrderLine

CSV = (
    "Номер документа;Дата;Клиент;ИНН;Артикул;Товар;Количество;Сумма\n"
    "РН-1;01.02.2025;ООО Ромашка;7707083893;A-1;Бумага;2;600\n"
    "РН-1;01.02.2025;ООО Ромашка;7707083893;A-2;Ручка;10;155\n"
    "РН-2;31.02.2025;ИП Петров;;A-1;Бумага;1;300\n"
)


def lavka(capsys, *args):
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out = capsys.readouterr()
    return exited.value.code, out.out, out.err


def test_import_orders_prints_counts_as_json(org, tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_text(CSV, encoding="utf-8")

    code, out, _err = lavka(capsys, "import", "orders", str(path), "--json", "--as", "admin")

    assert code == 0
    result = json.loads(out)  # the whole output is the JSON document
    assert set(result["seconds"]) == {"staging", "orders"}  # where the time went
    assert {k: v for k, v in result.items() if k not in ("run_id", "error_report", "seconds")} == {
        "dry_run": False,
        "lines": 2,
        "orders_created": 1,
        "orders_updated": 0,
        "orders_unchanged": 0,
        "clients_created": 1,
        "products_created": 2,
        "rejected": 1,
    }
    with open(result["error_report"], encoding="utf-8-sig") as fh:
        assert list(csv.reader(fh))[1][:3] == ["4", "Дата", "31.02.2025"]
    assert Order.objects.get().total == 755


def test_running_it_twice_changes_nothing(org, tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_text(CSV, encoding="utf-8")
    lavka(capsys, "import", "orders", str(path), "--json", "--as", "admin")
    lines = list(OrderLine.objects.values_list("id", flat=True))

    code, out, _err = lavka(capsys, "import", "orders", str(path), "--json", "--as", "admin")

    result = json.loads(out)
    assert code == 0
    assert (result["orders_created"], result["orders_unchanged"]) == (0, 1)
    assert list(OrderLine.objects.values_list("id", flat=True)) == lines


def test_dry_run_writes_nothing(org, tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_text(CSV, encoding="utf-8")

    code, out, _err = lavka(capsys, "import", "orders", str(path), "--dry-run", "--as", "admin")

    assert code == 0
    assert "Checked (dry run, nothing written)" in out
    assert "orders            1" in out
    assert "rejected          1" in out
    assert Order.objects.count() == 0


def test_a_json_mapping_file_and_a_saved_mapping(org, tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_text(
        "Beleg;Tag;Kunde;Ware;Betrag\nB-1;2025-03-01;Acme;Widget;10\n", encoding="utf-8"
    )
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        json.dumps(
            {
                "Beleg": "number",
                "Tag": "ordered_on",
                "Kunde": "client_name",
                "Ware": "product_name",
                "Betrag": "amount",
            }
        ),
        encoding="utf-8",
    )

    code, out, err = lavka(
        capsys, "import", "orders", str(path), "--mapping", str(mapping), "--json", "--as", "admin"
    )
    assert (code, json.loads(out)["orders_created"]) == (0, 1), err

    SavedMapping.objects.create(
        target="orders", name="shop", mapping=json.loads(mapping.read_text())
    )
    path.write_text(
        "Beleg;Tag;Kunde;Ware;Betrag\nB-2;2025-03-02;Acme;Widget;10\n", encoding="utf-8"
    )
    code, out, _err = lavka(
        capsys, "import", "orders", str(path), "--mapping", "shop", "--json", "--as", "admin"
    )
    assert (code, json.loads(out)["orders_created"]) == (0, 1)
    assert Order.objects.count() == 2


def test_an_unknown_mapping_or_missing_columns_is_a_usage_error(org, tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_text("Foo;Bar\n1;2\n", encoding="utf-8")

    code, _out, err = lavka(
        capsys, "import", "orders", str(path), "--mapping", "nope", "--as", "admin"
    )
    assert code == 2
    assert "no saved order mapping named 'nope'" in err

    code, _out, err = lavka(capsys, "import", "orders", str(path), "--as", "admin")
    assert code == 2
    assert "Map a column to the order date." in err


def test_resume_continues_a_failed_run(org, tmp_path, capsys, monkeypatch):
    from lavka.imports import orders as engine

    path = tmp_path / "orders.csv"
    path.write_text(CSV, encoding="utf-8")

    def crash(**kwargs):
        raise RuntimeError("killed")

    monkeypatch.setattr(engine, "outbox_publish", crash)
    with pytest.raises(RuntimeError):
        main(["import", "orders", str(path), "--as", "admin"])
    monkeypatch.undo()
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.FAILED

    code, out, _err = lavka(
        capsys, "import", "orders", "--resume", str(run.pk), "--json", "--as", "admin"
    )

    assert code == 0
    assert json.loads(out)["orders_created"] == 1
    assert Order.objects.count() == 1


def test_a_broken_line_stops_the_import_with_its_line_number(org, tmp_path, capsys):
    from lavka.imports.models import OrderImportLine

    path = tmp_path / "orders.csv"
    path.write_text(CSV + 'РН-9;01.02.2025;"ООО Кактус;;A-1;Бумага;1;1\n', encoding="utf-8")

    code, _out, err = lavka(capsys, "import", "orders", str(path), "--as", "admin")

    assert code == 1
    assert "not valid CSV" in err
    assert Order.objects.count() == 0
    assert OrderImportLine.objects.count() == 0
    assert ImportRun.objects.get().status == ImportRun.Status.FAILED
