"""The language server's bookkeeping without the protocol (dockerlint/server/project.py,
suppress.py): which images a change re-lints, what each file shows afterwards, which
files are published again, and the suppression comments the actions write."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockerlint.engine import lint
from dockerlint.fixes import apply_edits
from dockerlint.rulebook import load_rules
from dockerlint.server.project import Project
from dockerlint.server.suppress import ignore_in_file, ignore_on_line
from tests.conftest import config_for, write_tree

TWO_IMAGES = {
    "compose.yaml": """\
        services:
          a:
            build: {context: ., dockerfile: a/Dockerfile}
          b:
            build: {context: ., dockerfile: b/Dockerfile}
        """,
    "a/Dockerfile": """\
        FROM python:3.12-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY a_app/ ./a_app/
        USER nobody
        CMD ["python", "-m", "a_app.main"]
        """,
    "b/Dockerfile": """\
        FROM python:3.12-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY b_app/ ./b_app/
        USER nobody
        CMD ["python", "-m", "b_app.main"]
        """,
    "requirements.txt": "fastapi==0.115.6\npandas==2.2.3\n",
    "a_app/__init__.py": "",
    "a_app/main.py": "import fastapi\nimport pandas\n",
    "b_app/__init__.py": "",
    "b_app/main.py": "import fastapi\n",
    ".dockerignore": ".git\n",
}


@pytest.fixture
def two_images(tmp_path: Path) -> Project:
    root = write_tree(tmp_path / "repo", TWO_IMAGES)
    (root / ".git").mkdir()
    project = Project(root, load_rules(), cache_dir=None)
    project.lint_all({})
    return project


def codes(project: Project, path: Path) -> list[tuple[str, int]]:
    return [(finding.code, finding.span.line) for finding in project.findings(path)]


def test_a_shared_file_keeps_what_the_image_not_relinted_said(two_images: Project):
    """Each image's findings about the shared requirements file are kept apart; a package
    is said unused there only when every image that installs the file says so."""
    root = two_images.root
    requirements = root / "requirements.txt"
    a_code, b_code = root / "a_app" / "main.py", root / "b_app" / "main.py"
    # Image b imports no pandas, image a does: b's DEP001 is kept, not shown.
    assert ("DEP001", 2) not in codes(two_images, requirements)
    assert [key[0].parent.name for key in two_images.readers(requirements)] == ["b"]
    buffers: dict[Path, bytes] = {}  # the editor's unsaved buffers

    def edit(path: Path, text: str):
        buffers[path] = text.encode()
        return two_images.lint_changed([path], buffers)

    # a stops using it: a re-linted says so, b (not re-linted) said so before: shown.
    outcome = edit(a_code, "import fastapi\n")
    assert outcome.images == 1 and requirements in outcome.files
    assert ("DEP001", 2) in codes(two_images, requirements)
    # b uses pandas now: no longer every image says it.
    assert edit(b_code, "import fastapi\nimport pandas\n").images == 1
    assert ("DEP001", 2) not in codes(two_images, requirements)
    assert [key[0].parent.name for key in two_images.readers(requirements)] == ["a"]
    # and the same as a full lint says
    full = lint([root], two_images.config, two_images.rules, overlay=buffers, root=root)
    assert not [f for f in full.findings if f.code == "DEP001" and f.path == requirements]


def test_the_same_findings_as_a_full_lint(two_images: Project):
    root = two_images.root
    overlay = {root / "requirements.txt": b"fastapi==0.115.6\npandas\n", root / "b_app/main.py": b"import redis\n"}
    two_images.lint_changed([root / "requirements.txt"], overlay)
    two_images.lint_changed([root / "b_app/main.py"], overlay)
    full = lint([root], two_images.config, two_images.rules, overlay=overlay, root=root)
    expected = sorted((f.code, str(f.path), f.span.line) for f in full.findings)
    files = {f.path for f in full.findings} | set(two_images.texts)
    kept = sorted((f.code, str(f.path), f.span.line) for path in files for f in two_images.findings(path))
    assert kept == expected


def test_files_that_no_longer_have_findings_are_published_empty(two_images: Project):
    root = two_images.root
    code = root / "b_app" / "main.py"
    two_images.lint_changed([code], {code: b"import fastapi\nimport redis\n"})
    assert codes(two_images, code) == [("DEP002", 2)]
    # The Dockerfile stops copying the code: the file is published again, with nothing.
    dockerfile = root / "b" / "Dockerfile"
    text = dockerfile.read_text(encoding="utf-8").replace("COPY b_app/ ./b_app/\n", "")
    overlay = {code: b"import fastapi\nimport redis\n", dockerfile: text.encode()}
    outcome = two_images.lint_changed([dockerfile], overlay)
    assert code in outcome.files
    assert codes(two_images, code) == []


def test_an_excluded_dockerfile_is_not_linted_when_opened(two_images: Project):
    fixture = two_images.root / "fixtures" / "Dockerfile"
    write_tree(fixture.parent, {"Dockerfile": "FROM python:3.12\nRUN apt-get update\n"})
    (two_images.root / ".dockerlint.toml").write_text('exclude = ["fixtures"]\n', encoding="utf-8")
    assert two_images.load_config()
    assert two_images.lint_changed([fixture], {}).files == {fixture}
    assert codes(two_images, fixture) == []
    (two_images.root / ".dockerlint.toml").write_text("", encoding="utf-8")
    assert two_images.load_config()
    assert codes(two_images, fixture) == [] and two_images.lint_changed([fixture], {}).images == 1
    assert codes(two_images, fixture) != []


def test_a_compose_change_lints_everything(two_images: Project):
    compose = two_images.root / "compose.yaml"
    outcome = two_images.lint_changed([compose], {})
    assert outcome.full and outcome.images == 2


def test_a_file_no_image_reads_is_filed_alone(two_images: Project):
    root = two_images.root
    dev = root / "requirements-dev.txt"
    dev.write_text("pytest==8.3.4\n", encoding="utf-8")
    outcome = two_images.lint_changed([dev], {dev: b"pytest==8.3.4\n-r missing.txt\n"})
    assert outcome.images == 0 and outcome.files == {dev}
    assert [line for _, line in codes(two_images, dev)] == [2]
    two_images.lint_changed([dev], {dev: b"pytest==8.3.4\n"})
    assert codes(two_images, dev) == []


def test_an_invalid_configuration_keeps_the_last_valid_one(two_images: Project):
    config = two_images.root / ".dockerlint.toml"
    config.write_text('ignore = ["DEP001"]\n', encoding="utf-8")
    assert two_images.is_config_file(config)
    assert two_images.load_config() is True and two_images.config.ignore == ("DEP001",)
    config.write_text('ignore = ["NOPE1"]\n', encoding="utf-8")
    assert two_images.load_config() is False
    assert "NOPE1" in two_images.config_error and two_images.config.ignore == ("DEP001",)
    assert not two_images.is_config_file(two_images.root / "a" / "pyproject.toml")


# -- the suppression comments ----------------------------------------------------------------


def fixed(path: str, text: str, edit) -> str:
    assert edit is not None
    return apply_edits(text.encode(), [edit]).decode()


DOCKERFILE = (
    "# syntax=docker/dockerfile:1\nFROM python:3.12\n# why\nRUN apt-get update && \\\n    apt-get install -y gcc\n"
)


def test_dockerfile_ignore_goes_above_the_instruction_that_holds_the_line():
    edit = ignore_on_line(Path("Dockerfile"), DOCKERFILE, "DL3009", 5)  # the continuation line
    assert fixed("Dockerfile", DOCKERFILE, edit).splitlines()[3:5] == [
        "# dockerlint: ignore=DL3009",
        "RUN apt-get update && \\",
    ]
    twice = fixed("Dockerfile", DOCKERFILE, edit)
    again = ignore_on_line(Path("Dockerfile"), twice, "DL3015", 5)
    assert fixed("Dockerfile", twice, again).splitlines()[3] == "# dockerlint: ignore=DL3009,DL3015"
    assert ignore_on_line(Path("Dockerfile"), twice, "DL3009", 5) is None  # already ignored


def test_dockerfile_ignore_file_stays_below_the_parser_directives():
    edit = ignore_in_file(Path("Dockerfile"), DOCKERFILE, "DL3009")
    lines = fixed("Dockerfile", DOCKERFILE, edit).splitlines()
    assert lines[:2] == ["# syntax=docker/dockerfile:1", "# dockerlint: ignore-file=DL3009"]


def test_the_comments_suppress_what_the_engine_reports(tmp_path: Path):
    files = {
        "Dockerfile": "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends gcc\n"
    }
    root = write_tree(tmp_path, files)
    rules = load_rules()
    config = config_for(root, select=["DL3009"])
    dockerfile = root / "Dockerfile"
    assert [f.code for f in lint([root], config, rules).findings] == ["DL3009"]
    for edit in (ignore_on_line(dockerfile, files["Dockerfile"], "DL3009", 2),
                 ignore_in_file(dockerfile, files["Dockerfile"], "DL3009")):  # fmt: skip
        changed = apply_edits(files["Dockerfile"].encode(), [edit])
        assert lint([root], config, rules, overlay={dockerfile: changed}).findings == []


def test_noqa_goes_at_the_end_of_the_line_or_joins_a_list():
    text = "numpy==2.1.3\npandas==2.2.3   \ntorch==2.5.1  # noqa: REQ003\n"
    path = Path("requirements.txt")
    assert fixed("r", text, ignore_on_line(path, text, "DEP001", 2)).splitlines()[1] == "pandas==2.2.3  # noqa: DEP001"
    joined = fixed("r", text, ignore_on_line(path, text, "DEP001", 3)).splitlines()[2]
    assert joined == "torch==2.5.1  # noqa: REQ003, DEP001"
    assert ignore_on_line(path, "numpy==2.1.3  # noqa\n", "DEP001", 1) is None  # already silenced
    assert ignore_on_line(path, "numpy==2.1.3 \\\n  --hash=sha256:00\n", "DEP001", 1) is None  # a continuation
    assert ignore_on_line(Path(".dockerignore"), ".git\n", "CTX002", 1) is None  # would change the pattern


def test_noqa_in_toml_and_yaml_only_where_no_value_changes():
    toml = '[project]\ndependencies = [\n  "numpy",\n]\nreadme = """\nnumpy\n"""\n'
    path = Path("pyproject.toml")
    assert fixed("p", toml, ignore_on_line(path, toml, "DEP001", 3)).splitlines()[2] == '  "numpy",  # noqa: DEP001'
    assert ignore_on_line(path, toml, "DEP001", 6) is None  # inside a multi-line string
    yaml = "services:\n  app:\n    build: .\n    command: |\n      serve\n"
    compose = Path("compose.yaml")
    assert (
        fixed("c", yaml, ignore_on_line(compose, yaml, "GPU001", 3)).splitlines()[2] == "    build: .  # noqa: GPU001"
    )
    assert ignore_on_line(compose, yaml, "GPU001", 5) is None  # inside a block scalar
    assert ignore_in_file(compose, yaml, "GPU001") is None
