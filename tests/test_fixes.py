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
    # CTX001's new ignore file: what the context holds that no image needs, and .env, which
    # nothing matches yet
    assert (service / ".dockerignore").read_text() == ".env\n.git\n.venv\n__pycache__\n"
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
    assert "CTX001" in result.stdout


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


# -- the rules' fixes keep the file's style ------------------------------------------------------


def fix_files(tmp_path: Path, files: dict[str, str | bytes], *codes: str, unsafe: bool = True):
    """Run ``--fix`` (``--unsafe-fixes``) for ``codes`` on a tiny repository: the files it
    changed (name -> bytes), and the findings of those codes left with a fix."""
    from dockerlint.engine import lint_and_fix
    from dockerlint.rulebook import load_rules
    from tests.conftest import config_for

    root = write_tree(tmp_path / "repo", files)
    config = config_for(root, select=list(codes))
    settings = FixSettings(unsafe=unsafe, fixable=frozenset(codes))
    result, outcome = lint_and_fix([root], config, load_rules(), settings, write=True)
    changed = {path.relative_to(root).as_posix(): (root / path).read_bytes() for path in outcome.after}
    again, second = lint_and_fix([root], config, load_rules(), settings, write=True)
    assert second.after == {}, "a second --fix changed something"
    assert not [f for f in again.findings if f.code == "SYN001"]
    left = [f for f in result.findings if f.code in codes and f.autofix is not None]
    return changed, left


@pytest.mark.parametrize(
    "dockerfile, expected",
    [
        (  # one line
            "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n",
            "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends curl"
            " && rm -rf /var/lib/apt/lists/*\n",
        ),
        (  # `&& \` at the end of each line; the packages continued deeper
            "FROM python:3.12-slim\nRUN apt-get update && \\\n    apt-get install -y --no-install-recommends \\\n"
            "        curl \\\n        git\n",
            "FROM python:3.12-slim\nRUN apt-get update && \\\n    apt-get install -y --no-install-recommends \\\n"
            "        curl \\\n        git && \\\n    rm -rf /var/lib/apt/lists/*\n",
        ),
        (  # `&&` at the start of each line, a comment line inside the continuation
            "FROM python:3.12-slim\nRUN apt-get update \\\n  # the compiler\n"
            "  && apt-get install -y --no-install-recommends gcc\n",
            "FROM python:3.12-slim\nRUN apt-get update \\\n  # the compiler\n"
            "  && apt-get install -y --no-install-recommends gcc \\\n  && rm -rf /var/lib/apt/lists/*\n",
        ),
        (  # the escape directive
            "# escape=`\nFROM python:3.12-slim\nRUN apt-get update `\n"
            " && apt-get install -y --no-install-recommends gcc\n",
            "# escape=`\nFROM python:3.12-slim\nRUN apt-get update `\n"
            " && apt-get install -y --no-install-recommends gcc `\n"
            " && rm -rf /var/lib/apt/lists/*\n",
        ),
    ],
)
def test_dl3009_ends_the_run_in_its_own_continuation_style(tmp_path, dockerfile, expected):
    changed, left = fix_files(tmp_path, {"Dockerfile": dockerfile}, "DL3009")
    assert changed["Dockerfile"].decode() == expected
    assert left == []


@pytest.mark.parametrize(
    "run",
    [
        "RUN apt-get update # the lists",  # the rm would be commented out
        "RUN apt-get update;",
        "RUN <<EOF\napt-get update\nEOF",
        'RUN ["/bin/sh", "-c", "apt-get update"]',
    ],
)
def test_dl3009_leaves_a_run_it_cannot_end_safely(tmp_path, run):
    changed, _ = fix_files(tmp_path, {"Dockerfile": f"FROM python:3.12-slim\n{run}\n"}, "DL3009")
    assert changed == {}


def test_crlf_a_byte_order_mark_and_heredocs_are_kept(tmp_path):
    dockerfile = (
        "\ufeff# syntax=docker/dockerfile:1\r\nFROM python:3.12-slim\r\n"
        "RUN <<EOF\r\npip install flask==3.0.3\r\nEOF\r\nRUN apt-get update && apt-get install -y \\\r\n    curl\r\n"
    )
    changed, left = fix_files(tmp_path, {"Dockerfile": dockerfile.encode()}, "DL3042", "DL3009", "DL3015")
    assert (
        changed["Dockerfile"]
        == (
            "\ufeff# syntax=docker/dockerfile:1\r\nFROM python:3.12-slim\r\n"
            "RUN <<EOF\r\npip install --no-cache-dir flask==3.0.3\r\nEOF\r\n"
            "RUN apt-get update && apt-get install --no-install-recommends -y \\\r\n    curl && \\\r\n"
            "    rm -rf /var/lib/apt/lists/*\r\n"
        ).encode()
    )
    assert left == []


def test_a_heredoc_with_stripped_tabs_is_not_edited_at_the_wrong_column(tmp_path):
    dockerfile = "FROM python:3.12-slim\nRUN <<-EOF\n\t\tpip install flask==3.0.3\n\tEOF\n"
    changed, _ = fix_files(tmp_path, {"Dockerfile": dockerfile}, "DL3042")
    assert changed.get("Dockerfile", dockerfile.encode()) in (
        dockerfile.encode(),
        dockerfile.replace("install ", "install --no-cache-dir ").encode(),
    )


def test_dl3042_uses_the_cache_mount_the_file_already_uses(tmp_path):
    dockerfile = (
        "# syntax=docker/dockerfile:1\nFROM python:3.12-slim\n"
        "RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt\n"
        "RUN pip install gunicorn==22.0.0\nRUN uv sync --frozen\n"
    )
    changed, left = fix_files(tmp_path, {"Dockerfile": dockerfile, "requirements.txt": "flask\n"}, "DL3042")
    assert changed["Dockerfile"].decode().splitlines()[3:] == [
        "RUN --mount=type=cache,target=/root/.cache/pip pip install gunicorn==22.0.0",
        "RUN uv sync --no-cache --frozen",
    ]
    assert left == []


@pytest.mark.parametrize(
    "cmd",
    [
        "CMD python -m app --port $PORT",
        "CMD uvicorn app:app > /var/log/app.log",
        "CMD python app.py && python worker.py",
        "CMD gunicorn app:app | tee log",
        "CMD python *.py",
        "CMD ~/bin/serve",
        "CMD `which python` app.py",
        "CMD PORT=8000 python app.py",
        "CMD python app.py  # serve",
    ],
)
def test_dl3025_keeps_the_shell_form_when_the_shell_does_more_than_split_words(tmp_path, cmd):
    changed, _ = fix_files(tmp_path, {"Dockerfile": f"FROM python:3.12-slim\n{cmd}\n"}, "DL3025")
    assert changed == {}


def test_dl3025_json_form_of_plain_commands(tmp_path):
    dockerfile = (
        "FROM python:3.12-slim\nHEALTHCHECK --interval=30s CMD python healthcheck.py\n"
        "ENTRYPOINT exec gunicorn \\\n    --bind 0.0.0.0:8000 'app:create_app()'\n"
    )
    changed, left = fix_files(tmp_path, {"Dockerfile": dockerfile}, "DL3025")
    assert changed["Dockerfile"].decode() == (
        'FROM python:3.12-slim\nHEALTHCHECK --interval=30s CMD ["python", "healthcheck.py"]\n'
        'ENTRYPOINT ["gunicorn", "--bind", "0.0.0.0:8000", "app:create_app()"]\n'
    )
    assert left == []


def test_dl3025_leaves_arguments_an_entrypoint_receives(tmp_path):
    both = 'FROM python:3.12-slim\nENTRYPOINT ["/entrypoint.sh"]\nCMD serve --port 8000\n'
    assert fix_files(tmp_path / "a", {"Dockerfile": both}, "DL3025")[0] == {}
    entry = "FROM python:3.12-slim\nENTRYPOINT python app.py\nCMD --port 8000\n"
    assert fix_files(tmp_path / "b", {"Dockerfile": entry}, "DL3025")[0] == {}


def test_dl3020_copies_only_what_add_would_not_extract(tmp_path):
    files = {
        "Dockerfile": "FROM python:3.12-slim\nADD src /app/src\nadd settings.toml /app/\nADD vendor.bin /opt/\n"
        "ADD *.txt /app/\nADD --checksum=sha256:0 settings.toml /etc/\n",
        "src/app.py": "print(1)\n",
        "settings.toml": "a = 1\n",
        "vendor.bin": "data\n",
        "a.txt": "x\n",
    }
    changed, _ = fix_files(tmp_path, files, "DL3020")
    assert changed["Dockerfile"].decode().splitlines()[1:] == [
        "COPY src /app/src",
        "copy settings.toml /app/",
        "ADD vendor.bin /opt/",
        "ADD *.txt /app/",
        "ADD --checksum=sha256:0 settings.toml /etc/",
    ]


def test_dl3047_only_where_wget_is_gnu_wget(tmp_path):
    run = "RUN wget https://example.com/model.bin -O /opt/model.bin\n"
    changed, _ = fix_files(tmp_path / "a", {"Dockerfile": "FROM debian:bookworm-slim\n" + run}, "DL3047")
    assert b"wget --progress=dot:giga https://" in changed["Dockerfile"]
    assert fix_files(tmp_path / "b", {"Dockerfile": "FROM alpine:3.20\n" + run}, "DL3047")[0] == {}
    assert fix_files(tmp_path / "c", {"Dockerfile": "FROM example.com/base:1\n" + run}, "DL3047")[0] == {}


def test_dl3027_only_for_subcommands_apt_get_runs_the_same_way(tmp_path):
    same = "FROM ubuntu:24.04\nRUN apt update && apt install -y curl=8.5.0-2ubuntu10.6\n"
    changed, _ = fix_files(tmp_path / "a", {"Dockerfile": same}, "DL3027")
    assert (
        changed["Dockerfile"] == b"FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y curl=8.5.0-2ubuntu10.6\n"
    )
    upgrade = "FROM ubuntu:24.04\nRUN apt update && apt upgrade -y\n"
    assert fix_files(tmp_path / "b", {"Dockerfile": upgrade}, "DL3027")[0] == {}
    unpinned = "FROM ubuntu:24.04\nRUN apt update && apt install -y curl\n"  # as apt-get: DL3008
    assert fix_files(tmp_path / "c", {"Dockerfile": unpinned}, "DL3027")[0] == {}


def test_display_only_fixes_are_shown_in_text_and_never_in_the_diff(tmp_path):
    root = write_tree(tmp_path / "repo", {"Dockerfile": 'FROM python:latest\nCMD ["python"]\n'})
    text = invoke(str(root), "--select", "DL3007").stdout
    assert "= fix (display-only): " in text
    assert "  - FROM python:latest" in text and "  + FROM python:<version>" in text
    diff = invoke(str(root), "--select", "DL3007", "--diff", "--unsafe-fixes")
    assert diff.exit_code == 0 and diff.stdout == ""
    invoke(str(root), "--select", "DL3007", "--fix", "--unsafe-fixes")
    assert (root / "Dockerfile").read_text() == 'FROM python:latest\nCMD ["python"]\n'


# -- unsafe fixes: offered only where the rest of the build cannot tell --------------------------


def test_gpu001_installs_cpu_torch_first_with_the_same_pip(tmp_path):
    files = {
        "Dockerfile": "FROM python:3.12-slim\nCOPY requirements.txt .\n"
        "RUN python -m pip install --no-cache-dir -r requirements.txt\n"
        'CMD ["python", "-m", "app"]\n',
        "requirements.txt": "torch==2.5.1\n",
        "app/__main__.py": "import torch\n",
    }
    changed, left = fix_files(tmp_path / "a", files, "GPU001")
    assert changed["Dockerfile"].decode().splitlines()[2] == (
        "RUN python -m pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.5.1"
        " && python -m pip install --no-cache-dir -r requirements.txt"
    )
    assert left == []
    assert fix_files(tmp_path / "b", files, "GPU001", unsafe=False)[0] == {}


@pytest.mark.parametrize(
    "run",
    [
        "RUN pip install --user --no-cache-dir -r requirements.txt",
        "RUN /opt/venv/bin/pip install --no-cache-dir -r requirements.txt",
        "RUN python -m venv /opt/venv && pip install --no-cache-dir -r requirements.txt",
        "RUN pip install --no-cache-dir --extra-index-url https://example.com/simple -r requirements.txt",
        "RUN pip install --no-cache-dir -r requirements.txt torchvision",  # torchvision not pinned: DL3013
    ],
)
def test_gpu001_leaves_installs_into_another_environment(tmp_path, run):
    files = {
        "Dockerfile": f"FROM python:3.12-slim\nENV PATH=/opt/venv/bin:$PATH\nCOPY requirements.txt .\n{run}\n",
        "requirements.txt": "torch==2.5.1\n",
    }
    assert fix_files(tmp_path, files, "GPU001")[0] == {}


def test_lay002_copies_the_manifests_and_their_includes_first(tmp_path):
    files = {
        "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY --chown=app . .\nENV PIP_NO_CACHE_DIR=1\n"
        "RUN pip install --upgrade pip==24.3.1\nRUN pip install -r requirements/prod.txt\n"
        'CMD ["python", "-m", "app"]\n',
        "requirements/prod.txt": "-r base.txt\nfastapi==0.115.6\n",
        "requirements/base.txt": "pydantic==2.10.3\n",
        "app/__main__.py": "print(1)\n",
    }
    changed, left = fix_files(tmp_path, files, "LAY002")
    assert changed["Dockerfile"].decode().splitlines()[2:7] == [
        "COPY --chown=app requirements/prod.txt ./requirements/prod.txt",
        "COPY --chown=app requirements/base.txt ./requirements/base.txt",
        "ENV PIP_NO_CACHE_DIR=1",
        "RUN pip install --upgrade pip==24.3.1",
        "RUN pip install -r requirements/prod.txt",
    ]
    assert changed["Dockerfile"].decode().splitlines()[7] == "COPY --chown=app . ."
    assert left == []


@pytest.mark.parametrize(
    "between, install, requirements",
    [
        ("RUN python scripts/prepare.py\n", "RUN pip install -r requirements.txt", "flask==3.0.3\n"),
        ("", "RUN pip install -r requirements.txt && pip install -e .", "flask==3.0.3\n"),
        ("", "RUN pip install -r requirements.txt", "-e .\nflask==3.0.3\n"),
        ("WORKDIR /srv\n", "RUN pip install -r /app/requirements.txt", "flask==3.0.3\n"),
    ],
)
def test_lay002_leaves_installs_that_read_the_source_tree(tmp_path, between, install, requirements):
    files = {
        "Dockerfile": f"FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n{between}{install}\n",
        "requirements.txt": requirements,
        "pyproject.toml": "[project]\nname = 'app'\nversion = '1'\n",
        "scripts/prepare.py": "print(1)\n",
        "app/main.py": "print(1)\n",
    }
    assert fix_files(tmp_path, files, "LAY002")[0] == {}


@pytest.mark.parametrize(
    "lines",
    [
        "RUN git clone https://github.com/example/models /models",
        "RUN pip install --no-cache-dir psycopg2==2.9.10",
        'HEALTHCHECK CMD ["curl", "-f", "http://localhost:8000/"]',
        "RUN python setup.py build_ext --inplace",
        # a distribution the index does not know may build from source; so may what $(...) names
        'RUN CFLAGS="-Wno-narrowing" pip install --no-cache-dir cld2-cffi',
        'RUN pip install --no-cache-dir $(grep -E "psycopg2|gunicorn" requirements.txt)',
    ],
)
def test_img001_keeps_the_full_image_when_the_stage_needs_what_slim_lacks(tmp_path, lines):
    dockerfile = f'FROM python:3.12\nWORKDIR /app\nCOPY app.py .\n{lines}\nCMD ["python", "app.py"]\n'
    assert fix_files(tmp_path, {"Dockerfile": dockerfile, "app.py": "print(1)\n"}, "IMG001")[0] == {}


def test_img001_slim_when_the_stage_installs_what_it_needs(tmp_path):
    dockerfile = (
        "FROM python:3.12\nRUN apt-get update && apt-get install -y --no-install-recommends curl "
        '&& rm -rf /var/lib/apt/lists/*\nCOPY app.py .\nHEALTHCHECK CMD ["curl", "-f", "http://localhost:8000/"]\n'
        'CMD ["python", "app.py"]\n'
    )
    changed, left = fix_files(tmp_path, {"Dockerfile": dockerfile, "app.py": "print(1)\n"}, "IMG001")
    assert changed["Dockerfile"].decode().startswith("FROM python:3.12-slim\n")
    known = 'FROM python:3.12\nRUN pip install --no-cache-dir flask==3.1.0\nCOPY app.py .\nCMD ["python", "app.py"]\n'
    changed, _ = fix_files(tmp_path / "k", {"Dockerfile": known, "app.py": "print(1)\n"}, "IMG001")
    assert changed["Dockerfile"].decode().startswith("FROM python:3.12-slim\n")
    builder = 'FROM python:3.12 AS base\nFROM base AS build\nRUN make\nFROM base\nCMD ["python"]\n'
    assert fix_files(tmp_path / "b", {"Dockerfile": builder}, "IMG001")[0] == {}


def test_mdl003_declares_the_volume_after_the_last_write(tmp_path):
    files = {
        "Dockerfile": "FROM python:3.12-slim\nENV HF_HOME=/srv/hf\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\nEXPOSE 8000\n"
        'CMD ["python", "-m", "app"]\n',
        "requirements.txt": "transformers==4.46.3\n",
        "app/__main__.py": "from transformers import pipeline\npipeline('sentiment-analysis')\n",
    }
    changed, left = fix_files(tmp_path, files, "MDL003")
    assert changed["Dockerfile"].decode().splitlines()[3:5] == [
        "RUN pip install --no-cache-dir -r requirements.txt",
        "VOLUME /srv/hf",
    ]
    assert left == []


def test_display_only_suggestions_show_each_changed_place(tmp_path):
    root = write_tree(
        tmp_path / "repo",
        {
            "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nRUN python -m spacy download en_core_web_lg\n"
            'COPY app.py .\nCMD ["python", "app.py"]\n',
            "app.py": "import spacy\nspacy.load('en_core_web_lg')\n",
        },
    )
    lines = invoke(str(root), "--select", "MDL001").stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "= fix (display-only)" in line)
    assert [line.strip() for line in lines[start + 1 : start + 5]] == [
        "- RUN python -m spacy download en_core_web_lg",
        "...",
        '- CMD ["python", "app.py"]',
        '+ CMD ["sh", "-c", "python -m spacy download en_core_web_lg && exec python app.py"]',
    ]


# -- DEP fixes -----------------------------------------------------------------------------------

SERVICE_CODE = {"app/__init__.py": "", "app/main.py": "import fastapi\n"}


def test_dep001_removes_an_argument_but_never_the_last_one(tmp_path):
    dockerfile = (
        "FROM python:3.12-slim\nRUN pip install --no-cache-dir fastapi==0.115.6 pandas==2.2.3\n"
        "RUN pip install --no-cache-dir scikit-learn==1.5.2\nCOPY app app\n"
        'CMD ["python", "-m", "app.main"]\n'
    )
    changed, left = fix_files(tmp_path, {"Dockerfile": dockerfile, **SERVICE_CODE}, "DEP001")
    assert changed["Dockerfile"].decode().splitlines()[1:3] == [
        "RUN pip install --no-cache-dir fastapi==0.115.6",
        "RUN pip install --no-cache-dir scikit-learn==1.5.2",
    ]
    assert [f.span.line for f in left] == []


def test_dep001_removes_a_pyproject_dependency_line(tmp_path):
    files = {
        "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir .\n"
        'CMD ["python", "-m", "app.main"]\n',
        "pyproject.toml": '[project]\nname = "svc"\nversion = "1"\ndependencies = [\n    "fastapi==0.115.6",\n'
        '    "pandas==2.2.3",  # reports\n]\n',
        **SERVICE_CODE,
    }
    changed, _ = fix_files(tmp_path, files, "DEP001")
    assert changed["pyproject.toml"].decode().endswith('dependencies = [\n    "fastapi==0.115.6",\n]\n')


def test_dep003_appends_to_an_existing_dev_file_the_image_does_not_read(tmp_path):
    files = {
        "Dockerfile": "FROM python:3.12-slim\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
        'COPY app app\nCMD ["python", "-m", "app.main"]\n',
        "requirements.txt": "fastapi==0.115.6\npytest==8.3.4\n",
        "requirements-dev.txt": "-r requirements.txt\nruff==0.8.4",
        **SERVICE_CODE,
    }
    changed, left = fix_files(tmp_path, files, "DEP003")
    assert changed["requirements.txt"] == b"fastapi==0.115.6\n"
    assert changed["requirements-dev.txt"] == b"-r requirements.txt\nruff==0.8.4\npytest==8.3.4\n"
    assert left == []
    files["Dockerfile"] = files["Dockerfile"].replace("requirements.txt", "requirements-dev.txt")
    files["requirements-dev.txt"] = "-r requirements.txt\n"
    assert fix_files(tmp_path / "b", files, "DEP003")[0] == {}


def test_dep004_swaps_the_name_and_keeps_the_pin_and_extras(tmp_path):
    files = {
        "Dockerfile": "FROM python:3.12-slim\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
        'COPY app app\nCMD ["python", "-m", "app.main"]\n',
        "requirements.txt": "fastapi==0.115.6\nopencv-python==4.10.0.84  # images\n",
        "app/__init__.py": "",
        "app/main.py": "import cv2\nimport fastapi\n",
    }
    changed, left = fix_files(tmp_path, files, "DEP004")
    assert changed["requirements.txt"] == b"fastapi==0.115.6\nopencv-python-headless==4.10.0.84  # images\n"
    assert left == []


def test_dl3009_keeps_the_lists_a_later_run_installs_from(tmp_path):
    dockerfile = "FROM python:3.12-slim\nRUN apt-get update\nRUN apt-get install -y --no-install-recommends gcc\n"
    assert fix_files(tmp_path / "a", {"Dockerfile": dockerfile}, "DL3009")[0] == {}
    own_update = dockerfile.replace("RUN apt-get install", "RUN apt-get update && apt-get install")
    changed, _ = fix_files(tmp_path / "b", {"Dockerfile": own_update}, "DL3009")
    assert changed["Dockerfile"].decode().splitlines()[1] == "RUN apt-get update && rm -rf /var/lib/apt/lists/*"


def test_dl3025_keeps_escaped_blanks_in_shell_form(tmp_path):
    dockerfile = "FROM python:3.12-slim\nENTRYPOINT java\\ -jar\\ app.jar\n"
    assert fix_files(tmp_path, {"Dockerfile": dockerfile}, "DL3025")[0] == {}


def test_img001_never_swaps_to_another_image(tmp_path):
    dockerfile = "FROM tiangolo/meinheld-gunicorn-flask:python3.8\nCOPY app /app/app\n"
    files = {"Dockerfile": dockerfile, "app/main.py": "import fastapi\n"}
    assert fix_files(tmp_path, files, "IMG001")[0] == {}


def test_dep001_takes_an_argument_alone_on_its_continued_line_with_the_line(tmp_path):
    dockerfile = (
        "FROM python:3.12-slim\nRUN pip install --no-cache-dir \\\n    fastapi==0.115.6 \\\n    pandas==2.2.3 \\\n"
        "    uvicorn==0.32.1\nCOPY app app\n"
        'CMD ["uvicorn", "app.main:app"]\n'
    )
    changed, _ = fix_files(tmp_path, {"Dockerfile": dockerfile, **SERVICE_CODE}, "DEP001")
    assert changed["Dockerfile"].decode().splitlines()[1:4] == [
        "RUN pip install --no-cache-dir \\",
        "    fastapi==0.115.6 \\",
        "    uvicorn==0.32.1",
    ]


def test_the_bloated_example_fixes_to_what_needs_a_person(tmp_path, monkeypatch):
    """examples/ml-service/README.md shows the diff of `--fix --unsafe-fixes` and names what
    remains; both stay true."""
    import re
    import shutil

    from tests.conftest import REPO_ROOT

    example = REPO_ROOT / "examples" / "ml-service"
    copy = shutil.copytree(example, tmp_path / "ml-service")
    monkeypatch.chdir(copy)
    readme = (example / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"```diff\n(.*?)```", readme, re.S).group(1)
    assert invoke("--diff", "--unsafe-fixes", ".").stdout == shown
    invoke("--fix", "--unsafe-fixes", ".")
    left = {f["code"] for f in json.loads(invoke("-f", "json", ".").stdout)["findings"]}
    named = set(re.findall(r"^\| ([A-Z0-9, ()]+) \|", readme.split("What remains", 1)[1], re.M))
    assert left == {code for row in named for code in re.findall(r"[A-Z]{2,3}\d{3,4}", row)}


def test_the_readme_lists_every_rule_with_a_fix_under_its_applicability():
    import re

    from dockerlint.rulebook import load_rules
    from tests.conftest import REPO_ROOT

    section = (REPO_ROOT / "README.md").read_text(encoding="utf-8").split("## Fixes", 1)[1].split("\n## ", 1)[0]
    for label, applicability in (("Safe", "safe"), ("Unsafe", "unsafe"), ("Display-only", "display-only")):
        item = re.search(rf"^- \*\*{label}\*\*:(.*?)(?=^- \*\*|^\S)", section, re.S | re.M).group(1)
        listed = set(re.findall(r"\[([A-Z]{2,3}\d{3,4})\]", item))
        expected = {code for code, rule in load_rules().items() if rule.fix_applicability == applicability}
        assert listed == expected, label


@pytest.mark.parametrize(
    "dockerfile",
    [
        "FROM alpine:3.20\nRUN wget -qO- https://example.com/install.sh | sh\n",  # no bash
        "FROM python:3.12-slim\nRUN curl -fsSL https://example.com/x.tgz | tar -xz\nRUN yes | pip uninstall six\n",
        "FROM python:3.12-slim\nRUN curl -fsSL https://example.com/x.tgz | tar -xz\nRUN echo 'a\\tb' > /etc/x\n",
    ],
)
def test_dl4006_bash_with_pipefail_only_where_nothing_else_changes_meaning(tmp_path, dockerfile):
    assert fix_files(tmp_path, {"Dockerfile": dockerfile}, "DL4006")[0] == {}


def test_dl4006_one_shell_instruction_for_the_stage(tmp_path):
    dockerfile = (
        "FROM python:3.12-slim\nWORKDIR /app\n  RUN curl -fsSL https://example.com/a.tgz | tar -xz\n"
        "RUN curl -fsSL https://example.com/b.tgz | tar -xz\n"
    )
    changed, left = fix_files(tmp_path, {"Dockerfile": dockerfile}, "DL4006")
    assert changed["Dockerfile"].decode().splitlines()[2:4] == [
        '  SHELL ["/bin/bash", "-o", "pipefail", "-c"]',
        "  RUN curl -fsSL https://example.com/a.tgz | tar -xz",
    ]
    assert changed["Dockerfile"].decode().count("SHELL") == 1 and left == []
