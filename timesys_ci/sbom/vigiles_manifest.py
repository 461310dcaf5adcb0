"""Reader for Vigiles manifests (Yocto meta-timesys, vigiles-buildroot, vigiles-openwrt).

Strict about structure (``packages`` must be an object of objects, typed
collections must have their type) and lenient about optional fields:
absent fields take the generators' defaults, numbers become strings,
``cpe_id`` may be a list or a string, and "UNKNOWN"/"unknown" mean none.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from timesys_ci.sbom.errors import SbomError
from timesys_ci.sbom.fields import Fields as _Fields, loose_objects, loose_text
from timesys_ci.sbom.model import VIGILES, Package, Sbom, VulnerabilityStatement, checksum, is_placeholder, known

#: Package fields that say what a package is; a Vigiles generator writes at least `version` for every package.
IDENTIFYING_FIELDS = ("name", "version", "cve_product", "cve_version", "cpe_id", "purl")
#: Top-level keys of Buildroot's `make pkg-stats` JSON, which also has a "packages" object (of another shape).
_PKG_STATS_KEYS = {"stats", "defconfigs", "package_status_checks"}


def _cpe_ids(fields: _Fields) -> List[str]:
    return [cpe for cpe in fields.words("cpe_id") if not is_placeholder(cpe)]


def _checksums(fields: _Fields) -> Tuple[Tuple[str, str], ...]:
    """meta-timesys's `checksums`: [{"algorithm": "SHA256", "checksum_value": "..."}]; malformed entries are skipped."""
    pairs = (checksum(loose_text(item, "algorithm"), loose_text(item, "checksum_value"))
             for item in loose_objects(fields.data, "checksums"))
    return tuple(dict.fromkeys(pair for pair in pairs if pair))


def _patched_cves(fields: _Fields) -> Dict[str, List[str]]:
    value = fields.data.get("patched_cves")
    if value is None:
        return {}
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return {cve.upper(): [] for cve in value}
    if not isinstance(value, dict):
        raise fields.fail("patched_cves", "an object mapping CVE ids to patch lists")
    patched: Dict[str, List[str]] = {}
    for cve, patches in value.items():
        if patches is None:
            names: List[str] = []
        elif isinstance(patches, list) and all(isinstance(name, str) and " " not in name for name in patches):
            names = sorted(patches)  # the usual shape, read without the general word splitting (big manifests)
        else:
            names = sorted(_Fields({cve: patches}, f"{fields.path}patched_cves.", fields.source).words(cve))
        patched[cve.strip().upper()] = names
    return patched


def _read_package(key: str, raw: Any, source: Optional[str]) -> Package:
    if not isinstance(raw, dict):
        raise SbomError(f"packages[{key!r}] must be an object, got {type(raw).__name__}", source)
    fields = _Fields(raw, f"packages[{key!r}].", source)
    name = fields.text("name") or key
    version = fields.text("version") or "unset"
    return Package(
        name=name,
        version=version,
        cve_product=fields.words("cve_product") or [name],
        cve_version=fields.text("cve_version") or version,
        cpe_ids=_cpe_ids(fields),
        purl=fields.text("purl"),
        patched_cves=_patched_cves(fields),
        ignored_cves=[cve.upper() for cve in fields.words("ignore_cves")],
        component_type=fields.words("component_type"),
        license=fields.text("license"),
        key=key if key != name else None,
        supplier=known(loose_text(raw, "package_supplier")),
        download_location=known(loose_text(raw, "download_location")),
        checksums=_checksums(fields),
        homepage=known(loose_text(raw, "homepage")),
        summary=known(loose_text(raw, "summary")),
    )


def _statement(index: int, raw: Any, source: Optional[str]) -> List[VulnerabilityStatement]:
    if not isinstance(raw, dict):
        raise SbomError(f"vulnerabilities[{index}] must be an object, got {type(raw).__name__}", source)
    fields = _Fields(raw, f"vulnerabilities[{index}].", source)
    vuln_id = fields.text("id")
    if not vuln_id:
        raise SbomError(f"vulnerabilities[{index}] has no 'id'", source)
    analysis = raw.get("analysis")
    if not isinstance(analysis, dict):
        analysis = {}
    state = str(analysis.get("state") or "in_triage").lower()
    justification = analysis.get("justification") or None
    properties = raw.get("properties")
    if isinstance(properties, dict):
        properties = [properties]
    patches: List[str] = []
    for prop in properties if isinstance(properties, list) else []:
        if isinstance(prop, dict) and prop.get("name") == "patches":
            patches += [patch.strip() for patch in str(prop.get("value", "")).split(",") if patch.strip()]
    affects = raw.get("affects")
    if not isinstance(affects, list):
        affects = []
    products = [entry.get("product") for entry in affects if isinstance(entry, dict) and entry.get("product")]
    return [
        VulnerabilityStatement(
            id=vuln_id.strip().upper(),
            state=state,
            package=str(product) if product else None,
            justification=justification,
            patches=tuple(patches),
        )
        for product in (products or [None])
    ]


def _check_vigiles_shape(document: Dict[str, Any], packages: Dict[str, Any], source: Optional[str]) -> None:
    """Refuse other JSON with a "packages" object (it would scan to nothing, a silent PASS)."""
    entries = [raw for raw in packages.values() if isinstance(raw, dict) and raw]
    if _PKG_STATS_KEYS & document.keys() or any("current_version" in raw and "version" not in raw for raw in entries):
        raise SbomError("this is Buildroot's pkg-stats output, not a Vigiles manifest (its packages have "
                        "'current_version', not 'version'); make a manifest with vigiles-buildroot or "
                        "'timesys-ci buildroot'", source)
    if entries and not any(field in raw for raw in entries for field in IDENTIFYING_FIELDS):
        key = next(key for key, raw in packages.items() if isinstance(raw, dict) and raw)
        raise SbomError(f"not a Vigiles manifest: no package has any of {', '.join(IDENTIFYING_FIELDS)} "
                        f"(packages[{key!r}] has {', '.join(list(packages[key])[:5])})", source)


def read_vigiles_manifest(document: Any, source: Optional[str] = None) -> Sbom:
    """Build an :class:`Sbom` from a decoded Vigiles manifest."""
    if not isinstance(document, dict):
        raise SbomError("Vigiles manifest must be a JSON object", source)
    if "packages" not in document:
        raise SbomError("Vigiles manifest has no 'packages' object", source)
    packages = document["packages"]
    if not isinstance(packages, dict):
        raise SbomError(f"Vigiles manifest 'packages' must be an object, got {type(packages).__name__}", source)
    top = _Fields(document, "", source)
    parsed = [_read_package(key, raw, source) for key, raw in packages.items()]
    _check_vigiles_shape(document, packages, source)  # after the field checks: those name the field
    raw_statements = document.get("vulnerabilities")
    if raw_statements is None:
        raw_statements = []
    if not isinstance(raw_statements, list):
        raise top.fail("vulnerabilities", "a list")
    # Package ignore_cves stay per package; the scanner applies them to that package only.
    whitelist = {cve.upper() for cve in top.words("whitelist")}
    return Sbom(
        format=VIGILES,
        manifest_name=top.text("manifest_name"),
        distro=top.text("distro"),
        machine=top.text("machine"),
        distro_version=top.text("distro_version"),
        image=top.text("image"),
        created=top.text("date"),
        packages=parsed,
        whitelist=whitelist,
        vulnerabilities=[stmt for index, raw in enumerate(raw_statements) for stmt in _statement(index, raw, source)],
        source=source,
        manifest_version=top.text("manifest_version"),
    )
