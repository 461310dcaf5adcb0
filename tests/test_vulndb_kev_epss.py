from __future__ import annotations

from pathlib import Path

import pytest

from .gate_helpers import FIXTURES
from timesys_ci.vulndb.errors import EnrichmentError
from timesys_ci.vulndb.sources.epss import load_epss
from timesys_ci.vulndb.sources.kev import load_kev


def test_kev_csv() -> None:
    kev = load_kev(FIXTURES / "kev-excerpt.csv")
    assert kev == {"CVE-2024-1086", "CVE-2024-36971", "CVE-2014-0160", "CVE-2023-4911", "CVE-2014-6271"}


def test_kev_json() -> None:
    kev = load_kev(FIXTURES / "kev-excerpt-2023.04.21.json")
    assert kev == {"CVE-2014-6271", "CVE-2016-5195", "CVE-2021-3493", "CVE-2021-27104"}


def test_epss_csv_without_and_with_model_line(tmp_path: Path) -> None:
    scores = load_epss(FIXTURES / "epss-excerpt.csv")
    assert len(scores) == 20 and scores["CVE-1999-0001"] == 0.03351 and scores["CVE-1999-0002"] == 0.27858
    commented = tmp_path / "epss.csv"
    commented.write_text("#model_version:v2023.03.01,score_date:2026-11-27T00:00:00+0000\n"
                         + (FIXTURES / "epss-excerpt.csv").read_text(encoding="utf-8"), encoding="utf-8")
    assert load_epss(commented) == scores


@pytest.mark.parametrize(
    "name, text, loader, message",
    [("k.json", '{"title": "x"}', load_kev, "k.json: vulnerabilities: missing"),
     ("k.json", '{"vulnerabilities": [{"vendor": "x"}]}', load_kev, "k.json: vulnerabilities[0].cveID: missing"),
     ("k.json", '{"vulnerabilities": [', load_kev, "k.json: not valid JSON"),
     ("k.csv", "cve,vendor\nCVE-1,x\n", load_kev, "k.csv: header: no cveID column"),
     ("e.csv", "cve,score\nCVE-1,0.1\n", load_epss, "e.csv: header: expected columns cve,epss"),
     ("e.csv", "#model_version:v1\ncve,epss,percentile\nCVE-1,0.1,0.2\nCVE-2,high,0.3\n", load_epss,
      "e.csv: line 4: epss: not a number: 'high'"),
     ("e.csv", "cve,epss,percentile\nCVE-1,1.5,0.2\n", load_epss, "e.csv: line 2: epss: 1.5 is outside 0..1")],
)
def test_bad_files(tmp_path: Path, name, text, loader, message) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EnrichmentError) as info:
        loader(path)
    assert str(info.value).startswith(message), str(info.value)


def test_missing_file() -> None:
    with pytest.raises(EnrichmentError, match=r"^absent\.csv: cannot read"):
        load_kev(FIXTURES / "absent.csv")


def test_epss_gzip_and_percentiles_and_kev_dates(tmp_path: Path) -> None:
    import gzip

    from timesys_ci.vulndb.sources.epss import iter_epss
    from timesys_ci.vulndb.sources.kev import parse_kev

    packed = tmp_path / "epss_scores-current.csv.gz"
    packed.write_bytes(gzip.compress((FIXTURES / "epss-excerpt.csv").read_bytes()))
    assert load_epss(packed) == load_epss(FIXTURES / "epss-excerpt.csv")
    rows = list(iter_epss((FIXTURES / "epss-excerpt.csv").read_text().splitlines(), "e.csv"))
    assert rows[0] == ("CVE-1999-0001", 0.03351, 0.87326)
    dates = parse_kev((FIXTURES / "kev-excerpt.csv").read_text(encoding="utf-8-sig"), "kev.csv")
    assert dates["CVE-2024-1086"] == "2024-05-30"
