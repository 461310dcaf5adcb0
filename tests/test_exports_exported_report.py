from __future__ import annotations

import base64
import gzip

import pytest

from tests.exports_support import load_report, manifest_sbom
from timesys.core.choices import REPORT_FORMATS
from timesys_ci.service.exports import exported_report, render_report


@pytest.mark.parametrize("export_format", REPORT_FORMATS)
def test_client_decoding_gives_back_the_rendered_file(export_format: str) -> None:
    encoded = exported_report(load_report(), manifest_sbom(), export_format, "xml", "1.5")
    assert isinstance(encoded, str)
    decoded = gzip.decompress(base64.b64decode(encoded))  # what timesys.core.utils.save_file does
    expected = render_report(load_report(), manifest_sbom(), export_format, cyclonedx_format="xml", cyclonedx_version="1.5")[0]
    assert decoded == expected


def test_missing_cyclonedx_options_default_to_json_1_7() -> None:
    decoded = gzip.decompress(base64.b64decode(exported_report(load_report(), None, "cyclonedx-vex", None, None)))
    assert decoded.lstrip().startswith(b"{")
    assert b'"specVersion": "1.7"' in decoded


def test_encoding_is_deterministic() -> None:
    assert exported_report(load_report(), None, "csv", None, None) == exported_report(load_report(), None, "csv", None, None)
