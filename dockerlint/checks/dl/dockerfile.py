"""The file as a whole: DL1001 inline ignore pragmas, DL3043 triggers ONBUILD refuses,
DL3061 instructions before the first FROM."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dockerlint.checks import check
from dockerlint.checks.common import finding
from dockerlint.checks.dl.common import instructions
from dockerlint.findings import Finding
from dockerlint.model import Image
from dockerlint.source import Span

# `# hadolint ignore=DL3008,SC2086` (an optional `# reason` after the list), as hadolint reads it.
_IGNORE_PRAGMA = re.compile(
    r"[ \t]*hadolint[ \t]+ignore[ \t]*=[ \t]*[DLSC0-9]+(?:[ \t]*,[ \t]*[DLSC0-9]+)*[ \t]*(?:#.*)?"
)


@check("DL1001")
def ignore_pragma(image: Image) -> Iterator[Finding]:
    text = image.dockerfile.text
    for comment in image.dockerfile.comments:
        line = text.line(comment.line)
        body = line.lstrip()[1:]
        if _IGNORE_PRAGMA.fullmatch(body):
            yield finding(
                image,
                "DL1001",
                Span.whole_line(comment.line, line),
                "an inline `# hadolint ignore=` pragma turns rules off for the next instruction",
                "Fix what the rule reports, or ignore the rule in the configuration where it is reviewed.",
            )


@check("DL3043")
def refused_trigger(image: Image) -> Iterator[Finding]:
    for _stage, step in instructions(image, "ONBUILD"):
        trigger = step.trigger
        if trigger is not None and trigger.keyword in ("ONBUILD", "FROM", "MAINTAINER"):
            yield finding(
                image,
                "DL3043",
                step.instruction.span,
                f"`ONBUILD {trigger.keyword}` is not allowed: BuildKit refuses the Dockerfile",
                "Remove it; ONBUILD takes the instructions that run when another image is built FROM "
                "this one (RUN, COPY, ENV...).",
            )


@check("DL3061")
def before_first_from(image: Image) -> Iterator[Finding]:
    if image.fragment is None:
        return
    for step in image.fragment.steps:
        if step.keyword != "ARG":
            yield finding(
                image,
                "DL3061",
                step.instruction.span,
                f"{step.keyword} before the first FROM: a Dockerfile starts with FROM (only ARG and comments "
                "may come before it)",
                "Move the instruction after FROM, or add the FROM this fragment is meant to follow.",
            )
