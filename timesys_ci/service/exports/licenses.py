"""Build-system licence strings (Yocto `&`/`|`, Buildroot/OpenWrt commas) as SPDX expressions."""
from __future__ import annotations

import re
from typing import Optional

_NO_ASSERTION = {"", "unknown", "closed", "noassertion", "none", "proprietary"}
_TOKEN = re.compile(r"\(|\)|&|\||,|[^\s()&|,]+")
# Only the upper-case words are operators: lower-case "and"/"with" occur inside free-text licence names.
_OPERATORS = {"&": "AND", "|": "OR", ",": "AND", "AND": "AND", "OR": "OR", "WITH": "WITH"}
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]*\+?")
_REF = re.compile(r"LicenseRef-[A-Za-z0-9.\-]+")


def license_ref(text: str) -> str:
    """`LicenseRef-` id for a licence name that is not an SPDX id (idstring chars only)."""
    cleaned = re.sub(r"[^A-Za-z0-9.\-]+", "-", text.strip()).strip("-.") or "unknown"
    return f"LicenseRef-{cleaned}"


def spdx_expression(text: object) -> Optional[str]:
    """The SPDX expression for a manifest `license`, or None when it asserts nothing.

    Operators become AND/OR/WITH and runs of words between operators become
    one `LicenseRef-` id, so the result is always well-formed even for free
    text like "MIT-style with unknown clauses". Unbalanced input becomes a
    single `LicenseRef-` of the whole string.
    """
    if not isinstance(text, str) or text.strip().lower() in _NO_ASSERTION:
        return None
    out: list[str] = []
    words: list[str] = []
    depth = 0

    def flush() -> None:
        if words:
            term = " ".join(words)
            out.append(term if len(words) == 1 and _ID.fullmatch(term) else license_ref(term))
            words.clear()

    for token in _TOKEN.findall(text):
        operator = _OPERATORS.get(token)
        if operator or token in "()":
            flush()
            if token == "(":
                depth += 1
            elif token == ")":
                depth -= 1
            out.append(operator or token)
            if depth < 0:
                return license_ref(text)
        else:
            words.append(token)
    flush()
    if depth != 0 or not _well_formed(out):
        return license_ref(text)
    return " ".join(out).replace("( ", "(").replace(" )", ")")


def license_refs(expression: Optional[str]) -> list[str]:
    """The `LicenseRef-` ids an expression uses, in order, without repeats."""
    return list(dict.fromkeys(_REF.findall(expression or "")))


def _well_formed(tokens: list[str]) -> bool:
    expect_term = True
    for token in tokens:
        if token == "(":
            if not expect_term:
                return False
        elif token == ")":
            if expect_term:
                return False
        elif token in ("AND", "OR", "WITH"):
            if expect_term:
                return False
            expect_term = True
        else:
            if not expect_term:
                return False
            expect_term = False
    return not expect_term
