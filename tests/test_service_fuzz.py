"""Fuzzing the running service with generated SBOMs of every supported format, in a fixed time budget.

For each format (Vigiles JSON, CycloneDX JSON and XML, SPDX 2 JSON and
tag-value, SPDX 3 JSON-LD) hypothesis builds documents and sends them as
uploads, unchanged or mutated (random edits), truncated, nested deep,
oversized or with an invalid string. Whatever arrives, the service must
answer below 500; a refused upload must store nothing and an accepted one
exactly one manifest (and one report unless `upload_only`); the exports of
an accepted report must render; and a heartbeat must succeed after every case.

The module runs for about FUZZ_BUDGET seconds (default 30, environment
variable TIMESYS_CI_FUZZ_SECONDS), split evenly between the formats; each
format's examples after its slice are skipped, so CI time stays fixed, and
the first MIN_CASES always run, so a slow machine runs fewer, never none.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .support.hostile import heartbeat, signed_call, stored_counts, upload

FUZZ_BUDGET = float(os.environ.get("TIMESYS_CI_FUZZ_SECONDS", "30"))
FORMATS = ("vigiles", "cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tag", "spdx3-jsonld")
MIN_CASES = 5  # per format, whatever the budget
_started: dict[str, float] = {}  # format -> when its first case ran


class Service:
    def __init__(self, url: str, key_file: Path, data_dir: Path) -> None:
        self.url, self.key_file, self.data_dir = url, key_file, data_dir


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    from timesys_ci.service.datadir import create_user
    from timesys_ci.service.server import running_service

    tmp = tmp_path_factory.mktemp("fuzz")
    with running_service(tmp / "data") as running:
        key_file = create_user(running.storage, "fuzz@example.com", tmp / "key.json", running.url)
        yield Service(running.url, key_file, tmp / "data")
        running.storage.close()


def _budget_left(fmt: str, cases: int) -> bool:
    """Whether `fmt` may run another case: each format gets its own slice of the budget, from its first case.

    The first MIN_CASES cases always run, so a slow (loaded) machine runs fewer cases, never none; and
    formats do not share a clock, so the order the tests run in (or how pytest-xdist splits them) cannot
    leave a format without time.
    """
    now = time.monotonic()
    started = _started.setdefault(fmt, now)
    return cases < MIN_CASES or now - started < FUZZ_BUDGET / len(FORMATS)


# -- documents ------------------------------------------------------------------------------------

# Names: any text (controls, quotes, markup, non-ASCII), mostly short; real product names so some match.
_text = st.one_of(st.sampled_from(["busybox", "openssl", "glibc", "linux-yocto", "zlib", "curl"]),
                  st.text(max_size=12), st.text(alphabet="<>&\"';=%+:,\\\x00\x01\x1f\x7f\u0085\ufffe\uffff",
                                                   max_size=6))
_version = st.one_of(st.sampled_from(["1.36.1", "3.2.3", "2.39", "6.6.21", "1.0", "", "unknown"]), st.text(max_size=8))
_cpe = st.one_of(st.builds(lambda product, version: f"cpe:2.3:a:{product}:{product}:{version}:*:*:*:*:*:*:*",
                           st.sampled_from(["busybox", "openssl", "zlib"]), _version), st.text(max_size=30))
_package = st.fixed_dictionaries({"name": _text, "version": _version, "cpe": _cpe})


def _vigiles(packages: list[dict[str, str]], name: str) -> str:
    return json.dumps({"manifest_name": name, "manifest_version": "1.19", "packages": {
        f"{p['name']}-{index}": {"name": p["name"], "version": p["version"], "cve_version": p["version"],
                                 "cve_product": p["name"], "cpe_id": [p["cpe"]],
                                 "patched_cves": {"CVE-2022-48174": [f"{p['name']}.patch"]}}
        for index, p in enumerate(packages)}})


def _cyclonedx_json(packages: list[dict[str, str]], name: str) -> str:
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
                       "metadata": {"component": {"type": "firmware", "name": name}},
                       "components": [{"type": "library", "bom-ref": f"c{index}", "name": p["name"],
                                       "version": p["version"], "cpe": p["cpe"]} for index, p in enumerate(packages)]})


def _cyclonedx_xml(packages: list[dict[str, str]], name: str) -> str:
    components = "".join(f'<component type="library" bom-ref={quoteattr(f"c{index}")}><name>{escape(p["name"])}'
                         f'</name><version>{escape(p["version"])}</version><cpe>{escape(p["cpe"])}</cpe></component>'
                         for index, p in enumerate(packages))
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1">'
            f'<metadata><component type="firmware"><name>{escape(name)}</name></component></metadata>'
            f'<components>{components}</components></bom>\n')


def _spdx_json(packages: list[dict[str, str]], name: str) -> str:
    return json.dumps({"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": name,
                       "packages": [{"name": p["name"], "SPDXID": f"SPDXRef-{index}", "versionInfo": p["version"],
                                     "externalRefs": [{"referenceCategory": "SECURITY", "referenceType": "cpe23Type",
                                                       "referenceLocator": p["cpe"]}]}
                                    for index, p in enumerate(packages)]})


def _spdx_tag(packages: list[dict[str, str]], name: str) -> str:
    lines = ["SPDXVersion: SPDX-2.3", "DataLicense: CC0-1.0", "SPDXID: SPDXRef-DOCUMENT", f"DocumentName: {name}"]
    for index, p in enumerate(packages):
        lines += [f"PackageName: {p['name']}", f"SPDXID: SPDXRef-{index}", f"PackageVersion: {p['version']}",
                  f"ExternalRef: SECURITY cpe23Type {p['cpe']}"]
    return "\n".join(lines) + "\n"


def _spdx3(packages: list[dict[str, str]], name: str) -> str:
    graph: list[dict[str, Any]] = [{"type": "SpdxDocument", "spdxId": "urn:doc", "name": name},
                                   {"type": "CreationInfo", "specVersion": "3.0.1"}]
    graph += [{"type": "software_Package", "spdxId": f"urn:p{index}", "name": p["name"],
               "software_packageVersion": p["version"],
               "externalIdentifier": [{"type": "ExternalIdentifier", "externalIdentifierType": "cpe23",
                                       "identifier": p["cpe"]}]} for index, p in enumerate(packages)]
    return json.dumps({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": graph})


WRITERS: dict[str, Callable[[list[dict[str, str]], str], str]] = {
    "vigiles": _vigiles, "cyclonedx-json": _cyclonedx_json, "cyclonedx-xml": _cyclonedx_xml,
    "spdx-json": _spdx_json, "spdx-tag": _spdx_tag, "spdx3-jsonld": _spdx3,
}


def _nested(fmt: str, document: str, depth: int) -> str:
    """The document with a deeply nested part: arrays/objects in JSON, components in XML, lines in tag-value."""
    if fmt == "cyclonedx-xml":
        inner = '<component type="library"><name>n</name><components>' * depth
        return document.replace("<components>", "<components>" + inner + "</components></component>" * depth, 1)
    if fmt == "spdx-tag":
        return document + "PackageComment: <text>" + "<text>" * depth + "\n"
    cut = document.rindex("}")
    return document[:cut] + ', "deep": ' + "[{\"a\":" * depth + "1" + "}]" * depth + document[cut:]


_STRUCTURAL = "{}[]<>\"':,&;=%+\\/\n\r\t\x00 é\ufffe"


@st.composite
def documents(draw: st.DrawFn, fmt: str) -> tuple[str, str]:
    kind = draw(st.sampled_from(["valid", "mutated", "truncated", "nested", "oversized", "bad-string"]))
    packages = draw(st.lists(_package, max_size=6))
    name = draw(_text)
    if kind == "oversized":
        many = draw(st.sampled_from(["packages", "string"]))
        if many == "packages":
            packages = packages * 50 + [{"name": f"p{n}", "version": "1.0", "cpe": "x"} for n in range(300)]
        else:
            name = "N" * draw(st.integers(10_000, 300_000))
    document = WRITERS[fmt](packages, name)
    if kind == "mutated":
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(document)))
            edit = draw(st.sampled_from(["insert", "replace", "delete"]))
            char = draw(st.sampled_from(_STRUCTURAL))
            if edit == "insert":
                document = document[:at] + char + document[at:]
            elif edit == "replace":
                document = document[:at] + char + document[at + 1:]
            else:
                document = document[:at] + document[at + 1:]
    elif kind == "truncated":
        document = document[:draw(st.integers(0, max(0, len(document) - 1)))]
    elif kind == "nested":
        document = _nested(fmt, document, draw(st.sampled_from([70, 500, 1200, 6000])))
    elif kind == "bad-string":
        if fmt.endswith("xml"):
            document = document.replace("<name>", "<name>&#xFFFE;&#1;", 1)
        elif fmt == "spdx-tag":
            document = document.replace("DocumentName: ", "DocumentName: \x00\x01\u2028", 1)
        else:
            document = document.replace('"name": "', '"name": "\\ud800' + "9" * draw(st.integers(0, 5000)), 1)
    return kind, document


# -- the fuzz test --------------------------------------------------------------------------------

EXPORTS = [("csv", {}), ("xlsx", {}), ("pdf", {}), ("cyclonedx-sbom-vex", {"sbom_format": "xml"}),
           ("cyclonedx-vex", {"sbom_format": "json"})]


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_survives_generated_sboms(service: Service, fmt: str) -> None:
    seen: dict[str, int] = {}

    @settings(max_examples=400, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
    @given(case=documents(fmt), upload_only=st.booleans(), export=st.sampled_from(EXPORTS))
    def case(case: tuple[str, str], upload_only: bool, export: tuple[str, dict[str, str]]) -> None:
        if not _budget_left(fmt, sum(seen.values())):
            return
        kind, document = case
        seen[kind] = seen.get(kind, 0) + 1
        before = stored_counts(service.data_dir)
        response = upload(service.url, service.key_file, document, upload_only=str(upload_only))
        assert response.status_code < 500, (kind, response.text[:300])
        after = stored_counts(service.data_dir)
        if response.status_code != 200:
            assert after == before, f"a refused upload ({response.status_code}) stored something"
            assert "\n" not in response.json()["message"]
        else:
            assert after == (before[0] + 1, before[1] + (0 if upload_only else 1))
            token = response.json().get("report_token")
            if token:
                name, extra = export
                download = signed_call(service.url, service.key_file, "GET", f"/api/v1/vigiles/reports/{token}",
                                       {"format": name, "filtered": "False", **extra})
                assert download.status_code == 200, (name, download.text[:300])
        assert heartbeat(service.url, service.key_file) == 200

    case()
    print(f"fuzz {fmt}: {sum(seen.values())} cases {dict(sorted(seen.items()))}")
    assert sum(seen.values()) >= MIN_CASES, f"only {seen} cases ran for {fmt}"
