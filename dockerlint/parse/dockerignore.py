"""Docker's .dockerignore matching, exactly (moby/patternmatcher semantics).

INTERFACE (other modules rely on these names; keep them):

- ``parse_dockerignore(text: str) -> IgnoreFile`` never raises; bad patterns become
  problems (code "SYN001") and are skipped.
- ``IgnoreFile.excludes(path: str) -> bool`` for a context-relative POSIX path
  ("src/app.py"): whether BuildKit leaves it out of the build context.
- ``IgnoreFile.may_prune(dir_path: str) -> bool``: a walker may skip this excluded
  directory entirely (no exception pattern could re-include anything below it).

These are not gitignore rules: patterns are anchored at the context root at both ends,
a trailing ``/`` means nothing, ``[!a]`` is not a negation, and an exception can
re-include a file below an excluded directory. The measured rules are in
``notes/ecosystem.md`` §5.3; each step below names the Go function it mirrors.
"""

from __future__ import annotations

import posixpath
import re
import warnings
from functools import lru_cache

from msgspec import Struct, field

from dockerlint.source import MAX_PROBLEMS_PER_FILE, Problem, Span

# Go's strings.TrimSpace trims unicode.IsSpace, which (unlike str.strip) leaves the
# ASCII separators \x1c-\x1f alone.
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_REGEX_ESCAPED = frozenset(".+()|{}$")  # patternmatcher's shouldEscape
# Escapes Go's regexp and Python's re read alike (with re.ASCII); others we cannot mirror.
_SAME_ESCAPES = frozenset("afnrtvdDwWsSAbB")
_GO_ONLY_ESCAPES = frozenset("xpPQ01234567")
_ANY = r"[\s\S]*"  # any run of characters, newlines included
_STAR = "[^/]*"  # what '*' compiles to
_ANY_DIRS = "(?:.*/)?"  # what '**' compiles to in Docker (its '.' stops at a newline too)


class _BadPattern(ValueError):
    """A pattern Docker rejects; the message says why."""


class _Unsupported(_BadPattern):
    """A pattern Docker accepts but whose regular-expression meaning we do not mirror."""


class Pattern(Struct, frozen=True):
    text: str  # cleaned pattern, as matched
    exclusion: bool  # written with a leading "!"
    line: int


class IgnoreFile(Struct, frozen=True, dict=True):
    patterns: tuple[Pattern, ...]
    problems: tuple[Problem, ...] = field(default=())
    # The valid patterns compiled into alternations, last pattern first, so that the first
    # alternation that fullmatches finds the last matching pattern; _polarity[group] says
    # if it excludes. A pattern written again later is dropped: the later one always wins.
    # Alternations hold at most _PATTERNS_PER_REGEX patterns, since Python's re slows down
    # more than linearly with the branches of one (16,000 patterns: 0.2 s per path).

    def __post_init__(self) -> None:
        bodies: list[str] = []
        polarity: dict[str, bool] = {}
        seen: set[str] = set()
        for index in range(len(self.patterns) - 1, -1, -1):
            pattern = self.patterns[index]
            if pattern.text in seen:
                continue
            seen.add(pattern.text)
            try:
                body = _pattern_regex(pattern.text, str(index))
            except _BadPattern:
                continue
            bodies.append(f"(?P<p{index}>{body})")
            polarity[f"p{index}"] = not pattern.exclusion
        matchers = tuple(
            _compile("|".join(bodies[start : start + _PATTERNS_PER_REGEX]))
            for start in range(0, len(bodies), _PATTERNS_PER_REGEX)
        )
        # Derived state, not fields: kept in the instance dict, out of equality and repr.
        self.__dict__.update(
            _matchers=matchers,
            _polarity=polarity,
            _exceptions=tuple(p.text for p in self.patterns if p.exclusion),
        )

    def excludes(self, path: str) -> bool:
        """The last matching pattern wins; a pattern matches a path when it matches the
        path or any of its ancestor directories (MatchesOrParentMatches)."""
        if not self._matchers:
            return False
        path = _normalise_path(path)
        if path == ".":
            return False
        for matcher in self._matchers:
            match = matcher.fullmatch(path)
            if match is not None:
                return self._polarity[match.lastgroup or ""]
        return False

    def may_prune(self, dir_path: str) -> bool:
        """Conservative: False as soon as any exception could match below ``dir_path``."""
        dir_path = _normalise_path(dir_path)
        if not self.excludes(dir_path):
            return False
        parts = dir_path.split("/")
        return not any(_could_reach_below(exception, parts) for exception in self._exceptions)


# Linux's PATH_MAX: a longer pattern is generated or hostile, and compiling a regular
# expression from a 3 MB line takes seconds.
MAX_PATTERN_LENGTH = 4096
_PATTERNS_PER_REGEX = 50


def parse_dockerignore(text: str) -> IgnoreFile:
    """Read the file the way ignorefile.ReadAll and patternmatcher.New do."""
    patterns: list[Pattern] = []
    problems: list[Problem] = []
    verdicts: dict[str, _BadPattern | None] = {}

    def problem(message: str, span: Span, fix: str | None = None) -> None:
        if len(problems) < MAX_PROBLEMS_PER_FILE:
            problems.append(Problem("SYN001", message, span, fix))
        elif len(problems) == MAX_PROBLEMS_PER_FILE:
            message = f"more than {MAX_PROBLEMS_PER_FILE:,} problems in this file: the rest are not reported"
            problems.append(Problem("SYN001", message, span))

    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if number == 1:
            line = line.removeprefix("\ufeff")
        if line.startswith("#"):  # a comment only when '#' is the very first character
            continue
        pattern = _read_line(line)
        if pattern is None:
            continue
        span = Span.whole_line(number, line)
        exclusion, cleaned = pattern
        if not cleaned:
            problem(
                "'!' with nothing after it is an invalid pattern; Docker fails the build on it",
                span,
                "remove the line or add a path after '!'",
            )
            continue
        if len(cleaned) > MAX_PATTERN_LENGTH:
            problem(
                f"a pattern of {len(cleaned):,} characters skipped: longer than any path "
                f"({MAX_PATTERN_LENGTH:,} characters), so dockerlint does not evaluate it",
                span,
            )
            continue
        if cleaned not in verdicts:  # a pattern written a thousand times is checked once
            verdicts[cleaned] = _check(cleaned)
        bad = verdicts[cleaned]
        if isinstance(bad, _Unsupported):
            problem(
                f"pattern {cleaned!r} skipped: {bad}, which dockerlint does not evaluate",
                span,
                "write the character without the backslash",
            )
            continue
        if bad is not None:
            problem(f"invalid pattern {cleaned!r} ({bad}); Docker fails the build on it", span)
            continue
        patterns.append(Pattern(cleaned, exclusion, number))
    return IgnoreFile(tuple(patterns), tuple(problems))


def _check(pattern: str) -> _BadPattern | None:
    """Why Docker refuses the pattern (or dockerlint cannot evaluate it), or None."""
    try:
        _check_match_syntax(pattern)
        _pattern_regex(pattern)
    except _BadPattern as bad:
        return bad.with_traceback(None)  # kept per pattern: not with the frames that raised it
    return None


def _read_line(line: str) -> tuple[bool, str] | None:
    """(is_exception, cleaned pattern) for one non-comment line, or None when blank.

    ReadAll trims, splits off '!', trims again, cleans and strips one leading '/';
    New then trims and cleans the result once more, '!' included.
    """
    pattern = line.strip(_GO_SPACE)
    if not pattern:
        return None
    invert = pattern[0] == "!"
    if invert:
        pattern = pattern[1:].strip(_GO_SPACE)
    if pattern:
        pattern = go_clean(pattern)
        if len(pattern) > 1 and pattern[0] == "/":
            pattern = pattern[1:]
    if invert:
        pattern = "!" + pattern
    pattern = pattern.strip(_GO_SPACE)
    if not pattern:
        return None
    pattern = go_clean(pattern)
    if pattern[0] == "!":
        return True, pattern[1:]
    return False, pattern


def go_clean(path: str) -> str:
    """Go's path/filepath.Clean on a POSIX path (normpath keeps a leading '//')."""
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


def _normalise_path(path: str) -> str:
    if path.startswith(("./", "/")) or path.endswith("/") or "//" in path:
        path = go_clean(path).lstrip("/") or "."
    return path or "."


@lru_cache(maxsize=2048)
def _compile(regex: str) -> re.Pattern[str]:
    """Cached: a monorepo's ignore files repeat the same patterns, and the checks test
    single patterns against every context (compiling costs a millisecond each)."""
    with warnings.catch_warnings():  # "possible nested set" for a literal '[' in a class
        warnings.simplefilter("ignore", FutureWarning)
        try:
            return re.compile(regex, re.ASCII)
        except (re.error, RecursionError, OverflowError) as error:
            raise _BadPattern(f"not a valid character class or escape ({error})") from None


_EXACT, _PREFIX, _SUFFIX, _REGEX = range(4)
_LITERAL_HEAD = re.compile(r"[^*?\[\\]*")


def _pattern_regex(pattern: str, tag: str = "") -> str:
    """Python regex that fullmatches a path when the pattern matches it or an ancestor.

    Mirrors Pattern.compile: literal patterns compare as strings, a trailing '**' is a
    prefix test, a leading '**' followed by literal text a suffix test, anything else a
    regular expression whose '[...]' classes are passed through unchanged. ``tag`` keeps
    group names unique when several patterns share one regex.
    """
    parts: list[str] = []
    kind = _EXACT
    i, end = 0, len(pattern)
    while i < end:
        start = i
        char = pattern[i]
        i += 1
        if char == "*":
            if i < end and pattern[i] == "*":
                i += 1
                if i < end and pattern[i] == "/":  # '**/' is the same as '**'
                    i += 1
                if i == end:
                    if kind == _EXACT:
                        kind = _PREFIX
                    else:
                        parts.append(".*")
                        kind = _REGEX
                else:
                    if not parts or parts[-1] != _ANY_DIRS:  # '**/**/' adds nothing
                        parts.append(_ANY_DIRS)
                    kind = _REGEX
                if start == 0:
                    kind = _SUFFIX
            else:
                parts.append(_STAR)
                kind = _REGEX
        elif char == "?":
            parts.append("[^/]")
            kind = _REGEX
        elif char in _REGEX_ESCAPED:
            parts.append("\\" + char)
        elif char == "\\":
            if i == end:
                raise _BadPattern("a '\\' at the end escapes nothing")
            parts.append(_escaped(pattern[i]))
            i += 1
            kind = _REGEX
        elif char in "[]":
            parts.append(char)
            kind = _REGEX
        else:
            parts.append(char)  # passed to the regex raw, as Docker does ('^' included)
    if kind == _EXACT:
        body = re.escape(pattern)
    elif kind == _PREFIX:
        body = re.escape(pattern[:-2]) + _ANY
    elif kind == _SUFFIX:
        suffix = pattern[2:]
        body = _ANY + re.escape(suffix)
        if suffix.startswith("/"):  # '**/foo' also matches 'foo' itself
            body += "|" + re.escape(suffix[1:])
    elif "[" in pattern or "]" in pattern:  # a class may swallow the tokens we'd rewrite
        body = "".join(parts)
    else:
        body = "".join(_commit_leftmost(parts, tag))
    body = f"(?:{body})(?:/{_ANY})?"
    if "[" in pattern or "]" in pattern:  # the only part not built valid by construction
        _compile(body)
    return body


def _commit_leftmost(parts: list[str], tag: str) -> list[str]:
    """Keep '*a*a*a*b' linear: Python's re backtracks where Go's engine does not.

    Between two '*', a fixed-length chunk that cannot match '/' may take its leftmost
    occurrence in the segment, since the next '*' can absorb whatever a later one
    would have skipped; a lookahead plus backreference makes that choice final.
    """
    committed: list[str] = []
    i, end = 0, len(parts)
    while i < end:
        j = i + 1
        if parts[i] == _STAR:
            while j < end and _fixed_no_slash(parts[j]):
                j += 1
            if i + 1 < j < end and parts[j] == _STAR:
                name = f"c{tag}_{i}"
                chunk = "".join(parts[i + 1 : j])
                committed.append(f"(?=(?P<{name}>[^/]*?{chunk}))(?P={name})")
                i = j
                continue
        committed.append(parts[i])
        i += 1
    return committed


def _fixed_no_slash(part: str) -> bool:
    """One token that matches exactly one character, never '/'."""
    if part == "[^/]":
        return True
    if len(part) == 1:
        return part not in "/^"
    return len(part) == 2 and part[0] == "\\" and part[1] != "/" and not part[1].isalnum()


def _escaped(char: str) -> str:
    """A backslash escape as Go's regexp reads it, in Python's spelling."""
    if char.isascii() and not char.isalnum():
        return "\\" + char
    if char in _SAME_ESCAPES:
        return "\\" + char
    if char == "z":
        return r"\Z"
    if char in _GO_ONLY_ESCAPES:
        raise _Unsupported(f"Docker reads '\\{char}' as a regular-expression escape")
    raise _BadPattern(f"'\\{char}' is an invalid escape in Docker's matcher")


def _check_match_syntax(pattern: str) -> None:
    """Raise where Go's filepath.Match reports ErrBadPattern, as patternmatcher.New does."""
    i, end = 0, len(pattern)
    while i < end:
        char = pattern[i]
        if char == "\\":
            if i + 1 == end:
                raise _BadPattern("a '\\' at the end escapes nothing")
            i += 2
        elif char == "[":
            i = _check_class(pattern, i + 1)
        else:
            i += 1


def _check_class(pattern: str, i: int) -> int:
    """Index after a well-formed '[...]' class starting at ``i``, else _BadPattern."""
    end = len(pattern)
    if i < end and pattern[i] == "^":
        i += 1
    ranges = 0
    while not (i < end and pattern[i] == "]" and ranges):
        i = _class_char(pattern, i)  # always leaves at least one character after it
        if pattern[i] == "-":
            i = _class_char(pattern, i + 1)
        ranges += 1
    return i + 1


def _class_char(pattern: str, i: int) -> int:
    end = len(pattern)
    if i >= end:
        raise _BadPattern("'[' is never closed")
    if pattern[i] in "-]":
        raise _BadPattern(f"'{pattern[i]}' cannot start a character class item")
    if pattern[i] == "\\":
        i += 1
    if i + 1 >= end:
        raise _BadPattern("'[' is never closed")
    return i + 1


def _could_reach_below(exception: str, dir_parts: list[str]) -> bool:
    """Whether an exception pattern might match something inside the directory.

    Compares segment by segment up to the first one we cannot judge alone: one with
    '**', an escape or a class (Docker's '[^a]' also matches '/'). That one only has
    to agree on the literal text before its first wildcard; after it, "might".
    """
    for segment, part in zip(exception.split("/"), dir_parts, strict=False):
        if "**" in segment or "\\" in segment or "[" in segment:
            return part.startswith(_LITERAL_HEAD.match(segment).group())
        if not _segment_matches(segment, part):
            return False
    return True


def _segment_matches(segment: str, name: str) -> bool:
    if "*" not in segment and "?" not in segment:
        return segment == name
    return _compile(_pattern_regex(segment)).fullmatch(name) is not None
