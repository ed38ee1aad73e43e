"""Regular expressions compiled on first use.

A module-level ``re.compile`` runs on import, in every run, even when the input never
reaches the code that matches it, and compiling is what most of these patterns cost: for
a pre-commit run on one small Dockerfile, the patterns of paths it never takes (escapes,
wheel names, ``#egg=`` fragments, ``# noqa`` comments...) cost more than its parsing.
``lazy_compile`` stands in for ``re.compile`` there.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase


class LazyPattern:
    """A ``re.Pattern`` compiled the first time one of its attributes is looked up. The
    attribute (``match``, ``search``, ``sub``...) is then kept on the object, so later
    calls find it directly and cost what calls of the compiled pattern cost."""

    def __init__(self, pattern: str | bytes, flags: int = 0) -> None:
        self._arguments = (pattern, flags)

    def __getattr__(self, name: str):  # only for a name not yet kept on the object
        value = getattr(re.compile(*self._arguments), name)
        setattr(self, name, value)
        return value


def lazy_compile(pattern: str | bytes, flags: int = 0) -> re.Pattern:
    """``re.compile``, at first use (the object has every attribute of the pattern)."""
    return LazyPattern(pattern, flags)  # type: ignore[return-value]


_GLOB_MAGIC = frozenset("*?[")


def glob_match(name: str, pattern: str) -> bool:
    """``fnmatch.fnmatchcase``, without compiling a pattern that has no wildcard: most
    patterns of the knowledge tables are plain names, and compiling each costs a run on
    one small Dockerfile more than matching them all."""
    if _GLOB_MAGIC.isdisjoint(pattern):
        return name == pattern
    return fnmatchcase(name, pattern)
