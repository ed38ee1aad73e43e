"""``github``: GitHub Actions workflow commands, which show up as annotations on the diff.

GitHub keeps only 10 annotations of each level per step; for large results use SARIF and
upload-sarif instead. Text from scanned files is made ``printable`` as in the text format
(controls, bidi characters, line separators and undecodable bytes become U+FFFD); then
escaping follows the Actions toolkit: the message escapes ``%``, CR and LF; property
values additionally escape ``:`` and ``,``.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockerlint.findings import Severity
from dockerlint.report import Report, printable

_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render_github(report: Report, *, color: bool = False, statistics: bool = False) -> str:
    return "".join(render_github_chunks(report))


def render_github_chunks(report: Report, *, color: bool = False, statistics: bool = False) -> Iterator[str]:
    """One workflow command per finding and per note, a line at a time."""
    for finding in report.findings:
        span = finding.span
        name = report.rule_name(finding.code)
        title = f"dockerlint {finding.code} ({name})" if name else f"dockerlint {finding.code}"
        properties = ",".join(
            f"{key}={_escape_property(str(value))}"
            for key, value in (
                ("file", report.relative(finding.path)),
                ("line", span.line),
                ("endLine", span.end_line),
                ("col", span.column),
                ("endColumn", span.end_column),
                ("title", title),
            )
        )
        command = _COMMANDS[report.severity(finding)]
        yield f"::{command} {properties}::{_escape_data(finding.message)}\n"
    for note in report.notes:
        where = "" if note.path is None else f" file={_escape_property(report.relative(note.path))}"
        yield f"::warning{where}::{_escape_data(note.message)}\n"


def _escape_data(text: str) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return printable(text)


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
