"""Shared test helpers: write a small repository, lint it, look at the findings."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dockerlint.config import config_from_table
from dockerlint.engine import Result, lint
from dockerlint.rulebook import load_rules

REPO_ROOT = Path(__file__).resolve().parent.parent
# The official schema lives in ``shared/`` beside the checkout (or beside the folder of
# worktrees that holds it).
SARIF_SCHEMA = next(
    (
        folder / "shared" / "schemas" / "sarif-schema-2.1.0.json"
        for folder in REPO_ROOT.parents
        if (folder / "shared" / "schemas" / "sarif-schema-2.1.0.json").is_file()
    ),
    REPO_ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json",
)


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create files under ``root``; text is dedented so tests can indent it."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def config_for(root: Path, **config):
    """A configuration as ``[tool.dockerlint]`` would give it, rooted at ``root``."""
    table = {key.replace("_", "-"): value for key, value in config.items()}
    cfg = config_from_table(table, None, load_rules())
    cfg.root = root.resolve()
    return cfg


def run_lint(root: Path, *, paths: list[Path] | None = None, **config) -> Result:
    return lint(paths or [root], config_for(root, **config), load_rules())


def found(result: Result, code: str | None = None) -> list[tuple[str, str, int]]:
    """(code, file name relative to the linted tree, line), sorted."""
    items = []
    for finding in result.findings:
        if code is None or finding.code == code:
            items.append((finding.code, finding.path.name, finding.span.line))
    return sorted(items)


@pytest.fixture
def repo(tmp_path: Path):
    """``repo({"Dockerfile": "..."})`` writes a repository and returns its root."""

    def make(files: dict[str, str | bytes]) -> Path:
        return write_tree(tmp_path, files)

    return make


@pytest.fixture(autouse=True)
def _own_cache_folder(tmp_path_factory, monkeypatch):
    """Runs through the CLI keep their import-scan cache in a folder of the test session,
    never in the user's own cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))
    monkeypatch.delenv("DOCKERLINT_CACHE_DIR", raising=False)
    monkeypatch.delenv("DOCKERLINT_NO_CACHE", raising=False)
