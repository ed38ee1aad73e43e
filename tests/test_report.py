"""Output formats: exact text, the shapes editors and GitHub parse, and valid SARIF."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import attr
import jsonschema
import pytest
import sarif_om
from msgspec.structs import replace

import dockerlint
from dockerlint.findings import Applicability, Edit, Finding, Fix, Note, Related, Severity, human_size
from dockerlint.report import FORMATS, Report, render
from dockerlint.rulebook import Rule
from dockerlint.source import Span
from tests.conftest import SARIF_SCHEMA

REPO = Path(__file__).resolve().parents[1]
PROBLEM_MATCHER = re.compile(r"^(.+?):(\d+):(\d+):\s+(error|warning|info|note):\s+(.*?)\s+\[([A-Za-z]+\d+)\]$")
ROOT = Path("/srv/app")

# --------------------------------------------------------------------------- helpers


def make_rule(code: str, name: str, severity: Severity, tags: tuple[str, ...] = (), **overrides) -> Rule:
    fields = dict(
        code=code,
        name=name,
        severity=severity,
        enabled=True,
        summary=f"{name.replace('-', ' ').capitalize()}.",
        why=f"Why {code} matters: it makes the image bigger or less safe.",
        fix=f"How to avoid {code}.",
        tags=tags,
        examples=(),
    )
    fields.update(overrides)
    return Rule(**fields)


RULES = {
    "DF101": make_rule("DF101", "apt-install-recommends", Severity.WARNING, ("size", "apt")),
    "SEC001": make_rule("SEC001", "secret-copied-into-image", Severity.ERROR, ("security",)),
    "GPU001": make_rule("GPU001", "cuda-wheels-on-cpu-image", Severity.INFO, ("size", "gpu")),
}

SOURCE = {
    ("Dockerfile.dev", 4): "\t&& pip install torch",
    ("requirements.txt", 2): 'ENV GREETING="he\u0301llo 世界" MODEL_DIR=/models',
    ("svc a/Dockerfile", 4): "RUN apt-get update && apt-get install -y \\",
    ("svc a/Dockerfile", 9): "COPY .env /app/.env",
}


def make_report(findings=(), notes=(), rules=RULES, files_checked=4, source=SOURCE, root=ROOT) -> Report:
    def source_line(path: Path, line: int) -> str:
        return source.get((path.relative_to(root).as_posix(), line), "")

    return Report(
        findings=tuple(sorted(findings, key=Finding.sort_key)),
        notes=tuple(notes),
        rules=rules,
        files_checked=files_checked,
        root=root,
        fail_level=Severity.WARNING,
        source_line=source_line,
    )


FINDINGS = (
    Finding(
        "DF101",
        ROOT / "svc a/Dockerfile",
        Span(4, 23, 6, 12),  # a RUN continued over three lines
        "apt-get install pulls recommended packages",
        fix="Add --no-install-recommends",
        size_bytes=350_000_000,
        severity=Severity.WARNING,
        related=(Related(ROOT / "svc a/Dockerfile", Span(1, 1, 1, 25), "base image already ships apt lists"),),
    ),
    Finding(
        "SEC001",
        ROOT / "svc a/Dockerfile",
        Span(9, 6, 9, 10),
        "secret file .env is copied into the image",
        fix="Add .env to .dockerignore",
        severity=Severity.ERROR,
    ),
    Finding(
        "GPU001",
        ROOT / "requirements.txt",
        Span(2, 26, 2, 43),
        "torch from PyPI brings CUDA wheels into a CPU image",
        size_bytes=2_470_000_000,
        severity=Severity.INFO,
    ),
    Finding(  # the tab expands to four cells; the marker must follow
        "DF101",
        ROOT / "Dockerfile.dev",
        Span(4, 17, 4, 22),
        "pip install torch without --no-cache-dir",
        severity=Severity.WARNING,
    ),
    Finding(  # a parse problem: no rule, no source line, severity left to the default
        "SYN001",
        ROOT / "pyproject.toml",
        Span(7, 1, 7, 2),
        "invalid TOML: expected '=' after a key",
    ),
)
NOTES = (Note(ROOT / "models/weights.bin", "skipped: binary file", level="note"),)


def full_report(**overrides) -> Report:
    return make_report(**{"findings": FINDINGS, "notes": NOTES, **overrides})


def sarif_of(report: Report) -> dict:
    log = json.loads(render("sarif", report))
    validate_sarif(log)
    return log


_validator = None


def validate_sarif(log: dict) -> None:
    """The official schema, plus what GitHub requires on top of it."""
    global _validator
    if _validator is None:
        _validator = jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
    errors = sorted(_validator.iter_errors(log), key=lambda error: list(error.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    for run in log["runs"]:
        for rule in run["tool"]["driver"]["rules"]:
            assert rule["shortDescription"]["text"].strip()
            assert 0 < len(rule["fullDescription"]["text"].strip()) <= 1024
            assert rule["help"]["text"].strip()
            assert len(rule["properties"]["tags"]) <= 20
        for result in run["results"]:
            assert result["level"] in ("error", "warning", "note")
            assert result["message"]["text"].strip()
            location = result["locations"][0]["physicalLocation"]
            assert location["region"]["startLine"] >= 1
            assert " " not in location["artifactLocation"]["uri"]


# --------------------------------------------------------------------------- concise and text

CONCISE = """\
Dockerfile.dev:4:17: warning: pip install torch without --no-cache-dir [DF101]
pyproject.toml:7:1: warning: invalid TOML: expected '=' after a key [SYN001]
requirements.txt:2:26: info: torch from PyPI brings CUDA wheels into a CPU image [GPU001]
svc a/Dockerfile:4:23: warning: apt-get install pulls recommended packages [DF101]
svc a/Dockerfile:9:6: error: secret file .env is copied into the image [SEC001]
note: models/weights.bin: skipped: binary file
Found 5 findings (1 error, 3 warnings, 1 info) in 4 files.
"""


def test_concise_exact():
    assert render("concise", full_report()) == CONCISE


def test_concise_lines_match_the_vscode_problem_matcher():
    lines = render("concise", full_report()).splitlines()
    matched = [PROBLEM_MATCHER.match(line) for line in lines]
    assert [m.groups() for m in matched if m] == [
        ("Dockerfile.dev", "4", "17", "warning", "pip install torch without --no-cache-dir", "DF101"),
        ("pyproject.toml", "7", "1", "warning", "invalid TOML: expected '=' after a key", "SYN001"),
        ("requirements.txt", "2", "26", "info", "torch from PyPI brings CUDA wheels into a CPU image", "GPU001"),
        ("svc a/Dockerfile", "4", "23", "warning", "apt-get install pulls recommended packages", "DF101"),
        ("svc a/Dockerfile", "9", "6", "error", "secret file .env is copied into the image", "SEC001"),
    ]
    # the note and the summary are not mistaken for problems
    assert [line for line, m in zip(lines, matched, strict=True) if not m] == lines[-2:]


def test_concise_header_stays_one_matchable_line_when_the_message_has_line_breaks():
    finding = Finding("DF101", ROOT / "Dockerfile", Span(3, 1, 3, 4), "first line\nsecond line\r\n")
    (line, _summary) = render("concise", make_report([finding])).splitlines()
    assert PROBLEM_MATCHER.match(line).group(5) == "first line second line"


def test_concise_without_findings_prints_nothing_but_notes():
    assert render("concise", make_report()) == ""
    assert render("concise", make_report(notes=NOTES)) == "note: models/weights.bin: skipped: binary file\n"


TEXT = """\
Dockerfile.dev:4:17: warning: pip install torch without --no-cache-dir [DF101]
  |
4 |     && pip install torch
  |                    ^^^^^

pyproject.toml:7:1: warning: invalid TOML: expected '=' after a key [SYN001]

requirements.txt:2:26: info: torch from PyPI brings CUDA wheels into a CPU image [GPU001]
  |
2 | ENV GREETING="he\u0301llo 世界" MODEL_DIR=/models
  |                           ^^^^^^^^^^^^^^^^^
  = size: ~2.5 GB

svc a/Dockerfile:4:23: warning: apt-get install pulls recommended packages [DF101]
  |
4 | RUN apt-get update && apt-get install -y \\
  |                       ^^^^^^^^^^^^^^^^^^^^
  = help: Add --no-install-recommends
  = size: ~350 MB
  = note: svc a/Dockerfile:1: base image already ships apt lists

svc a/Dockerfile:9:6: error: secret file .env is copied into the image [SEC001]
  |
9 | COPY .env /app/.env
  |      ^^^^
  = help: Add .env to .dockerignore

note: models/weights.bin: skipped: binary file
Found 5 findings (1 error, 3 warnings, 1 info) in 4 files.
"""


def test_text_exact():
    assert render("text", full_report()) == TEXT


def test_text_without_colour_has_no_escape_sequences():
    for fmt in ("text", "concise"):
        assert "\x1b" not in render(fmt, full_report(), statistics=True)


def test_text_colours_severity_and_code_only_when_asked():
    coloured = render("text", full_report(), color=True)
    headers = [line for line in coloured.splitlines() if "[\x1b" in line]
    assert headers[0] == (
        "Dockerfile.dev:4:17: \x1b[1;33mwarning\x1b[0m: pip install torch without --no-cache-dir [\x1b[1mDF101\x1b[0m]"
    )
    assert "\x1b[1;31merror\x1b[0m: secret file" in headers[-1]
    assert "\x1b[1;36minfo\x1b[0m: torch" in headers[2]
    # everything else is the uncoloured output, unchanged
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == TEXT


def test_text_gutter_grows_with_the_line_number_and_help_lines_align_with_it():
    finding = Finding("SEC001", ROOT / "Dockerfile", Span(120, 1, 120, 5), "secret", fix="remove it", size_bytes=12_345)
    report = make_report([finding], source={("Dockerfile", 120): "COPY id_rsa /root/.ssh/"})
    assert render("text", report).splitlines()[1:6] == [
        "    |",
        "120 | COPY id_rsa /root/.ssh/",
        "    | ^^^^",
        "    = help: remove it",
        "    = size: ~12 kB",
    ]


def test_text_marks_at_least_one_character_for_empty_or_out_of_range_spans():
    source = {("Dockerfile", 1): "FROM python"}
    empty = Finding("DF101", ROOT / "Dockerfile", Span(1, 5, 1, 5), "here")
    past_end = Finding("DF101", ROOT / "Dockerfile", Span(1, 40, 1, 50), "after the line")
    assert render("text", make_report([empty], source=source)).splitlines()[3] == "  |     ^"
    assert render("text", make_report([past_end], source=source)).splitlines()[3] == "  |            ^"


def test_text_marks_under_wide_characters_by_terminal_cells():
    """Columns count code points; a CJK character takes two cells and a combining accent none."""
    line = "RUN echo 日本 e\u0301 && pip install x"
    column = line.index("pip") + 1
    finding = Finding("DF101", ROOT / "Dockerfile", Span(1, column, 1, column + 3), "here")
    shown = render("text", make_report([finding], source={("Dockerfile", 1): line})).splitlines()
    assert shown[2:4] == ["1 | " + line, "  | " + " " * (column - 1 + 2 - 1) + "^^^"]


def test_text_neutralises_terminal_escapes_and_bidi_controls_from_scanned_files():
    hostile = Finding("DF101", ROOT / "Dockerfile", Span(1, 1, 1, 4), "pkg \x1b]0;owned\x07 \u202eevil")
    report = make_report([hostile], source={("Dockerfile", 1): "RUN \x1b[2J echo"})
    for fmt in ("text", "concise"):
        output = render(fmt, report)
        assert "\x1b" not in output and "\x07" not in output and "\u202e" not in output
    assert "1 | RUN \ufffd[2J echo" in render("text", report)


def test_text_without_findings():
    assert render("text", make_report(files_checked=1)) == "No findings in 1 file.\n"
    assert render("text", make_report(notes=NOTES, files_checked=0), statistics=True) == (
        "note: models/weights.bin: skipped: binary file\nNo findings in 0 files.\n"
    )


STATISTICS = """\
2  DF101   apt-install-recommends
1  GPU001  cuda-wheels-on-cpu-image
1  SEC001  secret-copied-into-image
1  SYN001
"""


def test_statistics_table_sorted_by_count_then_code():
    summary = "Found 5 findings (1 error, 3 warnings, 1 info) in 4 files.\n"
    assert render("text", full_report(), statistics=True).endswith(summary + "\n" + STATISTICS)
    assert render("concise", full_report(), statistics=True) == CONCISE + STATISTICS


def test_summary_singular_and_plural():
    one = make_report(FINDINGS[1:2], files_checked=1)
    assert render("concise", one).splitlines()[-1] == "Found 1 finding (1 error, 0 warnings, 0 info) in 1 file."


@pytest.mark.parametrize(
    "size, shown",
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1 kB"),
        (12_345, "12 kB"),
        (9_940, "9.9 kB"),
        (9_960, "10 kB"),
        (999_999, "1 MB"),
        (350_000_000, "350 MB"),
        (1_200_000_000, "1.2 GB"),
        (2_000_000_000, "2 GB"),
    ],
)
def test_human_size_uses_decimal_units(size, shown):
    assert human_size(size) == shown


# --------------------------------------------------------------------------- json


def test_json_structure_and_values():
    output = render("json", full_report())
    assert output.endswith("}\n") and output.startswith('{\n  "version"')
    document = json.loads(output)
    assert list(document) == ["version", "findings", "summary", "images"]
    assert document["version"] == dockerlint.__version__
    first, no_rule = document["findings"][3], document["findings"][1]
    assert first == {
        "code": "DF101",
        "name": "apt-install-recommends",
        "severity": "warning",
        "path": "svc a/Dockerfile",
        "line": 4,
        "column": 23,
        "end_line": 6,
        "end_column": 12,
        "message": "apt-get install pulls recommended packages",
        "help": "Add --no-install-recommends",
        "fix": None,
        "size_bytes": 350_000_000,
        "related": [
            {
                "path": "svc a/Dockerfile",
                "line": 1,
                "column": 1,
                "end_line": 1,
                "end_column": 25,
                "message": "base image already ships apt lists",
            }
        ],
    }
    assert (no_rule["code"], no_rule["name"], no_rule["severity"], no_rule["help"], no_rule["size_bytes"]) == (
        "SYN001",
        "",
        "warning",
        None,
        None,
    )
    assert document["summary"] == {
        "findings": 5,
        "errors": 1,
        "warnings": 3,
        "info": 1,
        "files_checked": 4,
        "size_bytes": 2_820_000_000,
        "fixed": 0,
        "notes": [{"path": "models/weights.bin", "message": "skipped: binary file", "level": "note"}],
    }


FIXABLE = Finding(
    "DF101",
    ROOT / "Dockerfile",
    Span(2, 5, 2, 16),
    "pip install keeps its cache",
    severity=Severity.WARNING,
    autofix=Fix(
        Applicability.SAFE,
        "Add `--no-cache-dir`",
        (
            Edit(ROOT / "Dockerfile", Span(2, 16, 2, 16), " --no-cache-dir"),
            Edit(ROOT / ".dockerignore", Span(1, 1, 1, 1), ".git\n"),
        ),
    ),
)


def test_json_carries_the_fix_with_its_edits():
    (finding,) = json.loads(render("json", make_report([FIXABLE])))["findings"]
    assert finding["fix"] == {
        "applicability": "safe",
        "message": "Add `--no-cache-dir`",
        "edits": [
            {
                "path": "Dockerfile",
                "start": {"line": 2, "column": 16},
                "end": {"line": 2, "column": 16},
                "content": " --no-cache-dir",
            },
            {
                "path": ".dockerignore",
                "start": {"line": 1, "column": 1},
                "end": {"line": 1, "column": 1},
                "content": ".git\n",
            },
        ],
    }


def test_sarif_carries_the_fix_as_artifact_changes_and_still_validates():
    log = json.loads(render("sarif", make_report([FIXABLE])))
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))
    (fix,) = log["runs"][0]["results"][0]["fixes"]
    assert fix["description"] == {"text": "Add `--no-cache-dir`"}
    assert fix["properties"] == {"applicability": "safe"}
    dockerfile, ignore = fix["artifactChanges"]
    assert dockerfile["artifactLocation"] == {"uri": "Dockerfile", "uriBaseId": "%SRCROOT%"}
    assert dockerfile["replacements"] == [
        {"deletedRegion": {"startLine": 2, "startColumn": 16, "endLine": 2, "endColumn": 16},
         "insertedContent": {"text": " --no-cache-dir"}}
    ]  # fmt: skip
    assert ignore["artifactLocation"]["uri"] == ".dockerignore"


def test_text_shows_the_fix_and_how_many_findings_are_fixable():
    from dockerlint.fixes import FixSettings

    unsafe = replace(
        FIXABLE, span=Span(3, 1, 3, 2), autofix=replace(FIXABLE.autofix, applicability=Applicability.UNSAFE)
    )
    report = replace(make_report([FIXABLE, unsafe]), fix_settings=FixSettings(fixable=frozenset({"DF101"})))
    output = render("text", report)
    assert "  = fix (safe): Add `--no-cache-dir`" in output
    assert output.rstrip().endswith("1 fixable with `--fix` (1 more with `--unsafe-fixes`).")


def test_json_statistics():
    summary = json.loads(render("json", full_report(), statistics=True))["summary"]
    assert summary["statistics"] == [
        {"code": "DF101", "name": "apt-install-recommends", "count": 2},
        {"code": "GPU001", "name": "cuda-wheels-on-cpu-image", "count": 1},
        {"code": "SEC001", "name": "secret-copied-into-image", "count": 1},
        {"code": "SYN001", "name": "", "count": 1},
    ]


def test_json_empty_report():
    document = json.loads(render("json", make_report(files_checked=0)))
    assert document["findings"] == []
    assert document["summary"]["findings"] == 0 and document["summary"]["size_bytes"] == 0


# --------------------------------------------------------------------------- github


def test_github_workflow_commands():
    lines = render("github", full_report()).splitlines()
    assert lines == [
        "::warning file=Dockerfile.dev,line=4,endLine=4,col=17,endColumn=22,"
        "title=dockerlint DF101 (apt-install-recommends)::pip install torch without --no-cache-dir",
        "::warning file=pyproject.toml,line=7,endLine=7,col=1,endColumn=2,"
        "title=dockerlint SYN001::invalid TOML: expected '=' after a key",
        "::notice file=requirements.txt,line=2,endLine=2,col=26,endColumn=43,"
        "title=dockerlint GPU001 (cuda-wheels-on-cpu-image)::torch from PyPI brings CUDA wheels into a CPU image",
        "::warning file=svc a/Dockerfile,line=4,endLine=6,col=23,endColumn=12,"
        "title=dockerlint DF101 (apt-install-recommends)::apt-get install pulls recommended packages",
        "::error file=svc a/Dockerfile,line=9,endLine=9,col=6,endColumn=10,"
        "title=dockerlint SEC001 (secret-copied-into-image)::secret file .env is copied into the image",
        "::warning file=models/weights.bin::skipped: binary file",
    ]


def test_github_escaping():
    finding = Finding(
        "DF101",
        ROOT / "odd,dir/a:b/Dockerfile",
        Span(2, 1, 2, 5),
        "100% of layers: one\nand two\r",
        severity=Severity.ERROR,
    )
    assert render("github", make_report([finding])) == (
        "::error file=odd%2Cdir/a%3Ab/Dockerfile,line=2,endLine=2,col=1,endColumn=5,"
        "title=dockerlint DF101 (apt-install-recommends)::100%25 of layers: one%0Aand two%0D\n"
    )


def test_github_neutralises_what_the_text_format_does():
    """Invalid UTF-8 (lone surrogates), bidi controls and the Unicode line separators
    never reach a CI log, in the message or in the file name."""
    finding = Finding(
        "DF101",
        ROOT / "caf\udce9\u202e/Dockerfile",
        Span(1, 1, 1, 2),
        "pkg \u202eevil\u2028second line\u2029 \x1b[2J \u200f",
        severity=Severity.WARNING,
    )
    output = render("github", make_report([finding]))
    assert output.count("\n") == 1
    for character in ("\udce9", "\u202e", "\u2028", "\u2029", "\x1b", "\u200f"):
        assert character not in output
    assert "pkg \ufffdevil\ufffdsecond line" in output


def test_text_frame_of_a_long_line_is_cut_around_the_span():
    line = "COPY " + " ".join(f"src{i}" for i in range(2000)) + " /app/"
    column = line.index("src1500") + 1
    finding = Finding("DF101", ROOT / "Dockerfile", Span(1, column, 1, column + 7), "missing")
    lines = render("text", make_report([finding], source={("Dockerfile", 1): line})).splitlines()
    frame, marker = lines[2], lines[3]
    assert len(frame) < 200 and frame.startswith("1 | …") and frame.endswith("…")
    start = marker.index("^")
    assert frame[start : start + 7] == "src1500" and marker.count("^") == 7


def test_text_frame_of_a_short_line_is_whole():
    finding = Finding("DF101", ROOT / "Dockerfile", Span(1, 6, 1, 12), "here")
    lines = render("text", make_report([finding], source={("Dockerfile", 1): "FROM python:3.12"})).splitlines()
    assert lines[2:4] == ["1 | FROM python:3.12", "  |      ^^^^^^"]


def test_github_prints_nothing_when_clean():
    assert render("github", make_report()) == ""


# --------------------------------------------------------------------------- sarif


def test_sarif_validates_and_describes_the_run():
    log = sarif_of(full_report())
    assert list(log) == ["$schema", "version", "runs"]
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"], driver["semanticVersion"]) == (
        "dockerlint",
        dockerlint.__version__,
        dockerlint.__version__,
    )
    assert driver["informationUri"] == "https://github.com/dockerlint/dockerlint"
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///srv/app/"}}
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["invocations"] == [
        {
            "executionSuccessful": True,
            "toolExecutionNotifications": [
                {
                    "message": {"text": "skipped: binary file"},
                    "level": "note",
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": "models/weights.bin", "uriBaseId": "%SRCROOT%"}
                            }
                        }
                    ],
                }
            ],
        }
    ]


def test_sarif_rules_metadata():
    rules = sarif_of(full_report())["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["DF101", "GPU001", "SEC001", "SYN001"]
    df101 = rules[0]
    assert df101 == {
        "id": "DF101",
        "name": "apt-install-recommends",
        "shortDescription": {"text": "Apt install recommends."},
        "fullDescription": {"text": "Why DF101 matters: it makes the image bigger or less safe."},
        "help": {
            "text": "Why DF101 matters: it makes the image bigger or less safe.\n\nHow to fix:\nHow to avoid DF101.",
            "markdown": "Why DF101 matters: it makes the image bigger or less safe.\n\n## How to fix\n\nHow to avoid DF101.",
        },
        "helpUri": "https://github.com/dockerlint/dockerlint/blob/main/docs/rules/DF101.md",
        "defaultConfiguration": {"level": "warning", "enabled": True},
        "properties": {
            "tags": ["dockerlint", "df", "size", "apt"],
            "precision": "high",
            "problem.severity": "warning",
        },
    }
    by_id = {rule["id"]: rule for rule in rules}
    assert by_id["GPU001"]["defaultConfiguration"]["level"] == "note"
    assert by_id["GPU001"]["properties"]["problem.severity"] == "recommendation"
    assert "security-severity" not in by_id["GPU001"]["properties"]
    assert by_id["SEC001"]["properties"]["security-severity"] == "8.0"
    assert by_id["SEC001"]["properties"]["tags"] == ["dockerlint", "sec", "security"]
    # a finding whose code has no rule still gets a descriptor GitHub accepts
    assert by_id["SYN001"]["shortDescription"]["text"]


def test_sarif_results():
    run = sarif_of(full_report())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("DF101", "warning"),
        ("SYN001", "warning"),
        ("GPU001", "note"),
        ("DF101", "warning"),
        ("SEC001", "error"),
    ]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert "primaryLocationLineHash" not in result["partialFingerprints"]
        assert re.fullmatch(r"[0-9a-f]{16}", result["partialFingerprints"]["dockerlint/v1"])
    multi_line = results[3]
    assert multi_line["message"] == {"text": "apt-get install pulls recommended packages"}
    assert multi_line["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "svc%20a/Dockerfile", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 4, "startColumn": 23, "endLine": 6, "endColumn": 12},
            }
        }
    ]
    assert multi_line["relatedLocations"] == [
        {
            "id": 0,
            "physicalLocation": {
                "artifactLocation": {"uri": "svc%20a/Dockerfile", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 25},
            },
            "message": {"text": "base image already ships apt lists"},
        }
    ]
    assert multi_line["properties"] == {"size_bytes": 350_000_000, "fix": "Add --no-install-recommends"}
    assert "properties" not in results[1] and "relatedLocations" not in results[1]


def test_sarif_fingerprint_survives_moving_the_line_but_not_a_new_message():
    finding = FINDINGS[1]

    def fingerprint(f: Finding) -> str:
        return sarif_of(make_report([f]))["runs"][0]["results"][0]["partialFingerprints"]["dockerlint/v1"]

    assert fingerprint(finding) == fingerprint(replace(finding, span=Span(30, 6, 30, 10)))
    assert fingerprint(finding) != fingerprint(replace(finding, message="secret file .npmrc is copied"))
    assert fingerprint(finding) != fingerprint(replace(finding, path=ROOT / "other/Dockerfile"))


def test_sarif_without_findings_is_still_valid():
    log = sarif_of(make_report(files_checked=0))
    run = log["runs"][0]
    assert run["results"] == []
    assert run["invocations"] == [{"executionSuccessful": True}]
    assert len(run["tool"]["driver"]["rules"]) == 3
    assert sarif_of(make_report(rules={}))["runs"][0]["tool"]["driver"]["rules"] == []


def test_sarif_edge_cases_stay_valid():
    long_rule = make_rule("LAY001", "huge-layer", Severity.WARNING, tuple(f"tag{i}" for i in range(30)), why="x" * 5000)
    findings = [
        # outside the root: an absolute file URI, no base id
        Finding("LAY001", Path("/elsewhere/My Dockerfile"), Span(1, 1, 1, 2), "outside"),
        # an undecodable file name (surrogate escapes from os.walk) and a bad span from a buggy check
        Finding("LAY001", ROOT / "bad\udcffname/Dockerfile", Span(0, 0, 0, 0), "odd name"),
        Finding("LAY001", ROOT / "unicode/ü #1?.txt", Span(3, 9, 2, 1), "backwards span"),
    ]
    notes = [Note(ROOT / "x", "odd level", level="fatal")]
    run = sarif_of(make_report(findings, notes, rules={"LAY001": long_rule}))["runs"][0]
    descriptor = run["tool"]["driver"]["rules"][0]
    assert len(descriptor["fullDescription"]["text"]) == 1024
    assert len(descriptor["properties"]["tags"]) == 20
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    assert uris == [
        {"uri": "file:///elsewhere/My%20Dockerfile"},
        {"uri": "bad%FFname/Dockerfile", "uriBaseId": "%SRCROOT%"},
        {"uri": "unicode/%C3%BC%20%231%3F.txt", "uriBaseId": "%SRCROOT%"},
    ]
    regions = [r["locations"][0]["physicalLocation"]["region"] for r in run["results"]]
    assert regions[1] == {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1}
    assert regions[2] == {"startLine": 3, "startColumn": 9, "endLine": 3, "endColumn": 9}
    assert run["invocations"][0]["toolExecutionNotifications"][0]["level"] == "warning"


def test_sarif_is_deterministic_whatever_the_order_of_rules():
    reversed_rules = dict(reversed(list(RULES.items())))
    first = render("sarif", full_report())
    assert first == render("sarif", full_report(rules=reversed_rules))
    assert first == render("sarif", full_report())


# Which sarif_om class describes the object found under a key of another object.
_SARIF_OM_CHILDREN = {
    (sarif_om.SarifLog, "runs"): sarif_om.Run,
    (sarif_om.Run, "tool"): sarif_om.Tool,
    (sarif_om.Run, "invocations"): sarif_om.Invocation,
    (sarif_om.Run, "results"): sarif_om.Result,
    (sarif_om.Tool, "driver"): sarif_om.ToolComponent,
    (sarif_om.ToolComponent, "rules"): sarif_om.ReportingDescriptor,
    (sarif_om.ReportingDescriptor, "shortDescription"): sarif_om.MultiformatMessageString,
    (sarif_om.ReportingDescriptor, "fullDescription"): sarif_om.MultiformatMessageString,
    (sarif_om.ReportingDescriptor, "help"): sarif_om.MultiformatMessageString,
    (sarif_om.ReportingDescriptor, "defaultConfiguration"): sarif_om.ReportingConfiguration,
    (sarif_om.Invocation, "toolExecutionNotifications"): sarif_om.Notification,
    (sarif_om.Notification, "message"): sarif_om.Message,
    (sarif_om.Notification, "locations"): sarif_om.Location,
    (sarif_om.Result, "message"): sarif_om.Message,
    (sarif_om.Result, "locations"): sarif_om.Location,
    (sarif_om.Result, "relatedLocations"): sarif_om.Location,
    (sarif_om.Location, "message"): sarif_om.Message,
    (sarif_om.Location, "physicalLocation"): sarif_om.PhysicalLocation,
    (sarif_om.PhysicalLocation, "artifactLocation"): sarif_om.ArtifactLocation,
    (sarif_om.PhysicalLocation, "region"): sarif_om.Region,
}


def _check_property_names(value: dict, cls: type, seen: set) -> None:
    seen.add(cls)
    names = {field.metadata["schema_property_name"] for field in attr.fields(cls)}
    for key, child in value.items():
        assert key in names, f"{cls.__name__} has no SARIF property {key!r}"
        child_cls = _SARIF_OM_CHILDREN.get((cls, key))
        if child_cls is not None:
            for item in child if isinstance(child, list) else [child]:
                _check_property_names(item, child_cls, seen)


def test_sarif_uses_sarifs_own_property_names():
    """Oracle: sarif-om's attrs metadata holds the schema's camelCase name of every field."""
    seen: set = set()
    _check_property_names(sarif_of(full_report()), sarif_om.SarifLog, seen)
    assert {
        sarif_om.ReportingDescriptor,
        sarif_om.Result,
        sarif_om.Location,
        sarif_om.Region,
        sarif_om.Notification,
    } <= seen


# --------------------------------------------------------------------------- dispatch


def test_every_format_renders_the_full_and_the_empty_report():
    for fmt in FORMATS:
        assert isinstance(render(fmt, full_report(), color=True, statistics=True), str)
        assert isinstance(render(fmt, make_report(rules={})), str)


def test_unknown_format_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown output format 'xml'"):
        render("xml", full_report())


def test_a_text_run_does_not_load_the_sarif_module():
    code = (
        "import sys; from pathlib import Path; from dockerlint.findings import Severity;"
        "from dockerlint.report import Report, render;"
        "render('text', Report((), (), {}, 0, Path('.'), Severity.WARNING, lambda p, n: ''));"
        "print(sorted(m for m in sys.modules if m.startswith(('dockerlint.report.', 'sarif_om', 'jsonschema'))))"
    )
    output = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "['dockerlint.report.text']"


@pytest.mark.parametrize("fmt", ["text", "concise", "json", "sarif", "github"])
def test_a_report_comes_in_pieces_that_make_the_whole_document(fmt):
    """A monorepo's report is written a finding at a time, never held whole."""
    from dockerlint.report import render_chunks

    report = full_report()
    pieces = list(render_chunks(fmt, report, statistics=True))
    assert len(pieces) >= len(report.findings) + 1
    assert "".join(pieces) == render(fmt, report, statistics=True)
    if fmt in ("json", "sarif"):
        json.loads("".join(pieces))
