"""Docker's .dockerignore matching, exactly (moby/patternmatcher semantics).

INTERFACE (other modules rely on these names; keep them):

- ``parse_dockerignore(text: str) -> IgnoreFile`` never raises; bad patterns become
  problems (code "SYN001") and are skipped.
- ``IgnoreFile.excludes(path: str) -> bool`` for a context-relative POSIX path
  ("src/app.py"): whether BuildKit leaves it out of the build context.
- ``IgnoreFile.may_prune(dir_path: str) -> bool``: a walker may skip this excluded
  directory entirely (no exception pattern could re-include anything below it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dockerlint.source import Problem


@dataclass(frozen=True)
class Pattern:
    text: str  # cleaned pattern, as matched
    exclusion: bool  # written with a leading "!"
    line: int


@dataclass(frozen=True)
class IgnoreFile:
    patterns: tuple[Pattern, ...]
    problems: tuple[Problem, ...] = field(default=())

    def excludes(self, path: str) -> bool:
        raise NotImplementedError

    def may_prune(self, dir_path: str) -> bool:
        raise NotImplementedError


def parse_dockerignore(text: str) -> IgnoreFile:
    raise NotImplementedError
