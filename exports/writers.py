"""Streaming writers: records in, bytes out, one chunk at a time, so that an export of a million
reports starts at once and keeps memory flat.

Whatever a reporter typed stays inert everywhere:
- CSV and XLSX: a text that starts like a formula (``=``, ``+``, ``-``, ``@``, tab, carriage
  return) gets a leading apostrophe, so a spreadsheet shows it instead of running it;
- XLSX: every cell is an inline string (never a formula), XML-escaped, without the control
  characters XML cannot hold;
- JSON lines: ``<``, ``>`` and ``&`` are written as ``\\u003c``..., so a browser that sniffed the
  file as HTML would still find no tag in it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from xml.sax.saxutils import escape

CHUNK = 64 * 1024
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jsonl": "application/x-ndjson; charset=utf-8",
}


def neutralised(value: Any) -> str:
    """A cell's text as a spreadsheet should show it: never a formula."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_chunks(records: Iterable[dict[str, Any]], columns: Sequence[str]) -> Iterator[bytes]:
    buffer = io.StringIO()
    # A byte-order mark: Excel then reads the file as UTF-8 ("Éboulement", not "Ã‰boulement").
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([neutralised(record.get(name)) for name in columns])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def jsonl_chunks(records: Iterable[dict[str, Any]], columns: Sequence[str]) -> Iterator[bytes]:
    lines: list[str] = []
    size = 0
    for record in records:
        line = json.dumps({name: record.get(name) for name in columns}, ensure_ascii=False)
        line = line.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        lines.append(line + "\n")
        size += len(line)
        if size >= CHUNK:
            yield "".join(lines).encode("utf-8")
            lines, size = [], 0
    yield "".join(lines).encode("utf-8")


# XLSX: the few parts a workbook needs, and the sheet written row by row into a zip stream ------

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="reports" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    "</Relationships>"
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border/></borders>'
    '<cellStyleXfs count="1"><xf/></cellStyleXfs>'
    '<cellXfs count="1"><xf/></cellXfs>'
    "</styleSheet>"
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = "</sheetData></worksheet>"


class _Pipe(io.RawIOBase):
    """Where the zip writes: bytes collected until the response takes them (never seekable, so
    zipfile writes each entry's sizes after its data instead of going back for them)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._offset = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._size += len(chunk)
        self._offset += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._offset

    @property
    def pending(self) -> int:
        return self._size

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks, self._size = [], 0
        return data


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _row(number: int, values: Sequence[Any]) -> str:
    cells = []
    for index, value in enumerate(values):
        text = _XML_INVALID.sub("", neutralised(value))
        if text:
            cells.append(
                f'<c r="{_column(index)}{number}" t="inlineStr"><is>'
                f'<t xml:space="preserve">{escape(text)}</t></is></c>'
            )
    return f'<row r="{number}">{"".join(cells)}</row>'


def xlsx_chunks(records: Iterable[dict[str, Any]], columns: Sequence[str]) -> Iterator[bytes]:
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, part in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _RELS),
            ("xl/workbook.xml", _WORKBOOK),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
            ("xl/styles.xml", _STYLES),
        ):
            archive.writestr(name, part)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write((_SHEET_HEAD + _row(1, columns)).encode("utf-8"))
            for number, record in enumerate(records, 2):
                sheet.write(_row(number, [record.get(name) for name in columns]).encode("utf-8"))
                if pipe.pending >= CHUNK:
                    yield pipe.take()
            sheet.write(_SHEET_TAIL.encode("utf-8"))
    yield pipe.take()


WRITERS = {"csv": csv_chunks, "xlsx": xlsx_chunks, "jsonl": jsonl_chunks}
