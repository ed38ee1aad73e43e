"""``sarif``: SARIF 2.1.0 for GitHub code scanning and SARIF viewers.

Built as plain dicts and serialised with ``json``. sarif-om's classes are not used at run
time: its serializer drops values equal to the class default (an explicit
``level: "warning"`` vanishes, and the rule's default level applies instead), it pulls in
pbr and setuptools, and it is about 15x slower. Tests check our keys against sarif-om's
property names and every log against the official schema.

Choices GitHub's reader dictates: paths relative to ``%SRCROOT%`` (percent-encoded), every
result with an explicit level and a ``startLine``, no ``primaryLocationLineHash``
(upload-sarif computes a better one) and our own stable id under ``dockerlint/v1``.
The output holds no timestamps: the same findings give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import dockerlint
from dockerlint.findings import Finding, Fix, Note, Severity
from dockerlint.report import Report
from dockerlint.rulebook import Rule
from dockerlint.source import Span

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/dockerlint/dockerlint"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "dockerlint/v1"

_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_PROBLEM_SEVERITIES = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "recommendation"}
_SECURITY_SEVERITIES = {Severity.ERROR: "8.0", Severity.WARNING: "5.0", Severity.INFO: "2.0"}
_NOTIFICATION_LEVELS = ("none", "note", "warning", "error")
_MAX_DESCRIPTION = 1024  # GitHub's limit for short and full descriptions
_MAX_NAME = 255
_MAX_TAGS = 20
_WINDOWS_ABSOLUTE = re.compile(r"^[A-Za-z]:/")
_RESULTS_SLOT = "@results"  # stands in for the results while the envelope is written


def render_sarif(report: Report, *, color: bool = False, statistics: bool = False) -> str:
    return "".join(render_sarif_chunks(report))


def render_sarif_chunks(report: Report, *, color: bool = False, statistics: bool = False) -> Iterator[str]:
    """The log indented, but each result compact on a line of its own, written a result at
    a time (a monorepo's log is hundreds of megabytes as objects).

    json's indenting encoder is pure Python (5,000 results took 155 ms to write, against
    27 ms compact); one result per line also keeps the file easy to grep and diff."""
    rules = _rules_for(report)
    index = {rule.code: position for position, rule in enumerate(rules)}
    run = {
        "tool": {
            "driver": {
                "name": "dockerlint",
                "version": dockerlint.__version__,
                "semanticVersion": dockerlint.__version__,
                "informationUri": INFORMATION_URI,
                "rules": [_descriptor(rule) for rule in rules],
            }
        },
        "invocations": [_invocation(report)],
        "originalUriBaseIds": {SRCROOT: {"uri": _root_uri(report.root)}},
        "columnKind": "unicodeCodePoints",
        "results": _RESULTS_SLOT,
    }
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    head, slot, tail = json.dumps(log, indent=2).rpartition(f'"results": "{_RESULTS_SLOT}"')
    assert slot, "results must be the run's last key"
    if not report.findings and not report.baseline:
        yield f'{head}"results": []{tail}\n'
        return
    indent = " " * (len(head) - len(head.rstrip(" ")) + 2)
    yield f'{head}"results": [\n{indent}'
    between = f",\n{indent}"
    for number, finding in enumerate(report.findings):
        result = _result(report, finding, index[finding.code])
        if report.baseline is not None:  # SARIF's own way to say which results are new
            result["baselineState"] = "new"
        yield (between if number else "") + json.dumps(result)
    for number, finding in enumerate(report.baseline or (), start=len(report.findings)):
        result = {**_result(report, finding, index[finding.code]), "baselineState": "unchanged"}
        yield (between if number else "") + json.dumps(result)
    yield f"\n{indent[:-2]}]{tail}\n"


def _rules_for(report: Report) -> list[Rule]:
    """The rules that ran, plus a stand-in for any finding code without one (a parse
    problem, say), so that every result's ``ruleIndex`` resolves; sorted by code."""
    rules = dict(report.rules)
    for finding in (*report.findings, *(report.baseline or ())):
        if finding.code not in rules:
            rules[finding.code] = Rule(
                code=finding.code,
                name=finding.code,
                severity=report.severity(finding),
                enabled=True,
                summary=f"dockerlint {finding.code}",
                why=f"dockerlint reported {finding.code}; see the rule's documentation.",
                fix="",
                tags=(),
                examples=(),
            )
    return [rules[code] for code in sorted(rules)]


def _descriptor(rule: Rule) -> dict:
    short = rule.summary or rule.name or rule.code
    why = rule.why or short
    help_text, help_markdown = why, why
    if rule.fix:
        help_text += f"\n\nHow to fix:\n{rule.fix}"
        help_markdown += f"\n\n## How to fix\n\n{rule.fix}"
    tags = list(dict.fromkeys(("dockerlint", rule.family.lower(), *rule.tags)))[:_MAX_TAGS]
    properties = {
        "tags": tags,
        "precision": "high",
        "problem.severity": _PROBLEM_SEVERITIES[rule.severity],
    }
    if "security" in rule.tags:
        properties["security-severity"] = _SECURITY_SEVERITIES[rule.severity]
    return {
        "id": rule.code,
        "name": rule.name[:_MAX_NAME],
        "shortDescription": {"text": _clip(short)},
        "fullDescription": {"text": _clip(why)},
        "help": {"text": help_text, "markdown": help_markdown},
        "helpUri": rule.help_uri,
        "defaultConfiguration": {"level": _LEVELS[rule.severity], "enabled": rule.enabled},
        "properties": properties,
    }


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_DESCRIPTION else text[: _MAX_DESCRIPTION - 1] + "…"


def _result(report: Report, finding: Finding, rule_index: int) -> dict:
    relative = report.relative(finding.path)
    result = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _LEVELS[report.severity(finding)],
        "message": {"text": finding.message or finding.code},
        "locations": [{"physicalLocation": _physical(report, finding.path, finding.span)}],
    }
    if finding.related:
        result["relatedLocations"] = [
            {
                "id": position,
                "physicalLocation": _physical(report, related.path, related.span),
                "message": {"text": related.message or finding.code},
            }
            for position, related in enumerate(finding.related)
        ]
    fingerprint = "\0".join((finding.code, relative, finding.message))
    result["partialFingerprints"] = {
        FINGERPRINT_KEY: hashlib.sha256(fingerprint.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    }
    if finding.autofix is not None and finding.autofix.edits:
        result["fixes"] = [_sarif_fix(report, finding.autofix)]
    properties = {}
    if finding.size_bytes is not None:
        properties["size_bytes"] = finding.size_bytes
    if finding.fix:
        properties["fix"] = finding.fix
    if properties:
        result["properties"] = properties
    return result


def _sarif_fix(report: Report, fix: Fix) -> dict:
    """A SARIF fix: per file, its replacements (a deleted region and what goes there)."""
    changes: dict[Path, list[dict]] = {}
    for edit in fix.edits:
        region = _physical(report, edit.path, edit.span)["region"]
        changes.setdefault(edit.path, []).append({"deletedRegion": region, "insertedContent": {"text": edit.content}})
    return {
        "description": {"text": fix.message},
        "artifactChanges": [
            {"artifactLocation": _artifact(report, path), "replacements": replacements}
            for path, replacements in changes.items()
        ],
        "properties": {"applicability": fix.applicability.value},
    }


def _physical(report: Report, path: Path, span: Span) -> dict:
    """SARIF's regions are 1-based with an exclusive end column, like ``Span``; values a
    buggy check might produce (0, an end before the start) are clamped to stay valid."""
    start_line = max(span.line, 1)
    start_column = max(span.column, 1)
    end_line = max(span.end_line, start_line)
    end_column = max(span.end_column, 1 if end_line > start_line else start_column)
    return {
        "artifactLocation": _artifact(report, path),
        "region": {
            "startLine": start_line,
            "startColumn": start_column,
            "endLine": end_line,
            "endColumn": end_column,
        },
    }


def _artifact(report: Report, path: Path) -> dict:
    """A percent-encoded URI relative to ``%SRCROOT%``, or a ``file:`` URI outside it."""
    relative = report.relative(path)
    if relative.startswith("/") or _WINDOWS_ABSOLUTE.match(relative):
        return {"uri": Path(os.path.abspath(path)).as_uri()}
    return {"uri": quote(relative, errors="surrogateescape"), "uriBaseId": SRCROOT}


def _root_uri(root: Path) -> str:
    uri = Path(os.path.abspath(root)).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _invocation(report: Report) -> dict:
    invocation: dict = {"executionSuccessful": True}
    if report.notes:
        invocation["toolExecutionNotifications"] = [_notification(report, note) for note in report.notes]
    return invocation


def _notification(report: Report, note: Note) -> dict:
    notification: dict = {
        "message": {"text": note.message or "dockerlint could not process a file"},
        "level": note.level if note.level in _NOTIFICATION_LEVELS else "warning",
    }
    if note.path is not None:
        notification["locations"] = [{"physicalLocation": {"artifactLocation": _artifact(report, note.path)}}]
    return notification
