"""Applying fixes: edits keep the file as it was around them, overlapping fixes wait
for the next round, nothing outside the linted paths or changed on disk is written,
and `--fix`, `--diff`, `--fix-only`, `--show-fixes` and the configuration behave as
ruff's do."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from dockerlint.cli import main
from dockerlint.findings import Applicability, Edit, Finding, Fix
from dockerlint.fixes import FixSettings, apply_edits, choose, write_if_unchanged
from dockerlint.source import Span
from tests.conftest import write_tree

ALL = FixSettings(unsafe=False, fixable=frozenset({"DL3042", "CTX002", "XX001"}))


def edit(line: int, column: int, content: str, end: tuple[int, int] | None = None, path="Dockerfile") -> Edit:
    end_line, end_column = end or (line, column)
    return Edit(Path(path), Span(line, column, end_line, end_column), content)


# -- edits on bytes ------------------------------------------------------------------------------


def test_an_insertion_keeps_everything_else():
    data = b"FROM python:3.12-slim\nRUN pip install flask\n"
    assert apply_edits(data, [edit(2, 16, " --no-cache-dir")]) == (
        b"FROM python:3.12-slim\nRUN pip install --no-cache-dir flask\n"
    )


def test_crlf_line_endings_and_a_byte_order_mark_are_kept():
    data = b"\xef\xbb\xbfFROM python:3.12-slim\r\nRUN pip install flask\r\n"
    result = apply_edits(data, [edit(2, 22, " && \\\n    pip cache purge")])
    assert result == b"\xef\xbb\xbfFROM python:3.12-slim\r\nRUN pip install flask && \\\r\n    pip cache purge\r\n"


def test_replacements_and_several_edits_in_one_file():
    data = b"ADD app.py /app/\nADD conf /etc/conf\n"
    result = apply_edits(data, [edit(1, 1, "COPY", (1, 4)), edit(2, 1, "COPY", (2, 4))])
    assert result == b"COPY app.py /app/\nCOPY conf /etc/conf\n"


def test_appending_to_a_file_without_a_final_newline_and_creating_a_file():
    assert apply_edits(b".venv", [edit(1, 6, "\n.git\n", path=".dockerignore")]) == b".venv\n.git\n"
    assert apply_edits(None, [edit(1, 1, ".git\n", path=".dockerignore")]) == b".git\n"


@pytest.mark.parametrize("data", [b"FROM python\xff\n", b"FROM python\rRUN ls\n"])
def test_files_that_cannot_be_edited_faithfully_are_left_alone(data):
    assert apply_edits(data, [edit(1, 1, "#")]) is None


# -- choosing the fixes of a round ---------------------------------------------------------------


def finding(code: str, line: int, applicability=Applicability.SAFE, *edits: Edit) -> Finding:
    edits = edits or (edit(line, 1, "x"),)
    return Finding(code, Path("Dockerfile"), Span(line, 1, line, 2), "m", autofix=Fix(applicability, "fix", edits))


def test_overlapping_fixes_wait_for_the_next_round():
    first = finding("DL3042", 1, Applicability.SAFE, edit(1, 5, "a", (1, 10)))
    overlapping = finding("XX001", 1, Applicability.SAFE, edit(1, 8, "b", (1, 12)))
    same_point = finding("CTX002", 2, Applicability.SAFE, edit(1, 5, "c"))
    separate = finding("XX001", 3, Applicability.SAFE, edit(3, 1, "d"))
    chosen = choose([separate, overlapping, first, same_point], ALL, lambda path: True)
    assert chosen == [first, separate]


def test_applicability_fixable_and_writable_decide():
    safe = finding("DL3042", 1)
    unsafe = finding("XX001", 2, Applicability.UNSAFE)
    display = finding("XX001", 3, Applicability.DISPLAY_ONLY)
    not_fixable = finding("DL3009", 4)
    everything = [safe, unsafe, display, not_fixable]
    assert choose(everything, ALL, lambda path: True) == [safe]
    assert choose(everything, FixSettings(True, ALL.fixable), lambda path: True) == [safe, unsafe]
    assert choose(everything, ALL, lambda path: False) == []


def test_a_file_changed_on_disk_since_it_was_read_is_not_overwritten(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM python:3.12\n")
    assert write_if_unchanged(path, b"FROM python:3.11\n", b"new") is not None
    assert path.read_bytes() == b"FROM python:3.12\n"
    assert write_if_unchanged(path, None, b"new") is not None  # expected to be absent
    assert write_if_unchanged(path, b"FROM python:3.12\n", b"new") is None
    assert path.read_bytes() == b"new"


def test_a_written_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "entrypoint.Dockerfile"
    path.write_bytes(b"FROM python:3.12\n")
    path.chmod(0o640)
    assert write_if_unchanged(path, b"FROM python:3.12\n", b"FROM python:3.12-slim\n") is None
    assert path.stat().st_mode & 0o777 == 0o640


# -- the command line ----------------------------------------------------------------------------

SERVICE = {
    "Dockerfile": (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
        'RUN pip install --no-cache-dir -r requirements.txt\nUSER app\nCMD ["python", "app.py"]\n'
    ),
    "requirements.txt": "flask==3.0.3\n",
    "app.py": "import flask\n",
    ".venv/pyvenv.cfg": "home = /usr/bin\n",
    "__pycache__/app.cpython-312.pyc": "compiled\n",
}


def invoke(*args: str):
    return CliRunner().invoke(main, ["--no-cache", *args])


@pytest.fixture
def service(tmp_path):
    root = tmp_path / "service"
    write_tree(root, {**SERVICE, ".git/HEAD": "ref: refs/heads/main\n"})
    return root


def _tree(root: Path) -> dict[str, bytes]:
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def test_diff_shows_the_change_writes_nothing_and_exits_1(service):
    before = _tree(service)
    result = invoke(str(service), "--diff")
    assert result.exit_code == 1
    assert "+++ " in result.stdout and "+.venv" in result.stdout and "+__pycache__" in result.stdout
    assert "Would fix" in result.stderr
    assert _tree(service) == before


def test_fix_applies_reports_what_remains_and_is_idempotent(service):
    result = invoke(str(service), "--fix", "--show-fixes", "-f", "concise")
    assert (service / ".dockerignore").read_text() == ".git\n.venv\n__pycache__\n"
    assert "Fixed:" in result.stdout and "CTX0" in result.stdout
    after = _tree(service)
    again = invoke(str(service), "--fix", "-f", "json")
    assert json.loads(again.stdout)["summary"]["fixed"] == 0
    assert _tree(service) == after
    clean = invoke(str(service), "--diff")
    assert clean.exit_code == 0 and clean.stdout == ""


def test_fix_only_fixes_and_reports_nothing_else(service):
    result = invoke(str(service), "--fix-only")
    assert result.exit_code == 0
    assert result.stdout.startswith("Fixed ") and "CTX" not in result.stdout
    assert (service / ".dockerignore").is_file()


def test_nothing_outside_the_linted_paths_is_written(service):
    result = invoke(str(service / "Dockerfile"), "--fix")
    assert not (service / ".dockerignore").exists()
    assert "CTX002" in result.stdout


def test_a_symlinked_ignore_file_is_not_written_through(service, tmp_path):
    elsewhere = tmp_path / "shared.dockerignore"
    elsewhere.write_text("node_modules\n")
    (service / ".dockerignore").symlink_to(elsewhere)
    invoke(str(service), "--fix")
    assert elsewhere.read_text() == "node_modules\n"


def test_configuration_turns_fixes_on_and_limits_them(service):
    (service / "pyproject.toml").write_text('[tool.dockerlint]\nfix = true\nunfixable = ["CTX"]\n')
    invoke(str(service))
    assert not (service / ".dockerignore").exists()
    (service / "pyproject.toml").write_text("[tool.dockerlint]\nfix = true\n")
    invoke(str(service))
    assert (service / ".dockerignore").is_file()


@pytest.mark.parametrize(
    "table, message",
    [
        ("fix = 1", "must be true or false"),
        ('fixable = ["XX9"]', "unknown rule code"),
        ("unsafe-fixes = 'yes'", "true"),
    ],
)
def test_invalid_fix_settings_are_configuration_errors(service, table, message):
    (service / "pyproject.toml").write_text(f"[tool.dockerlint]\n{table}\n")
    result = invoke(str(service))
    assert result.exit_code == 2 and message in result.stderr


def test_text_output_says_what_is_fixable(service):
    output = invoke(str(service)).stdout
    assert "= fix (safe): Add " in output
    summary = next(line for line in output.splitlines() if line.startswith("Found "))
    assert "fixable with `--fix`" in summary
