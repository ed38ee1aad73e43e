"""Dockerfile reader, faithful to BuildKit's parser.

INTERFACE (other modules rely on these names; keep them):

- ``parse_dockerfile(text: str) -> Dockerfile`` never raises. ``text`` is already
  decoded with ``source.decode`` (BOM dropped, line endings normalised to LF).
- ``expand(value: str, env: Mapping[str, str], escape: str = "\\\\") -> str``:
  BuildKit-style word expansion of ``$V``, ``${V}``, ``${V:-x}``, ``${V-x}``, ``${V:+x}``,
  ``${V+x}``; unset variables expand to "" (as BuildKit does); escaped ``\\$`` stays ``$``.
- ``expand_word(value, env, escape)``: what BuildKit makes of an ARG/ENV/FROM word:
  the same expansion, plus quote removal and escapes applied.

How BuildKit reads a file, and so how this module does (facts in notes/ecosystem.md §5.5):
parser directives only at the very top; an instruction's first line is left-trimmed and
its continuation lines are kept as written, minus the escape character and the blanks
after it; comment and blank lines inside a continuation are dropped without ending it;
heredoc bodies of RUN/COPY/ADD follow the (joined) instruction line. Unknown or
malformed instructions become problems and the reader carries on with the next line.
"""

from __future__ import annotations

import bisect
import gc
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

from msgspec import Struct, field

from dockerlint.source import MAX_PROBLEMS_PER_FILE, Problem, Span, Text

KEYWORDS = frozenset(
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER ONBUILD RUN "
    "SHELL STOPSIGNAL USER VOLUME WORKDIR".split()
)
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
_JSON_KEYWORDS = frozenset({"RUN", "CMD", "ENTRYPOINT", "SHELL", "ADD", "COPY", "VOLUME"})
_ARGUMENTS_OPTIONAL = frozenset({"RUN", "CMD", "ENTRYPOINT"})  # BuildKit accepts them bare
_NOT_TRIGGERS = frozenset({"ONBUILD", "FROM", "MAINTAINER"})  # refused after ONBUILD
_DIRECTIVE_KEYS = frozenset({"syntax", "escape", "check"})

_DIRECTIVE = re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*)", re.ASCII)
_GO_BLANKS = " \t\n\v\f\r"  # what Go's regexp means by \s
# The keyword ends at the first of the blanks BuildKit splits the command on.
_COMMAND = re.compile(r"\s*([^\t\v\f\r ]+)\s*")
# A word as BuildKit's heredoc scan sees it: blank-separated, quotes and escapes kept.
# Every alternative starts on a different character, so the scan never backtracks.
_RAW_WORD = re.compile(r"""(?:[^\s'"\\]+|\\.|\\$|'[^']*'?|"(?:[^"\\]|\\.|\\$)*"?)+""", re.S)
_HEREDOC_OPENER = re.compile(r"(\d*)<<(-?)([^<]*)")
_BLANKS = re.compile(r"\s*")
# A flag word: every character but a blank is part of it; quotes may hold blanks.
_FLAG_WORD = re.compile(r"""(?:[^\s'"\\]+|\\.?|'[^']*'?|"(?:[^"\\]|\\.?)*"?)+""", re.S)
_NAME = re.compile(r"[^\W\d]\w*|\d+")
_PLAIN = {"\\": re.compile(r"[\\'\"$}]"), "`": re.compile(r"[`'\"$}]")}
_MAX_NESTING = 64  # ${a:-${b:-...}} deeper than this is left as written
# A value that would expand past this many characters is left as written: real values
# (PATH, a list of packages) are far shorter, and `ENV A=${A}${A}` repeated doubles each line.
MAX_EXPANDED_LENGTH = 64 * 1024


class Positions(Sequence):
    """(line, column) of each character of an instruction's ``args``.

    Stored as runs (one per source line the arguments come from) rather than a tuple
    per character, so a 10 MB RUN costs a few integers per line, not 10 million tuples.
    Indexing, ``len``, iteration and comparison with a tuple of pairs work as for a tuple.
    """

    __slots__ = ("_starts", "_lines", "_columns", "_length")

    def __init__(self, starts: tuple[int, ...], lines: tuple[int, ...], columns: tuple[int, ...], length: int):
        self._starts = starts  # index in args where each run begins, ascending
        self._lines = lines
        self._columns = columns
        self._length = length

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(self._length)))
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("position index out of range")
        if len(self._starts) == 1:
            return self._lines[0], self._columns[0] + index
        run = bisect.bisect_right(self._starts, index) - 1
        return self._lines[run], self._columns[run] + index - self._starts[run]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        ends = self._starts[1:] + (self._length,) if self._starts else ()
        for start, end, line, column in zip(self._starts, ends, self._lines, self._columns, strict=True):
            for offset in range(end - start):
                yield line, column + offset

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (Positions, tuple, list)):
            return NotImplemented
        return len(self) == len(other) and all(a == tuple(b) for a, b in zip(self, other, strict=True))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"Positions({len(self)} characters from line {self._lines[0] if self._lines else '-'})"

    def sub(self, start: int, end: int) -> Positions:
        """The positions of ``args[start:end]``."""
        end = min(end, self._length)
        if start >= end:
            return Positions((), (), (), 0)
        if len(self._starts) == 1:
            return Positions((0,), self._lines, (self._columns[0] + start,), end - start)
        first = bisect.bisect_right(self._starts, start) - 1
        last = bisect.bisect_left(self._starts, end)
        starts, lines, columns = [], [], []
        for run in range(first, last):
            begin = max(self._starts[run], start)
            starts.append(begin - start)
            lines.append(self._lines[run])
            columns.append(self._columns[run] + begin - self._starts[run])
        return Positions(tuple(starts), tuple(lines), tuple(columns), end - start)

    def span(self, start: int, end: int) -> Span:
        """Span of the characters ``start`` to ``end`` (exclusive); needs 0 <= start < end."""
        line, column = self[start]
        end_line, end_column = self[end - 1]
        return Span(line, column, end_line, end_column + 1)


class Flag(Struct, frozen=True):
    """``--name=value`` before an instruction's arguments (``--from``, ``--mount``...)."""

    name: str  # without dashes, lower case: "from", "mount", "platform", "chown", "link"
    value: str | None  # None for a bare flag such as ``--link``
    span: Span


class Heredoc(Struct, frozen=True):
    name: str  # the delimiter word, unquoted
    body: str  # the body text (lines between the opener and the delimiter), "\n"-joined, tabs stripped for <<-
    quoted: bool  # <<'EOF' or <<"EOF": no variable expansion in the body
    strip_tabs: bool  # <<-EOF
    fd: int | None  # a leading digit, as in 3<<EOF
    body_line: int  # 1-based line of the body's first line
    span: Span  # from the first body line to the delimiter line, inclusive


class Instruction(Struct, frozen=True):
    keyword: str  # upper case: "RUN", "FROM", ...
    span: Span  # the whole instruction: keyword to its last continuation or heredoc line
    flags: tuple[Flag, ...]
    # The arguments after the flags, as BuildKit joins them: continuation markers
    # removed, comment and blank lines inside the continuation dropped.
    args: str
    # For each character of ``args``, its (line, column) in the file. Lets shell words
    # and COPY sources be reported at their exact place. Same length as ``args``.
    positions: Positions
    # Exec (JSON array) form, else None. For HEALTHCHECK, the array after ``CMD``.
    json_args: tuple[str, ...] | None
    heredocs: tuple[Heredoc, ...] = ()  # for ONBUILD RUN <<EOF, held by the inner instruction
    onbuild: Instruction | None = None  # the inner instruction of ONBUILD
    index: int = 0  # position in Dockerfile.instructions

    def span_of(self, start: int, end: int) -> Span:
        """Span of ``args[start:end]`` (end exclusive)."""
        if not self.positions:
            return self.span
        start = max(0, min(start, len(self.positions) - 1))
        last = max(start, min(end, len(self.positions)) - 1)
        line, column = self.positions[start]
        end_line, end_column = self.positions[last]
        return Span(line, column, end_line, end_column + 1)

    def flag(self, name: str) -> Flag | None:
        for flag in self.flags:
            if flag.name == name:
                return flag
        return None

    def flags_named(self, name: str) -> tuple[Flag, ...]:
        return tuple(flag for flag in self.flags if flag.name == name)


class Stage(Struct, frozen=True):
    index: int
    name: str | None  # the AS name, lower-cased as BuildKit does
    from_instruction: Instruction
    base: str  # the FROM image reference as written (before expansion)
    base_resolved: str  # after expanding global ARGs with their defaults
    platform: str | None
    instructions: tuple[Instruction, ...]  # FROM first, then the stage's instructions


class Comment(Struct, frozen=True):
    line: int
    text: str  # without the leading "#", stripped


class Dockerfile(Struct, frozen=True):
    text: Text
    directives: Mapping[str, str]  # lower-case key -> value: syntax, escape, check
    escape: str  # "\\" or "`"
    instructions: tuple[Instruction, ...]
    # ARGs before the first FROM: (name, default). The default is as BuildKit holds it:
    # quotes removed and earlier global ARGs expanded; None when the ARG has none.
    global_args: tuple[tuple[str, str | None], ...]
    stages: tuple[Stage, ...]
    comments: tuple[Comment, ...]  # every comment line (not directives), with its line
    problems: tuple[Problem, ...] = field(default=())


# --- word expansion ------------------------------------------------------------------


def expand(value: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """Expand variables as BuildKit does, leaving quotes and other escapes in place.

    Single-quoted text is not expanded. ``${V?err}`` and modifiers this reader does not
    evaluate (``#``, ``%``, ``/``) are left as written.
    """
    if "$" not in value:
        return value
    return _WordProcessor(value, env, escape, keep_quotes=True).result()


def expand_word(value: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """BuildKit's processing of an ARG/ENV/FROM word: expansion, quote removal, escapes."""
    return _WordProcessor(value, env, escape, keep_quotes=False).result()


class _TooLong(Exception):
    """An expansion grew past ``MAX_EXPANDED_LENGTH``."""


class _WordProcessor:
    """One pass over a word; ``env=None`` keeps ``$`` text literally (heredoc names)."""

    def __init__(self, text: str, env: Mapping[str, str] | None, escape: str, keep_quotes: bool):
        self.text = text
        self.env = env
        self.escape = escape if escape in _PLAIN else "\\"
        self.keep_quotes = keep_quotes
        self.plain = _PLAIN[self.escape]

    def result(self) -> str:
        self.budget = MAX_EXPANDED_LENGTH + len(self.text)
        try:
            return self._scan(0, in_braces=False, depth=0)[0]
        except _TooLong:
            return self.text

    def _value(self, value: str) -> str:
        """A variable's value, counted against the expansion's length budget."""
        self.budget -= len(value)
        if self.budget < 0:
            raise _TooLong
        return value

    def _scan(self, i: int, in_braces: bool, depth: int) -> tuple[str, int]:
        """Process from ``i`` to the end, or to the ``}`` closing a ``${``; returns (text, index)."""
        text, n, escape, out = self.text, len(self.text), self.escape, []
        while i < n:
            ch = text[i]
            if ch == "}" and in_braces:
                return "".join(out), i
            if ch == escape:
                i = self._escaped(i, out, "")
            elif ch == "'":
                close = text.find("'", i + 1)
                close = n if close == -1 else close
                out.append(text[i : close + 1] if self.keep_quotes else text[i + 1 : close])
                i = close + 1
            elif ch == '"':
                i = self._double_quoted(i, out, depth)
            elif ch == "$":
                i = self._dollar(i, out, depth)
            else:
                found = self.plain.search(text, i + 1)
                end = found.start() if found else n
                out.append(text[i:end])
                i = end
        return "".join(out), n

    def _escaped(self, i: int, out: list[str], only: str) -> int:
        """An escape at ``i``: ``\\$`` gives ``$``; outside quotes (``only`` empty) any
        character is escaped; inside double quotes only the characters in ``only``."""
        text = self.text
        if i + 1 >= len(text):
            if self.keep_quotes:
                out.append(text[i])
            return i + 1
        following = text[i + 1]
        if following == "$" and self.env is not None:
            out.append("$")
        elif self.keep_quotes or (only and following not in only):
            out.append(text[i : i + 2])
        else:
            out.append(following)
        return i + 2

    def _double_quoted(self, i: int, out: list[str], depth: int) -> int:
        text, n, escape = self.text, len(self.text), self.escape
        if self.keep_quotes:
            out.append('"')
        i += 1
        while i < n:
            ch = text[i]
            if ch == '"':
                if self.keep_quotes:
                    out.append('"')
                return i + 1
            if ch == escape:
                i = self._escaped(i, out, '"$' + escape)
            elif ch == "$":
                i = self._dollar(i, out, depth)
            else:
                out.append(ch)
                i += 1
        return n

    def _dollar(self, i: int, out: list[str], depth: int) -> int:
        text, n, env = self.text, len(self.text), self.env
        if env is None or depth >= _MAX_NESTING:
            out.append("$")
            return i + 1
        if i + 1 < n and text[i + 1] == "{":
            name = _NAME.match(text, i + 2)
            if not name:
                out.append("${")
                return i + 2
            at = name.end()
            colon = at < n and text[at] == ":"
            operator = text[at + colon] if at + colon < n else ""
            if operator == "}" and not colon:
                out.append(self._value(env.get(name.group(), "")))
                return at + 1
            evaluated = operator in ("-", "+")
            start = at + colon + 1 if evaluated or operator == "?" else at
            word, close = self._scan(start, in_braces=True, depth=depth + 1)
            if close >= n or not evaluated:  # unterminated, ${V?err} or ${V#x}: keep as written
                out.append(text[i : close + 1])
                return close + 1
            value = env.get(name.group())
            is_set = value is not None and (value != "" or not colon)
            if operator == "-":
                out.append(self._value(value) if is_set else word)  # type: ignore[arg-type]
            else:
                out.append(word if is_set else "")
            return close + 1
        name = _NAME.match(text, i + 1)
        if not name:
            out.append("$")
            return i + 1
        out.append(self._value(env.get(name.group(), "")))
        return name.end()


# --- instruction lines -----------------------------------------------------------------


def _cut_continuation(line: str, escape: str) -> tuple[str, bool]:
    """BuildKit's continuation rule: the escape character is the last non-blank (space or
    tab) one and is not itself escaped. Returns the line without it, and whether it was."""
    trimmed = line.rstrip(" \t")
    if trimmed.endswith(escape) and (len(trimmed) == 1 or trimmed[-2] != escape):
        return trimmed[:-1], True
    return line, False


def _dequote_flag(word: str) -> str:
    """A flag word as BuildKit's flag reader keeps it: quotes dropped, ``\\x`` gives ``x``."""
    out, quote, i, n = [], "", 0, len(word)
    while i < n:
        ch = word[i]
        if ch == "\\":
            if i + 1 < n:
                i += 1
                out.append(word[i])
        elif ch == quote:
            quote = ""
        elif ch in "'\"" and not quote:
            quote = ch
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _split_flags(text: str, i: int) -> tuple[list[tuple[str, int, int]], int]:
    """BuildKit's flag reader: the leading ``--name[=value]`` words; a lone ``--`` ends
    them. Returns (word without quotes, start, end) for each flag and where the
    arguments begin."""
    flags: list[tuple[str, int, int]] = []
    while True:
        i = _BLANKS.match(text, i).end()
        if not text.startswith("--", i):
            return flags, i
        found = _FLAG_WORD.match(text, i)
        word = found.group()
        if "\\" in word or "'" in word or '"' in word:
            word = _dequote_flag(word)
        if word == "--":
            return flags, found.end()
        flags.append((word, i, found.end()))
        i = found.end()


class _Command(NamedTuple):
    """An instruction line split the way BuildKit's ``splitCommand`` does."""

    keyword: str  # as written
    flags: tuple[Flag, ...]
    args: str
    positions: Positions  # of ``args``
    line_positions: Positions  # of the whole text the command was read from
    keyword_start: int
    keyword_end: int

    @property
    def keyword_span(self) -> Span:
        return self.line_positions.span(self.keyword_start, self.keyword_end)


def _read_command(text: str, positions: Positions) -> _Command | None:
    command = _COMMAND.match(text)
    if not command:
        return None
    args_start, flags = command.end(), []
    if text.startswith("--", args_start):
        found, after_flags = _split_flags(text, args_start)
        for word, start, end in found:
            name, equals, value = word[2:].partition("=")
            flags.append(Flag(name.lower(), value if equals else None, positions.span(start, end)))
        args_start = _BLANKS.match(text, after_flags).end()
    args = text[args_start:].rstrip()
    return _Command(
        command.group(1),
        tuple(flags),
        args,
        positions.sub(args_start, args_start + len(args)),
        positions,
        command.start(1),
        command.end(1),
    )


def _one_argument_copy(keyword: str, word: str) -> str:
    """BuildKit refuses a COPY or ADD with no destination; `COPY requirements.txt.` is
    most often a missing space before the `.`."""
    message = f"{keyword} requires a source and a destination; `{word}` is one argument"
    if len(word) > 1 and word.endswith(".") and not word.endswith("..."):
        message += f" (a space missing before the destination: `{keyword} {word[:-1]} {word[-1]}`?)"
    return message


def _pairs_problem(keyword: str, args: str) -> str | None:
    """What BuildKit refuses in ``ENV``/``ARG`` name=value lists: a blank name, or (ENV)
    a word without ``=`` after the first one used it."""
    words = [word.group() for word in _RAW_WORD.finditer(args)]
    if keyword == "ENV" and words and "=" not in words[0]:
        return None if len(words) > 1 else "ENV needs a value: `ENV NAME=value`"
    for word in words:
        name, equals, _ = word.partition("=")
        if not name:
            return f"{keyword} names cannot be blank: `{word}`"
        if keyword == "ENV" and not equals:
            return f"ENV expects name=value pairs, and `{word}` has no `=`"
    return None


def _json_form(keyword: str, args: str) -> tuple[tuple[str, ...] | None, bool]:
    """(exec-form arguments or None, whether the array held something other than strings).

    BuildKit falls back to shell form for text that is not a JSON array, but refuses an
    array with non-string items."""
    if keyword == "HEALTHCHECK":
        head_and_rest = args.split(None, 1)
        if len(head_and_rest) != 2 or head_and_rest[0].upper() != "CMD":
            return None, False
        args = head_and_rest[1]
    elif keyword not in _JSON_KEYWORDS:
        return None, False
    if not args.startswith("["):
        return None, False
    try:
        value = json.loads(args)
    except (ValueError, RecursionError):
        return None, False
    if not isinstance(value, list):
        return None, False
    if not all(isinstance(item, str) for item in value):
        return None, True
    return tuple(value), False


class _Opener(Struct):
    name: str
    quoted: bool
    strip_tabs: bool
    fd: int | None
    start: int  # the opener word in the instruction text
    end: int


def _heredoc_openers(text: str) -> list[_Opener]:
    """Heredoc openers among the words of the joined line, as BuildKit finds them: a whole
    word ``[fd]<<[-]NAME``; quoted words and ``<<<`` here-strings do not match."""
    openers = []
    for word in _RAW_WORD.finditer(text):
        match = _HEREDOC_OPENER.fullmatch(word.group())
        if not match or not match.group(3):
            continue
        rest = match.group(3)
        name = _WordProcessor(rest, None, "\\", keep_quotes=False).result()
        if not name:
            continue
        quotes_removed = rest.count("'") + rest.count('"') - name.count("'") - name.count('"')
        fd = int(match.group(1)) if match.group(1) else None
        openers.append(_Opener(name, quotes_removed > 0, match.group(2) == "-", fd, word.start(), word.end()))
    return openers


# --- the file --------------------------------------------------------------------------


def parse_dockerfile(text: str) -> Dockerfile:
    # A large file becomes a million small objects, none of them in a cycle; the cyclic
    # collector would still walk the growing heap again and again, and more than double
    # the time of a 10 MB parse. So it is paused meanwhile (and restored as it was).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _Reader(text).read()
    finally:
        if collecting:
            gc.enable()


class _Reader:
    def __init__(self, text: str):
        self.text = text
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()  # the text ends with a newline, not with an empty line
        if "\r" in text:
            lines = [line.rstrip("\r") for line in lines]
        if lines and lines[0].startswith("\ufeff"):
            lines[0] = " " + lines[0][1:]  # a stray BOM: blank, so columns stay those of the file
        self.lines = lines
        self.escape = "\\"
        self.directives: dict[str, str] = {}
        self.instructions: list[Instruction] = []
        self.comments: list[Comment] = []
        self.problems: list[Problem] = []
        self.saw_instruction = False
        self.saw_from = False

    def problem(self, message: str, span: Span) -> None:
        if len(self.problems) < MAX_PROBLEMS_PER_FILE:
            self.problems.append(Problem("SYN001", message, span))
        elif len(self.problems) == MAX_PROBLEMS_PER_FILE:
            message = f"more than {MAX_PROBLEMS_PER_FILE:,} problems in this file: the rest are not reported"
            self.problems.append(Problem("SYN001", message, span))

    def line_span(self, index: int) -> Span:
        return Span.whole_line(index + 1, self.lines[index])

    def read(self) -> Dockerfile:
        index = self.read_directives()
        lines, count = self.lines, len(self.lines)
        while index < count:
            stripped = lines[index].lstrip()
            if not stripped:
                index += 1
            elif stripped[0] == "#":
                self.comments.append(Comment(index + 1, stripped[1:].strip()))
                index += 1
            else:
                index = self.read_instruction(index, stripped)
        if not self.saw_instruction:
            self.problem("file with no instructions", Span(max(count, 1), 1, max(count, 1), 1))
        global_args, stages = self.stages()
        return Dockerfile(
            text=Text.of(self.text),
            directives=self.directives,
            escape=self.escape,
            instructions=tuple(self.instructions),
            global_args=global_args,
            stages=stages,
            comments=tuple(self.comments),
            problems=tuple(sorted(self.problems, key=lambda p: (p.span.line, p.span.column))),
        )

    def read_directives(self) -> int:
        """Parser directives at the top; the first other line ends them. Returns its index."""
        for index, line in enumerate(self.lines):
            match = _DIRECTIVE.match(line.lstrip())
            value = match.group(2).strip(_GO_BLANKS) if match else ""
            if not value or match.group(1).lower() not in _DIRECTIVE_KEYS:
                return index
            key = match.group(1).lower()
            if key in self.directives:
                self.problem(f"only one {key} parser directive can be used", self.line_span(index))
                continue
            self.directives[key] = value
            if key == "escape":
                if value in ("\\", "`"):
                    self.escape = value
                else:
                    self.problem(f"invalid escape token {value!r}: use ` or \\", self.line_span(index))
        return len(self.lines)

    def read_instruction(self, index: int, stripped: str) -> int:
        """Join one instruction's lines, read its heredoc bodies; returns the next line's index."""
        line = self.lines[index]
        if stripped[-1] in " \t" or stripped[-1] == self.escape:
            content, continued = _cut_continuation(stripped, self.escape)
        else:
            content, continued = stripped, False
        column = len(line) - len(stripped) + 1
        if continued:
            joined, positions, index, last = self.join_continuation(content, index, column)
        else:  # most instructions fit on one line
            joined, positions, last = content, Positions((0,), (index + 1,), (column,), len(content)), index
        command = _read_command(joined, positions)
        if command is None:  # a lone escape character followed by nothing
            return index + 1
        self.saw_instruction = True
        keyword = command.keyword.upper()
        inner = _read_command(command.args, command.positions) if keyword == "ONBUILD" else None
        heredoc_keyword = inner.keyword.upper() if inner else keyword
        heredocs: list[Heredoc] = []
        next_index = index + 1
        if heredoc_keyword in _HEREDOC_KEYWORDS and "<<" in joined:
            if _json_form(heredoc_keyword, (inner or command).args)[0] is None:
                heredocs, next_index = self.read_heredocs(_heredoc_openers(joined), positions, next_index)
        if heredocs:
            last = next_index - 1
        end_line = self.lines[last].rstrip()
        line_number, column = positions[command.keyword_start]
        span = Span(line_number, column, last + 1, len(end_line) + 1)
        self.add_instruction(keyword, command, inner, span, tuple(heredocs))
        return next_index

    def join_continuation(self, content: str, index: int, column: int) -> tuple[str, Positions, int, int]:
        """The lines after a continued one, joined as BuildKit does. Returns the joined text,
        its positions, the index of the last line read and of the last one that counted."""
        lines, count, escape = self.lines, len(self.lines), self.escape
        chunks, starts, line_numbers, columns = [], [], [], []
        length, last, continued = 0, index, True
        if content:
            chunks, starts, line_numbers, columns, length = [content], [0], [index + 1], [column], len(content)
        while continued and index + 1 < count:
            index += 1
            line = lines[index]
            stripped = line.lstrip()
            if not stripped:
                continue  # BuildKit skips it (and warns NoEmptyContinuation)
            if stripped[0] == "#":
                self.comments.append(Comment(index + 1, stripped[1:].strip()))
                continue
            content, continued = _cut_continuation(line, escape)
            if content:
                chunks.append(content)
                starts.append(length)
                line_numbers.append(index + 1)
                columns.append(1)
                length += len(content)
            last = index
        positions = Positions(tuple(starts), tuple(line_numbers), tuple(columns), length)
        return "".join(chunks), positions, index, last

    def read_heredocs(self, openers: list[_Opener], positions: Positions, index: int) -> tuple[list[Heredoc], int]:
        """Each body runs from the line after the previous one to a line equal to its name."""
        lines, count, heredocs = self.lines, len(self.lines), []
        for opener in openers:
            first, body, closed = index, [], False
            while index < count:
                line = lines[index]
                index += 1
                candidate = line.lstrip("\t") if opener.strip_tabs else line
                if candidate == opener.name:
                    closed = True
                    break
                body.append(candidate)
            if not closed:
                self.problem(
                    f"unterminated heredoc: no line {opener.name!r} closes the heredoc opened here",
                    positions.span(opener.start, opener.end),
                )
            last = max(index - 1, first - 1)
            span_start = min(first, last)
            heredocs.append(
                Heredoc(
                    name=opener.name,
                    body="\n".join(body),
                    quoted=opener.quoted,
                    strip_tabs=opener.strip_tabs,
                    fd=opener.fd,
                    body_line=first + 1,
                    span=Span(span_start + 1, 1, last + 1, len(lines[last]) + 1),
                )
            )
        return heredocs, index

    def add_instruction(
        self, keyword: str, command: _Command, inner: _Command | None, span: Span, heredocs: tuple[Heredoc, ...]
    ) -> None:
        if keyword not in KEYWORDS:
            self.problem(f"unknown instruction: {command.keyword}", command.keyword_span)
            return
        if not command.args and keyword not in _ARGUMENTS_OPTIONAL:
            what = "an image" if keyword == "FROM" else "at least one argument"
            self.problem(f"{keyword} requires {what}", span)
            return
        onbuild = None
        if inner is not None:
            inner_keyword = inner.keyword.upper()
            if inner_keyword not in KEYWORDS:
                self.problem(f"unknown instruction after ONBUILD: {inner.keyword}", inner.keyword_span)
                return
            if inner_keyword in _NOT_TRIGGERS:
                # BuildKit refuses the file; the instruction is kept (hadolint's DL3043 names it).
                self.problem(f"{inner_keyword} isn't allowed as an ONBUILD trigger", inner.keyword_span)
            line_number, column = inner.line_positions[inner.keyword_start]
            inner_span = Span(line_number, column, span.end_line, span.end_column)
            onbuild = self.build(inner_keyword, inner, inner_span, heredocs, None)
            heredocs = ()
        if keyword == "FROM":
            self.saw_from = True
        elif not self.saw_from and keyword != "ARG":
            self.problem(f"{keyword} before the first FROM: only ARG may come before FROM", span)
        self.instructions.append(self.build(keyword, command, span, heredocs, onbuild))

    def build(
        self, keyword: str, command: _Command, span: Span, heredocs: tuple[Heredoc, ...], onbuild: Instruction | None
    ) -> Instruction:
        json_args, not_strings = None, False
        if command.args.startswith("[") or keyword == "HEALTHCHECK":
            json_args, not_strings = _json_form(keyword, command.args)
        if not_strings:
            self.problem(f"{keyword}: a JSON array form must hold only strings", span)
        if keyword in ("ENV", "ARG"):
            message = _pairs_problem(keyword, command.args)
            if message:
                self.problem(message, span)
        if keyword in ("COPY", "ADD"):
            words = json_args if json_args is not None else [w for w in command.args.split() if not w.startswith("--")]
            if len(words) == 1:
                self.problem(_one_argument_copy(keyword, words[0]), span)
        return Instruction(
            keyword=keyword,
            span=span,
            flags=command.flags,
            args=command.args,
            positions=command.positions,
            json_args=json_args,
            heredocs=heredocs,
            onbuild=onbuild,
            index=len(self.instructions),
        )

    def stages(self) -> tuple[tuple[tuple[str, str | None], ...], tuple[Stage, ...]]:
        global_args: list[tuple[str, str | None]] = []
        env: dict[str, str] = {}
        stages: list[Stage] = []
        current: list[Instruction] = []
        for instruction in self.instructions:
            if instruction.keyword == "FROM":
                if current:
                    stages.append(self.stage(len(stages), current, env))
                current = [instruction]
            elif current:
                current.append(instruction)
            elif instruction.keyword == "ARG":
                for word in _RAW_WORD.finditer(instruction.args):
                    name, equals, default = word.group().partition("=")
                    value = expand_word(default, env, self.escape) if equals else None
                    global_args.append((name, value))
                    if value is not None:
                        env[name] = value
        if current:
            stages.append(self.stage(len(stages), current, env))
        return tuple(global_args), tuple(stages)

    def stage(self, index: int, instructions: list[Instruction], env: Mapping[str, str]) -> Stage:
        from_instruction = instructions[0]
        words = from_instruction.args.split()
        has_name = len(words) == 3 and words[1].lower() == "as"
        if len(words) not in (1, 3) or (len(words) == 3 and not has_name):
            self.problem("FROM takes an image and optionally `AS name`", from_instruction.span)
        platform = from_instruction.flag("platform")
        return Stage(
            index=index,
            name=words[2].lower() if has_name else None,
            from_instruction=from_instruction,
            base=words[0],
            base_resolved=expand_word(words[0], env, self.escape),
            platform=platform.value if platform else None,
            instructions=tuple(instructions),
        )
