from __future__ import annotations

import io
import re

from pypdf import PdfReader

from tests.exports_support import load_report, manifest_sbom
from timesys_ci.service.exports import render_report
from timesys_ci.service.exports.pdf_writer import Line, render_pdf


def _check_structure(data: bytes) -> int:
    """Assert a well-formed PDF 1.4 file; return its page count."""
    assert data.startswith(b"%PDF-1.4\n")
    assert data.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\n(\d+)\n%%EOF", data).group(1))
    assert data[startxref:].startswith(b"xref\n")
    header = re.match(rb"xref\n0 (\d+)\n", data[startxref:])
    size = int(header.group(1))
    table = data[startxref + header.end() : startxref + header.end() + 20 * size]
    entries = [table[i : i + 20] for i in range(0, len(table), 20)]
    assert entries[0] == b"0000000000 65535 f \n"
    for number, entry in enumerate(entries[1:], start=1):
        assert entry.endswith(b" 00000 n \n")
        offset = int(entry[:10])
        assert data[offset:].startswith(b"%d 0 obj\n" % number), number
    assert re.search(rb"/Size %d " % size, data)
    for length, stream_start in [(int(m.group(1)), m.end()) for m in re.finditer(rb"<< /Length (\d+) >>\nstream\n", data)]:
        assert data[stream_start + length :].startswith(b"\nendstream")
    count = int(re.search(rb"/Type /Pages /Kids \[[^\]]*\] /Count (\d+)", data).group(1))
    assert len(re.findall(rb"/Type /Page ", data)) == count
    return count


def _pages_text(data: bytes) -> list[str]:
    """Each page's text as pypdf reads it; strict mode turns any structural flaw into an error."""
    reader = PdfReader(io.BytesIO(data), strict=True)
    return [page.extract_text() for page in reader.pages]


def test_full_report_structure() -> None:
    data, media_type = render_report(load_report(), manifest_sbom(), "pdf")
    assert media_type == "application/pdf"
    assert _check_structure(data) == 2  # summary page + detail page
    assert b"/BaseFont /Helvetica" in data and b"/WinAnsiEncoding" in data
    assert b"/MediaBox [0 0 595.28 841.89]" in data
    assert b"(CVE-2024-1086 - CVSS 7.8 high - Unfixed - fixed in 6.6.15 - CISA KEV - EPSS 0.835) Tj" in data
    assert b"/CreationDate (D:20261127164000Z)" in data


def test_summary_is_one_page_without_the_cve_list() -> None:
    data = render_report(load_report(), manifest_sbom(), "pdfsummary")[0]
    assert _check_structure(data) == 1
    assert b"(Vulnerabilities) Tj" not in data
    assert b"(Unfixed: 4) Tj" in data


def test_long_reports_paginate() -> None:
    report = load_report()
    report["cves"] = {"bigpkg": [{"cve_id": f"CVE-2024-{n}", "version": "1", "status": "Unfixed", "cvss": 5.0} for n in range(1, 301)]}
    data = render_report(report, None, "pdf")[0]
    pages = _check_structure(data)
    assert pages >= 6
    assert b"page %d of %d) Tj" % (pages, pages) in data
    assert b"page %d of %d) Tj" % (pages + 1, pages) not in data


def test_text_is_winansi_with_unsupported_characters_replaced() -> None:
    data = render_pdf([Line("caf\u00e9 (x) \\ \u2192 \u4e2d \u20ac")], title="t")
    _check_structure(data)
    assert b"(caf\xe9 \\(x\\) \\\\ ? ? \x80) Tj" in data


def test_long_words_wrap_inside_the_page() -> None:
    data = render_pdf([Line("x" * 400)], title="t")
    _check_structure(data)
    assert len(re.findall(rb"\(x+\) Tj", data)) >= 3


def test_pypdf_reads_the_text_back() -> None:
    pages = _pages_text(render_report(load_report(), manifest_sbom(), "pdf")[0])
    assert len(pages) == 2
    text = "\n".join(pages)
    assert "Vulnerability report: core-image-minimal" in pages[0]
    assert "CVE-2022-48174" in text
    assert "linux-yocto 6.6.21" in text
    assert "page 2 of 2" in pages[1]
    summary = _pages_text(render_report(load_report(), manifest_sbom(), "pdfsummary")[0])
    assert len(summary) == 1 and "Unfixed: 4" in summary[0] and "Vulnerabilities" not in summary[0]


def test_pypdf_decodes_the_winansi_text() -> None:
    assert "caf\u00e9 (x) \\ ? ? \u20ac" in _pages_text(render_pdf([Line("caf\u00e9 (x) \\ \u2192 \u4e2d \u20ac")], title="t"))[0]
