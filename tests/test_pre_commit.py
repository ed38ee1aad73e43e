"""The pre-commit hook, run for real: ``pre-commit try-repo`` installs this checkout in
its own environment and runs the hook on a temporary git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.conftest import REPO_ROOT, write_tree

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def test_hook_definition():
    hook, fixing = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "dockerlint" and hook["language"] == "python" and hook["require_serial"] is True
    assert fixing["id"] == "dockerlint-fix" and fixing["entry"] == "dockerlint --fix"
    assert {key: value for key, value in fixing.items() if key not in ("id", "name", "entry", "description")} == {
        key: value for key, value in hook.items() if key not in ("id", "name", "entry", "description")
    }
    import re

    files = re.compile(hook["files"])
    for path in (
        "Dockerfile",
        "svc/Dockerfile.gpu",
        "api.Dockerfile",
        "Containerfile",
        ".dockerignore",
        "Dockerfile.dockerignore",
        "requirements.txt",
        "requirements/dev.txt",
        "constraints.txt",
        "pyproject.toml",
        "docker-compose.yml",
        "compose.yaml",
        "app/main.py",
    ):
        assert files.search(path), path
    for path in ("README.md", "setup.cfg", "package.json"):
        assert not files.search(path), path


def test_try_repo(tmp_path):
    project = write_tree(
        tmp_path / "project",
        {
            "Dockerfile": 'FROM python:3.11-slim\nRUN pip install fastapi\nCMD ["python"]\n',
            "app.py": "print('hi')\n",
            ".dockerignore": ".git\n",
        },
    )
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    subprocess.run(["git", "init", "-q"], cwd=project, check=True, env=env)
    subprocess.run(["git", "add", "-A"], cwd=project, check=True, env=env)

    def try_repo(*files: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "try-repo", str(REPO_ROOT), "dockerlint", "--files", *files],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    failing = try_repo("Dockerfile")
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "DL3042" in failing.stdout and "Dockerfile:2:5" in failing.stdout

    (project / "Dockerfile").write_text(
        'FROM python:3.11-slim\nRUN pip install --no-cache-dir fastapi==0.115.6\nUSER 65534\nCMD ["python"]\n'
    )
    subprocess.run(["git", "add", "-A"], cwd=project, check=True, env=env)
    passing = try_repo("Dockerfile", "app.py")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout
