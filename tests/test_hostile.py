"""Hostile, broken and huge input: a finding or a note and the run goes on, in bounded time
and memory; a real failure exits 2 with one line naming the file; nothing outside the
repository or a build context is read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dockerlint.cli import main
from dockerlint.parse.dockerfile import MAX_EXPANDED_LENGTH
from dockerlint.parse.pyproject import parse_pyproject
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


@pytest.mark.parametrize(
    ("requirement", "code"),
    [("nvidia-cublas-cu12==12.4.5.8", "import numpy\n"), ("cupy-cuda12x==13.3.0", "import cupy\n")],
)
def test_a_gpu_only_wheel_without_a_cpu_twin_is_sized_without_one(tmp_path, requirement, code):
    """GPU002's saving on a CPU image: CuPy and the nvidia-* wheels have no CPU distribution
    to take their place (this was a KeyError in the bill of bytes)."""
    write_tree(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY requirements.txt .\n"
            'RUN pip install --no-cache-dir -r requirements.txt\nCOPY app.py .\nUSER app\nCMD ["python", "app.py"]\n',
            "requirements.txt": f"numpy==1.26.4\n{requirement}\n",
            "app.py": code,
        },
    )
    for output in ("text", "json"):
        result = lint_cli(tmp_path, "--output-format", output)
        assert "GPU002" in result.output


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


def test_a_from_line_of_half_a_million_words(tmp_path):
    """SEC001 placed its finding by listing every word of the FROM line with its span, to
    take the first: 170 MB for a 1.8 MB line. It reads the first word only."""
    import tracemalloc

    write_tree(tmp_path, {"Dockerfile": "FROM nvidia/cuda:12.1.0-runtime-ubuntu22.04" + " -r" * 500_000 + "\n"})
    tracemalloc.start()
    try:
        lint_cli(tmp_path, "--select", "SEC001,IMG002,GPU003")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100_000_000, f"{peak / 1e6:.0f} MB"


def test_a_stray_byte_inside_thousands_of_open_parentheses(tmp_path, monkeypatch):
    """tree-sitter's error recovery is quadratic there (3 s a parse, seven parses of the RUN
    for the model and DL3009's fix): such a script goes to the plain splitter."""
    from dockerlint.parse import shell

    read_by_tree_sitter = []
    split = shell._split_with_tree_sitter
    monkeypatch.setattr(
        shell,
        "_split_with_tree_sitter",
        lambda parser, text: read_by_tree_sitter.append(len(text)) or split(parser, text),
    )
    run = "RUN apt-get update && apt-get install -y curl \\\n && rm -rf /va" + "(" * 300 + "\udca8" + "(" * 39_700
    dockerfile = "FROM python:3.12-slim\nUSER 1\n" + run + "r/lib/apt/lists/*\nRUN echo (fine) && echo done\n"
    (tmp_path / "Dockerfile").write_bytes(dockerfile.encode("utf-8", "surrogateescape"))
    lint_cli(tmp_path, seconds=10)
    assert read_by_tree_sitter and max(read_by_tree_sitter) < 1_000  # the short RUN only


def test_one_missing_file_named_thousands_of_times_is_looked_for_once(tmp_path, monkeypatch):
    """REQ004 asked, for each `-r`, whether any RUN writes the file: the whole line scanned
    25,000 times (16 s); each name is asked once per image now."""
    from dockerlint.checks import req

    scans = []
    original = req._written_in_build

    def counted(image, name, known):
        if name not in known:
            scans.append(name)
        return original(image, name, known)

    monkeypatch.setattr(req, "_written_in_build", counted)
    line = "RUN pip install --no-cache-dir " + "-r missing.txt " * 20_000 + "\n"
    write_tree(tmp_path, {"Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nUSER 1\n" + line, "app.py": ""})
    lint_cli(tmp_path)
    assert scans == ["missing.txt"]


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


@pytest.mark.parametrize(
    ("manifest", "header", "install"),
    [
        (
            "pyproject.toml",
            "[tool.poetry]\nname = 'app'\n[tool.poetry.dependencies]\n",
            "pip install poetry && poetry install",
        ),
        ("Pipfile", "[packages]\n", "pip install pipenv && pipenv install --system"),
    ],
)
def test_thousands_of_dependencies_written_name_equals_version(tmp_path, manifest, header, install):
    """Each `name = "*"` line is found in the text once: looking each key up from the top of
    its table made 20,000 of them take 20 s."""
    write_tree(
        tmp_path,
        {
            "Dockerfile": f"FROM python:3.12-slim\nCOPY . .\nRUN {install}\nUSER app\n",
            manifest: header + "".join(f'internal-package-{i} = "*"\n' for i in range(20000)),
            "app.py": "import internal_package_1\n",
        },
    )
    lint_cli(tmp_path, seconds=8)


def test_thousands_of_packages_on_one_pip_line_in_a_heredoc(tmp_path):
    # Each package's place in the heredoc was found by counting newlines from its start,
    # and each was looked up in the list of packages: both quadratic (found by the fuzzer).
    names = " \\\n    ".join(f"pkg{i}" for i in range(8000))
    dockerfile = f"FROM python:3.12-slim\nRUN <<EOF\npip install --no-cache-dir \\\n    {names}\nEOF\nUSER app\n"
    write_tree(tmp_path, {"Dockerfile": dockerfile})
    result = run_lint(tmp_path)
    unpinned = [f for f in result.findings if f.code == "DL3013"]
    # the whole command: from `pip` on the heredoc's first line to the end of `pkg7999`
    assert [(f.span.line, f.span.column, f.span.end_line, f.span.end_column) for f in unpinned] == [(3, 1, 8003, 12)]
    lint_cli(tmp_path, seconds=8)


def test_a_megabyte_run_line_of_expansions(tmp_path):
    # tree-sitter's tree of it took ~900 MB: scripts this long go to the plain splitter.
    from dockerlint.parse.shell import MAX_TREE_SITTER_SCRIPT, parse_script

    script = "apt-get install -y " + "$A" * (MAX_TREE_SITTER_SCRIPT // 2 + 1)
    assert [command.argv[:3] for command in parse_script(script).commands] == [("apt-get", "install", "-y")]
    write_tree(tmp_path, {"Dockerfile": f"FROM python:3.12-slim\nRUN {'$A' * 300_000}\nUSER 1000\n"})
    lint_cli(tmp_path, seconds=8)


def test_a_copy_naming_one_source_many_times(tmp_path):
    # Each source was looked up in the context again: 600,000 of them took half a minute.
    from dockerlint.model.image import MAX_COPY_SOURCES

    sources = " ".join(["app.py"] * 100_000 + [f"f{i}.py" for i in range(MAX_COPY_SOURCES + 10)])
    write_tree(tmp_path, {"Dockerfile": f"FROM python:3.12-slim\nCOPY {sources} /srv\nUSER 1000\n", "app.py": ""})
    result = run_lint(tmp_path)
    copy = result.images[0].final.copies[0]
    assert copy.sources[0].value == "app.py" and len(copy.sources) == MAX_COPY_SOURCES
    assert copy.dest_is_dir  # many sources: /srv is a folder, however few are followed
    lint_cli(tmp_path, seconds=8)


def test_a_package_named_many_times_on_one_pip_line_is_installed_once(tmp_path):
    write_tree(tmp_path, {"Dockerfile": "FROM python:3.12-slim\nRUN pip install " + "flask " * 50_000 + "\n"})
    result = run_lint(tmp_path)
    install = result.images[0].final.steps[-1].installs[0]
    assert [package.value for package in install.packages] == ["flask"]
    lint_cli(tmp_path, seconds=8)


def test_heredoc_offsets_map_to_lines_and_columns():
    from dockerlint.model.image import _offset_position

    body = "pip install \\\n  a \\\n\n  b\n"
    for offset in range(len(body) + 1):
        line = body.count("\n", 0, offset)
        assert _offset_position(body, offset) == (line, offset - body.rfind("\n", 0, offset))


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


def test_a_megabyte_of_escapes_in_a_requirements_option(tmp_path):
    # shlex builds a token a character at a time: this line took 19 s to split.
    dockerfile = "FROM python:3.12-slim\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
    requirements = "--index-url https://" + "\\" * 1_000_000 + "pypi.org/simple\nflask==3.0.3\n"
    write_tree(tmp_path, {"Dockerfile": dockerfile, "requirements.txt": requirements})
    findings = json.loads(lint_cli(tmp_path, "-f", "json", seconds=8).output)["findings"]
    assert any(f["path"].endswith("requirements.txt") and "are not read" in f["message"] for f in findings)


def test_megabyte_lines_in_a_gitignore(tmp_path):
    # pathspec compiles a pattern in time that grows with its length: a 1 MB line took 40 s.
    dockerfile = "FROM python:3.12-slim\nCOPY uv.lock ./\nUSER 1000\n"
    write_tree(tmp_path, {"Dockerfile": dockerfile, ".gitignore": "a*" * 500_000 + "\nuv.lock\n"})
    (missing,) = [
        f for f in json.loads(lint_cli(tmp_path, "-f", "json", seconds=8).output)["findings"] if f["code"] == "CTX003"
    ]
    assert "keeps it out of git (line 2)" in missing["message"]
    write_tree(tmp_path, {".gitignore": "".join(f"{i}{'b*' * 2_000}\n" for i in range(5_000))})  # 20 MB of patterns
    lint_cli(tmp_path, seconds=8)


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


def test_thousands_of_run_instructions(tmp_path, monkeypatch):
    from dockerlint.checks import lay

    runs = 4_000
    looked_at = []
    installed_packages = lay.installed_packages
    monkeypatch.setattr(lay, "installed_packages", lambda step: looked_at.append(step) or installed_packages(step))
    body = "RUN apt-get install -y curl\n" + "RUN echo step\n" * runs + "RUN apt-get purge -y curl\n"
    write_tree(tmp_path, {"Dockerfile": "FROM debian:12-slim\n" + body + "USER app\n"})
    result = run_lint(tmp_path, select=["LAY001"])
    assert [(f.code, f.span.line) for f in result.findings] == [("LAY001", runs + 3)]
    assert len(looked_at) <= runs + 2  # each RUN looking back at every earlier one took minutes at 30,000


def test_more_instructions_than_any_real_dockerfile_is_a_note(tmp_path):
    write_tree(tmp_path, {"Dockerfile": "FROM python:3.12-slim\n" + "RUN x\n" * 6_000})
    result = run_lint(tmp_path)
    assert result.findings == []
    assert [note.message for note in result.notes] == [
        "skipped: 6,001 instructions are more than the limit of 5,000 for Dockerfiles"
    ]
    lint_cli(tmp_path, seconds=5)


def test_a_chain_of_stages_each_copying_from_the_one_before(tmp_path, monkeypatch):
    from dockerlint.model import code, pyenv

    stages = 30  # the work doubled with each stage: 20 took 6 s, 30 would take hours
    calls = {"trees": 0, "files": 0}
    stage_trees, stage_files = pyenv._stage_trees, code._stage_files

    def counted_trees(*args):
        calls["trees"] += 1
        return stage_trees(*args)

    def counted_files(*args):
        calls["files"] += 1
        return stage_files(*args)

    from dockerlint.model import requested

    longest = [0]  # the requirements a stage meets: each once, however it reaches them
    stage_entries = requested._stage_entries

    def measured_entries(*args):
        found = stage_entries(*args)
        longest[0] = max(longest[0], len(found))
        if len(found) > stages:  # doubling at every stage: fail now, not after gigabytes
            raise AssertionError(f"a stage meets {len(found)} requirements")
        return found

    monkeypatch.setattr(pyenv, "_stage_trees", counted_trees)
    monkeypatch.setattr(code, "_stage_files", counted_files)
    monkeypatch.setattr(requested, "_stage_entries", measured_entries)
    chain = "".join(f"FROM s{i - 1} AS s{i}\nCOPY --from=s{i - 1} /opt/venv /opt/venv\n" for i in range(1, stages))
    venv = "RUN python -m venv /opt/venv && /opt/venv/bin/pip install flask\n"
    dockerfile = "FROM python:3.12-slim AS s0\n" + venv + chain
    write_tree(tmp_path, {"Dockerfile": dockerfile + "COPY app.py .\nUSER app\n", "app.py": "import flask\n"})
    result = run_lint(tmp_path)
    assert [f.code for f in result.findings if f.code.startswith(("SYN", "STG", "DEP"))] == []
    assert calls["trees"] <= stages * stages and calls["files"] <= 3 * stages
    assert longest[0] == 1  # flask, installed once into the venv every stage carries on


def test_more_stages_than_any_real_dockerfile_is_a_note(tmp_path):
    chain = "".join(f"FROM s{i - 1} AS s{i}\n" for i in range(1, 1_000))  # recursion went past Python's limit
    write_tree(tmp_path, {"Dockerfile": "FROM python:3.12-slim AS s0\n" + chain})
    result = run_lint(tmp_path)
    assert result.findings == []
    assert [note.message for note in result.notes] == [
        "skipped: 1,000 stages are more than the limit of 100 for Dockerfiles"
    ]


def test_a_chain_of_dependency_groups_deeper_than_the_limit_is_a_problem():
    lines = [f'g{i} = [{{include-group = "g{i + 1}"}}, "p{i}"]' for i in range(1_000)] + ['g1000 = ["last"]']
    result = parse_pyproject("[dependency-groups]\n" + "\n".join(lines) + "\n")
    assert [p.message for p in result.problems] == [
        "dependency groups include one another more than 50 deep: not followed"
    ]
    g0 = [d.name for d in result.dependencies if d.group == "group:g0"]
    assert g0[-3:] == ["p2", "p1", "p0"] and len(g0) == 51  # includes expand in place, before p0


@pytest.mark.parametrize(
    "name, bad_line, code, last",
    [
        ("requirements.txt", "RUN x", "REQ005", "more than 1,000 invalid lines: the rest of the file is not read"),
        ("Dockerfile", "FOO x", "SYN001", "more than 1,000 problems in this file: the rest are not reported"),
        (".dockerignore", "\\q", "SYN001", "more than 1,000 problems in this file: the rest are not reported"),
    ],
)
def test_a_file_of_thousands_of_bad_lines_reports_the_first_thousand(tmp_path, name, bad_line, code, last):
    files = {
        "Dockerfile": (
            "FROM python:3.12-slim\nCOPY requirements.txt .\n"
            "RUN pip install --no-cache-dir -r requirements.txt\nUSER app\n"
        ),
        "requirements.txt": "flask==3.0.3\n",
    }
    files[name] = files.get(name, "") + f"{bad_line}\n" * 50_000  # 300 kB: 50,000 findings and 200 MB before
    write_tree(tmp_path, files)
    result = run_lint(tmp_path, select=["SYN", "REQ"])
    problems = [f for f in result.findings if f.path.name == name and f.code == code]
    assert len(problems) == 1_001 and problems[-1].message == last
    lint_cli(tmp_path, seconds=10)


def test_an_ignore_file_with_thousands_of_patterns(tmp_path):
    patterns = "x\n" * 30_000 + "".join(f"dir{i}/*.py\n" for i in range(5_000)) + "!app/keep.py\n"
    files = {f"app/module{i}.py": "import os\n" for i in range(50)}
    files["app/keep.py"] = ""
    files.update({"Dockerfile": "FROM python:3.12-slim\nCOPY . /srv\nUSER app\n", ".dockerignore": patterns})
    write_tree(tmp_path, files)
    result = run_lint(tmp_path)
    (image,) = result.images
    assert image.ignore.excludes("x/y.py") and image.ignore.excludes("dir7/a.py")
    assert not image.ignore.excludes("app/keep.py") and not image.ignore.excludes("dir7/a/b.txt")
    lint_cli(tmp_path, seconds=5)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_a_named_pipe_where_a_file_is_expected_is_not_opened(tmp_path):
    write_tree(
        tmp_path,
        {
            "Dockerfile": (
                "FROM python:3.12-slim\nCOPY requirements.txt pyproject.toml ./\n"
                "RUN pip install --no-cache-dir -r requirements.txt .\nCOPY app /app\nUSER app\n"
            ),
            "app/main.py": "import flask\n",
        },
    )
    for name in ("requirements.txt", "pyproject.toml", ".dockerignore", "app/util.py"):
        os.mkfifo(tmp_path / name)  # opening one waits for a writer: the run would hang
    # In a child process: a regression must fail the test, not hang it.
    command = [sys.executable, "-m", "dockerlint", "--no-cache", "-f", "json", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert any(f["path"].endswith("requirements.txt") and f["code"] == "REQ004" for f in findings)


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


def test_a_pattern_python_warns_about_prints_no_warning(tmp_path):
    """`[[a]b` in a .gitignore makes Python's re warn of a possible nested set when the
    pattern is compiled: the repository's content is never a warning on the user's terminal."""
    root = write_tree(
        tmp_path,
        {".gitignore": "[[a]b\nsecret.txt\n", "Dockerfile": "FROM python:3.12-slim\nCOPY secret.txt /\n"},
    )
    result = subprocess.run(
        [sys.executable, "-W", "default", "-m", "dockerlint", "--no-cache", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Warning" not in result.stderr and "CTX003" in result.stdout
