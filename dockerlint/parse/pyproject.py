"""Dependencies declared in pyproject.toml.

INTERFACE (other modules rely on these names; keep them):

- ``parse_pyproject(text: str) -> Pyproject`` never raises; TOML errors become a problem
  (code "SYN001") with the line TOML reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dockerlint.source import Problem, Span


@dataclass(frozen=True)
class Dependency:
    name: str | None  # canonical name; None when the string is not a valid requirement
    specifier: str
    extras: tuple[str, ...]
    marker: str | None
    text: str  # the requirement string as written
    group: str  # "project", "optional:<extra>", "group:<name>", "poetry", "poetry-group:<name>"
    span: Span  # where the string sits in the file (its line; columns of the string)


@dataclass(frozen=True)
class Pyproject:
    name: str | None  # [project].name or [tool.poetry].name
    dependencies: tuple[Dependency, ...]
    build_requires: tuple[str, ...] = ()
    tool: dict = field(default_factory=dict)  # the [tool] table as parsed (config reads [tool.dockerlint])
    problems: tuple[Problem, ...] = field(default=())


def parse_pyproject(text: str) -> Pyproject:
    raise NotImplementedError
