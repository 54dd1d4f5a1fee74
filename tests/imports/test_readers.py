from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from lavka.imports.mapping import auto_map
from lavka.imports.readers import FileProblem, detect_encoding, open_table

RUSSIAN_CSV = (
    'Название;Телефон;ИНН\nООО "Ромашка";8 (495) 123-45-67;7707083893\n'
    "ИП Иванов;+7 912 000 11 22;\n"
)


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rows(table):
    return list(table.rows)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251", "koi8_r", "cp866", "utf-16"])
def test_russian_csv_reads_in_any_common_encoding(tmp_path, encoding):
    path = write(tmp_path, "clients.csv", RUSSIAN_CSV.encode(encoding))

    table = open_table(path)

    assert table.header == ["Название", "Телефон", "ИНН"]
    assert table.delimiter == ";"
    assert rows(table) == [
        (2, ['ООО "Ромашка"', "8 (495) 123-45-67", "7707083893"]),
        (3, ["ИП Иванов", "+7 912 000 11 22", ""]),
    ]


@pytest.mark.parametrize(("delimiter", "name"), [(",", "comma"), ("\t", "tab"), (";", "semicolon")])
def test_delimiters_are_sniffed(tmp_path, delimiter, name):
    text = (
        delimiter.join(["Name", "Email", "City"])
        + "\n"
        + delimiter.join(['"Acme, Inc."', "info@acme.test", "Boston"])
        + "\n"
    )
    path = write(tmp_path, f"{name}.csv", text.encode())

    table = open_table(path)

    assert table.delimiter == delimiter
    assert rows(table)[0][1][0] in ("Acme, Inc.", '"Acme, Inc."')


def test_quoted_newlines_stay_inside_one_cell_and_row_numbers_count_file_lines(tmp_path):
    text = 'Name,Notes\n"Acme","line one\nline two"\n"Beta","x"\n'
    table = open_table(write(tmp_path, "c.csv", text.encode()))

    assert rows(table) == [(3, ["Acme", "line one\nline two"]), (4, ["Beta", "x"])]


def test_broken_quotes_are_reported_with_the_line(tmp_path):
    text = 'Name,Notes\n"Acme","fine"\n"Beta,"broken\n'
    table = open_table(write(tmp_path, "c.csv", text.encode()))

    with pytest.raises(FileProblem) as problem:
        rows(table)

    assert "Line 3" in problem.value.message or "Line 4" in problem.value.message


def test_binary_file_posing_as_csv_is_refused(tmp_path):
    path = write(tmp_path, "c.csv", b"\x00\x01\x02garbage\x00" * 100)

    with pytest.raises(FileProblem, match="not a text"):
        open_table(path)


def test_xlsx_is_read_with_typed_cells_as_text(tmp_path):
    import datetime as dt

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Company", "Revenue", "Since"])
    sheet.append(["Acme", 1500000.0, dt.datetime(2021, 3, 4)])
    sheet.append([None, None, None])
    sheet.append(["Beta", 12.5, None])
    path = tmp_path / "c.xlsx"
    workbook.save(path)

    table = open_table(path)

    assert table.header == ["Company", "Revenue", "Since"]
    assert rows(table) == [(2, ["Acme", "1500000", "2021-03-04"]), (4, ["Beta", "12.5", ""])]


def test_a_file_named_xlsx_that_is_not_a_workbook_is_refused(tmp_path):
    path = write(tmp_path, "fake.xlsx", b"Name,Email\nAcme,a@b.c\n")

    with pytest.raises(FileProblem, match="not an Excel workbook"):
        open_table(path)


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a spreadsheet")
    path = write(tmp_path, "fake.xlsx", buffer.getvalue())

    with pytest.raises(FileProblem, match="not an Excel workbook"):
        open_table(path)


def test_vcard_3_and_4_cards_become_rows(tmp_path):
    text = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Иванова;Мария;Петровна;;\r\nFN:Мария Иванова\r\n"
        "ORG:ООО Ромашка;Отдел закупок\r\nTITLE:Закупщик\r\nTEL;TYPE=WORK:+7 495 123-45-67\r\n"
        "EMAIL;TYPE=INTERNET:maria@romashka.ru\r\nBDAY:1985-04-12\r\nNOTE:Любит кошек\\, чай\r\n"
        "END:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:John Smith\r\nTEL;VALUE=uri:tel:+1-555-0100\r\n"
        "EMAIL:john@example.com\r\nNOTE:A very long note that is folded\r\n  across two lines\r\n"
        "END:VCARD\r\n"
    )
    table = open_table(write(tmp_path, "contacts.vcf", text.encode()))
    cards = [dict(zip(table.header, values, strict=True)) for _n, values in rows(table)]

    assert cards[0]["FN"] == "Мария Иванова"
    assert cards[0]["N"] == "Мария Петровна Иванова"
    assert cards[0]["ORG"] == "ООО Ромашка, Отдел закупок"
    assert cards[0]["NOTE"] == "Любит кошек, чай"
    assert cards[1]["TEL"] == "+1-555-0100"
    assert cards[1]["NOTE"] == "A very long note that is folded across two lines"


def test_encoding_detection_prefers_utf8_when_valid():
    assert detect_encoding("Ромашка".encode()) == "utf-8"
    assert detect_encoding("Ромашка и Лютик".encode("cp1251")) == "cp1251"
    assert detect_encoding("Ромашка и Лютик".encode("koi8_r")) == "koi8_r"


def test_headers_are_auto_mapped_from_russian_english_and_other_crms():
    header = [
        "Название компании",
        "ИНН",
        "Рабочий e-mail",
        "Billing City",
        "Account Owner",
        "Record ID",
        "Мобильный телефон",
        "Unknown column",
    ]

    assert auto_map(header) == {
        0: "name",
        1: "inn",
        2: "email",
        3: "city",
        4: "owner",
        5: "external_id",
        6: "mobile",
    }
