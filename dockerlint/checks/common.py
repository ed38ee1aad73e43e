"""Small questions many checks ask of the model."""

from __future__ import annotations

import re

from dockerlint.findings import Finding, Fix
from dockerlint.model import Image, StageModel
from dockerlint.model.queries import external_base, final_chain, image_matches  # noqa: F401 (used by checks)
from dockerlint.parse.dockerfile import Instruction
from dockerlint.source import Span


def args_words(instruction: Instruction) -> list[tuple[str, Span]]:
    """Whitespace-separated words of an instruction's arguments, each with its span."""
    return [
        (match.group(0), instruction.span_of(match.start(), match.end()))
        for match in re.finditer(r"\S+", instruction.args)
    ]


def from_image_span(stage: StageModel) -> Span:
    """The image a FROM names (its first word; a FROM line of a million words makes no list)."""
    instruction = stage.from_instruction
    first = re.search(r"\S+", instruction.args)
    return instruction.span_of(first.start(), first.end()) if first else instruction.span


def finding(
    image: Image,
    code: str,
    span: Span,
    message: str,
    fix: str | None = None,
    size_bytes: int | None = None,
    related=(),
    autofix: Fix | None = None,
) -> Finding:
    return Finding(code, image.dockerfile_path, span, message, fix, size_bytes, related=tuple(related), autofix=autofix)


def join_spans(first: Span, last: Span) -> Span:
    """From the start of ``first`` to the end of ``last``."""
    return Span(first.line, first.column, last.end_line, last.end_column)


def silenced(image: Image, path, line: int, code: str) -> bool:
    """Whether a requirements file's line carries `# noqa` (or `# noqa: CODE`): an entry that
    is not folded into a finding on another line, which that comment would not silence."""
    if path.suffix == ".toml" or not image.workspace.is_file(path):
        return False
    lines = image.workspace.requirements(path).noqa.get(path, {})
    if line not in lines:
        return False
    codes = lines[line]
    return codes is None or code in codes
