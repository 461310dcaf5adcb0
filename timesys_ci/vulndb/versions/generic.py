"""The generic embedded-Linux version order (the default for NVD ranges and `custom` version types).

NVD ranges are written in upstream version numbers, while build systems
report versions such as ``1.1.1n``, ``2.39+git0+abc``, ``4.2.8p18``,
``2020-06-08-5a8b3662`` or ``1:1.2.8.dfsg-5+deb9u1``. This module turns
each into a comparable key:

* an optional epoch ``N:`` is compared first (missing epoch = 0);
* a ``+git…`` / ``+gitAUTOINC…`` build suffix is cut off, so
  ``2.39+git0+abc`` equals ``2.39`` (a git build of a release is treated
  as not newer than the release when checking ranges);
* a date snapshot ``YYYY-MM-DD[-<hash>]`` compares by its date only;
* the rest is split into number and letter runs. Numbers compare
  numerically (``6.6.21`` > ``6.6.3``); letter runs compare as strings
  and sort *after* the bare release (``1.1.1`` < ``1.1.1a``,
  ``1.0.2k`` < ``1.0.2zd``, ``4.2.8p9`` < ``4.2.8p18``);
* the pre-release words ``dev``/``alpha``/``beta``/``pre``/``rc``
  (after ``-``, ``~``, ``.`` or nothing) and a Debian ``~`` sort *before*
  the release (``6.8rc1`` < ``6.8``);
* missing trailing parts count as zero (``6.8`` == ``6.8.0``).

Unknown versions (``unset``, ``custom``, ``git``, ``unknown``, empty, …)
are not versions at all: :attr:`Version.known` is False, they sort before
every known version (so sorting never fails) and :func:`in_range` returns
False for them whenever the range has a bound or an exact version. Only a
criterion that puts no bound on the version (``*`` with no start/end)
matches an unknown version.
"""
from __future__ import annotations

import functools
import re
from typing import Optional, Tuple, Union

Token = Tuple[int, Union[int, str]]

UNKNOWN_VERSIONS = frozenset(
    {"", "unset", "custom", "git", "unknown", "none", "noassertion", "n/a", "na", "-", "*", "latest", "autoinc"}
)

# Rank of each token kind: pre-release markers < end-of-version (== 0) < numbers < letters.
_PRE, _NUM, _ALPHA = 0, 1, 2
_END: Token = (_NUM, 0)
_PRE_WORDS = {"dev": 0, "alpha": 1, "beta": 2, "pre": 3, "rc": 4}
_TILDE: Token = (_PRE, -1)

_EPOCH = re.compile(r"^(\d+):(.+)$")
_GIT_SUFFIX = re.compile(r"\+git.*$", re.IGNORECASE)
_DATE_SNAPSHOT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[-_.+]?[0-9a-f]{4,40})?$", re.IGNORECASE)
_TOKENS = re.compile(r"\d+|[a-z]+|~", re.IGNORECASE)


def is_unknown_version(text: Optional[str]) -> bool:
    """True for placeholders that say nothing about the version."""
    return text is None or text.strip().lower() in UNKNOWN_VERSIONS


def _tokenize(body: str) -> Tuple[Token, ...]:
    date = _DATE_SNAPSHOT.match(body)
    if date:
        return tuple((_NUM, int(part)) for part in date.groups())
    tokens: list = []
    pending_tilde = False
    for raw in _TOKENS.findall(body):
        if raw == "~":
            pending_tilde = True
            continue
        lowered = raw.lower()
        if raw.isdigit():
            token: Token = (_NUM, int(raw))
        elif lowered in _PRE_WORDS:
            token = (_PRE, _PRE_WORDS[lowered])
        else:
            token = (_ALPHA, lowered)
        if pending_tilde and token[0] != _PRE:
            # Debian "~": sorts before anything, even the end of the version.
            tokens.append(_TILDE)
        pending_tilde = False
        tokens.append(token)
    if pending_tilde:
        tokens.append(_TILDE)
    # Trailing zeros equal the end of the version; drop them so equal versions get equal keys.
    while tokens and tokens[-1] == _END:
        tokens.pop()
    return tuple(tokens)


@functools.lru_cache(maxsize=65536)
def _parse(text: str) -> Tuple[bool, int, Tuple[Token, ...]]:
    if is_unknown_version(text):
        return False, 0, ()
    body = text.strip()
    epoch = 0
    match = _EPOCH.match(body)
    if match:
        epoch, body = int(match.group(1)), match.group(2)
    body = _GIT_SUFFIX.sub("", body)
    if is_unknown_version(body):
        return False, 0, ()
    return True, epoch, _tokenize(body)


def _compare_tokens(left: Tuple[Token, ...], right: Tuple[Token, ...]) -> int:
    for index in range(max(len(left), len(right))):
        a = left[index] if index < len(left) else _END
        b = right[index] if index < len(right) else _END
        if a != b:
            return -1 if a < b else 1
    return 0


@functools.total_ordering
class Version:
    """A parsed version usable as a sort key (``sorted(vs, key=Version)``)."""

    __slots__ = ("text", "known", "epoch", "tokens")

    def __init__(self, text: str) -> None:
        self.text = text
        self.known, self.epoch, self.tokens = _parse(text or "")

    def without_epoch(self) -> "Version":
        """The same version with epoch 0: NVD ranges never carry epochs."""
        copy = Version(self.text)
        copy.epoch = 0
        return copy

    def _cmp(self, other: "Version") -> int:
        if self.known != other.known:
            return -1 if not self.known else 1
        if not self.known:
            return 0
        if self.epoch != other.epoch:
            return -1 if self.epoch < other.epoch else 1
        return _compare_tokens(self.tokens, other.tokens)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._cmp(other) == 0

    def __lt__(self, other: "Version") -> bool:
        return self._cmp(other) < 0

    def __hash__(self) -> int:
        return hash((self.known, self.epoch, self.tokens))

    def __repr__(self) -> str:
        return f"Version({self.text!r})"


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` is older than, equal to or newer than ``b``."""
    return Version(a)._cmp(Version(b))


def in_range(
    version: str,
    *,
    exact: Optional[str] = None,
    start_including: Optional[str] = None,
    start_excluding: Optional[str] = None,
    end_including: Optional[str] = None,
    end_excluding: Optional[str] = None,
) -> bool:
    """Whether ``version`` satisfies an exact version and/or range bounds.

    With no exact version and no bound every version (even an unknown
    one) is in range; otherwise an unknown version never is. The epoch of
    ``version`` is ignored when the bound has none (NVD writes none).
    """
    bounds = (exact, start_including, start_excluding, end_including, end_excluding)
    if all(is_unknown_version(bound) for bound in bounds):
        return True
    candidate = Version(version)
    if not candidate.known:
        return False

    def cmp(bound: Optional[str]) -> Optional[int]:
        if bound is None:
            return None
        limit = Version(bound)
        if not limit.known:
            return None  # a "*"/"-" bound does not constrain
        subject = candidate if limit.epoch else candidate.without_epoch()
        return subject._cmp(limit)

    checks = (
        (cmp(exact), lambda c: c == 0),
        (cmp(start_including), lambda c: c >= 0),
        (cmp(start_excluding), lambda c: c > 0),
        (cmp(end_including), lambda c: c <= 0),
        (cmp(end_excluding), lambda c: c < 0),
    )
    for outcome, accept in checks:
        if outcome is not None and not accept(outcome):
            return False
    return True
