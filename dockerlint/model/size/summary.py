"""One image's size in the shape reports print: the estimate and its range, the parts,
the instructions they come from, and what each finding's fix saves."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from msgspec import Struct

from dockerlint.findings import Finding
from dockerlint.model.image import Image
from dockerlint.model.size.bill import Part
from dockerlint.model.size.savings import compute_savings


class InstructionSize(Struct, frozen=True):
    line: int
    text: str  # the instruction, on one line, shortened
    bytes: int  # known bytes it adds
    unknown: int  # parts of unknown size it adds


class SavingRow(Struct, frozen=True):
    code: str
    path: Path
    line: int
    bytes: int
    message: str


class ImageSize(Struct, frozen=True):
    dockerfile: Path
    context: Path
    target: str | None
    estimated: int
    low: int
    high: int
    unknown: int  # parts of unknown size (not counted in the estimate)
    after: int  # the estimate with every fix applied
    parts: tuple[Part, ...]
    instructions: tuple[InstructionSize, ...]
    savings: tuple[SavingRow, ...]  # in the order they were applied

    @property
    def saved(self) -> int:
        return sum(row.bytes for row in self.savings)


def image_size(image: Image, findings: Iterable[Finding] = ()) -> ImageSize | None:
    """The size of ``image`` and what fixing ``findings`` (its own) saves; None when the
    Dockerfile has no stage."""
    savings = compute_savings(image, findings)
    if savings is None:
        return None
    bill = savings.before
    estimated, low, high, unknown = bill.totals()
    parts = tuple(bill.parts)
    return ImageSize(
        dockerfile=image.dockerfile_path,
        context=image.context_root,
        target=image.target,
        estimated=estimated,
        low=low,
        high=high,
        unknown=unknown,
        after=savings.after.estimate,
        parts=parts,
        instructions=_instructions(image, parts),
        savings=tuple(
            SavingRow(s.finding.code, s.finding.path, s.finding.span.line, s.bytes, s.finding.message)
            for s in savings.savings
        ),
    )


def _instructions(image: Image, parts: tuple[Part, ...]) -> tuple[InstructionSize, ...]:
    by_line: dict[int, list[Part]] = {}
    for part in parts:
        by_line.setdefault(part.instruction, []).append(part)
    ends = {
        step.instruction.span.line: step.instruction.span.end_line for stage in image.stages for step in stage.steps
    }
    rows = []
    for line, members in sorted(by_line.items()):
        last = min(ends.get(line, line), line + 5)
        written = [image.dockerfile.text.line(number) for number in range(line, last + 1)]
        text = re.sub(r"\s+", " ", " ".join(part.rstrip().rstrip("\\") for part in written)).strip()
        rows.append(
            InstructionSize(
                line,
                text,
                sum(part.bytes or 0 for part in members),
                sum(1 for part in members if part.bytes is None),
            )
        )
    return tuple(rows)
