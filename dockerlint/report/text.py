"""Terminal output: ``concise`` and ``text``.

``concise`` prints one ``path:line:col: severity: message [CODE]`` line per finding, the
shape editors' problem matchers read. ``text`` adds under each line the source line with
the span marked, the fix, the estimated size and related places, so that a person can act
without opening the rule's page.

Everything taken from scanned files (messages, paths, source lines) passes through
``printable`` first: a hostile file must not be able to send escape sequences to the
terminal or reorder text with bidi controls. A source frame shows at most
``FRAME_WIDTH`` characters around the span, however long the line.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from dockerlint.findings import Applicability, Edit, Finding, Severity, human_size
from dockerlint.report import Report, printable, statistics_rows

TAB_WIDTH = 4
FRAME_WIDTH = 160  # characters of a long source line shown around the span
FRAME_BEFORE = 40  # of them, before the span's start

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_SEVERITY_COLORS = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[1;33m",
    Severity.INFO: "\x1b[1;36m",
}
_LINE_BREAKS = re.compile(r"[\r\n]+")


def render_concise(report: Report, *, color: bool = False, statistics: bool = False) -> str:
    return "".join(render_concise_chunks(report, color=color, statistics=statistics))


def render_concise_chunks(report: Report, *, color: bool = False, statistics: bool = False) -> Iterator[str]:
    """``render_concise`` a finding at a time."""
    for finding in report.findings:
        yield _header(report, finding, color) + "\n"
    lines = _note_lines(report)
    if report.findings:
        lines.append(_summary(report))
    if statistics:
        lines += _statistics_table(report)
    yield "".join(line + "\n" for line in lines)


def render_text(report: Report, *, color: bool = False, statistics: bool = False) -> str:
    return "".join(render_text_chunks(report, color=color, statistics=statistics))


def render_text_chunks(report: Report, *, color: bool = False, statistics: bool = False) -> Iterator[str]:
    """``render_text`` a finding at a time: a monorepo's report is tens of megabytes."""
    for finding in report.findings:
        lines = [_header(report, finding, color), *_details(report, finding), ""]
        yield "".join(line + "\n" for line in lines)
    lines = _note_lines(report)
    lines.append(_summary(report))
    if statistics and report.findings:
        lines.append("")
        lines += _statistics_table(report)
    lines += _size_lines(report)
    yield "".join(line + "\n" for line in lines)


def _size_lines(report: Report) -> list[str]:
    """One line per image: ``api/Dockerfile ~6.1 GB, fixes save ~4.9 GB``."""
    lines = []
    sized = [image for image in report.images if image.size is not None]
    built = Counter((image.dockerfile, image.target) for image in sized)
    contexts = Counter((image.dockerfile, image.target, image.context) for image in sized)
    for image in report.images:
        size = image.size
        if size is None:
            continue
        name = printable(report.relative(image.dockerfile))
        if image.target:
            name += f" (target {printable(image.target)})"
        if built[image.dockerfile, image.target] > 1:  # one Dockerfile built several ways: say which
            args = " ".join(f"{key}={value}" for key, value in image.build_args)
            if contexts[image.dockerfile, image.target, image.context] == 1 or not args:
                name += f" (context {printable(report.relative(image.context) or '.')})"
            else:
                name += f" ({printable(args)})"
        line = f"{name} ~{human_size(size.estimated)}"
        if size.unknown:
            line += f" (+{size.unknown} part{'s' if size.unknown != 1 else ''} of unknown size)"
        if size.saved:
            line += f", fixes save ~{human_size(size.saved)}"
        lines.append(line)
    return [""] + lines if lines else []


def _header(report: Report, finding: Finding, color: bool) -> str:
    """``path:line:col: severity: message [CODE]`` (one line whatever the message holds)."""
    severity = report.severity(finding).label
    code = finding.code
    if color:
        severity = f"{_SEVERITY_COLORS[report.severity(finding)]}{severity}{_RESET}"
        code = f"{_BOLD}{code}{_RESET}"
    path = printable(report.relative(finding.path))
    message = printable(_LINE_BREAKS.sub(" ", finding.message).strip())
    span = finding.span
    return f"{path}:{span.line}:{span.column}: {severity}: {message} [{code}]"


def _details(report: Report, finding: Finding) -> list[str]:
    """The source frame, then ``= help``/``= size``/``= note`` lines aligned with its gutter."""
    span = finding.span
    gutter = " " * len(str(span.line))
    lines = []
    source = report.source_line(finding.path, span.line)
    if source:
        source, column, end_column = _window(
            source, span.column, span.end_column if span.end_line == span.line else None
        )
        shown, marker = _marked(printable(source), column, end_column)
        lines += [f"{gutter} |", f"{span.line} | {shown}".rstrip(), f"{gutter} | {marker}"]
    if finding.fix:
        lines.append(f"{gutter} = help: {printable(_LINE_BREAKS.sub(' ', finding.fix))}")
    if finding.autofix is not None:
        fix = finding.autofix
        lines.append(f"{gutter} = fix ({fix.applicability.value}): {printable(_LINE_BREAKS.sub(' ', fix.message))}")
        if fix.applicability is Applicability.DISPLAY_ONLY:
            lines += _suggested_change(report, finding, gutter)
    if finding.size_bytes is not None:
        lines.append(f"{gutter} = size: ~{human_size(finding.size_bytes)}")
    for related in finding.related:
        where = f"{printable(report.relative(related.path))}:{related.span.line}"
        lines.append(f"{gutter} = note: {where}: {printable(related.message)}")
    return lines


SUGGESTION_LINES = 8  # a display-only fix touching more lines is described, not shown


def _suggested_change(report: Report, finding: Finding, gutter: str) -> list[str]:
    """The lines a display-only fix would change, as ``-`` and ``+`` lines, one block per
    edit (edits on the same lines together): it is never applied, so this is where a
    person sees it (``--diff`` leaves it out)."""
    from dockerlint.fixes import apply_edits
    from dockerlint.source import Span

    blocks: list[tuple[Path, int, int, list[Edit]]] = []
    for edit in sorted(finding.autofix.edits, key=lambda e: (str(e.path), e.span.line, e.span.column)):
        last = edit.span.end_line - (1 if edit.span.end_column == 1 and edit.span.end_line > edit.span.line else 0)
        if blocks and blocks[-1][0] == edit.path and edit.span.line <= blocks[-1][2]:
            path, first, end, edits = blocks[-1]
            blocks[-1] = (path, first, max(end, last), [*edits, edit])
        else:
            blocks.append((edit.path, edit.span.line, last, [edit]))
    shown: list[str] = []
    for path, first, last, edits in blocks:
        if last - first >= SUGGESTION_LINES:
            return []
        old = [report.source_line(path, number) for number in range(first, last + 1)]
        moved = [
            Edit(
                path,
                Span(e.span.line - first + 1, e.span.column, e.span.end_line - first + 1, e.span.end_column),
                e.content,
            )
            for e in edits
        ]
        new = apply_edits("\n".join(old).encode("utf-8") + b"\n", moved)
        if new is None:
            return []
        if shown:
            shown.append(f"{gutter} ...")
        if path != finding.path:
            shown.append(f"{gutter} | {printable(report.relative(path))}:")
        shown += [f"{gutter} - {printable(line)}".rstrip() for line in old]
        shown += [f"{gutter} + {printable(line)}".rstrip() for line in new.decode("utf-8").splitlines()]
    return shown


def _window(line: str, column: int, end_column: int | None) -> tuple[str, int, int | None]:
    """At most ``FRAME_WIDTH`` characters of ``line`` around the span (``…`` marks a cut),
    with the span's columns moved to match: a 3 MB line is not printed per finding."""
    if len(line) <= FRAME_WIDTH:
        return line, column, end_column
    start = max(min(column - 1, len(line)) - FRAME_BEFORE, 0)
    end = min(start + FRAME_WIDTH, len(line))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(line) else ""
    shift = start - len(prefix)
    column = max(column - shift, 1)
    if end_column is not None:
        end_column = min(end_column - shift, end - shift)
    elif suffix:
        end_column = end - shift
    return prefix + line[start:end] + suffix, column, end_column


def _marked(line: str, column: int, end_column: int | None) -> tuple[str, str]:
    """The line with tabs expanded, and a ``^^^`` line under code points
    ``column``..``end_column`` (exclusive; ``None`` means to the end of the line).

    Columns count code points but terminals count cells, so wide characters take two
    cells and combining marks none; at least one ``^`` is always drawn."""
    start = min(max(column - 1, 0), len(line))
    end = len(line) if end_column is None else min(max(end_column - 1, start), len(line))
    if line.isascii() and "\t" not in line:  # most lines: one cell per code point
        return line, " " * start + "^" * max(end - start, 1)
    shown: list[str] = []
    cell_at = []  # the display cell where each code point starts, plus the end
    cell = 0
    for char in line:
        cell_at.append(cell)
        if char == "\t":
            width = TAB_WIDTH - cell % TAB_WIDTH
            shown.append(" " * width)
        else:
            width = _cell_width(char)
            shown.append(char)
        cell += width
    cell_at.append(cell)
    carets = max(cell_at[end] - cell_at[start], 1)
    return "".join(shown), " " * cell_at[start] + "^" * carets


def _cell_width(char: str) -> int:
    if unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _note_lines(report: Report) -> list[str]:
    lines = []
    for note in report.notes:
        message = printable(_LINE_BREAKS.sub(" ", note.message))
        if note.path is None:
            lines.append(f"note: {message}")
        else:
            lines.append(f"note: {printable(report.relative(note.path))}: {message}")
    return lines


def _summary(report: Report) -> str:
    files = _plural(report.files_checked, "file", "files")
    fixed = f" Fixed {_plural(len(report.fixed), 'finding', 'findings')}." if report.fixed else ""
    known = (
        f" {_plural(len(report.baseline), 'finding', 'findings')} in the baseline not shown." if report.baseline else ""
    )
    if not report.findings:
        return f"No findings in {files}.{fixed}{known}"
    counts = report.counts()
    levels = ", ".join(
        [
            _plural(counts[Severity.ERROR], "error", "errors"),
            _plural(counts[Severity.WARNING], "warning", "warnings"),
            f"{counts[Severity.INFO]} info",
        ]
    )
    summary = f"Found {_plural(len(report.findings), 'finding', 'findings')} ({levels}) in {files}.{fixed}"
    summary += known
    safe, unsafe = report.fixable_counts()
    if safe:
        summary += f" {safe} fixable with `--fix`"
        summary += f" ({unsafe} more with `--unsafe-fixes`)." if unsafe else "."
    elif unsafe:
        summary += f" {unsafe} fixable with `--fix --unsafe-fixes`."
    return summary


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _statistics_table(report: Report) -> list[str]:
    """One row per code: count (right-aligned), code, rule name."""
    rows = statistics_rows(report)
    if not rows:
        return []
    count_width = max(len(str(count)) for count, _, _ in rows)
    code_width = max(len(code) for _, code, _ in rows)
    return [f"{count:>{count_width}}  {code:<{code_width}}  {name}".rstrip() for count, code, name in rows]
