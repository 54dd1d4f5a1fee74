import io

import pypdf

from lavka.core.pdf import PdfDocument


def test_a_document_in_russian_reads_back_as_text() -> None:
    doc = PdfDocument(title="Отчёт о статусе сделки", subtitle="ООО «Ромашка»", footer="Lavka")
    doc.heading("Позиции")
    doc.table(["Товар", "Сумма"], [["Бумага А4", "12 000,00 ₽"]], widths=[3, 1], align="LR")
    doc.key_values([("Итого", "12 000,00 RUB"), ("Скидка", "")])
    doc.paragraph("Точка власти не известна", warning=True)

    text = pypdf.PdfReader(io.BytesIO(doc.output())).pages[0].extract_text()

    for expected in ("Отчёт о статусе сделки", "ООО «Ромашка»", "Бумага А4", "12 000,00 ₽"):
        assert expected in text
    assert "Скидка —" in text  # an empty value shows as a dash
    assert "Точка власти не известна" in text


def test_a_long_table_continues_on_the_next_page() -> None:
    doc = PdfDocument(title="Orders")
    doc.table(["#", "Client"], [[str(i), f"Client {i}"] for i in range(120)])

    reader = pypdf.PdfReader(io.BytesIO(doc.output()))

    assert len(reader.pages) >= 2
    assert "Client 119" in reader.pages[-1].extract_text()
