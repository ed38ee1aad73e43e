"""What a check reports."""

from __future__ import annotations

from enum import Enum, IntEnum
from pathlib import Path

from msgspec import Struct, field

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


class Related(Struct, frozen=True):
    """Another place that explains a finding (the earlier layer, the other pin)."""

    path: Path
    span: Span
    message: str


class Applicability(str, Enum):
    """How far a fix may be trusted (ruff's three levels).

    ``safe``: the image keeps working and gets smaller or more reproducible; ``--fix``
    applies it. ``unsafe``: right in nearly every case, but it changes what gets
    installed or copied; only ``--unsafe-fixes`` applies it. ``display-only``: a
    suggestion shown as a diff, never applied (which tag to pin is the user's choice)."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    DISPLAY_ONLY = "display-only"


class Edit(Struct, frozen=True):
    """Replace the text of ``span`` in ``path`` with ``content`` (an empty span inserts).
    A path that does not exist is created (``.dockerignore``); its span is 1:1-1:1."""

    path: Path
    span: Span
    content: str


class Fix(Struct, frozen=True):
    """Edits that fix one finding, applied together or not at all."""

    applicability: Applicability
    message: str
    edits: tuple[Edit, ...]


class Finding(Struct, frozen=True):
    """One problem at one place. ``path`` is absolute; reports make it relative.

    ``severity`` is filled in by the engine: the rule's configured level, or a lower one a
    check sets when it is unsure of the finding. ``size_bytes`` is what the problem costs
    the image, where it can be estimated.
    """

    code: str
    path: Path
    span: Span
    message: str
    fix: str | None = None
    size_bytes: int | None = None
    severity: Severity | None = None
    related: tuple[Related, ...] = field(default=())
    autofix: Fix | None = None  # ``fix`` is the advice in words; this is the edit
    # Other lines of the same file the finding speaks for (entries of one decision said
    # once): a finding on a file several images install needs each one's agreement on them.
    also_lines: tuple[int, ...] = ()

    def sort_key(self) -> tuple:
        return (str(self.path), *self.place_key())

    def place_key(self) -> tuple:
        """``sort_key`` within one file."""
        return (self.span.line, self.span.column, self.code, self.message)


class Note(Struct, frozen=True):
    """Something the run could not do (an unreadable file): not a finding, never silent."""

    path: Path
    message: str
    level: str = "warning"  # SARIF notification level: "note", "warning" or "error"


def human_size(size_bytes: int) -> str:
    """Decimal units, as registries and ``docker images`` show them: 1.2 GB, 350 MB, 12 kB.

    Below 10 of a unit one decimal is kept (a trailing ".0" is dropped)."""
    value, unit = float(max(size_bytes, 0)), "B"
    for larger in ("kB", "MB", "GB", "TB"):
        if round(value) < 1000:
            break
        value, unit = value / 1000, larger
    if unit == "B":
        return f"{int(value)} B"
    shown = f"{value:.1f}" if value < 9.95 else f"{value:.0f}"
    return f"{shown.removesuffix('.0')} {unit}"
