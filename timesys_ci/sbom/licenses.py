"""Build-system licence strings as SPDX licence expressions.

Yocto writes `GPLv2+ & (MIT | BSD-3-Clause)`, Buildroot `GPL-2.0+ (programs), LGPL-2.1+ (libraries)` or
`OpenSSL or SSLeay`, and both still use names from before the SPDX list settled (`GPLv2`, `LGPLv2.1+`,
`Apachev2`). Here the build systems' operators become SPDX ones and each licence name becomes an SPDX id:
license-expression's copy of the SPDX licence list decides which names are ids (current ids, deprecated ones
such as `GPL-2.0+`, any case), after `_BUILD_SYSTEM_NAMES` and `_GNU_NAME` for the older spellings the list does
not know. Every other name becomes a `LicenseRef-` id, which SPDX documents declare in
`hasExtractedLicensingInfos`; license-expression then checks the whole expression's syntax.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping, Optional

from license_expression import ExpressionError, LicenseSymbol, Licensing, get_spdx_licensing

_NO_ASSERTION = {"", "unknown", "closed", "noassertion", "none", "proprietary"}
_TOKEN = re.compile(r"\(|\)|&|\||,|[^\s()&|,]+")
# Only the upper-case words are operators, and Buildroot's "or" (not before "later"): lower-case "and" and "with"
# occur inside free-text licence names ("MIT-style with unknown clauses").
_OPERATORS = {"&": "AND", "|": "OR", ",": "AND", "AND": "AND", "OR": "OR", "WITH": "WITH", "or": "OR"}
_REF = re.compile(r"LicenseRef-[A-Za-z0-9.\-]+")
# license-expression's parser also fails with IndexError / AssertionError on some malformed input, such as "()".
_MALFORMED = (ExpressionError, IndexError, AssertionError)

# Yocto's SPDXLICENSEMAP (meta/conf/licenses.conf) spellings that are neither SPDX ids nor GNU names: the build
# system maps them to these ids itself, so a converted manifest says what Yocto's own SPDX output says.
_BUILD_SYSTEM_NAMES = {
    "afl-1": "AFL-1.2", "aflv1": "AFL-1.2", "afl-2": "AFL-2.0", "aflv2": "AFL-2.0",
    "apache-2": "Apache-2.0", "apachev2": "Apache-2.0",
    "artistic-1": "Artistic-1.0", "artisticv1": "Artistic-1.0",
    "bsd-0-clause": "0BSD",
    "cddl-1": "CDDL-1.0", "cddlv1": "CDDL-1.0",
    "eplv1.0": "EPL-1.0",
    "freetype": "FTL",
    "mit-style": "MIT", "mit-x": "MIT",
    "mpl-1": "MPL-1.0", "mplv1": "MPL-1.0", "mplv1.1": "MPL-1.1", "mplv2": "MPL-2.0",
    "nauman": "Naumen",
    "psf": "PSF-2.0", "psfv2": "PSF-2.0", "python-2": "Python-2.0",
    # Deprecated SPDX ids that name a licence plus an exception; SPDX replaced each with this WITH expression.
    "ecos-2.0": "GPL-2.0-or-later WITH eCos-exception-2.0",
    "gpl-2.0-with-autoconf-exception": "GPL-2.0-only WITH Autoconf-exception-2.0",
    "gpl-2.0-with-bison-exception": "GPL-2.0-only WITH Bison-exception-2.2",
    "gpl-2.0-with-classpath-exception": "GPL-2.0-only WITH Classpath-exception-2.0",
    "gpl-2.0-with-font-exception": "GPL-2.0-only WITH Font-exception-2.0",
    "gpl-2.0-with-gcc-exception": "GPL-2.0-only WITH GCC-exception-2.0",
    "gpl-3.0-with-autoconf-exception": "GPL-3.0-only WITH Autoconf-exception-3.0",
    "gpl-3.0-with-gcc-exception": "GPL-3.0-only WITH GCC-exception-3.1",
}
# GNU licences the way Yocto (GPLv2, GPLv2+, LGPLv2.1, GPL-3) and Qualcomm layers (GPLv2only) spell them.
_GNU_NAME = re.compile(r"(?i)(A|L)?GPL-?v?(\d)(?:\.(\d))?(\+|-?only|-?or-later)?")


@dataclass(frozen=True)
class DeclaredLicense:
    """A build's licence string as SPDX: the expression and what each `LicenseRef-` in it stands for."""

    text: str
    expression: str
    references: Mapping[str, str] = field(hash=False)  # LicenseRef- id -> the licence name the build wrote

    @property
    def license_id(self) -> Optional[str]:
        """The SPDX licence-list id when the expression is exactly one (CycloneDX `license.id`), else None."""
        symbol = _symbols().get(self.expression.lower())
        known = symbol is not None and symbol.key == self.expression and not symbol.is_exception
        return self.expression if known else None

    @property
    def single_reference(self) -> Optional[str]:
        """The licence name when the expression is one `LicenseRef-` (CycloneDX `license.name`), else None."""
        return self.references.get(self.expression)


def declared_license(text: object) -> Optional[DeclaredLicense]:
    """The SPDX form of a manifest `license`, or None when it asserts nothing (empty, unknown, CLOSED, ...).

    Builds repeat a handful of licence strings across thousands of packages, so each string is converted once.
    """
    return _declared_license(text) if isinstance(text, str) else None


@lru_cache(maxsize=4096)
def _declared_license(text: str) -> Optional[DeclaredLicense]:
    """`declared_license` of one string.

    Runs of words between operators are one licence name. A parenthesised run of words right after a name is a
    Buildroot comment ("(programs)") and is dropped. Input that is still not a well-formed expression becomes one
    `LicenseRef-` of the whole string.
    """
    if text.strip().lower() in _NO_ASSERTION:
        return None
    references: dict[str, str] = {}
    pieces: list[str] = []
    words: list[str] = []

    def flush() -> None:
        if words:
            name = " ".join(words)
            after_with = bool(pieces) and pieces[-1] == "WITH"
            pieces.append(_term(name, after_with, references))
            words.clear()

    tokens = _without_comments(_TOKEN.findall(text))
    try:
        for index, token in enumerate(tokens):
            operator = _OPERATORS.get(token)
            if token == "or" and index + 1 < len(tokens) and tokens[index + 1].lower() == "later":
                operator = None
            if operator or token in "()":
                flush()
                pieces.append(operator or token)
            else:
                words.append(token)
        flush()
        expression = " ".join(pieces).replace("( ", "(").replace(" )", ")")
        _licensing().parse(expression, validate=False, strict=True)
    except _MALFORMED:
        whole = license_ref(text)
        return DeclaredLicense(text, whole, {whole: text.strip()})
    return DeclaredLicense(text, expression, references)


def spdx_expression(text: object) -> Optional[str]:
    """The SPDX expression for a manifest `license`, or None when it asserts nothing."""
    declared = declared_license(text)
    return declared.expression if declared else None


def license_ref(text: str) -> str:
    """`LicenseRef-` id for a licence name that is not an SPDX id (idstring chars only; a final `+` is or-later)."""
    stripped = text.strip()
    if stripped.endswith("+"):
        stripped = stripped[:-1] + "-or-later"
    cleaned = re.sub(r"[^A-Za-z0-9.\-]+", "-", stripped).strip("-.") or "unknown"
    return f"LicenseRef-{cleaned}"


def _term(name: str, after_with: bool, references: dict[str, str]) -> str:
    """The SPDX id (or exception id after WITH) for one licence name; else a `LicenseRef-` recorded in references."""
    if _REF.fullmatch(name):  # already user-defined: keep it as written
        references.setdefault(name, name)
        return name
    known = _BUILD_SYSTEM_NAMES.get(name.lower()) or _gnu_id(name) or name
    symbol = _symbols().get(known.lower())
    if " WITH " in known and not after_with:
        return f"({known})"
    if symbol is not None and symbol.is_exception == after_with:
        return symbol.key
    if after_with:  # SPDX 2 has no user-defined exceptions: the caller falls back to one LicenseRef
        raise ExpressionError(f"unknown licence exception {name!r}")
    ref = license_ref(name)
    references.setdefault(ref, name)
    return ref


def _gnu_id(name: str) -> Optional[str]:
    match = _GNU_NAME.fullmatch(name)
    if not match:
        return None
    family, major, minor, suffix = match.groups()
    later = suffix is not None and suffix.endswith(("+", "later"))
    return f"{(family or '').upper()}GPL-{major}.{minor or '0'}-{'or-later' if later else 'only'}"


def _without_comments(tokens: list[str]) -> list[str]:
    """Drops `( words )` that follows a licence name: Buildroot's note on what the licence covers."""
    kept: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "(" and kept and _is_word(kept[-1]):
            end = index + 1
            while end < len(tokens) and _is_word(tokens[end]):
                end += 1
            if end < len(tokens) and tokens[end] == ")" and end > index + 1:
                index = end + 1
                continue
        kept.append(token)
        index += 1
    return kept


def _is_word(token: str) -> bool:
    return token not in "()" and token not in _OPERATORS


@lru_cache(maxsize=1)
def _licensing() -> Licensing:
    return get_spdx_licensing()


@lru_cache(maxsize=1)
def _symbols() -> Mapping[str, LicenseSymbol]:
    """SPDX licence and exception symbols by lower-case id and deprecated alias (not scancode's LicenseRef- ones)."""
    index: dict[str, LicenseSymbol] = {}
    for symbol in _licensing().known_symbols.values():
        if symbol.key.startswith("LicenseRef-"):
            continue
        for name in (symbol.key, *symbol.aliases):
            if not name.startswith("LicenseRef-"):
                index.setdefault(name.lower(), symbol)
    return index
