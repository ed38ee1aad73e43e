"""The README's snippets work as copied: the pre-commit pin exists, the CI step installs
from the repository, the VS Code problem matcher reads real output, and the JSON
description names every field the JSON output has."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from click.testing import CliRunner

from dockerlint.cli import main
from tests.conftest import REPO_ROOT, write_tree

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def _block_after(heading: str, language: str) -> str:
    section = README.split(heading, 1)[1]
    return section.split(f"```{language}\n", 1)[1].split("```", 1)[0]


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True)


def test_the_pre_commit_rev_is_a_commit_of_this_repository():
    rev = re.search(r"^\s+rev:\s*(\S+)", _block_after("## pre-commit", "yaml"), re.M).group(1)
    if _git("rev-parse", "--is-inside-work-tree").returncode != 0:
        pytest.skip("not a git checkout (an sdist)")
    if _git("rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        pytest.skip("a shallow clone holds only the newest commits")
    assert _git("cat-file", "-e", f"{rev}^{{commit}}").returncode == 0, f"{rev} is no commit here"


def test_the_ci_step_installs_from_the_repository():
    workflow = _block_after("## GitHub Actions", "yaml")
    install = next(line for line in workflow.splitlines() if "pip install" in line)
    homepage = re.search(r'^Homepage = "(.+)"', (REPO_ROOT / "pyproject.toml").read_text(), re.M).group(1)
    assert f"git+{homepage}" in install


def test_the_vscode_problem_matcher_reads_concise_output(tmp_path):
    tasks = json.loads(_block_after("## VS Code", "json"))
    task = tasks["tasks"][0]
    assert "--color never" in task["command"] and "--output-format concise" in task["command"]
    pattern = re.compile(task["problemMatcher"]["pattern"]["regexp"])
    write_tree(tmp_path, {"Dockerfile": "FROM python:3.12\nRUN pip install flask\n"})
    arguments = [str(tmp_path), "--no-cache", *task["command"].split()[2:]]
    lines = [line for line in CliRunner().invoke(main, arguments).stdout.splitlines() if line.startswith(str(tmp_path))]
    assert len(lines) >= 2 and all(pattern.match(line) for line in lines)


def test_the_json_description_names_every_field(tmp_path):
    write_tree(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.12\nCOPY . .\nRUN pip install -r requirements.txt\n",
            "requirements.txt": "flask\n",
        },
    )
    result = CliRunner().invoke(main, [str(tmp_path), "--no-cache", "-f", "json", "--statistics"])
    document = json.loads(result.stdout)
    described = README.split("- `json`:", 1)[1].split("\n- ", 1)[0]
    keys = set(document) | set(document["summary"])
    for finding in document["findings"]:
        keys |= set(finding)
        for related in finding["related"]:
            keys |= set(related)
    for note in document["summary"]["notes"]:
        keys |= set(note)
    assert any(finding["related"] for finding in document["findings"])
    missing = sorted(key for key in keys if not re.search(rf"\b{key}\b", described))
    assert missing == []
