"""Security that ships with the image: who it runs as, and what it trusts at build time."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from dockerlint.checks import check
from dockerlint.checks.common import (
    external_base,
    final_chain,
    finding,
    from_image_span,
    join_spans,
)
from dockerlint.findings import Finding
from dockerlint.model import Image
from dockerlint.model.baseimage import base_image

DOWNLOADERS = frozenset({"curl", "wget", "fetch"})
INTERPRETERS = frozenset({"sh", "bash", "zsh", "ash", "dash", "ksh", "python", "python3", "perl", "ruby", "node"})


@check("SEC001")
def runs_as_root(image: Image) -> Iterator[Finding]:
    final = image.final
    if final is None:
        return
    if any(step.keyword == "USER" for stage in final_chain(image) for step in stage.steps):
        return  # an explicit USER: DL3002 judges a final `USER root`
    ref, stage = external_base(image, final)
    facts = base_image(ref)
    if facts is None or facts.runs_as_root is not True:
        return  # unknown base images may set their own USER: stay quiet
    yield finding(
        image,
        "SEC001",
        from_image_span(final),
        f"the final stage has no USER, so the container runs as root (the default of `{ref.raw}`)",
        "Create an unprivileged user and switch to it at the end of the final stage: "
        "`RUN useradd --create-home --uid 10001 app` then `USER app`.",
    )


def _interpreter(argv: tuple[str, ...]) -> str | None:
    """The interpreter a pipe feeds (``sh``, ``sudo bash``, ``python3 -``), if any."""
    words = list(argv)
    while words and posixpath.basename(words[0]) in ("sudo", "env", "exec"):
        words = words[1:]
        while words and (words[0].startswith("-") or "=" in words[0]):
            words = words[1:]
    if not words:
        return None
    name = posixpath.basename(words[0])
    return name if name in INTERPRETERS or name.startswith("python3.") else None


@check("SEC003")
def pipe_to_shell(image: Image) -> Iterator[Finding]:
    for stage in image.stages:
        if not stage.reachable:
            continue
        for step in stage.runs():
            pipelines: dict[int, list] = {}
            for command in step.commands:
                pipelines.setdefault(command.command.pipeline, []).append(command)
                if command.name in ("sh", "bash", "zsh", "ash", "dash") and any(
                    marker in word.raw
                    for word in command.command.words[1:]
                    for marker in ("$(curl", "$(wget", "<(curl", "<(wget", "`curl", "`wget")
                ):
                    yield _finding(image, command.span, command.name)
            for members in pipelines.values():
                members.sort(key=lambda c: c.command.pipe_position)
                downloader = next((c for c in members if c.name in DOWNLOADERS), None)
                if downloader is None:
                    continue
                for later in members:
                    if later.command.pipe_position <= downloader.command.pipe_position:
                        continue
                    interpreter = _interpreter(later.argv)
                    if interpreter:
                        yield _finding(image, join_spans(downloader.span, later.span), interpreter)
                        break


def _finding(image: Image, span, interpreter: str) -> Finding:
    return finding(
        image,
        "SEC003",
        span,
        f"a script downloaded at build time is piped into `{interpreter}` unchecked: whoever controls "
        "that URL controls the image",
        "Download to a file, verify its checksum (or use `ADD --checksum=sha256:...`), then run it; "
        "or install the tool from a package manager.",
    )
