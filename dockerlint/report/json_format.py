"""``json``: every finding with its rule name, plus a summary, for scripts and dashboards.

Keys keep a fixed order (``sort_keys=False``) so that diffs between runs stay readable.
Non-ASCII is escaped: undecodable file names (lone surrogates) then stay valid output.
"""

from __future__ import annotations

import json

import dockerlint
from dockerlint.findings import Finding, Fix, Severity
from dockerlint.report import ImageInfo, Report, statistics_rows


def render_json(report: Report, *, color: bool = False, statistics: bool = False) -> str:
    counts = report.counts()
    summary = {
        "findings": len(report.findings),
        "errors": counts[Severity.ERROR],
        "warnings": counts[Severity.WARNING],
        "info": counts[Severity.INFO],
        "files_checked": report.files_checked,
        "size_bytes": sum(f.size_bytes for f in report.findings if f.size_bytes is not None),
        "fixed": len(report.fixed),
        "notes": [
            {
                "path": None if note.path is None else report.relative(note.path),
                "message": note.message,
                "level": note.level,
            }
            for note in report.notes
        ],
    }
    if statistics:
        summary["statistics"] = [
            {"code": code, "name": name, "count": count} for count, code, name in statistics_rows(report)
        ]
    document = {
        "version": dockerlint.__version__,
        "findings": [_finding(report, finding) for finding in report.findings],
        "summary": summary,
        "images": [_image(report, image) for image in report.images],
    }
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


def _finding(report: Report, finding: Finding) -> dict:
    span = finding.span
    return {
        "code": finding.code,
        "name": report.rule_name(finding.code),
        "severity": report.severity(finding).label,
        "path": report.relative(finding.path),
        "line": span.line,
        "column": span.column,
        "end_line": span.end_line,
        "end_column": span.end_column,
        "message": finding.message,
        "help": finding.fix,
        "fix": _fix(report, finding.autofix),
        "size_bytes": finding.size_bytes,
        "related": [
            {
                "path": report.relative(related.path),
                "line": related.span.line,
                "column": related.span.column,
                "end_line": related.span.end_line,
                "end_column": related.span.end_column,
                "message": related.message,
            }
            for related in finding.related
        ],
    }


def _fix(report: Report, fix: Fix | None) -> dict | None:
    if fix is None:
        return None
    return {
        "applicability": fix.applicability.value,
        "message": fix.message,
        "edits": [
            {
                "path": report.relative(edit.path),
                "start": {"line": edit.span.line, "column": edit.span.column},
                "end": {"line": edit.span.end_line, "column": edit.span.end_column},
                "content": edit.content,
            }
            for edit in fix.edits
        ],
    }


def _image(report: Report, image: ImageInfo) -> dict:
    origin = None
    if image.origin_path is not None:
        origin = {"path": report.relative(image.origin_path), "line": image.origin_line}
    return {
        "dockerfile": report.relative(image.dockerfile),
        "context": report.relative(image.context),
        "target": image.target,
        "platforms": list(image.platforms),
        "build_args": dict(image.build_args),
        "context_source": image.context_source,
        "context_origin": origin,
        "context_detail": image.detail,
    }
