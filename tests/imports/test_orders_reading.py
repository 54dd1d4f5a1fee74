"""How the order import reads a file: whole lines handed to the reading processes as
they are, `csv` in the command's process from the first line with a quote, and in
either case the same rows, the same values and the rows' own line numbers in the
report. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lavka.imports import orders as engine
from lavka.imports import readers
from lavka.imports.models import ImportRowError, ImportRun, OrderImportLine
from lavka.imports.readers import FileProblem
from lavka.imports.services import import_run_in_process, import_upload
from lavka.sales.models import Order, OrderLine

HEADER = "Номер документа;Дата;Клиент;Артикул;Товар;Количество;Сумма\r\n"


def upload(actor, tmp_path, data: bytes, read_all=True):
    path = tmp_path / "orders.csv"
    path.write_bytes(data)
    return import_upload(
        actor=actor, name="orders.csv", source=path, target="orders", read_all=read_all
    )


def errors(run):
    return list(ImportRowError.objects.filter(run=run).values_list("row", "column", "reason"))


def lines():
    return list(
        OrderLine.objects.order_by("id").values_list(
            "order__number", "product_code", "product_name", "quantity", "amount"
        )
    )


@pytest.mark.parametrize("workers", [0, 2])
def test_rows_keep_their_line_numbers_across_blank_lines_and_batches(
    org, tmp_path, monkeypatch, workers
):
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    text = (
        HEADER + "РН-1;01.02.2025;Ромашка;A-1;Бумага;2;600\r\n"
        "\r\n"  # line 3: blank, skipped
        "РН-1;01.02.2025;Ромашка;A-2;Ручка;0;10\r\n"  # line 4: quantity 0
        "РН-2;03.02.2025;Петров;A-1;Бумага;1;300\r\n"
        ";;;;;;\r\n"  # line 6: empty cells, skipped
        "РН-3;31.02.2025;Петров;A-1;Бумага;1;300"  # line 7, no final newline
    )
    run = upload(org.admin, tmp_path, text.encode())

    result = import_run_in_process(actor=org.admin, run=run, workers=workers)
    run.refresh_from_db()

    assert errors(run) == [
        (4, "Количество", "Enter a number greater than zero and below 100,000,000,000."),
        (7, "Дата", "Enter a date such as 31.12.2025 or 2025-12-31."),
    ]
    assert result["counts"]["lines"] == 2
    assert run.committed_row == 7
    assert lines() == [
        ("РН-1", "A-1", "Бумага", Decimal("2.000"), Decimal("600.00")),
        ("РН-2", "A-1", "Бумага", Decimal("1.000"), Decimal("300.00")),
    ]


@pytest.mark.parametrize("workers", [0, 2])
def test_from_a_quoted_cell_with_a_line_break_on_the_rows_are_parsed_whole(
    org, tmp_path, monkeypatch, workers
):
    """A cell may hold a line break inside quotes: from there on, the file is read by
    `csv` and a row spanning two lines is numbered by its last line, as everywhere."""
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    text = (
        HEADER + "РН-1;01.02.2025;Ромашка;A-1;Бумага;2;600\r\n"
        "РН-1;01.02.2025;Ромашка;A-2;Ручка;1;10\r\n"
        'РН-2;03.02.2025;"ООО ""Петров"" и\r\nсыновья";A-3;Клей;1;50\r\n'  # lines 4-5
        "РН-3;03.02.2025;Петров;A-1;Бумага;-1;300\r\n"  # line 6
    )
    run = upload(org.admin, tmp_path, text.encode())

    import_run_in_process(actor=org.admin, run=run, workers=workers)
    run.refresh_from_db()

    assert errors(run) == [(6, "Количество", "Enter a number greater than zero.")]
    assert Order.objects.get(number="РН-2").client.name == 'ООО "Петров" и\r\nсыновья'
    assert run.status == ImportRun.Status.DONE


def test_tabs_and_backslashes_in_cells_are_kept_as_they_are(org, tmp_path):
    text = HEADER + "РН-1\\2;01.02.2025;Ромашка;A\\1;Болт\tM8 \\N;2;600\r\n"
    run = upload(org.admin, tmp_path, text.encode())

    import_run_in_process(actor=org.admin, run=run)

    assert lines() == [("РН-1\\2", "A\\1", "Болт\tM8 \\N", Decimal("2.000"), Decimal("600.00"))]
    assert Order.objects.get().external_id == "РН-1\\2/2025"

    # And a second import of the same file finds every order the same.
    again = upload(org.admin, tmp_path, text.encode())
    result = import_run_in_process(actor=org.admin, run=again)
    assert (result["counts"]["orders_unchanged"], result["counts"]["orders_created"]) == (1, 0)


def test_a_file_in_windows_1251_is_read_in_whole_lines_too(org, tmp_path):
    text = HEADER + "РН-1;01.02.2025;Ромашка;A-1;Бумага;2;600\r\n"
    run = upload(org.admin, tmp_path, text.encode("cp1251"))

    import_run_in_process(actor=org.admin, run=run, workers=2)

    assert Order.objects.get().client.name == "Ромашка"
    assert lines() == [("РН-1", "A-1", "Бумага", Decimal("2.000"), Decimal("600.00"))]


def test_a_line_that_is_not_text_stops_the_import_at_its_number(org, tmp_path, monkeypatch):
    """Read through only as the import reaches it (the command line does not read the
    file at upload): the batches before it are staged, then nothing is written."""
    monkeypatch.setattr(engine, "BATCH_SIZE", 100)
    good = HEADER + "РН-1;01.02.2025;Ромашка;A-1;Бумага;2;600\r\n" * 400
    # The encoding is told from the start of the file.
    monkeypatch.setattr(readers, "SAMPLE_BYTES", len(good.encode()))
    data = good.encode() + b"\xd0\xd0;01.02.2025;\xff;A-1;X;1;1\r\n"  # line 402
    run = upload(org.admin, tmp_path, data, read_all=False)
    assert run.encoding == "utf-8"

    with pytest.raises(FileProblem) as problem:
        import_run_in_process(actor=org.admin, run=run, workers=2)

    assert "Line 402 cannot be read as utf-8 text" in problem.value.message
    assert Order.objects.count() == 0
    assert OrderImportLine.objects.count() == 0
