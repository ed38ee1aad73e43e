"""Adopting dockerlint on a legacy repository: a baseline of today's findings, so that only
new findings are reported (surviving lines that move), and `--add-noqa`."""

from __future__ import annotations

import json

import jsonschema
import pytest
from click.testing import CliRunner

from dockerlint.cli import main
from tests.conftest import SARIF_SCHEMA, write_tree

DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
CMD ["python", "app.py"]
"""


def invoke(*args: str):
    return CliRunner().invoke(main, ["--no-cache", *args])


@pytest.fixture
def legacy(tmp_path):
    root = write_tree(
        tmp_path / "legacy",
        {
            "Dockerfile": DOCKERFILE,
            "requirements.txt": "flask==3.0.3\nflask==3.0.3\n",
            "app.py": "import flask\n",
            ".dockerignore": ".git\n",
        },
    )
    (root / ".git").mkdir()
    return root


def codes(result) -> list[tuple[str, int]]:
    return sorted((f["code"], f["line"]) for f in json.loads(result.stdout)["findings"])


def test_only_new_findings_are_reported_and_moved_lines_keep_their_fingerprint(legacy):
    baseline = legacy / "dockerlint-baseline.json"
    before = codes(invoke(str(legacy), "-f", "json"))
    assert ("DL3042", 4) in before and ("SEC001", 1) in before and ("REQ002", 2) in before
    written = invoke(str(legacy), "--write-baseline", str(baseline))
    assert written.exit_code == 0 and f"Wrote {len(before)} findings" in written.stdout
    clean = invoke(str(legacy), "--baseline", str(baseline))
    assert clean.exit_code == 0 and f"{len(before)} findings in the baseline not shown" in clean.stdout

    # lines move: two lines inserted above everything
    (legacy / "Dockerfile").write_text("# syntax=docker/dockerfile:1\n\n" + DOCKERFILE)
    assert codes(invoke(str(legacy), "-f", "json", "--baseline", str(baseline))) == []

    # a new finding is reported; a fixed one simply disappears
    (legacy / "Dockerfile").write_text(
        DOCKERFILE.replace("RUN pip install -r requirements.txt", "RUN pip install --no-cache-dir -r requirements.txt")
        + "RUN pip install gunicorn==22.0.0\n"
    )
    result = invoke(str(legacy), "-f", "json", "--baseline", str(baseline))
    assert result.exit_code == 1
    # gunicorn is installed after `COPY . .` now: every code change reinstalls it (LAY002)
    assert codes(result) == [("DEP001", 7), ("DL3042", 7), ("LAY002", 5)]


def test_a_second_copy_of_a_known_finding_is_new(legacy):
    baseline = legacy / "baseline.json"
    invoke(str(legacy), "--write-baseline", str(baseline))
    # The same instruction twice: two findings with one fingerprint, one of them known.
    (legacy / "Dockerfile").write_text(DOCKERFILE + "RUN pip install -r requirements.txt\n")
    reported = codes(invoke(str(legacy), "-f", "json", "--baseline", str(baseline)))
    assert ("DL3042", 7) in reported and ("DL3042", 4) not in reported


def test_sarif_marks_new_and_unchanged_results(legacy):
    baseline = legacy / "baseline.json"
    invoke(str(legacy), "--write-baseline", str(baseline))
    (legacy / "Dockerfile").write_text(DOCKERFILE + "RUN pip install gunicorn==22.0.0\n")
    log = json.loads(invoke(str(legacy), "-f", "sarif", "--baseline", str(baseline)).stdout)
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))
    states = {(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]): r["baselineState"]
              for r in log["runs"][0]["results"]}  # fmt: skip
    assert states[("DL3042", 7)] == "new" and states[("DL3042", 4)] == "unchanged"
    assert set(states.values()) == {"new", "unchanged"}


@pytest.mark.parametrize("content", ["", "{}", '{"version": 99, "findings": []}', "[1, 2]"])
def test_a_baseline_that_is_not_one_is_an_error(legacy, content):
    baseline = legacy / "baseline.json"
    baseline.write_text(content)
    result = invoke(str(legacy), "--baseline", str(baseline))
    assert result.exit_code == 2 and "baseline" in result.stderr


def test_add_noqa_suppresses_every_finding_where_it_is(legacy):
    (legacy / "Dockerfile").write_text(
        DOCKERFILE.replace("RUN pip install -r", "# dockerlint: ignore=DL3059\n    RUN pip install -r")
    )
    result = invoke(str(legacy), "--add-noqa")
    assert result.exit_code == 0 and "Added " in result.stdout
    dockerfile = (legacy / "Dockerfile").read_text()
    assert dockerfile.startswith("# dockerlint: ignore=SEC001\nFROM python:3.12-slim\n")
    assert "# dockerlint: ignore=DL3042,DL3059\n    RUN pip install -r" in dockerfile
    assert (legacy / "requirements.txt").read_text() == "flask==3.0.3\nflask==3.0.3  # noqa: REQ002\n"
    after = invoke(str(legacy), "-f", "json")
    assert codes(after) == [] and after.exit_code == 0
    again = invoke(str(legacy), "--add-noqa")
    assert "Added 0 suppression comments." in again.stdout


def test_add_noqa_silences_each_entry_a_finding_speaks_for(tmp_path):
    """A file that pins none of its requirements is one REQ003 finding: `--add-noqa` puts a
    comment on every entry it names, so one run silences them all."""
    root = write_tree(
        tmp_path / "unpinned",
        {
            "Dockerfile": DOCKERFILE,
            "requirements.txt": "flask\nrequests\ngunicorn\n",
            "app.py": "import flask\nimport requests\n",
            ".dockerignore": ".git\n",
        },
    )
    assert invoke(str(root), "--add-noqa").exit_code == 0
    assert (root / "requirements.txt").read_text() == (
        "flask  # noqa: REQ003\nrequests  # noqa: REQ003\ngunicorn  # noqa: DEP001, REQ003\n"
    )
    assert codes(invoke(str(root), "-f", "json")) == []
