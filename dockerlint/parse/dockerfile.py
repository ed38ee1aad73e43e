"""Dockerfile reader, faithful to BuildKit's parser.

INTERFACE (other modules rely on these names; keep them):

- ``parse_dockerfile(text: str) -> Dockerfile`` never raises. ``text`` is already
  decoded with ``source.decode`` (BOM dropped, line endings normalised to LF).
- ``expand(value: str, env: Mapping[str, str], escape: str = "\\\\") -> str``:
  BuildKit-style word expansion of ``$V``, ``${V}``, ``${V:-x}``, ``${V-x}``, ``${V:+x}``,
  ``${V+x}``; unset variables expand to "" (as BuildKit does); escaped ``\\$`` stays ``$``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from dockerlint.source import Problem, Span, Text


@dataclass(frozen=True)
class Flag:
    """``--name=value`` before an instruction's arguments (``--from``, ``--mount``...)."""

    name: str  # without dashes, lower case: "from", "mount", "platform", "chown", "link"
    value: str | None  # None for a bare flag such as ``--link``
    span: Span


@dataclass(frozen=True)
class Heredoc:
    name: str  # the delimiter word, unquoted
    body: str  # the body text (lines between the opener and the delimiter), "\n"-joined, tabs stripped for <<-
    quoted: bool  # <<'EOF' or <<"EOF": no variable expansion in the body
    strip_tabs: bool  # <<-EOF
    fd: int | None  # a leading digit, as in 3<<EOF
    body_line: int  # 1-based line of the body's first line
    span: Span  # from the first body line to the delimiter line, inclusive


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: "RUN", "FROM", ...
    span: Span  # the whole instruction: keyword to its last continuation or heredoc line
    flags: tuple[Flag, ...]
    # The arguments after the flags, as BuildKit joins them: continuation markers
    # removed, comment and blank lines inside the continuation dropped.
    args: str
    # For each character of ``args``, its (line, column) in the file. Lets shell words
    # and COPY sources be reported at their exact place. Same length as ``args``.
    positions: tuple[tuple[int, int], ...]
    json_args: tuple[str, ...] | None  # exec (JSON array) form, else None
    heredocs: tuple[Heredoc, ...] = ()
    onbuild: "Instruction | None" = None  # the inner instruction of ONBUILD
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


@dataclass(frozen=True)
class Stage:
    index: int
    name: str | None  # the AS name, lower-cased as BuildKit does
    from_instruction: Instruction
    base: str  # the FROM image reference as written (before expansion)
    base_resolved: str  # after expanding global ARGs with their defaults
    platform: str | None
    instructions: tuple[Instruction, ...]  # FROM first, then the stage's instructions


@dataclass(frozen=True)
class Comment:
    line: int
    text: str  # without the leading "#", stripped


@dataclass(frozen=True)
class Dockerfile:
    text: Text
    directives: Mapping[str, str]  # lower-case key -> value: syntax, escape, check
    escape: str  # "\\" or "`"
    instructions: tuple[Instruction, ...]
    global_args: tuple[tuple[str, str | None], ...]  # ARGs before the first FROM: (name, default)
    stages: tuple[Stage, ...]
    comments: tuple[Comment, ...]  # every comment line (not directives), with its line
    problems: tuple[Problem, ...] = field(default=())


def expand(value: str, env: Mapping[str, str], escape: str = "\\") -> str:
    raise NotImplementedError


def parse_dockerfile(text: str) -> Dockerfile:
    raise NotImplementedError
