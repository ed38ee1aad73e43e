"""``json``: every finding with its rule name, plus a summary, for scripts and dashboards.

Keys keep a fixed order (``sort_keys=False``) so that diffs between runs stay readable.
Non-ASCII is escaped: undecodable file names (lone surrogates) then stay valid output.
The text is ``json.dumps(document, indent=2)``'s, written by ``dumps_indented``: the
standard library indents with its pure-Python encoder, several times slower.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from json.encoder import encode_basestring_ascii

import dockerlint
from dockerlint.findings import Finding, Fix, Severity
from dockerlint.report import ImageInfo, Report, statistics_rows


def _summary(report: Report, statistics: bool) -> dict:
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
    return summary


def render_json(report: Report, *, color: bool = False, statistics: bool = False) -> str:
    return "".join(render_json_chunks(report, color=color, statistics=statistics))


def render_json_chunks(report: Report, *, color: bool = False, statistics: bool = False) -> Iterator[str]:
    """The document of ``render_json`` a finding at a time: what
    ``json.dumps({"version": ..., "findings": [...], "summary": ..., "images": [...]},
    indent=2)`` writes, without holding it whole."""
    yield '{\n  "version": ' + dumps_indented(dockerlint.__version__) + ',\n  "findings": ['
    item = "\n    "
    for number, finding in enumerate(report.findings):
        yield ("," if number else "") + item + _encode(_finding(report, finding), item)
    yield "\n  ]" if report.findings else "]"
    summary = dumps_indented(_summary(report, statistics)).replace("\n", "\n  ")
    yield ',\n  "summary": ' + summary + ',\n  "images": ['
    for number, image in enumerate(report.images):  # thousands in a monorepo: one at a time too
        yield ("," if number else "") + item + dumps_indented(_image(report, image)).replace("\n", item)
    yield ("\n  ]" if report.images else "]") + "\n}\n"


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
    entry = {
        "dockerfile": report.relative(image.dockerfile),
        "context": report.relative(image.context),
        "target": image.target,
        "platforms": list(image.platforms),
        "build_args": dict(image.build_args),
        "context_source": image.context_source,
        "context_origin": origin,
        "context_detail": image.detail,
    }
    size = image.size
    if size is not None:  # the bill of bytes (`dockerlint size` lists the parts)
        entry.update(
            estimated_bytes=size.estimated,
            low_bytes=size.low,
            high_bytes=size.high,
            unknown_parts=size.unknown,
            after_fixes_bytes=size.after,
            savings=[
                {"code": row.code, "path": report.relative(row.path), "line": row.line, "bytes": row.bytes}
                for row in size.savings
            ],
        )
    return entry


# -- writing ----------------------------------------------------------------------------------


def dumps_indented(value) -> str:
    """``json.dumps(value, indent=2)``, byte for byte, for documents of dicts with string
    keys, lists, tuples, strings, integers, booleans and None (anything else: the standard
    encoder)."""
    try:
        return _encode(value, "\n")
    except _Unusual:
        return json.dumps(value, indent=2)


class _Unusual(Exception):
    """A value the fast encoder leaves to the standard one."""


_SCALARS = {None: "null", True: "true", False: "false"}


def _encode(value, newline: str) -> str:
    kind = type(value)
    if kind is str:
        return encode_basestring_ascii(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = newline + "  "
        items = []
        for key, item in value.items():
            if type(key) is not str:
                raise _Unusual
            kind = type(item)  # the common scalars here, without a call each
            if kind is str:
                text = encode_basestring_ascii(item)
            elif kind is int:
                text = int.__repr__(item)
            elif item is None:
                text = "null"
            else:
                text = _encode(item, inner)
            items.append(encode_basestring_ascii(key) + ": " + text)
        return "{" + inner + ("," + inner).join(items) + newline + "}"
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        inner = newline + "  "
        return "[" + inner + ("," + inner).join([_encode(item, inner) for item in value]) + newline + "]"
    if kind is int:
        return int.__repr__(value)
    if kind is bool or value is None:
        return _SCALARS[value]
    raise _Unusual
