"""Just enough GNU make to read Kbuild Makefiles: variables, the common functions, conditionals.

What this evaluator cannot know (a `$(shell ...)`, a variable from the parent make,
`$(eval ...)`) expands to `WILD`, a character that stands for "anything". Words
holding it are patterns; a conditional it cannot decide takes both branches, and
assignments in such a branch add to the variable instead of replacing it. So every
answer is a superset of what make would build: safe for "compiled", never a false
"not compiled".
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Optional

from timesys_ci.kernel.walk import read_bounded

WILD = "\x00"
MAX_DEPTH = 40  # nested expansions / includes
MAX_EXPANSIONS = 200_000  # variable references expanded per Makefile: `x = $(x) $(x)` grows exponentially
MAX_VALUE = 4 * 1024 * 1024  # characters in one expanded value
MAX_MAKEFILE_BYTES = 2 * 1024 * 1024
_DIRECTIVES = ("ifeq", "ifneq", "ifdef", "ifndef")


@dataclass
class Var:
    value: str
    recursive: bool


def pattern_matches(pattern: str, text: str) -> bool:
    """Does a word that may hold WILD match `text`?"""
    if WILD not in pattern:
        return pattern == text
    if not text.startswith(pattern.split(WILD, 1)[0]):
        return False
    return fnmatch.fnmatchcase(text, "*".join(_escape(part) for part in pattern.split(WILD)))


def _escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _percent_match(pattern: str, word: str) -> Optional[str]:
    """The stem `%` matches in `word`, or None."""
    if "%" not in pattern:
        return "" if pattern == word else None
    prefix, _, suffix = pattern.partition("%")
    if len(word) >= len(prefix) + len(suffix) and word.startswith(prefix) and word.endswith(suffix):
        return word[len(prefix):len(word) - len(suffix)]
    return None


def _split_args(text: str) -> list[str]:
    """Split function arguments on top-level commas."""
    args, depth, current = [], 0, []
    for char in text:
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        if char == "," and depth == 0:
            args.append("".join(current))
            current = []
        else:
            current.append(char)
    args.append("".join(current))
    return args


def _closing(text: str, start: int, opener: str) -> int:
    """Index of the parenthesis closing the one at `start`, or -1."""
    closer = ")" if opener == "(" else "}"
    depth = 0
    for index in range(start, len(text)):
        if text[index] == opener:
            depth += 1
        elif text[index] == closer:
            depth -= 1
            if depth == 0:
                return index
    return -1


class Expander:
    """Expands make text against a variable table, a `.config` and fixed Kbuild variables."""

    def __init__(self, variables: dict[str, Var], config: Mapping[str, str], fixed: Mapping[str, str],
                 is_local: Callable[[str], bool]) -> None:
        self.variables = variables
        self.config = config
        self.fixed = fixed
        self.is_local = is_local  # names that are empty when undefined (Kbuild's own lists)
        self._depth = 0
        self._budget = MAX_EXPANSIONS
        self._expanding: set[str] = set()

    def lookup(self, name: str) -> str:
        if WILD in name:
            return WILD
        if name in self.variables:
            var = self.variables[name]
            if not var.recursive:
                return var.value
            if name in self._expanding:
                return WILD  # make stops with "Recursive variable references itself"
            self._expanding.add(name)
            try:
                return self.expand(var.value)
            finally:
                self._expanding.discard(name)
        if name.startswith("CONFIG_"):
            return self.config.get(name, "")
        if name in self.fixed:
            return self.fixed[name]
        return "" if self.is_local(name) else WILD

    def expand(self, text: str) -> str:
        if "$" not in text:
            return text
        self._depth += 1
        self._budget -= 1
        try:
            if self._depth > MAX_DEPTH or self._budget < 0:
                return WILD
            expanded = self._expand(text)
            return expanded if len(expanded) <= MAX_VALUE else WILD
        finally:
            self._depth -= 1

    def _expand(self, text: str) -> str:
        out: list[str] = []
        index = 0
        while index < len(text):
            char = text[index]
            if char != "$" or index + 1 >= len(text):
                out.append(char)
                index += 1
                continue
            nxt = text[index + 1]
            if nxt == "$":
                out.append("$")
                index += 2
            elif nxt in "({":
                end = _closing(text, index + 1, nxt)
                if end < 0:
                    out.append(WILD)
                    break
                out.append(self._reference(text[index + 2:end]))
                index = end + 1
            else:  # $@, $<, $1 ...: automatic or call arguments
                out.append(self.lookup(nxt) if nxt.isdigit() else WILD)
                index += 2
        return "".join(out)

    def _reference(self, inner: str) -> str:
        name, space, rest = inner.partition(" ")
        if not space:
            name, tab, rest = inner.partition("\t")
            space = tab
        if space and name in _FUNCTIONS:
            return _FUNCTIONS[name](self, rest.lstrip())
        if space and name and re.fullmatch(r"[a-z-]+", name):
            return WILD  # a function this evaluator does not know
        reference = self.expand(inner)
        if ":" in reference and "=" in reference.split(":", 1)[1]:  # $(var:.c=.o)
            var, _, subst = reference.partition(":")
            before, _, after = subst.partition("=")
            before, after = (before, after) if "%" in before else ("%" + before, "%" + after)
            return " ".join(_patsubst_word(before, after, word) for word in self.lookup(var).split())
        return self.lookup(reference)


def _patsubst_word(pattern: str, replacement: str, word: str) -> str:
    if WILD in pattern:
        return WILD
    stem = _percent_match(pattern, word)
    if stem is None:
        if WILD in word:
            return WILD  # might match
        return word
    return replacement.replace("%", stem, 1) if "%" in replacement else replacement


def _args(expander: Expander, text: str, count: int) -> list[str]:
    parts = _split_args(text)
    if len(parts) > count:
        parts = parts[:count - 1] + [",".join(parts[count - 1:])]
    parts += [""] * (count - len(parts))
    return [expander.expand(part) for part in parts]


def _words_fn(fn: Callable[[list[str]], list[str]]) -> Callable[[Expander, str], str]:
    return lambda expander, text: " ".join(fn(expander.expand(text).split()))


def _subst(expander: Expander, text: str) -> str:
    before, after, value = _args(expander, text, 3)
    if WILD in before:
        return WILD
    return value.replace(before, after) if before else value


def _patsubst(expander: Expander, text: str) -> str:
    pattern, replacement, value = _args(expander, text, 3)
    return " ".join(_patsubst_word(pattern.strip(), replacement.strip(), word) for word in value.split())


def _filter(keep: bool) -> Callable[[Expander, str], str]:
    def run(expander: Expander, text: str) -> str:
        patterns, value = _args(expander, text, 2)
        if WILD in patterns:
            return value  # cannot tell what is filtered: keep every word
        out = []
        for word in value.split():
            matched = any(_percent_match(pattern, word) is not None for pattern in patterns.split())
            if matched == keep or WILD in word:
                out.append(word)
        return " ".join(out)
    return run


def _findstring(expander: Expander, text: str) -> str:
    needle, haystack = _args(expander, text, 2)
    if needle in haystack:
        return needle
    return WILD if WILD in needle + haystack else ""


def _if(expander: Expander, text: str) -> str:
    parts = _split_args(text)
    condition = expander.expand(parts[0]).strip()
    then = expander.expand(parts[1]) if len(parts) > 1 else ""
    otherwise = expander.expand(",".join(parts[2:])) if len(parts) > 2 else ""
    if WILD in condition:
        return f"{then} {otherwise}"
    return then if condition else otherwise


def _or(expander: Expander, text: str) -> str:
    for part in _split_args(text):
        value = expander.expand(part).strip()
        if value:
            return value
    return ""


def _and(expander: Expander, text: str) -> str:
    value = ""
    for part in _split_args(text):
        value = expander.expand(part).strip()
        if not value:
            return ""
    return value


def _foreach(expander: Expander, text: str) -> str:
    parts = _split_args(text)
    if len(parts) < 3:
        return WILD
    name = expander.expand(parts[0]).strip()
    words = expander.expand(parts[1]).split()
    if any(WILD in word for word in words) or WILD in name:
        return WILD
    saved = expander.variables.get(name)
    out = []
    for word in words:
        expander.variables[name] = Var(word, False)
        out.append(expander.expand(",".join(parts[2:])))
    if saved is None:
        expander.variables.pop(name, None)
    else:
        expander.variables[name] = saved
    return " ".join(out)


def _call(expander: Expander, text: str) -> str:
    parts = _split_args(text)
    name = expander.expand(parts[0]).strip()
    var = expander.variables.get(name)
    if var is None:
        return WILD  # Kbuild.include helpers (cc-option, ...) are not read
    saved = {str(i): expander.variables.get(str(i)) for i in range(1, len(parts))}
    for i, arg in enumerate(parts[1:], start=1):
        expander.variables[str(i)] = Var(expander.expand(arg), False)
    try:
        return expander.expand(var.value)
    finally:
        for key, old in saved.items():
            if old is None:
                expander.variables.pop(key, None)
            else:
                expander.variables[key] = old


def _word(expander: Expander, text: str) -> str:
    number, value = _args(expander, text, 2)
    words = value.split()
    if not number.strip().isdigit() or any(WILD in w for w in words):
        return WILD
    n = int(number)
    return words[n - 1] if 0 < n <= len(words) else ""


def _origin(expander: Expander, text: str) -> str:
    name = expander.expand(text).strip()
    if name in expander.variables:
        return "file"
    return "undefined" if expander.is_local(name) or name.startswith("CONFIG_") else WILD


_FUNCTIONS: dict[str, Callable[[Expander, str], str]] = {
    "subst": _subst,
    "patsubst": _patsubst,
    "filter": _filter(True),
    "filter-out": _filter(False),
    "findstring": _findstring,
    "strip": _words_fn(lambda words: words),
    "sort": _words_fn(lambda words: sorted(set(words))),
    "firstword": _words_fn(lambda words: words[:1]),
    "lastword": _words_fn(lambda words: words[-1:]),
    "words": lambda expander, text: (WILD if WILD in expander.expand(text) else str(len(expander.expand(text).split()))),
    "word": _word,
    "dir": _words_fn(lambda words: [w.rpartition("/")[0] + "/" if "/" in w else "./" for w in words]),
    "notdir": _words_fn(lambda words: [w.rpartition("/")[2] for w in words]),
    "basename": _words_fn(lambda words: [w.rpartition(".")[0] if "." in w.rpartition("/")[2] else w for w in words]),
    "suffix": _words_fn(lambda words: ["." + w.rpartition(".")[2] for w in words if "." in w.rpartition("/")[2]]),
    "addsuffix": lambda expander, text: " ".join(w + _args(expander, text, 2)[0].strip()
                                                 for w in _args(expander, text, 2)[1].split()),
    "addprefix": lambda expander, text: " ".join(_args(expander, text, 2)[0].strip() + w
                                                 for w in _args(expander, text, 2)[1].split()),
    "if": _if,
    "or": _or,
    "and": _and,
    "foreach": _foreach,
    "call": _call,
    "origin": _origin,
    "value": lambda expander, text: expander.variables.get(expander.expand(text).strip(), Var(WILD, False)).value,
    "info": lambda expander, text: "",
    "warning": lambda expander, text: "",
    "error": lambda expander, text: "",
    "shell": lambda expander, text: WILD,
    "wildcard": lambda expander, text: WILD,
    "eval": lambda expander, text: WILD,
    "realpath": lambda expander, text: WILD,
    "abspath": lambda expander, text: WILD,
}


@dataclass
class Evaluation:
    """The variables a Makefile (and what it includes) leaves behind."""

    variables: dict[str, Var] = field(default_factory=dict)
    uncertain: list[str] = field(default_factory=list)  # why some lists may hold more than the variables show
    includes: list[Path] = field(default_factory=list)
    maybe_assigned: list[tuple[str, str]] = field(default_factory=list)  # (LHS pattern with WILD, value)


_ASSIGN_OPS = ("::=", ":::=", ":=", "+=", "?=", "!=", "=")


def logical_lines(text: str) -> list[str]:
    """Join backslash continuations and drop comments (a `#` inside `$(...)` is literal)."""
    joined, current = [], ""
    for raw in text.splitlines():
        if raw.endswith("\\") and not raw.endswith("\\\\"):
            current += raw[:-1] + " "
            continue
        joined.append(current + raw)
        current = ""
    if current:
        joined.append(current)
    return [_strip_comment(line) for line in joined]


def _strip_comment(line: str) -> str:
    for index, char in _top_level_chars(line):
        if char == "#" and (index == 0 or line[index - 1] != "\\"):
            return line[:index]
    return line


def _top_level_chars(line: str) -> "list[tuple[int, str]]":
    """(index, char) of the characters outside `$(...)` references."""
    out, depth, index = [], 0, 0
    while index < len(line):
        char = line[index]
        if depth:
            depth += 1 if char in "({" else -1 if char in ")}" else 0
        elif char == "$" and line[index + 1:index + 2] in ("(", "{"):
            depth = 1
            index += 1
        elif char == "$" and line[index + 1:index + 2] == "$":
            index += 1
        else:
            out.append((index, char))
        index += 1
    return out


def is_rule(line: str) -> bool:
    return any(char == ":" for _, char in _top_level_chars(line))


def split_assignment(line: str) -> Optional[tuple[str, str, str]]:
    """(lhs, op, rhs) for an assignment; None for rules and other lines."""
    for index, char in _top_level_chars(line):
        if char == "=":
            for op in _ASSIGN_OPS:
                start = index + 1 - len(op)
                if start >= 0 and line[start:index + 1] == op:
                    return line[:start].strip(), op, line[index + 1:].strip()
        if char == ":" and not line[index:].startswith((":=", "::=", ":::=")):
            return None  # a rule (targets: prerequisites)
    return None


class MakefileReader:
    """Evaluates one directory's Makefile, with its includes, into an `Evaluation`."""

    def __init__(self, source_root: Path, config: Mapping[str, str], fixed: Mapping[str, str],
                 is_local: Callable[[str], bool], *, follow_includes: bool = True) -> None:
        self.source_root = source_root
        self.config = config
        self.fixed = fixed
        self.is_local = is_local
        self.follow_includes = follow_includes

    def evaluate(self, path: Path, variables: Optional[dict[str, Var]] = None) -> Evaluation:
        result = Evaluation(variables=dict(variables or {}))
        self._run_file(path, result, 0)
        return result

    def _run_file(self, path: Path, result: Evaluation, depth: int) -> None:
        text = read_bounded(path, MAX_MAKEFILE_BYTES)
        if text is None:
            result.uncertain.append(f"cannot read {path}")
            return
        result.includes.append(path)
        self._run_lines(logical_lines(text), result, depth, path)

    def _run_lines(self, lines: list[str], result: Evaluation, depth: int, path: Path) -> None:
        expander = Expander(result.variables, self.config, self.fixed, self.is_local)
        # Each conditional level: (is this branch taken?, was an earlier branch taken?); None: cannot tell.
        stack: list[tuple[Optional[bool], Optional[bool]]] = []
        in_rule = False
        define: Optional[tuple[str, list[str]]] = None
        for line in lines:
            if define is not None:
                if line.strip() == "endef":
                    result.variables[define[0]] = Var("\n".join(define[1]), True) if self._active(stack) else \
                        result.variables.get(define[0], Var("", True))
                    define = None
                else:
                    define[1].append(line)
                continue
            if line.startswith("\t") and in_rule:
                continue
            stripped = line.strip()
            if not stripped:
                continue
            word = stripped.split(None, 1)[0]
            rest = stripped[len(word):].strip()
            if word in _DIRECTIVES:
                stack.append(self._condition(word, rest, expander, stack))
                continue
            if word == "else":
                if stack:
                    inner = rest.split(None, 1)
                    chained = self._condition(inner[0], inner[1] if len(inner) > 1 else "", expander, stack[:-1]) \
                        if inner and inner[0] in _DIRECTIVES else (True, True)
                    stack[-1] = _next_branch(stack[-1][1], chained[0])
                continue
            if word == "endif":
                if stack:
                    stack.pop()
                continue
            if not self._active(stack):
                continue
            in_rule = False
            if word == "define":
                define = (expander.expand(rest.split(None, 1)[0] if rest else ""), [])
                continue
            if word in ("include", "-include", "sinclude"):
                self._include(rest, word != "include", expander, result, depth)
                continue
            if word in ("export", "unexport", "override", "private", "undefine"):
                if word == "undefine" or not rest:
                    continue
                stripped = rest
            assignment = split_assignment(stripped)
            if assignment is not None:
                self._assign(*assignment, expander, result, maybe=any(t is None for t, _ in stack))
            elif is_rule(stripped):
                in_rule = True  # what follows with a TAB is its recipe
            elif "$(eval" in stripped.replace(" ", "").replace("\t", ""):
                result.uncertain.append(f"{path}: {stripped[:60]} is not evaluated")

    @staticmethod
    def _active(stack: list[tuple[Optional[bool], Optional[bool]]]) -> bool:
        return all(taken is not False for taken, _ in stack)

    def _condition(self, word: str, rest: str, expander: Expander,
                   stack: list[tuple[Optional[bool], Optional[bool]]]) -> tuple[Optional[bool], Optional[bool]]:
        if word in ("ifdef", "ifndef"):
            name = expander.expand(rest).strip()
            if name in expander.variables:
                value = expander.variables[name].value.strip()
                defined: Optional[bool] = None if WILD in value else bool(value)
            elif name.startswith("CONFIG_") or expander.is_local(name) or name in expander.fixed:
                defined = bool(expander.lookup(name).strip())
            else:
                defined = None
            taken = defined if word == "ifdef" or defined is None else not defined
        else:
            pair = _condition_args(rest)
            if pair is None:
                return (None, None)
            left, right = (expander.expand(part).strip() for part in pair)
            if WILD in left or WILD in right:
                taken = None
            else:
                taken = (left == right) == (word == "ifeq")
        return (taken, taken)

    def _include(self, rest: str, optional: bool, expander: Expander, result: Evaluation, depth: int) -> None:
        if not self.follow_includes:
            return
        for name in expander.expand(rest).split():
            if WILD in name:
                result.uncertain.append(f"include {rest.strip()} cannot be resolved")
                continue
            path = Path(name) if name.startswith("/") else self.source_root / name
            try:
                inside = path.resolve().is_relative_to(self.source_root.resolve())
            except (OSError, ValueError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
                inside = False
            if depth + 1 > MAX_DEPTH or not inside or not path.is_file():
                if not optional:
                    result.uncertain.append(f"include {name} not found in the source tree")
                continue
            self._run_file(path, result, depth + 1)

    def _assign(self, lhs: str, op: str, rhs: str, expander: Expander, result: Evaluation, *, maybe: bool) -> None:
        name = expander.expand(lhs).strip()
        if WILD in name:
            result.maybe_assigned.append((name, expander.expand(rhs)))
            return
        old = result.variables.get(name)
        if op == "!=":
            value, recursive = WILD, False
        elif op == "+=":
            if old is None:
                value, recursive = rhs, True
            elif old.recursive:
                value, recursive = f"{old.value} {rhs}", True
            else:
                value, recursive = f"{old.value} {expander.expand(rhs)}", False
            result.variables[name] = Var(value.strip(), recursive)
            return
        elif op == "?=":
            if old is not None and not maybe:
                return
            value, recursive = rhs, True
        elif op == "=":
            value, recursive = rhs, True
        else:
            value, recursive = expander.expand(rhs), False
        if maybe and old is not None:
            # Either branch may have run: keep what was there and add the new words.
            old_text = expander.expand(old.value) if old.recursive else old.value
            new_text = expander.expand(value) if recursive else value
            result.variables[name] = Var(f"{old_text} {new_text}".strip(), False)
            return
        result.variables[name] = Var(value, recursive)


def _next_branch(earlier: Optional[bool], condition: Optional[bool]) -> tuple[Optional[bool], Optional[bool]]:
    """The state of an `else [ifeq ...]` branch, given whether an earlier branch ran."""
    if earlier is True:
        return (False, True)
    if earlier is False:
        return (condition, condition)
    # An earlier branch may have run: this one runs only if it did not.
    if condition is False:
        return (False, None)
    return (None, True if condition is True else None)


def _condition_args(rest: str) -> Optional[tuple[str, str]]:
    rest = rest.strip()
    if rest.startswith("("):
        end = _closing("$" + rest, 1, "(")
        if end < 0:
            return None
        parts = _split_args(rest[1:end - 1])
        return (parts[0], ",".join(parts[1:])) if len(parts) >= 2 else None
    quoted = re.match(r"""^(["'])(.*?)\1\s+(["'])(.*?)\3\s*$""", rest)
    return (quoted.group(2), quoted.group(4)) if quoted else None
