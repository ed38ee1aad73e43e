"""RUN scripts into simple commands.

INTERFACE (other modules rely on these names; keep them):

- ``parse_script(script: str) -> Script`` never raises. ``script`` is the text a shell
  would run: a shell-form RUN's arguments or a heredoc body.
- ``Command.start``/``Command.end`` and ``Word.start``/``Word.end`` are character offsets
  into ``script``, so the caller can map them to file positions.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Word:
    raw: str  # as written, quotes kept: '"$pkg"'
    value: str  # dequoted: '$pkg'; variables are not expanded
    start: int
    end: int


@dataclass(frozen=True)
class Command:
    """One simple command: ``A=1 pip install -r req.txt`` -> name "pip"."""

    words: tuple[Word, ...]  # argv, dequoted in ``Word.value``; redirections excluded
    assignments: tuple[tuple[str, str], ...]  # env prefixes: (("A", "1"),)
    start: int
    end: int
    pipeline: int  # id of the pipeline this command belongs to (unique per script)
    pipe_position: int  # 0 for the first command of a pipeline, 1 for the one after "|", ...
    pipe_length: int  # number of commands in that pipeline (1 when there is no pipe)
    nested: bool = False  # found inside $(...), backticks, or a `sh -c '...'` string

    @property
    def argv(self) -> tuple[str, ...]:
        return tuple(word.value for word in self.words)

    @property
    def name(self) -> str:
        """The program's base name ("/usr/bin/pip3" -> "pip3"); "" when there is none."""
        return self.words[0].value.rsplit("/", 1)[-1] if self.words else ""


@dataclass(frozen=True)
class Script:
    commands: tuple[Command, ...]  # in source order, including nested ones
    has_error: bool  # the parser had to recover somewhere
    pipefail: bool  # `set -o pipefail` (or `set -euo pipefail` etc.) runs before any pipe


def parse_script(script: str) -> Script:
    raise NotImplementedError
