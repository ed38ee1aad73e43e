"""Reports: one module per output format, each a function from a ``Report`` to text.

INTERFACE (other modules rely on these names; keep them):

- ``FORMATS``: the names accepted by ``--output-format``.
- ``render(fmt, report, *, color=False, statistics=False) -> str``; imports the format's
  module lazily so that, for example, SARIF code never loads for a text run.

The helpers below are shared by the formats so that every format counts, labels and
sizes findings the same way.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path

from msgspec import Struct

from dockerlint.findings import Finding, Note, Severity
from dockerlint.fixes import FixSettings
from dockerlint.rulebook import Rule

FORMATS = ("text", "concise", "json", "sarif", "github")

# format -> (module in this package, function); each function takes
# ``(report, *, color, statistics)`` and returns the whole output.
_RENDERERS = {
    "text": ("text", "render_text"),
    "concise": ("text", "render_concise"),
    "json": ("json_format", "render_json"),
    "sarif": ("sarif", "render_sarif"),
    "github": ("github", "render_github"),
}


class ImageInfo(Struct, frozen=True):
    """One image the run analysed, and where its build context comes from."""

    dockerfile: Path
    context: Path
    target: str | None
    platforms: tuple[str, ...]
    build_args: tuple[tuple[str, str], ...]
    context_source: str  # config, compose, bake, skaffold, command or guess
    origin_path: Path | None  # the file that names the context
    origin_line: int | None
    detail: str  # the command as written, the compose service, or how the guess was made
    size: object | None = None  # its bill of bytes and savings (``ImageSize``), when computed

    @classmethod
    def of(cls, image, size=None) -> ImageInfo:
        """From a model ``Image`` (and its ``ImageSize``)."""
        origin = image.origin
        return cls(
            dockerfile=image.dockerfile_path,
            context=image.context_root,
            target=image.target,
            platforms=tuple(image.platforms),
            build_args=tuple(sorted(image.build_args.items())),
            context_source=origin.kind if origin is not None else "guess",
            origin_path=origin.path if origin is not None else None,
            origin_line=origin.line if origin is not None else None,
            detail=origin.detail if origin is not None else "",
            size=size,
        )


_SOURCE_WORDS = {
    "config": "from the configuration",
    "compose": "from a compose file",
    "bake": "from a bake file",
    "skaffold": "from skaffold",
    "command": "from a build command",
    "guess": "guessed",
}


def describe_image(report: Report, image: ImageInfo) -> str:
    """``docker/Dockerfile: context . from a build command (script/build.sh:4: docker build ...)``"""
    where = report.relative(image.origin_path) if image.origin_path is not None else ""
    if where and image.origin_line is not None:
        where += f":{image.origin_line}"
    evidence = ": ".join(part for part in (where, image.detail) if part)
    text = f"{report.relative(image.dockerfile)}: context {report.relative(image.context)} "
    text += _SOURCE_WORDS.get(image.context_source, image.context_source)
    if evidence:
        text += f" ({evidence})"
    if image.target:
        text += f", target {image.target}"
    if image.platforms:
        text += f", platform {','.join(image.platforms)}"
    return text


class Report(Struct, frozen=True):
    findings: tuple[Finding, ...]  # sorted; severity filled in by the engine
    notes: tuple[Note, ...]
    rules: Mapping[str, Rule]  # the rules that were run (SARIF lists them), by code
    files_checked: int
    root: Path  # paths are shown relative to this directory (the current directory)
    fail_level: Severity
    source_line: Callable[[Path, int], str]  # text of a 1-based line of a file ("" if unknown)
    fixed: tuple[Finding, ...] = ()  # findings whose fixes this run applied (--fix)
    fix_settings: FixSettings | None = None  # which fixes --fix would apply (None: say nothing)
    baseline: tuple[Finding, ...] | None = None  # with --baseline: the findings it holds (not reported)
    images: tuple[ImageInfo, ...] = ()  # the images analysed, in a stable order

    def relative(self, path: Path) -> str:
        """A path relative to ``root`` with forward slashes (absolute if outside it)."""
        return _relative(os.fspath(path), os.fspath(self.root))

    def severity(self, finding: Finding) -> Severity:
        """The finding's level: the engine's, else the rule's default, else warning."""
        if finding.severity is not None:
            return finding.severity
        rule = self.rules.get(finding.code)
        return rule.severity if rule is not None else Severity.WARNING

    def counts(self) -> dict[Severity, int]:
        """How many findings there are at each level (every level present, maybe 0)."""
        counts = dict.fromkeys(Severity, 0)
        for finding in self.findings:
            counts[self.severity(finding)] += 1
        return counts

    def fixable_counts(self) -> tuple[int, int]:
        """(findings ``--fix`` would fix, findings only ``--unsafe-fixes`` would fix)."""
        if self.fix_settings is None:
            return 0, 0
        unsafe_settings = FixSettings(unsafe=True, fixable=self.fix_settings.fixable)
        safe = unsafe = 0
        for finding in self.findings:  # a loop, not `f not in safe`: thousands of findings
            if self.fix_settings.allows(finding):
                safe += 1
            elif unsafe_settings.allows(finding):
                unsafe += 1
        return safe, unsafe

    def rule_name(self, code: str) -> str:
        """The rule's name, or "" for a code without a rule (a parse problem, say)."""
        rule = self.rules.get(code)
        return rule.name if rule is not None else ""


# C0/C1 controls except tab, bidi marks, embeddings, overrides and isolates, the Unicode
# line and paragraph separators, lone surrogates (undecodable bytes of a file name).
_UNPRINTABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str) -> str:
    """Text taken from scanned files, safe to print on one line of a terminal or a CI log:
    a hostile file must not send escape sequences, break a line, or reorder text with
    bidi controls. Each such character becomes U+FFFD."""
    return _UNPRINTABLE.sub("\ufffd", text)


@lru_cache(maxsize=4096)
def _relative(path: str, root: str) -> str:
    """Cached, and on strings: a report asks for the same few paths thousands of times, and
    ``relpath`` plus ``Path`` construction dominated SARIF rendering before."""
    try:
        rel = os.path.relpath(path, root)
    except ValueError:  # another drive on Windows
        return Path(path).as_posix()
    if rel.startswith(".."):
        return Path(path).as_posix()
    return rel.replace(os.sep, "/")


def render(fmt: str, report: Report, *, color: bool = False, statistics: bool = False) -> str:
    return "".join(render_chunks(fmt, report, color=color, statistics=statistics))


def render_chunks(fmt: str, report: Report, *, color: bool = False, statistics: bool = False) -> Iterator[str]:
    """The report in pieces to write one after another, a finding at a time in every format:
    a monorepo's report is a hundred megabytes, and a second copy when encoded."""
    try:
        module_name, function_name = _RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}") from None
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, f"{function_name}_chunks")(report, color=color, statistics=statistics)


def statistics_rows(report: Report) -> list[tuple[int, str, str]]:
    """(count, code, rule name) per code, most frequent first, then by code."""
    counts: dict[str, int] = {}
    for finding in report.findings:
        counts[finding.code] = counts.get(finding.code, 0) + 1
    rows = [(count, code, report.rule_name(code)) for code, count in counts.items()]
    return sorted(rows, key=lambda row: (-row[0], row[1]))
