"""A minimal Office Open XML workbook writer (standard library only).

Writes just the parts a spreadsheet application needs: content types,
package and workbook relationships, the workbook, one worksheet per sheet and
a style sheet with a bold header style. Strings are stored inline, so no
shared-strings part is needed. Elements are built without ElementTree
namespaces and carry plain `xmlns` attributes, so every part uses the default
namespace the way spreadsheet applications write it (no `ns0:` prefixes). Zip entries carry a fixed date so the same
input always gives the same bytes.
"""
from __future__ import annotations

import io
import re
import zipfile
from typing import Optional, Sequence
from xml.etree import ElementTree as ET

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_OFFICE_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_WORKSHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
_STYLES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
_SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

_FIXED_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MAX_CELL_CHARS = 32767  # the format's limit for one cell
_BOLD_STYLE = "1"

Cell = Optional[object]  # str, int, float or None (empty)


class Sheet:
    def __init__(self, name: str, header: Sequence[str], rows: Sequence[Sequence[Cell]], widths: Sequence[int] = ()) -> None:
        self.name = name[:31]  # sheet names are limited to 31 characters
        self.header = list(header)
        self.rows = [list(row) for row in rows]
        self.widths = list(widths)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def write_workbook(sheets: Sequence[Sheet]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        _add(archive, "[Content_Types].xml", _content_types(len(sheets)))
        _add(archive, "_rels/.rels", _relationships([("rId1", _OFFICE_DOC, "xl/workbook.xml")]))
        _add(archive, "xl/workbook.xml", _workbook(sheets))
        workbook_rels = [(f"rId{n}", _WORKSHEET, f"worksheets/sheet{n}.xml") for n in range(1, len(sheets) + 1)]
        workbook_rels.append((f"rId{len(sheets) + 1}", _STYLES, "styles.xml"))
        _add(archive, "xl/_rels/workbook.xml.rels", _relationships(workbook_rels))
        for number, sheet in enumerate(sheets, start=1):
            _add(archive, f"xl/worksheets/sheet{number}.xml", _worksheet(sheet))
        _add(archive, "xl/styles.xml", _styles())
    return buffer.getvalue()


def _add(archive: zipfile.ZipFile, name: str, root: ET.Element) -> None:
    info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, ET.tostring(root, encoding="UTF-8", xml_declaration=True))


def _content_types(sheet_count: int) -> ET.Element:
    root = ET.Element("Types", xmlns=CT_NS)
    ET.SubElement(root, "Default", Extension="rels", ContentType="application/vnd.openxmlformats-package.relationships+xml")
    ET.SubElement(root, "Default", Extension="xml", ContentType="application/xml")
    ET.SubElement(
        root,
        "Override",
        PartName="/xl/workbook.xml",
        ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    )
    for number in range(1, sheet_count + 1):
        ET.SubElement(root, "Override", PartName=f"/xl/worksheets/sheet{number}.xml", ContentType=_SHEET_CT)
    ET.SubElement(
        root,
        "Override",
        PartName="/xl/styles.xml",
        ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml",
    )
    return root


def _relationships(relations: Sequence[tuple[str, str, str]]) -> ET.Element:
    root = ET.Element("Relationships", xmlns=PKG_REL_NS)
    for rel_id, rel_type, target in relations:
        ET.SubElement(root, "Relationship", Id=rel_id, Type=rel_type, Target=target)
    return root


def _workbook(sheets: Sequence[Sheet]) -> ET.Element:
    root = ET.Element("workbook", {"xmlns": MAIN_NS, "xmlns:r": REL_NS})
    container = ET.SubElement(root, "sheets")
    for number, sheet in enumerate(sheets, start=1):
        ET.SubElement(container, "sheet", {"name": sheet.name, "sheetId": str(number), "r:id": f"rId{number}"})
    return root


def _worksheet(sheet: Sheet) -> ET.Element:
    root = ET.Element("worksheet", xmlns=MAIN_NS)
    views = ET.SubElement(root, "sheetViews")
    view = ET.SubElement(views, "sheetView", workbookViewId="0")
    # Keep the header row visible while scrolling.
    ET.SubElement(view, "pane", ySplit="1", topLeftCell="A2", activePane="bottomLeft", state="frozen")
    if sheet.widths:
        cols = ET.SubElement(root, "cols")
        for number, width in enumerate(sheet.widths, start=1):
            ET.SubElement(cols, "col", min=str(number), max=str(number), width=str(width), customWidth="1")
    data = ET.SubElement(root, "sheetData")
    _append_row(data, 1, sheet.header, style=_BOLD_STYLE)
    for number, row in enumerate(sheet.rows, start=2):
        _append_row(data, number, row)
    return root


def _append_row(data: ET.Element, number: int, cells: Sequence[Cell], style: Optional[str] = None) -> None:
    row = ET.SubElement(data, "row", r=str(number))
    for index, value in enumerate(cells):
        if value is None or value == "":
            continue
        attributes = {"r": f"{column_letter(index)}{number}"}
        if style:
            attributes["s"] = style
        if isinstance(value, bool):
            value = "true" if value else "false"
        if isinstance(value, (int, float)):
            cell = ET.SubElement(row, "c", attributes)
            ET.SubElement(cell, "v").text = repr(value) if isinstance(value, float) else str(value)
            continue
        attributes["t"] = "inlineStr"
        cell = ET.SubElement(row, "c", attributes)
        text = _XML_ILLEGAL.sub("", str(value))[:_MAX_CELL_CHARS]
        inline = ET.SubElement(cell, "is")
        node = ET.SubElement(inline, "t")
        node.text = text
        if text != text.strip():
            node.set("xml:space", "preserve")


def _styles() -> ET.Element:
    root = ET.Element("styleSheet", xmlns=MAIN_NS)
    fonts = ET.SubElement(root, "fonts", count="2")
    for bold in (False, True):
        font = ET.SubElement(fonts, "font")
        if bold:
            ET.SubElement(font, "b")
        ET.SubElement(font, "sz", val="11")
        ET.SubElement(font, "name", val="Calibri")
    fills = ET.SubElement(root, "fills", count="2")
    for pattern in ("none", "gray125"):  # the two fills every workbook must start with
        fill = ET.SubElement(fills, "fill")
        ET.SubElement(fill, "patternFill", patternType=pattern)
    borders = ET.SubElement(root, "borders", count="1")
    border = ET.SubElement(borders, "border")
    for side in ("left", "right", "top", "bottom", "diagonal"):
        ET.SubElement(border, side)
    style_xfs = ET.SubElement(root, "cellStyleXfs", count="1")
    ET.SubElement(style_xfs, "xf", numFmtId="0", fontId="0", fillId="0", borderId="0")
    cell_xfs = ET.SubElement(root, "cellXfs", count="2")
    ET.SubElement(cell_xfs, "xf", numFmtId="0", fontId="0", fillId="0", borderId="0", xfId="0")
    ET.SubElement(cell_xfs, "xf", numFmtId="0", fontId="1", fillId="0", borderId="0", xfId="0", applyFont="1")
    cell_styles = ET.SubElement(root, "cellStyles", count="1")
    ET.SubElement(cell_styles, "cellStyle", name="Normal", xfId="0", builtinId="0")
    return root
