"""Small questions many checks ask of the model."""

from __future__ import annotations

import re
from collections.abc import Iterable
from fnmatch import fnmatchcase

from dockerlint.findings import Finding
from dockerlint.model import Image, ImageRef, StageModel
from dockerlint.parse.dockerfile import Instruction
from dockerlint.source import Span


def final_chain(image: Image) -> list[StageModel]:
    """The stages whose layers end up in the final image: the final stage and the stages
    it is built FROM, nearest first. A builder only copied from is not among them."""
    chain = []
    stage = image.final
    while stage is not None and stage not in chain:
        chain.append(stage)
        stage = image.stages[stage.parent] if stage.parent is not None else None
    return chain


def external_base(image: Image, stage: StageModel) -> tuple[ImageRef, StageModel]:
    """The registry image a stage is built on, following FROM <stage> links, and the
    stage whose FROM names it."""
    seen = set()
    while stage.parent is not None and stage.index not in seen:
        seen.add(stage.index)
        stage = image.stages[stage.parent]
    return stage.base, stage


def args_words(instruction: Instruction) -> list[tuple[str, Span]]:
    """Whitespace-separated words of an instruction's arguments, each with its span."""
    return [
        (match.group(0), instruction.span_of(match.start(), match.end()))
        for match in re.finditer(r"\S+", instruction.args)
    ]


def from_image_span(stage: StageModel) -> Span:
    words = args_words(stage.from_instruction)
    return words[0][1] if words else stage.from_instruction.span


def image_matches(ref: ImageRef, patterns: Iterable[str]) -> bool:
    """Shell-style patterns against the image name, or ``name:tag`` for patterns with a tag."""
    for pattern in patterns:
        if ":" in pattern.rsplit("/", 1)[-1]:
            if fnmatchcase(f"{ref.repository}:{ref.tag or 'latest'}", pattern):
                return True
        elif fnmatchcase(ref.repository, pattern) or fnmatchcase(ref.name, pattern):
            return True
    return False


def finding(
    image: Image, code: str, span: Span, message: str, fix: str | None = None, size_bytes: int | None = None, related=()
) -> Finding:
    return Finding(code, image.dockerfile_path, span, message, fix, size_bytes, related=tuple(related))


def join_spans(first: Span, last: Span) -> Span:
    """From the start of ``first`` to the end of ``last``."""
    return Span(first.line, first.column, last.end_line, last.end_column)
