"""Manifest packages as SBOM components, and the lookup from report rows to them.

Both CycloneDX (`cyclonedx-sbom-vex`, manifest conversion) and SPDX read the
manifest through here, so name/version/CPE/licence/checksum rules are shared.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional

from timesys_ci.sbom.purl import canonical_purl, generic_purl

from .errors import ExportError
from .licenses import DeclaredLicense, declared_license

_UNKNOWN = {"", "unknown", "none", "noassertion", "unset"}
_HEX = re.compile(r"^[0-9a-fA-F]+$")


@dataclass(frozen=True)
class Component:
    key: str
    ref: str
    name: str
    version: str
    cve_version: str
    cpes: tuple[str, ...]
    purl: str
    license: Optional[DeclaredLicense]  # None when the manifest asserts no licence
    supplier: str  # as written by the generator, e.g. "Organization: OpenEmbedded ()"
    download_location: str  # "" when unknown
    checksums: tuple[tuple[str, str], ...]  # (upper-case algorithm without dashes, hex value)
    homepage: str
    summary: str

    @property
    def cpe(self) -> str:
        """The first CPE 2.3 name, else the first CPE of any form, else ""."""
        for cpe in self.cpes:
            if cpe.startswith("cpe:2.3:"):
                return cpe
        return self.cpes[0] if self.cpes else ""

    @property
    def license_expression(self) -> Optional[str]:
        return self.license.expression if self.license else None

    @property
    def supplier_name(self) -> str:
        match = re.match(r"^\s*(?:Organization|Person)\s*:\s*(.*?)\s*(?:\([^)]*\))?\s*$", self.supplier)
        return (match.group(1) if match else self.supplier).strip()


def component_ref(name: str, version: str) -> str:
    return f"{name}@{version}" if version else name


def manifest_packages(manifest: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(manifest, Mapping):
        raise ExportError("manifest: expected a JSON object")
    packages = manifest.get("packages")
    if packages is None:
        return {}
    if not isinstance(packages, Mapping):
        raise ExportError("manifest: field 'packages' must be an object mapping package keys to package objects")
    return packages


def manifest_components(manifest: Mapping[str, Any]) -> list[Component]:
    """One component per distinct name@version, sorted by name then version."""
    found: dict[str, Component] = {}
    for key, package in manifest_packages(manifest).items():
        if not isinstance(package, Mapping):
            raise ExportError(f"manifest: field packages['{key}'] must be an object")
        component = _component(str(key), package)
        found.setdefault(component.ref, component)
    return sorted(found.values(), key=lambda component: (component.name.lower(), component.version, component.key))


def bare_component(name: str, version: str) -> Component:
    """A component for a report package the manifest does not list (so VEX refs still resolve)."""
    return Component(
        key=name,
        ref=component_ref(name, version),
        name=name,
        version=version,
        cve_version=version,
        cpes=(),
        purl=generic_purl(name, version),
        license=None,
        supplier="",
        download_location="",
        checksums=(),
        homepage="",
        summary="",
    )


class ComponentIndex:
    """Finds the component a report row is about: by name, then by version or CVE version."""

    def __init__(self, components: Iterable[Component]) -> None:
        self.components: list[Component] = list(components)
        self._by_name: dict[str, list[Component]] = {}
        for component in self.components:
            for name in {component.name, component.key}:
                self._by_name.setdefault(name, []).append(component)

    def resolve(self, package: str, version: str) -> Component:
        """The matching component; adds a bare one when the manifest has none."""
        candidates = self._by_name.get(package, [])
        for component in candidates:
            if version in (component.version, component.cve_version):
                return component
        if candidates:
            # Reports carry the CVE version (6.6.21) where the manifest may have the build version (6.6.21+git).
            return candidates[0]
        component = bare_component(package, version)
        self.components.append(component)
        self._by_name.setdefault(package, []).append(component)
        return component


def _component(key: str, package: Mapping[str, Any]) -> Component:
    name = _text(package.get("name")) or key
    version = _text(package.get("version"))
    if version.lower() == "unset":
        version = ""
    return Component(
        key=key,
        ref=component_ref(name, version),
        name=name,
        version=version,
        cve_version=_text(package.get("cve_version")) or version,
        cpes=_cpes(package.get("cpe_id")),
        # A purl that does not parse would make the document invalid: the generic one stands in for it.
        purl=canonical_purl(package.get("purl")) or generic_purl(name, version),
        license=declared_license(package.get("license")),
        supplier=_text(package.get("package_supplier")),
        download_location=_known(package.get("download_location")),
        checksums=_checksums(package.get("checksums")),
        homepage=_known(package.get("homepage")),
        summary=_text(package.get("summary")),
    )


def _cpes(value: object) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return tuple(item.strip() for item in items if isinstance(item, str) and item.strip().lower().startswith("cpe:"))


def _checksums(value: object) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, Mapping):
            continue
        algorithm = _text(item.get("algorithm")).upper().replace("-", "")
        digest = _text(item.get("checksum_value")).lower()
        if algorithm and digest and _HEX.match(digest):
            pairs.append((algorithm, digest))
    return tuple(pairs)


def _known(value: object) -> str:
    text = _text(value)
    return "" if text.lower() in _UNKNOWN else text


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()
