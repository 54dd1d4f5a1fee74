"""Reading client files: CSV (any common encoding and delimiter), XLSX and vCard.

Readers yield rows as lists of strings with their 1-based row number in the file, so
that every error can name the row. Nothing here touches the database.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _

SAMPLE_BYTES = 256 * 1024
DELIMITERS = [",", ";", "\t", "|"]
ROUND_TRIP_MARK = "# Lavka round-trip export"

# The most frequent lower-case Russian letters: text decoded with the right 8-bit
# code page is mostly lower case, the wrong one mostly upper case or symbols.
RUSSIAN_COMMON = set("оеаинтсрвлкмдпуяыьгзбчйхжшюцщэфъё")


class FileProblem(Exception):
    """The file as a whole cannot be read; `message` says why in the user's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    """A file opened for import: its header, how it was read, and its data rows."""

    format: str
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    encoding: str = ""
    delimiter: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def detect_encoding(sample: bytes) -> str:
    """The encoding of a text file from its first bytes: BOMs, then strict UTF-8, then
    the 8-bit Cyrillic code page whose decoding looks most like Russian text."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith(codecs.BOM_UTF16_LE) or sample.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if exc.start >= len(sample) - 4 and exc.reason in ("unexpected end of data",):
            return "utf-8"
    high = bytes(b for b in sample if b >= 0x80)
    if not high:
        return "utf-8"
    best, best_score = "cp1252", 0.0
    for encoding in ("cp1251", "koi8_r", "cp866"):
        text = high.decode(encoding, errors="replace")
        score = sum(1 for ch in text if ch in RUSSIAN_COMMON) / len(text)
        if score > best_score:
            best, best_score = encoding, score
    return best if best_score >= 0.5 else "cp1252"


def sniff_delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        pass
    # Fall back to the delimiter found most often in the header line.
    counts = {d: lines[0].count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _clean_header(header: list[str]) -> list[str]:
    return [h.replace("\ufeff", "").strip() for h in header]


def read_csv(path: Path, *, encoding: str | None = None, delimiter: str | None = None) -> Table:
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileProblem(_("This file is not a text (CSV) file."))
    encoding = encoding or detect_encoding(sample)
    try:
        text_sample = sample.decode(encoding, errors="ignore")
    except LookupError:
        raise FileProblem(_("Unknown encoding “%(name)s”.") % {"name": encoding}) from None
    delimiter = delimiter or sniff_delimiter(text_sample)

    def open_reader() -> tuple[IO[str], Any]:
        handle = path.open("r", encoding=encoding, errors="strict", newline="")
        return handle, csv.reader(handle, delimiter=delimiter, strict=True)

    handle, reader = open_reader()
    try:
        header = _clean_header(next(reader))
    except StopIteration:
        handle.close()
        raise FileProblem(_("The file is empty.")) from None
    except (csv.Error, UnicodeDecodeError) as exc:
        handle.close()
        raise FileProblem(_describe_csv_error(exc, 1)) from None
    if header and header[0].startswith(ROUND_TRIP_MARK):
        # A Lavka round-trip export: its first line says so; the header follows.
        try:
            header = _clean_header(next(reader))
        except (StopIteration, csv.Error, UnicodeDecodeError):
            handle.close()
            raise FileProblem(_("The file is empty.")) from None
    if not any(header):
        handle.close()
        raise FileProblem(_("The first row has no column names."))

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except (csv.Error, UnicodeDecodeError) as exc:
                    raise FileProblem(_describe_csv_error(exc, reader.line_num)) from None
                if not any(cell.strip() for cell in row):
                    continue
                yield reader.line_num, row
        finally:
            handle.close()

    return Table(format="csv", header=header, rows=rows(), encoding=encoding, delimiter=delimiter)


def _describe_csv_error(exc: Exception, line: int) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return _(
            "Line %(line)d cannot be read as %(encoding)s text. Save the file as UTF-8 "
            "and try again."
        ) % {"line": line, "encoding": exc.encoding}
    return _("Line %(line)d is not valid CSV (%(reason)s): check the quotes in it.") % {
        "line": line,
        "reason": str(exc),
    }


def read_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    if not zipfile.is_zipfile(path):
        raise FileProblem(_("This file is not an Excel workbook (.xlsx)."))
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a broken workbook
        raise FileProblem(
            _("This file is not an Excel workbook (.xlsx), or it is damaged.")
        ) from None
    sheet = workbook.worksheets[0] if workbook.worksheets else None
    if sheet is None:
        workbook.close()
        raise FileProblem(_("The workbook has no sheets."))
    values = sheet.iter_rows(values_only=True)
    try:
        header = _clean_header([_cell(v) for v in next(values)])
    except StopIteration:
        workbook.close()
        raise FileProblem(_("The file is empty.")) from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, row in enumerate(values, start=2):
                cells = [_cell(v) for v in row]
                if any(c.strip() for c in cells):
                    yield number, cells
        finally:
            workbook.close()

    return Table(format="xlsx", header=header, rows=rows(), details={"sheet": sheet.title})


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    return str(value)


VCARD_COLUMNS = ["FN", "N", "ORG", "TITLE", "EMAIL", "TEL", "ADR", "BDAY", "URL", "NOTE", "UID"]


def read_vcard(path: Path) -> Table:
    raw = path.read_bytes()
    encoding = detect_encoding(raw[:SAMPLE_BYTES])
    text = raw.decode(encoding, errors="replace")
    if "BEGIN:VCARD" not in text.upper():
        raise FileProblem(_("This file is not a vCard (.vcf) file."))

    def rows() -> Iterator[tuple[int, list[str]]]:
        card: dict[str, list[str]] | None = None
        start = 0
        for number, line in _unfolded(text):
            upper = line.upper()
            if upper.startswith("BEGIN:VCARD"):
                card, start = {}, number
                continue
            if upper.startswith("END:VCARD"):
                if card is not None:
                    yield start, ["; ".join(card.get(c, [])) for c in VCARD_COLUMNS]
                card = None
                continue
            if card is None or ":" not in line:
                continue
            name_part, value = line.split(":", 1)
            name = name_part.split(";", 1)[0].split(".")[-1].upper()
            if name in VCARD_COLUMNS:
                card.setdefault(name, []).append(_vcard_value(name, value))

    return Table(format="vcard", header=list(VCARD_COLUMNS), rows=rows(), encoding=encoding)


def _unfolded(text: str) -> Iterator[tuple[int, str]]:
    current, start = "", 0
    for number, line in enumerate(io.StringIO(text), start=1):
        line = line.rstrip("\r\n")
        if line[:1] in (" ", "\t") and current:
            current += line[1:]
            continue
        if current:
            yield start, current
        current, start = line, number
    if current:
        yield start, current


def _vcard_value(name: str, value: str) -> str:
    value = value.replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\")
    if name == "N":
        parts = (value.split(";") + [""] * 5)[:5]
        family, given, middle = parts[0], parts[1], parts[2]
        return " ".join(p for p in (given, middle, family) if p)
    if name in ("ADR", "ORG"):
        return ", ".join(p.strip() for p in value.split(";") if p.strip())
    if name == "TEL" and value.lower().startswith("tel:"):
        return value[4:]
    return value.strip()


def open_table(
    path: Path, *, filename: str = "", encoding: str | None = None, delimiter: str | None = None
) -> Table:
    """Open an import file by its name's extension (or content)."""
    name = (filename or path.name).lower()
    if name.endswith((".xlsx", ".xlsm")):
        return read_xlsx(path)
    if name.endswith((".vcf", ".vcard")):
        return read_vcard(path)
    if name.endswith(".xls"):
        raise FileProblem(_("Old Excel files (.xls) are not supported: save it as .xlsx or CSV."))
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(b"PK"):
        return read_xlsx(path)
    return read_csv(path, encoding=encoding, delimiter=delimiter)
