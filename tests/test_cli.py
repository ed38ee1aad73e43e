"""The command line as people and CI use it: formats, exit codes, config errors, rule docs,
hostile input, start-up cost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from dockerlint.cli import main
from tests.conftest import REPO_ROOT, SARIF_SCHEMA, write_tree

BLOATED = {
    "Dockerfile": """
        FROM python:3.11
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install -r requirements.txt
        COPY . .
        CMD uvicorn app.main:app --host 0.0.0.0
    """,
    "requirements.txt": "fastapi==0.115.0\nuvicorn==0.30.1\n",
    "app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
}


def invoke(*args: str, cwd: Path | None = None):
    runner = CliRunner()
    old = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return runner.invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.fixture
def bloated(tmp_path: Path) -> Path:
    return write_tree(tmp_path, BLOATED)


def test_text_output_and_exit_code(bloated):
    result = invoke(".", "--color", "never", cwd=bloated)
    assert result.exit_code == 1
    assert "Dockerfile:4:5: warning: `pip install` without `--no-cache-dir`" in result.output
    assert "Dockerfile:1:6: warning:" in result.output and "[IMG001]" in result.output
    assert "^^^^" in result.output and "= help:" in result.output
    lines = result.output.splitlines()
    # The summary, then one line per image: its estimated size and what the fixes save.
    assert lines[-3].startswith("Found ") and lines[-2] == ""
    assert lines[-1] == "Dockerfile ~1 GB, fixes save ~854 MB"


def test_check_subcommand_and_default_command_agree(bloated):
    assert invoke("check", ".", cwd=bloated).output == invoke(".", cwd=bloated).output


def test_exit_zero_fail_level_and_clean_runs(bloated, tmp_path):
    assert invoke(".", "--exit-zero", cwd=bloated).exit_code == 0
    assert invoke(".", "--fail-level", "error", cwd=bloated).exit_code == 0
    assert invoke(".", "--select", "DL3042", "--fail-level", "warning", cwd=bloated).exit_code == 1
    assert invoke(".", "--select", "DL3059", cwd=bloated).exit_code == 0


def test_json_output(bloated):
    result = invoke(".", "--output-format", "json", "--select", "DL3042,IMG001", cwd=bloated)
    data = json.loads(result.output)
    assert set(data) == {"version", "findings", "summary", "images"}
    image = data["images"][0]
    size_keys = ("estimated_bytes", "low_bytes", "high_bytes", "after_fixes_bytes", "unknown_parts", "savings")
    sizes = {key: image.pop(key) for key in size_keys}
    assert data["images"] == [
        {
            "dockerfile": "Dockerfile",
            "context": ".",
            "target": None,
            "platforms": [],
            "build_args": {},
            "context_source": "guess",
            "context_origin": None,
            "context_detail": "the Dockerfile's folder",
        }
    ]
    # The bill of bytes: the base image, the files COPY brings in, fastapi and uvicorn with
    # what they require (the package index sizes them: ~13 MB) and the pip cache the install
    # keeps; exceptiongroup (anyio's, for older Pythons) is unknown, not zero. IMG001's fix
    # saves 850 MB, DL3042's the cache.
    copied = sum(path.stat().st_size for path in bloated.rglob("*") if path.is_file())
    base_and_copies = 1_000_000_000 + copied + len("fastapi==0.115.0\nuvicorn==0.30.1\n")
    assert 5_000_000 < sizes["estimated_bytes"] - base_and_copies < 50_000_000
    assert sizes["low_bytes"] < sizes["estimated_bytes"] < sizes["high_bytes"]
    assert sizes["unknown_parts"] == 0  # every package of fastapi and uvicorn is in the index
    imgs, cache = sizes["savings"]
    assert imgs == {"code": "IMG001", "path": "Dockerfile", "line": 1, "bytes": 850_000_000}
    assert (cache["code"], cache["line"]) == ("DL3042", 4) and 0 < cache["bytes"] < 10_000_000
    assert sizes["after_fixes_bytes"] == sizes["estimated_bytes"] - 850_000_000 - cache["bytes"]
    first = data["findings"][0]
    assert set(first) >= {
        "code",
        "name",
        "severity",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "message",
        "fix",
        "size_bytes",
    }
    assert [(f["code"], f["path"], f["line"]) for f in data["findings"]] == [
        ("IMG001", "Dockerfile", 1),
        ("DL3042", "Dockerfile", 4),
    ]
    assert data["findings"][0]["size_bytes"] == 850_000_000
    assert data["summary"]["findings"] == 2


def test_sarif_output_validates_against_the_official_schema(bloated, tmp_path):
    out = tmp_path / "out.sarif"
    result = invoke(".", "--output-format", "sarif", "-o", str(out), cwd=bloated)
    assert result.exit_code == 1 and result.output == ""
    log = json.loads(out.read_text())
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert "DL3042" in ids and all(result["level"] in ("error", "warning", "note") for result in run["results"])
    location = run["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "Dockerfile", "uriBaseId": "%SRCROOT%"}


def test_github_and_concise_formats(bloated):
    github = invoke(".", "--output-format", "github", "--select", "DL3042", cwd=bloated).output
    assert github.startswith("::warning file=Dockerfile,line=4,")
    concise = invoke(".", "--output-format", "concise", "--select", "DL3042", cwd=bloated).output
    assert concise.splitlines()[0].startswith("Dockerfile:4:5: warning:")


def test_statistics(bloated):
    output = invoke(".", "--statistics", "--color", "never", cwd=bloated).output
    assert "DL3042" in output.split("Found")[-1]


def test_unknown_codes_and_bad_config_exit_2(bloated):
    result = invoke(".", "--select", "DL9999", cwd=bloated)
    assert result.exit_code == 2 and "DL9999" in result.output
    (bloated / ".dockerlint.toml").write_text('ignore = ["DL3042"]\nfail_level = "error"\n')
    result = invoke(".", cwd=bloated)
    assert result.exit_code == 2
    assert ".dockerlint.toml" in result.output and "`fail_level`" in result.output


def test_config_file_is_found_and_used(bloated):
    (bloated / ".dockerlint.toml").write_text('select = ["DL3042"]\n')
    data = json.loads(invoke(".", "-f", "json", cwd=bloated).output)
    assert {f["code"] for f in data["findings"]} == {"DL3042"}
    data = json.loads(invoke(".", "-f", "json", "--isolated", cwd=bloated).output)
    assert {f["code"] for f in data["findings"]} > {"DL3042"}


def test_rule_and_rules_commands():
    result = invoke("rule", "DL3042")
    assert result.exit_code == 0 and "DL3042" in result.output and "## How to fix" in result.output
    assert invoke("rule", "XX000").exit_code == 2
    listing = invoke("rules").output
    assert "IMG004" in listing and "off by default" in listing


def test_help_shows_the_lint_options_and_the_other_commands():
    for args in (["--help"], ["-h"], ["check", "--help"]):
        output = invoke(*args).output
        assert output.startswith("Usage: dockerlint [OPTIONS] [PATH]...")
        assert "--output-format" in output and "--select" in output and "--fail-level" in output
        assert "rule CODE" in output and "rules" in output


def test_color_always_colours_through_a_pipe(bloated):
    command = [sys.executable, "-m", "dockerlint", "--no-cache", str(bloated)]
    piped = subprocess.run([*command, "--color", "always"], capture_output=True, text=True)
    assert "\x1b[" in piped.stdout
    plain = subprocess.run([*command, "--color", "auto"], capture_output=True, text=True)
    assert "\x1b[" not in plain.stdout


def test_unknown_codes_in_suppression_comments_get_a_warning(tmp_path):
    write_tree(
        tmp_path,
        {
            "Dockerfile": (
                "FROM python:3.12-slim\n"
                "# dockerlint: ignore=DL3O42,SEC001\n"
                "# hadolint ignore=DL9999,SC2086\n"
                "RUN pip install --no-cache-dir flask==3.0.3\n"
            ),
            "requirements.txt": "flask==3.0.3  # noqa: REQ999\nrequests==2.32.3  # noqa: E501\n",
        },
    )
    notes = json.loads(invoke(str(tmp_path), "-f", "json", "--no-cache").output)["summary"]["notes"]
    messages = sorted((Path(note["path"]).name, note["message"]) for note in notes)
    assert messages == [
        ("Dockerfile", "line 2: the suppression comment names no known rule: `DL3O42`"),
        ("Dockerfile", "line 3: the suppression comment names no known rule: `DL9999`"),
        ("requirements.txt", "line 1: the suppression comment names no known rule: `REQ999`"),
    ]


def test_a_config_entry_naming_no_dockerfile_gets_a_warning(tmp_path):
    write_tree(
        tmp_path,
        {
            "docker/api.Dockerfile": "FROM python:3.12-slim\nUSER app\n",
            "pyproject.toml": (
                '[tool.dockerlint.contexts]\n"docker/api.Dockerfile" = "."\n"docker/worker.Dockerfile" = "."\n'
                '[tool.dockerlint.targets]\n"docker/*.Dockerfile" = "runtime"\n'
            ),
        },
    )
    notes = json.loads(invoke(str(tmp_path), "-f", "json", "--no-cache").output)["summary"]["notes"]
    assert [note["message"] for note in notes] == [
        "[tool.dockerlint.contexts] `docker/worker.Dockerfile` matches no Dockerfile"
    ]


def test_version():
    from dockerlint import __version__

    assert invoke("--version").output.strip().endswith(__version__)


# -- hostile input: a note or a finding, never a traceback --------------------------------------


def test_hostile_inputs(tmp_path):
    files = {
        "empty/Dockerfile": "",
        "binary/Dockerfile": bytes(range(256)) * 4,
        "latin1/Dockerfile": b"FROM python:3.11-slim\n# caf\xe9\nRUN pip install --no-cache-dir x\n",
        "heredoc/Dockerfile": "FROM python:3.11-slim\nRUN <<EOF\npip install x\n",
        "huge/Dockerfile": "FROM python:3.11-slim\n" + "RUN echo " + "x" * 100 + "\n" * 1,
        "requirements/requirements.txt": b"\xff\xfe" + "numpy==1.26\n".encode("utf-16-le"),
    }
    write_tree(tmp_path, files)
    huge = tmp_path / "huge" / "Dockerfile"
    with huge.open("a") as handle:
        line = "RUN pip install --no-cache-dir package-with-a-long-name==1.0.0 && echo done\n"
        handle.write(line * (10 * 1024 * 1024 // len(line)))
    unreadable = tmp_path / "unreadable" / "Dockerfile"
    unreadable.parent.mkdir()
    unreadable.write_text("FROM python\n")
    unreadable.chmod(0)
    loop = tmp_path / "loop"
    loop.mkdir()
    (loop / "Dockerfile").symlink_to(loop / "Dockerfile")
    result = invoke(str(tmp_path), "-f", "json", "--select", "ALL")
    unreadable.chmod(0o644)
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.output)
    codes = {(Path(f["path"]).parent.name, f["code"]) for f in data["findings"]}
    assert ("empty", "SYN001") in codes
    assert ("latin1", "SYN002") in codes
    assert ("heredoc", "SYN001") in codes
    notes = {Path(note["path"]).parent.name: note["message"] for note in data["summary"]["notes"]}
    assert "binary" in notes["binary"]
    assert "larger than" in notes["huge"]
    assert os.geteuid() == 0 or "could not be read" in notes["unreadable"]  # root reads anything
    assert "could not be read" in notes["loop"]


def test_symlink_loop_named_on_the_command_line(tmp_path):
    loop = tmp_path / "Dockerfile"
    loop.symlink_to(loop)
    result = invoke(str(loop), "-f", "json")
    assert result.exit_code == 0
    notes = json.loads(result.output)["summary"]["notes"]
    assert notes and "Dockerfile" in notes[0]["path"]


# -- start-up ------------------------------------------------------------------------------------


def test_help_and_version_load_no_heavy_module():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from dockerlint.cli import main\n"
        "CliRunner().invoke(main, ['--help'])\n"
        "CliRunner().invoke(main, ['--version'])\n"
        "heavy = {'libcst', 'sarif_om', 'pip_requirements_parser', 'packaging.requirements', 'tree_sitter',"
        " 'yaml', 'dockerlint.engine', 'jsonschema'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert output.stdout.strip() == "[]"


def test_version_answers_before_the_command_line_library_loads():
    code = (
        "import sys\n"
        "sys.argv = ['dockerlint', '--version']\n"
        "import dockerlint\n"
        "try:\n"
        "    dockerlint.run()\n"
        "except SystemExit as stop:\n"
        "    print(stop.code, sorted(name for name in sys.modules if name.startswith(('click', 'dockerlint.'))))\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    from dockerlint import __version__

    assert output.stdout.splitlines() == [f"dockerlint, version {__version__}", "0 []"]


def test_linting_a_small_project_loads_only_what_it_needs(tmp_path):
    """A pre-commit run on a Dockerfile that installs a pinned requirements file: names are
    normalised without packaging's tags module, its requirement grammar is not loaded
    (no `pip install NAME`), no TOML is parsed once the data-file cache is built, and
    with --no-cache nothing is digested."""
    project = tmp_path / "project"
    write_tree(
        project,
        {
            "Dockerfile": (
                "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
                "RUN pip install --no-cache-dir -r requirements.txt\nCOPY app/ ./app/\n"
                'USER 10001\nCMD ["python", "-m", "app.main"]\n'
            ),
            "requirements.txt": "Flask==3.0.3\nrequests==2.32.3\n",
            ".dockerignore": ".git\n",
            "app/__init__.py": "",
            "app/main.py": "import flask\nimport requests\n",
        },
    )
    code = (
        "import sys\n"
        f"sys.argv = ['dockerlint', '--no-cache', {str(project)!r}]\n"
        "import dockerlint\n"
        "try:\n"
        "    dockerlint.run()\n"
        "except SystemExit as stop:\n"
        "    print('exit', stop.code)\n"
        "unwanted = {'packaging.tags', 'packaging.utils', 'packaging.requirements', 'tomllib', 'hashlib', 'difflib',\n"
        "            'dockerlint.tomlparser', 'yaml', 'libcst', 'dockerlint.server', 'dockerlint.report.sarif'}\n"
        "print(sorted(unwanted & set(sys.modules)))\n"
    )
    environment = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "HOME": str(tmp_path)}
    for _ in range(2):  # the first run builds the data-file cache, the second reads it
        output = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=project, env=environment, check=True
        )
    assert output.stdout.splitlines()[-2:] == ["exit 0", "[]"], output.stdout + output.stderr


def test_python_dash_m(tmp_path):
    output = subprocess.run(
        [sys.executable, "-m", "dockerlint", "--version"], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    assert "dockerlint" in output.stdout


def test_no_network_and_no_scanned_code_runs(tmp_path, monkeypatch):
    """The linter reads files and nothing else: any socket fails the run, and code in the
    scanned repository that would leave a mark if imported or executed never runs."""
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("dockerlint opened a network connection")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    marker = tmp_path / "ran"
    trap = f"open({str(marker)!r}, 'w').write('imported')\n"
    root = write_tree(
        tmp_path / "repo",
        {
            **BLOATED,
            "app/__init__.py": trap,
            "setup.py": trap,
            "scripts/download_models.py": trap,
            "Dockerfile": BLOATED["Dockerfile"] + "RUN python scripts/download_models.py && pip install .\n",
        },
    )
    result = invoke(str(root), "-f", "json", "--select", "ALL")
    assert result.exit_code == 1
    assert not marker.exists()


def test_a_reader_that_stops_reading_is_no_error(bloated):
    """`dockerlint . | head -1`: the pipe closes before the report is written."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dockerlint", "--no-cache", "."],
        cwd=bloated, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait() == 141 and stderr == ""
