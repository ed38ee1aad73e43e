"""Adopting dockerlint on a repository with many findings: a baseline of the findings
that exist today, so only new ones are reported, and ``--add-noqa``, which writes a
suppression comment for each of today's findings.

A finding's fingerprint is its code, its file (relative to the project root) and the
normalised text of the instruction or line it is on: it survives lines moving up or down
and edits elsewhere in the file, and changes when the instruction itself changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from dockerlint.discover import is_dockerfile_name
from dockerlint.findings import Edit, Finding
from dockerlint.source import Span

FORMAT_VERSION = 1


class BaselineError(Exception):
    """A baseline file that cannot be read: a usage error (exit 2)."""


def fingerprint(finding: Finding, root: Path, workspace) -> str:
    relative = _relative(finding.path, root)
    text = " ".join(_anchor_text(finding, workspace).split())
    digest = hashlib.sha256("\0".join((finding.code, relative, text)).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:20]


def _anchor_text(finding: Finding, workspace) -> str:
    """The instruction a Dockerfile finding is on (all its lines), else the finding's line."""
    dockerfile = workspace.cached_dockerfile(finding.path)
    line = finding.span.line
    if dockerfile is not None:
        for instruction in dockerfile.instructions:
            if instruction.span.line <= line <= instruction.span.end_line:
                return "\n".join(
                    dockerfile.text.line(n) for n in range(instruction.span.line, instruction.span.end_line + 1)
                )
    return workspace.source_line(finding.path, line)


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(os.path.relpath(path, root)).as_posix()
    except ValueError:
        return path.as_posix()


def write_baseline(path: Path, findings: Iterable[Finding], root: Path, workspace) -> int:
    entries: dict[str, dict] = {}
    for finding in findings:
        key = fingerprint(finding, root, workspace)
        entry = entries.setdefault(
            key,
            {
                "code": finding.code,
                "path": _relative(finding.path, root),
                "fingerprint": key,
                "count": 0,
                "message": finding.message,
            },  # fmt: skip
        )
        entry["count"] += 1
    document = {
        "version": FORMAT_VERSION,
        "tool": "dockerlint",
        "findings": sorted(entries.values(), key=lambda e: (e["path"], e["code"], e["fingerprint"])),
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return sum(entry["count"] for entry in entries.values())


def read_baseline(path: Path) -> Counter:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("version") != FORMAT_VERSION:
            raise BaselineError(f"{path}: not a dockerlint baseline of version {FORMAT_VERSION}")
        return Counter({entry["fingerprint"]: int(entry["count"]) for entry in document["findings"]})
    except OSError as error:
        raise BaselineError(f"{path}: cannot read the baseline: {error.strerror or error}") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BaselineError(f"{path}: not a dockerlint baseline (write one with --write-baseline)") from None


def split_by_baseline(
    findings: list[Finding], baseline: Counter, root: Path, workspace
) -> tuple[list[Finding], list[Finding]]:
    """(new findings, findings the baseline already holds), each as many times as it
    records them: a second copy of a known finding on another instruction is new."""
    remaining = Counter(baseline)
    new, known = [], []
    for finding in findings:
        key = fingerprint(finding, root, workspace)
        if remaining[key] > 0:
            remaining[key] -= 1
            known.append(finding)
        else:
            new.append(finding)
    return new, known


# -- --add-noqa ------------------------------------------------------------------------------------

_DOCKERLINT_IGNORE = re.compile(r"^(\s*)#\s*dockerlint\s*:\s*ignore\s*=\s*([A-Za-z0-9, ]+?)\s*$")
_NOQA = re.compile(r"#\s*noqa(?::\s*([A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*))?\s*$", re.IGNORECASE)
# Files whose lines may end in a comment (a .dockerignore line is a pattern to its end).
_TRAILING_COMMENTS = (".txt", ".in", ".toml", ".yml", ".yaml", ".py")


def noqa_edits(findings: Iterable[Finding], workspace) -> tuple[list[Edit], int]:
    """Edits that suppress each finding where it is, and how many findings got none
    (files without a comment syntax dockerlint reads)."""
    by_place: dict[tuple[Path, int], set[str]] = {}
    skipped = 0
    for finding in findings:
        if is_dockerfile_name(finding.path.name) and workspace.cached_dockerfile(finding.path) is not None:
            line = _instruction_line(finding, workspace.cached_dockerfile(finding.path))
        elif finding.path.name.endswith(_TRAILING_COMMENTS) and workspace.cached_text(finding.path) is not None:
            line = finding.span.line
            for other in finding.also_lines:  # the other entries a finding speaks for: each its own comment
                by_place.setdefault((finding.path, other), set()).add(finding.code)
        else:
            skipped += 1
            continue
        by_place.setdefault((finding.path, line), set()).add(finding.code)
    edits = []
    for (path, line), codes in sorted(by_place.items()):
        dockerfile = workspace.cached_dockerfile(path) if is_dockerfile_name(path.name) else None
        if dockerfile is not None:
            edits.append(_dockerfile_edit(path, dockerfile, line, codes))
        else:
            edits.append(_trailing_edit(path, workspace.cached_text(path)[0].line(line), line, codes))
    return edits, skipped


def _instruction_line(finding: Finding, dockerfile) -> int:
    """The first line of the finding's instruction; 0 when it is on none (a parse error
    on a directive): such findings are suppressed for the whole file."""
    for instruction in dockerfile.instructions:
        if instruction.span.line <= finding.span.line <= instruction.span.end_line:
            return instruction.span.line
    return 0


def _dockerfile_edit(path: Path, dockerfile, line: int, codes: set[str]) -> Edit:
    text = dockerfile.text
    if line == 0:  # at the end of the file: a directive at the top must stay first
        last = len(text.line_starts)
        ending = "" if text.text.endswith("\n") or not text.text else "\n"
        column = len(text.line(last)) + 1 if ending else 1
        content = f"{ending}# dockerlint: ignore-file={','.join(sorted(codes))}\n"
        return Edit(path, Span(last, column, last, column), content)
    above = text.line(line - 1) if line > 1 else ""
    match = _DOCKERLINT_IGNORE.match(above)
    if match:
        merged = sorted(set(_codes(match.group(2))) | codes)
        replacement = f"{match.group(1)}# dockerlint: ignore={','.join(merged)}"
        return Edit(path, Span(line - 1, 1, line - 1, len(above) + 1), replacement)
    current = text.line(line)
    indent = current[: len(current) - len(current.lstrip())]
    return Edit(path, Span(line, 1, line, 1), f"{indent}# dockerlint: ignore={','.join(sorted(codes))}\n")


def _trailing_edit(path: Path, current: str, line: int, codes: set[str]) -> Edit:
    match = _NOQA.search(current)
    end = len(current) + 1
    if match:
        if match.group(1) is None:  # a bare noqa comment already suppresses everything
            return Edit(path, Span(line, end, line, end), "")
        merged = sorted(set(_codes(match.group(1))) | codes)
        return Edit(path, Span(line, match.start() + 1, line, end), f"# noqa: {', '.join(merged)}")
    return Edit(path, Span(line, end, line, end), f"  # noqa: {', '.join(sorted(codes))}")


def _codes(text: str) -> list[str]:
    return [code.strip().upper() for code in re.split(r"[,\s]+", text) if code.strip()]
