"""Hostile, broken and huge input: a finding or a note and the run goes on, in bounded time
and memory; a real failure exits 2 with one line naming the file; nothing outside the
repository or a build context is read."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dockerlint.cli import main
from dockerlint.parse.dockerfile import MAX_EXPANDED_LENGTH
from tests.conftest import found, run_lint, write_tree

FORMATS = ("text", "concise", "json", "sarif", "github")


def invoke(*args: str):
    return CliRunner().invoke(main, ["--no-cache", *args], catch_exceptions=False)


def lint_cli(root: Path, *args: str, seconds: float = 10.0):
    """Lint through the CLI; the run must end normally (0 or 1), well within ``seconds``."""
    started = time.perf_counter()
    result = invoke(str(root), *args)
    elapsed = time.perf_counter() - started
    assert result.exit_code in (0, 1), (result.exit_code, result.stderr)
    assert "Traceback" not in result.output + result.stderr
    assert elapsed < seconds, f"{elapsed:.1f} s"
    return result


# -- inputs that crashed or exhausted earlier versions ----------------------------------------


def test_env_with_a_blank_name_is_a_syntax_error(tmp_path):
    write_tree(tmp_path, {"Dockerfile": "FROM x\nENV = .\n"})
    assert ("SYN001", "Dockerfile", 2) in found(run_lint(tmp_path, select=["SYN001"]))
    lint_cli(tmp_path)


@pytest.mark.parametrize(
    "instruction, message",
    [
        ("ENV A", "needs a value"),
        ("ENV A=1 B", "has no `=`"),
        ("ARG =1", "cannot be blank"),
    ],
)
def test_env_and_arg_forms_the_build_refuses(tmp_path, instruction, message):
    write_tree(tmp_path, {"Dockerfile": f"FROM python:3.12-slim\n{instruction}\nUSER app\n"})
    result = run_lint(tmp_path, select=["SYN001"])
    assert [(f.span.line, message in f.message) for f in result.findings] == [(2, True)]


def test_env_forms_the_build_accepts_are_not_errors(tmp_path):
    write_tree(tmp_path, {"Dockerfile": 'FROM python:3.12-slim\nENV A 1 2\nENV B=1 C="x y"\nARG D\nUSER app\n'})
    assert found(run_lint(tmp_path, select=["SYN001"])) == []


def test_a_file_name_longer_than_the_system_allows(tmp_path):
    name = "r" * 256
    write_tree(tmp_path, {"Dockerfile": f"FROM python:3.12-slim\nCOPY . .\nRUN pip install -r {name}\nUSER app\n"})
    lint_cli(tmp_path)


def test_deeply_nested_toml_in_the_configuration_is_a_configuration_error(tmp_path):
    write_tree(
        tmp_path, {"Dockerfile": "FROM python:3.12-slim\n", "pyproject.toml": "[tool.dockerlint]\nx = " + "[" * 500}
    )
    result = invoke(str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("dockerlint: error: ")
    assert "pyproject.toml" in result.stderr


def test_deeply_nested_toml_and_yaml_in_scanned_files_are_findings(tmp_path):
    deep_toml = "[project]\nname = 'svc'\ndependencies = " + "[" * 500 + "\n"
    deep_yaml = "services:\n  web:\n    build: .\n    x: " + "[" * 5000 + "\n"
    write_tree(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY svc /svc\nRUN pip install --no-cache-dir /svc\nUSER app\n",
            "svc/pyproject.toml": deep_toml,
            "compose.yaml": deep_yaml,
        },
    )
    result = lint_cli(tmp_path, "-f", "json", "--isolated")
    errors = {(Path(f["path"]).name, f["code"]) for f in json.loads(result.output)["findings"]}
    assert ("pyproject.toml", "SYN001") in errors and ("compose.yaml", "SYN001") in errors


def test_doubling_env_values_stay_bounded(tmp_path):
    lines = "".join("ENV A=${A}${A}\n" for _ in range(34))
    write_tree(tmp_path, {"Dockerfile": "FROM python:3.12-slim\nENV A=x\n" + lines + "RUN echo $A\nUSER app\n"})
    result = run_lint(tmp_path)
    (image,) = result.images
    value = image.stages[-1].steps[-1].env["A"]
    assert len(value) <= 2 * MAX_EXPANDED_LENGTH
    lint_cli(tmp_path, seconds=5)


def test_a_copy_with_thousands_of_missing_sources_is_one_finding(tmp_path):
    sources = " ".join(f"src{i}" for i in range(3000))
    write_tree(tmp_path, {"Dockerfile": f"FROM python:3.12-slim\nCOPY {sources} /app/\nUSER app\n"})
    result = run_lint(tmp_path, select=["CTX003"])
    (finding,) = result.findings
    assert "3,000 sources do not exist" in finding.message and "`src0`" in finding.message
    text = lint_cli(tmp_path, seconds=5).output
    assert len(text) < 20_000  # the 40 kB line is shown cut to the span, once


def test_a_copy_naming_one_missing_source_many_times_is_one_finding(tmp_path):
    write_tree(tmp_path, {"Dockerfile": "FROM python:3.12-slim\nCOPY a " + "b " * 3000 + "/app/\nUSER app\n"})
    result = run_lint(tmp_path, select=["CTX003"])
    assert sorted(f.message.split("`")[1] for f in result.findings) == ["a", "b"]


def test_a_few_missing_sources_keep_their_own_findings(tmp_path):
    write_tree(tmp_path, {"Dockerfile": "FROM python:3.12-slim\nCOPY app.py conf.yaml /app/\nUSER app\n"})
    result = run_lint(tmp_path, select=["CTX003"])
    assert [(f.span.column, f.message.split("`")[1]) for f in result.findings] == [(6, "app.py"), (13, "conf.yaml")]


def test_an_unparseable_url_is_not_a_crash(tmp_path):
    write_tree(tmp_path, {"Dockerfile": "FROM python:3.12-slim\nRUN curl -fsSL http://[::1/health\nUSER app\n"})
    lint_cli(tmp_path)


def test_deep_command_substitution(tmp_path):
    write_tree(tmp_path, {"Dockerfile": "FROM python:3.12-slim\nUSER 1\nRUN echo " + "$(" * 20_000 + "\n"})
    lint_cli(tmp_path, seconds=5)


def test_thousands_of_installed_packages(tmp_path):
    requirements = "".join(f"internal-package-{i}==1.0\n" for i in range(4000))
    write_tree(
        tmp_path,
        {
            "Dockerfile": (
                "FROM python:3.12-slim\nCOPY requirements.txt .\n"
                "RUN pip install --no-cache-dir -r requirements.txt\nCOPY app.py .\nUSER app\n"
            ),
            "requirements.txt": requirements,
            "app.py": "import internal_package_1\n",
        },
    )
    lint_cli(tmp_path, seconds=8)


def test_megabyte_lines_in_ignore_and_requirements_files(tmp_path):
    write_tree(
        tmp_path,
        {
            "Dockerfile": (
                "FROM python:3.12-slim\nCOPY requirements.txt .\n"
                "RUN pip install --no-cache-dir -r requirements.txt\nUSER app\n"
            ),
            ".dockerignore": "a" * 3_000_000 + "\n.git\n",
            "requirements.txt": "b==1 " + "x" * 3_000_000 + "\n-r " + "y" * 3_000_000 + "\n",
        },
    )
    result = lint_cli(tmp_path, "-f", "json", seconds=8)
    findings = json.loads(result.output)["findings"]
    assert any(f["path"].endswith(".dockerignore") and "longer than any path" in f["message"] for f in findings)
    assert all(len(f["message"]) <= 1000 for f in findings)


def test_paths_from_scanned_files_are_checked_with_os_path():
    """``Path.is_file()``/``exists()``/``is_dir()`` raise on a name longer than the system
    allows (before Python 3.14); ``os.path.isfile`` and friends answer False. Paths built
    from what a Dockerfile or requirements file says must use those."""
    import re

    from tests.conftest import REPO_ROOT

    allowed = {"datafiles.py", "rulebook.py", "scan_cache.py"}  # the tool's own files, never scanned input
    pattern = re.compile(r"\.(is_file|is_dir|exists|is_symlink)\(\)")
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{number}"
        for path in sorted((REPO_ROOT / "dockerlint").rglob("*.py"))
        if path.name not in allowed
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line) and "entry." not in line
    ]
    assert offenders == []


# -- files outside the repository or the build context ------------------------------------------

SECRET = "root:x:0:0:SECRET-MARKER"


@pytest.fixture
def outside_and_repo(tmp_path):
    """A secret file outside the repository, and an empty repository beside it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "passwd"
    secret.write_text(SECRET + "\n.git\nnumpy==1.26.4\n")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    return secret, repo


def _all_outputs(repo: Path) -> str:
    outputs = []
    for fmt in FORMATS:
        result = invoke(str(repo), "-f", fmt, "--exit-zero")
        assert result.exit_code == 0, result.stderr
        outputs.append(result.output)
    return "\n".join(outputs)


@pytest.mark.parametrize("name", [".dockerignore", "requirements.txt", "pyproject.toml"])
def test_a_symlink_out_of_the_context_is_not_read(outside_and_repo, name):
    secret, repo = outside_and_repo
    write_tree(
        repo,
        {
            "Dockerfile": (
                "FROM python:3.12-slim\nCOPY . /app\n"
                "RUN pip install --no-cache-dir -r /app/requirements.txt /app\nUSER app\n"
            ),
        },
    )
    (repo / name).symlink_to(secret)
    output = _all_outputs(repo)
    assert "SECRET-MARKER" not in output
    notes = json.loads(invoke(str(repo), "-f", "json", "--exit-zero").output)["summary"]["notes"]
    assert any(note["path"].endswith(name) and "leaves the build context" in note["message"] for note in notes)


def test_a_symlink_out_of_the_context_but_inside_the_repository(tmp_path):
    (tmp_path / ".git").mkdir()
    write_tree(
        tmp_path,
        {
            "shared/requirements.txt": "flask==3.0.3\n",
            "service/Dockerfile": (
                "FROM python:3.12-slim\nCOPY requirements.txt .\n"
                "RUN pip install --no-cache-dir -r requirements.txt\nUSER app\n"
            ),
        },
    )
    (tmp_path / "service" / "requirements.txt").symlink_to(tmp_path / "shared" / "requirements.txt")
    result = run_lint(tmp_path)
    assert any("leaves the build context" in note.message for note in result.notes)


def test_a_symlink_inside_the_context_is_read(tmp_path):
    (tmp_path / ".git").mkdir()
    write_tree(
        tmp_path,
        {
            "Dockerfile": (
                "FROM python:3.12-slim\nCOPY requirements.txt .\n"
                "RUN pip install --no-cache-dir -r requirements.txt\nUSER app\n"
            ),
            "deps/base.txt": "flask==3.0.3\nflask==3.0.3\n",
        },
    )
    (tmp_path / "requirements.txt").symlink_to(tmp_path / "deps" / "base.txt")
    result = run_lint(tmp_path, select=["REQ002"])
    assert [f.code for f in result.findings] == ["REQ002"] and not result.notes


def test_a_compose_dockerfile_outside_the_repository_is_one_note(outside_and_repo):
    secret, repo = outside_and_repo
    write_tree(
        repo,
        {
            "compose.yaml": f"services:\n  web:\n    build:\n      context: .\n      dockerfile: {secret}\n",
            "Dockerfile": "FROM python:3.12-slim\nUSER app\n",
        },
    )
    output = _all_outputs(repo)
    assert "SECRET-MARKER" not in output
    notes = json.loads(invoke(str(repo), "-f", "json", "--exit-zero").output)["summary"]["notes"]
    assert [note["message"] for note in notes if "outside the repository" in note["message"]] == [
        f"Dockerfile `{secret}` is outside the repository: not read"
    ]


def test_a_requirements_include_that_leaves_the_repository_is_not_read(outside_and_repo):
    secret, repo = outside_and_repo
    relative = os.path.relpath(secret, repo)
    write_tree(
        repo,
        {
            "Dockerfile": (
                "FROM python:3.12-slim\nCOPY requirements.txt .\n"
                "RUN pip install --no-cache-dir -r requirements.txt\nUSER app\n"
            ),
            "requirements.txt": f"-r {relative}\n",
        },
    )
    assert "SECRET-MARKER" not in _all_outputs(repo)


def test_a_context_outside_the_repository_is_not_walked(outside_and_repo):
    secret, repo = outside_and_repo
    write_tree(
        repo,
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY . .\nUSER app\n",
            "pyproject.toml": f'[tool.dockerlint.contexts]\n"Dockerfile" = "{secret.parent}"\n',
        },
    )
    result = invoke(str(repo), "-f", "json")
    notes = json.loads(result.output)["summary"]["notes"]
    assert any("build context" in note["message"] and "outside the repository" in note["message"] for note in notes)


def test_paths_named_on_the_command_line_may_be_anywhere(outside_and_repo, tmp_path):
    _, repo = outside_and_repo
    elsewhere = write_tree(tmp_path / "elsewhere", {"Dockerfile": "FROM python:3.12-slim\nRUN pip install flask\n"})
    for path in (elsewhere, elsewhere / "Dockerfile"):
        result = invoke(str(repo), str(path), "-f", "json")
        codes = {f["code"] for f in json.loads(result.output)["findings"]}
        assert "DL3042" in codes, result.output


# -- failures of dockerlint itself --------------------------------------------------------------


def test_an_internal_error_exits_2_with_one_line_naming_the_file(tmp_path, monkeypatch):
    from dockerlint import checks

    def broken(image):
        raise ValueError("something\nunexpected")

    write_tree(tmp_path, {"api/Dockerfile": "FROM python:3.12-slim\nUSER app\n"})
    monkeypatch.setattr(checks, "load_checks", lambda codes=None: {broken: ("SEC001",)})
    monkeypatch.setattr("dockerlint.engine.load_checks", lambda codes=None: {broken: ("SEC001",)})
    result = invoke(str(tmp_path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("dockerlint: error: internal error on ")
    assert "api/Dockerfile" in result.stderr and "ValueError: something unexpected" in result.stderr


def test_a_path_that_does_not_exist_is_an_error(tmp_path):
    result = invoke(str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert result.stderr == f"dockerlint: error: {tmp_path / 'nope'}: no such file or directory\n"
