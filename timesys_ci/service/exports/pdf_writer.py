"""A small PDF 1.4 writer for text documents (standard library only).

Text only, in the two standard Helvetica faces every PDF reader has built in
(so nothing is embedded), WinAnsi encoded, on A4 pages. Lines are wrapped to
the page width and flowed onto as many pages as needed; each page gets a
"page i of n" footer. The cross-reference table is written from the real
byte offsets of the objects.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

MEDIA_TYPE = "application/pdf"

PAGE_WIDTH = 595.28  # A4 in points
PAGE_HEIGHT = 841.89
MARGIN = 50.0
_FOOTER_Y = 28.0


@dataclass(frozen=True)
class Style:
    font: str  # resource name: F1 regular, F2 bold
    size: float
    leading: float


STYLES = {
    "title": Style("F2", 16, 22),
    "heading": Style("F2", 11, 17),
    "body": Style("F1", 9, 12),
    "small": Style("F1", 8, 10.5),
}


@dataclass(frozen=True)
class Line:
    text: str
    style: str = "body"
    indent: float = 0.0


PAGE_BREAK = Line("\f", "body")


def _char_width(char: str) -> float:
    """Upper bound of a Helvetica glyph width in 1/1000 em.

    Deliberately generous so wrapped lines never run off the page; the cost is
    wrapping a little early.
    """
    if char in "ijl.,:;'|!` ":
        return 300
    if char in "frtI()[]-/\\\"*":
        return 400
    if char.isdigit():
        return 560
    if char in "mwMW@%":
        return 950
    if char.isupper() or char in "&#+=<>~_?":
        return 780
    return 600


def text_width(text: str, size: float) -> float:
    return sum(_char_width(char) for char in text) * size / 1000.0


def wrap(text: str, size: float, width: float) -> list[str]:
    """Break `text` into pieces no wider than `width`, at spaces where possible."""
    pieces: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = word if not current else f"{current} {word}"
        if text_width(candidate, size) <= width:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = ""
        while text_width(word, size) > width:  # one overlong token (URL, vector): cut it
            cut = len(word)
            while cut > 1 and text_width(word[:cut], size) > width:
                cut -= 1
            pieces.append(word[:cut])
            word = word[cut:]
        current = word
    pieces.append(current)
    return pieces


def paginate(lines: Sequence[Line]) -> list[list[tuple[Line, float]]]:
    """Wrap and place lines; returns per page the (line piece, baseline y) pairs."""
    pages: list[list[tuple[Line, float]]] = [[]]
    y = PAGE_HEIGHT - MARGIN
    for line in lines:
        if line is PAGE_BREAK:
            if pages[-1]:
                pages.append([])
                y = PAGE_HEIGHT - MARGIN
            continue
        style = STYLES[line.style]
        available = PAGE_WIDTH - 2 * MARGIN - line.indent
        for piece in wrap(line.text, style.size, available):
            if y - style.leading < MARGIN:
                pages.append([])
                y = PAGE_HEIGHT - MARGIN
            y -= style.leading
            pages[-1].append((Line(piece, line.style, line.indent), y))
    return pages


def encode_text(text: str) -> bytes:
    """WinAnsi bytes for a PDF literal string; characters it lacks become '?'."""
    cleaned = "".join(char if char >= " " else " " for char in text)
    raw = cleaned.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _content_stream(placed: Sequence[tuple[Line, float]], footer: str) -> bytes:
    commands: list[bytes] = []
    for line, y in placed:
        style = STYLES[line.style]
        commands.append(
            b"BT /%s %s Tf %s %s Td (%s) Tj ET"
            % (style.font.encode(), _num(style.size), _num(MARGIN + line.indent), _num(y), encode_text(line.text))
        )
    small = STYLES["small"]
    commands.append(
        b"BT /%s %s Tf %s %s Td (%s) Tj ET" % (small.font.encode(), _num(small.size), _num(MARGIN), _num(_FOOTER_Y), encode_text(footer))
    )
    return b"\n".join(commands) + b"\n"


def _num(value: float) -> bytes:
    return (f"{value:.2f}".rstrip("0").rstrip(".")).encode()


def _pdf_date(iso_utc: Optional[str]) -> str:
    digits = "".join(char for char in (iso_utc or "") if char.isdigit())[:14]
    return f"D:{digits}Z" if len(digits) == 14 else ""


def render_pdf(lines: Sequence[Line], *, title: str, created: Optional[str] = None, footer: str = "") -> bytes:
    """The PDF bytes of `lines`. `created` (ISO-8601 UTC) goes into the info dictionary."""
    pages = paginate(lines)
    objects: list[bytes] = []  # objects[i] is object number i + 1

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in once the page tree exists
    page_tree = add(b"")
    regular = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    bold = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    page_ids: list[int] = []
    for number, placed in enumerate(pages, start=1):
        label = f"{footer}    page {number} of {len(pages)}" if footer else f"page {number} of {len(pages)}"
        stream = _content_stream(placed, label)
        contents = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        page_ids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> /Contents %d 0 R >>"
                % (page_tree, _num(PAGE_WIDTH), _num(PAGE_HEIGHT), regular, bold, contents)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % page_tree
    kids = b" ".join(b"%d 0 R" % page_id for page_id in page_ids)
    objects[page_tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))
    info_entries = b"/Title (%s) /Producer (timesys-ci)" % encode_text(title)
    pdf_date = _pdf_date(created)
    if pdf_date:
        info_entries += b" /CreationDate (%s)" % pdf_date.encode()
    info = add(b"<< %s >>" % info_entries)

    # The binary comment line tells transfer tools the file is not plain text.
    output = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(output))
        output += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_offset = len(output)
    output += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        output += b"%010d 00000 n \n" % offset
    output += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        info,
        xref_offset,
    )
    return bytes(output)
