"""Printable documents as PDF (quotes, deal status reports, dossiers), built with
fpdf2 and the DejaVu Sans font shipped in `lavka/core/fonts` (Cyrillic and Latin; no
system fonts and no download needed).

A document is written top to bottom with a few building blocks:

    doc = PdfDocument(title="Quote Q-12", subtitle="Romashka LLC")
    doc.heading("Positions")
    doc.table(["Product", "Qty", "Amount"], rows, widths=[3, 1, 1], align="LRR")
    doc.key_values([("Total", "12 000,00 RUB")])
    pdf_bytes = doc.output()

Text is taken as given (already translated and formatted by the caller).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

FONTS = Path(__file__).resolve().parent / "fonts"
FAMILY = "DejaVu"
MUTED = (100, 100, 110)
RED = (180, 30, 30)
LINE = (210, 210, 215)


class PdfDocument:
    """An A4 portrait document with a title block, headings, paragraphs, label/value
    lists and tables; page numbers in the footer."""

    def __init__(self, *, title: str, subtitle: str = "", footer: str = "") -> None:
        pdf = _Pdf(footer=footer)
        pdf.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
        pdf.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        pdf.set_title(title)
        pdf.set_creator("Lavka")
        pdf.set_auto_page_break(auto=True, margin=15)
        pdf.set_margins(15, 15, 15)
        pdf.add_page()
        self._pdf = pdf
        pdf.set_font(FAMILY, "B", 16)
        pdf.multi_cell(0, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if subtitle:
            pdf.set_font(FAMILY, "", 10)
            pdf.set_text_color(*MUTED)
            pdf.multi_cell(0, 5, subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_text_color(0, 0, 0)
        pdf.ln(3)

    @property
    def width(self) -> float:
        """The usable width of a line, in millimetres."""
        return float(self._pdf.epw)

    def heading(self, text: str) -> None:
        pdf = self._pdf
        if pdf.get_y() > pdf.h - 40:  # keep a heading with what follows it
            pdf.add_page()
        pdf.ln(2)
        pdf.set_font(FAMILY, "B", 12)
        pdf.multi_cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_draw_color(*LINE)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
        pdf.ln(1.5)

    def paragraph(self, text: str, *, muted: bool = False, warning: bool = False) -> None:
        pdf = self._pdf
        pdf.set_font(FAMILY, "B" if warning else "", 10)
        if warning:
            pdf.set_text_color(*RED)
        elif muted:
            pdf.set_text_color(*MUTED)
        pdf.multi_cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
        pdf.ln(1)

    def key_values(self, pairs: Sequence[tuple[str, str]], *, label_width: float = 55) -> None:
        """Label and value side by side, one pair per line; empty values are shown as
        a dash."""
        pdf = self._pdf
        for label, value in pairs:
            y = pdf.get_y()
            pdf.set_font(FAMILY, "", 10)
            pdf.set_text_color(*MUTED)
            pdf.multi_cell(label_width, 5, label, new_x=XPos.RIGHT, new_y=YPos.TOP)
            pdf.set_text_color(0, 0, 0)
            pdf.set_xy(pdf.l_margin + label_width, y)
            pdf.multi_cell(0, 5, value or "—", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        widths: Sequence[float] | None = None,
        align: str = "",
    ) -> None:
        """A table with a bold header row; `widths` are relative, `align` has one
        letter per column (L, C or R; L by default)."""
        pdf = self._pdf
        count = len(headers)
        weights = list(widths or [1] * count)
        total = sum(weights)
        col_widths = tuple(self.width * w / total for w in weights)
        aligns = tuple((align[i] if i < len(align) else "L") for i in range(count))
        pdf.set_font(FAMILY, "", 9)
        pdf.set_draw_color(*LINE)
        with pdf.table(
            col_widths=col_widths,
            text_align=aligns,
            line_height=5,
            first_row_as_headings=True,
            headings_style=_headings_style(),
            borders_layout="HORIZONTAL_LINES",
        ) as table:
            table.row(list(headers))
            for values in rows:
                table.row([str(v) for v in values])
        pdf.ln(2)

    def output(self) -> bytes:
        return bytes(self._pdf.output())


def _headings_style() -> object:
    from fpdf.fonts import FontFace

    return FontFace(family=FAMILY, emphasis="BOLD", size_pt=9)


class _Pdf(FPDF):
    def __init__(self, *, footer: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self._footer_text = footer

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(*MUTED)
        text = f"{self._footer_text}   {self.page_no()}/{{nb}}".strip()
        self.cell(0, 5, text, align="R")
        self.set_text_color(0, 0, 0)
