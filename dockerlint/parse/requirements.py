"""pip requirements and constraints files.

INTERFACE (other modules rely on these names; keep them):

- ``parse_requirements(data: bytes) -> RequirementsFile`` never raises. It decodes as pip
  does (UTF-8 with or without BOM, UTF-16 with BOM; invalid bytes replaced with a problem).
- ``load_requirements(path: Path, read: Callable[[Path], bytes | None]) -> RequirementSet``
  follows ``-r``/``-c`` includes relative to the including file, with a visited set:
  cycles and missing files become problems (code "REQ004"), never exceptions. ``read``
  returns None for a missing or unreadable file. Each file is parsed once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from dockerlint.source import Problem, Span


@dataclass(frozen=True)
class Requirement:
    name: str | None  # canonical name (packaging.utils.canonicalize_name); None for `-e .`, paths
    raw_name: str | None  # as written
    specifier: str  # "" when none: ">=1.0,<2"
    extras: tuple[str, ...]
    marker: str | None
    url: str | None  # `name @ url`, a VCS or file URL, or a local path
    editable: bool
    hashes: tuple[str, ...]
    text: str  # the logical line as written, continuations joined, comment removed
    span: Span  # from the first physical line/column of the requirement to its end
    path: Path | None = None  # filled in by load_requirements
    constraint: bool = False  # came from a -c file: takes part in resolution, installs nothing


@dataclass(frozen=True)
class Include:
    kind: str  # "requirement" (-r) or "constraint" (-c)
    target: str  # as written, after ${VAR} is left untouched
    span: Span


@dataclass(frozen=True)
class Options:
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    pre: bool = False


@dataclass(frozen=True)
class RequirementsFile:
    requirements: tuple[Requirement, ...]
    includes: tuple[Include, ...]
    options: Options
    problems: tuple[Problem, ...] = field(default=())  # REQ005 for lines pip would reject
    noqa: dict[int, frozenset[str] | None] = field(default_factory=dict)  # line -> codes (None: all)


@dataclass(frozen=True)
class RequirementSet:
    """Everything one ``pip install -r ROOT`` reads."""

    root: Path
    files: tuple[Path, ...]  # every file read, root first
    requirements: tuple[Requirement, ...]  # in pip's order, constraints marked
    options: Options  # merged over all files
    problems: tuple[tuple[Path, Problem], ...] = ()


def parse_requirements(data: bytes) -> RequirementsFile:
    raise NotImplementedError


def load_requirements(path: Path, read: Callable[[Path], bytes | None]) -> RequirementSet:
    raise NotImplementedError
