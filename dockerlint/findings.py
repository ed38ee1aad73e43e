"""What a check reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

from dockerlint.source import Span


class Severity(IntEnum):
    """Ordered so that ``a >= b`` means "at least as serious"."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, name: str) -> Severity:
        return cls[name.strip().upper()]

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Related:
    """Another place that explains a finding (the earlier layer, the other pin)."""

    path: Path
    span: Span
    message: str


@dataclass(frozen=True)
class Finding:
    """One problem at one place. ``path`` is absolute; reports make it relative.

    ``severity`` is left ``None`` by checks: the engine fills in the rule's configured
    level. ``size_bytes`` is what the problem costs the image, where it can be estimated.
    """

    code: str
    path: Path
    span: Span
    message: str
    fix: str | None = None
    size_bytes: int | None = None
    severity: Severity | None = None
    related: tuple[Related, ...] = field(default=())

    def sort_key(self) -> tuple:
        return (str(self.path), self.span.line, self.span.column, self.code, self.message)


@dataclass(frozen=True)
class Note:
    """Something the run could not do (an unreadable file): not a finding, never silent."""

    path: Path
    message: str
    level: str = "warning"  # SARIF notification level: "note", "warning" or "error"


def human_size(size: int) -> str:
    """Decimal units, rounded the way people say sizes: "1.2 GB", "350 MB"."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size} B"
