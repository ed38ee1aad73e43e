import subprocess
import sys
import textwrap

import pytest

from dockerlint.parse.pyproject import parse_pipfile, parse_pyproject, poetry_specifier
from dockerlint.source import Span, Text

PEP_621 = """\
[build-system]
requires = ["hatchling>=1.21", "hatch-vcs"]
build-backend = "hatchling.build"

[project]
name = "inference-service"
dependencies = [
    "torch>=2.1",
    "Flask_SQLAlchemy[async]==3.1; python_version < '3.12'",
    'numpy<2',
    "torch>=2.1",  # written twice on purpose
    "not a requirement !!",
]

[project.optional-dependencies]
gpu = ["torch>=2.1", "nvidia-cudnn-cu12"]
dev = ["pytest>=8"]

[tool.dockerlint]
select = ["GPU"]
"""


def written(text: str, span: Span) -> str:
    """The text a span covers (single-line spans)."""
    assert span.line == span.end_line
    return Text.of(text).line(span.line)[span.column - 1 : span.end_column - 1]


def test_pep_621_dependencies():
    result = parse_pyproject(PEP_621)
    # the repeated torch of [project] is a problem; torch again in the gpu extra is a choice
    assert [(p.code, p.span.line, p.message) for p in result.problems] == [
        (
            "REQ002",
            11,
            "`torch` is listed again in [project] dependencies: `torch>=2.1` here and `torch>=2.1` on line 8",
        )
    ]
    assert result.name == "inference-service"
    assert result.build_requires == ("hatchling>=1.21", "hatch-vcs")
    assert result.tool == {"dockerlint": {"select": ["GPU"]}}
    rows = [(d.group, d.name, d.specifier, d.extras, d.marker) for d in result.dependencies]
    assert rows == [
        ("project", "torch", ">=2.1", (), None),
        ("project", "flask-sqlalchemy", "==3.1", ("async",), 'python_version < "3.12"'),
        ("project", "numpy", "<2", (), None),
        ("project", "torch", ">=2.1", (), None),
        ("project", None, "", (), None),
        ("optional:gpu", "torch", ">=2.1", (), None),
        ("optional:gpu", "nvidia-cudnn-cu12", "", (), None),
        ("optional:dev", "pytest", ">=8", (), None),
    ]


def test_one_name_twice_in_a_dependency_list_is_listed_again():
    """`huggingface-hub` and `huggingface_hub` are one distribution; another marker or
    other extras make another request, and so does each poetry group."""
    text = textwrap.dedent(
        """\
        [tool.poetry.dependencies]
        python = "^3.11"
        huggingface-hub = "0.33.4"
        huggingface_hub = "0.33.4"
        torch = [
            { version = "2.5.1", markers = "sys_platform == 'linux'" },
        ]
        celery = "5.4.0"

        [tool.poetry.group.dev.dependencies]
        celery = { version = "5.4.0", extras = ["pytest"] }

        [dependency-groups]
        test = ["pytest>=8", "pytest==8.3.4", "pytest-cov>=6; python_version >= '3.12'", "pytest-cov>=5"]
        """
    )
    problems = [(p.code, p.span.line, p.message) for p in parse_pyproject(text).problems]
    assert sorted(problems) == [
        (
            "REQ002",
            4,
            '`huggingface-hub` is listed again in [tool.poetry.dependencies]: `huggingface_hub = "0.33.4"` here '
            'and `huggingface-hub = "0.33.4"` on line 3',
        ),
        (
            "REQ002",
            14,
            "`pytest` is listed again in [dependency-groups] test: `pytest==8.3.4` here and `pytest>=8` on line 14",
        ),
    ]


def test_spans_point_at_each_string_even_when_repeated():
    result = parse_pyproject(PEP_621)
    lines = [d.span.line for d in result.dependencies]
    assert lines == [8, 9, 10, 11, 12, 16, 16, 17]
    for dependency in result.dependencies:
        assert written(PEP_621, dependency.span) == dependency.text


def test_dotted_keys_and_inline_tables_are_located():
    text = textwrap.dedent(
        """\
        [project]
        name = "x"
        optional-dependencies.cpu = ["torch==2.1.0+cpu"]
        dependencies = ["requests"]
        """
    )
    result = parse_pyproject(text)
    assert [(d.group, d.span.line, written(text, d.span)) for d in result.dependencies] == [
        ("project", 4, "requests"),
        ("optional:cpu", 3, "torch==2.1.0+cpu"),
    ]


def test_string_that_cannot_be_found_falls_back_to_its_key_line():
    text = '[project]\nname = "x"\ndependencies = [\n  "na\\u006dpy",\n]\n'  # written with an escape
    [dependency] = parse_pyproject(text).dependencies
    assert dependency.name == "nampy"
    assert dependency.span == Span(3, 1, 3, len("dependencies = [") + 1)


DEPENDENCY_GROUPS = """\
[project]
name = "app"

[dependency-groups]
test = ["pytest>=8", {include-group = "Typing"}]
typing = ["mypy", "types-requests"]
all = [{include-group = "test"}, {include-group = "typing"}, "ruff"]
"""


def test_dependency_groups_resolve_includes():
    result = parse_pyproject(DEPENDENCY_GROUPS)
    assert result.problems == ()
    rows = [(d.group, d.name) for d in result.dependencies]
    assert rows == [
        ("group:test", "pytest"),
        ("group:test", "mypy"),  # "Typing" matches "typing" after normalisation
        ("group:test", "types-requests"),
        ("group:typing", "mypy"),
        ("group:typing", "types-requests"),
        ("group:all", "pytest"),
        ("group:all", "mypy"),  # reached twice, through test and directly: listed once
        ("group:all", "types-requests"),
        ("group:all", "ruff"),
    ]
    # An included requirement points at the line where it is written.
    mypy_lines = {d.span.line for d in result.dependencies if d.name == "mypy"}
    assert mypy_lines == {6}


@pytest.mark.parametrize(
    "groups, message",
    [
        ('a = [{include-group = "b"}, "x"]\nb = [{include-group = "a"}, "y"]', "cycle: a -> b -> a"),
        ('a = [{include-group = "a"}, "x"]', "cycle: a -> a"),
        ('a = [{include-group = "missing"}, "x"]', "unknown group 'missing'"),
    ],
)
def test_dependency_group_errors_are_problems(groups, message):
    result = parse_pyproject(f"[dependency-groups]\n{groups}\n")
    assert [p.code for p in result.problems] == ["SYN001"]
    assert message in result.problems[0].message
    assert result.problems[0].span.line == 1
    assert "x" in {d.name for d in result.dependencies}


def test_include_chain_with_shared_groups_is_expanded_once_per_group():
    # Each group includes the previous one twice: a naive expansion doubles per level
    # (2**40 requirements here), in time and in the length of the result.
    lines = ['g0 = ["base"]'] + [
        f'g{i} = [{{include-group = "g{i - 1}"}}, {{include-group = "g{i - 1}"}}]' for i in range(1, 41)
    ]
    result = parse_pyproject("[dependency-groups]\n" + "\n".join(lines) + "\n")
    assert result.problems == ()
    assert [d.name for d in result.dependencies if d.group == "group:g40"] == ["base"]


POETRY = """\
[tool.poetry]
name = "legacy-app"

[tool.poetry.dependencies]
python = "^3.10"
numpy = "^1.24"
Pillow = "~10.1"
fastapi = {version = ">=0.100,<0.111", extras = ["all"]}
uvicorn = {version = "0.23.*", markers = "sys_platform == 'linux'"}
torch = [
    {version = "2.1.0", python = "<3.11"},
    {url = "https://download.pytorch.org/whl/cpu/torch-2.2.0.whl", python = ">=3.11"},
]
internal = {git = "https://github.com/acme/internal.git", tag = "v1"}
local = {path = "../local", develop = true}

[tool.poetry.group.dev.dependencies]
pytest = "*"

[tool.poetry.dev-dependencies]
black = "23.1.0"
"""


def test_pdm_dev_dependencies_are_groups_of_their_own():
    text = textwrap.dedent(
        """\
        [project]
        name = "krddevdays"
        dependencies = ["django==2.2.16"]

        [tool.pdm.dev-dependencies]
        dev = [
            "coverage==5.3",
            "-e file:///${PROJECT_ROOT}/packages/core",
        ]
        Lint = ["ruff>=0.8"]
        """
    )
    result = parse_pyproject(text)
    rows = [(d.group, d.name, d.span.line) for d in result.dependencies]
    assert rows == [
        ("project", "django", 3),
        ("pdm-dev:dev", "coverage", 7),
        ("pdm-dev:dev", None, 8),
        ("pdm-dev:Lint", "ruff", 10),
    ]


def test_poetry_dependencies():
    result = parse_pyproject(POETRY)
    assert result.problems == ()
    assert result.name == "legacy-app"
    rows = [(d.group, d.name, d.specifier, d.extras, d.marker) for d in result.dependencies]
    assert rows == [
        ("poetry", "numpy", ">=1.24,<2.0", (), None),
        ("poetry", "pillow", ">=10.1,<10.2", (), None),
        ("poetry", "fastapi", ">=0.100,<0.111", ("all",), None),
        ("poetry", "uvicorn", "==0.23.*", (), "sys_platform == 'linux'"),
        ("poetry", "torch", "==2.1.0", (), 'python_version < "3.11"'),
        ("poetry", "torch", "", (), 'python_version >= "3.11"'),
        ("poetry", "internal", "", (), None),
        ("poetry", "local", "", (), None),
        ("poetry-group:dev", "black", "==23.1.0", (), None),
        ("poetry-group:dev", "pytest", "", (), None),
    ]


def test_poetry_spans_point_at_the_key():
    result = parse_pyproject(POETRY)
    numpy = result.dependencies[0]
    assert numpy.span == Span(6, 1, 6, len('numpy = "^1.24"') + 1)
    assert numpy.text == 'numpy = "^1.24"'
    pytest_dependency = result.dependencies[-1]
    assert pytest_dependency.span.line == 18
    assert written(POETRY, pytest_dependency.span) == pytest_dependency.text == 'pytest = "*"'


@pytest.mark.parametrize(
    "constraint, specifier",
    [
        ("^1.2.3", ">=1.2.3,<2.0.0"),
        ("^1.2", ">=1.2,<2.0"),
        ("^0.2.3", ">=0.2.3,<0.3.0"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("^0.0", ">=0.0,<0.1"),
        ("^0", ">=0,<1"),
        ("~1.2.3", ">=1.2.3,<1.3.0"),
        ("~1.2", ">=1.2,<1.3"),
        ("~1", ">=1,<2"),
        ("~=1.2", "~=1.2"),
        ("1.2.*", "==1.2.*"),
        ("*", ""),
        (">=1,<2", ">=1,<2"),
        (">= 1.2, < 1.5", ">=1.2,<1.5"),
        (">=1.2 <1.5", ">=1.2,<1.5"),
        ("1.2.3", "==1.2.3"),
        ("=1.2.3", "==1.2.3"),
        ("==2.1.0+cpu", "==2.1.0+cpu"),
        ("^1.2,!=1.3.1", ">=1.2,<2.0,!=1.3.1"),
        ("^1.0 || ^2.0", ""),  # alternatives have no PEP 440 form
        ("latest", ""),
        ("", ""),
    ],
)
def test_poetry_constraints(constraint, specifier):
    assert poetry_specifier(constraint) == specifier


def test_invalid_toml_reports_its_line():
    result = parse_pyproject('[project]\nname = "x"\ndependencies = [\n  "a",\n  b\n]\n')
    assert result.dependencies == ()
    [problem] = result.problems
    assert (problem.code, problem.span.line) == ("SYN001", 5)
    assert "line 5" in problem.message


@pytest.mark.parametrize(
    "text, problem_lines, names",
    [
        ("a = " + "[" * 100_000, [1], []),  # nesting deeper than the TOML parser can recurse
        ('name = "x\x00"', [1], []),
        ("a = [\n", [2], []),  # ends inside an array
        ('[project]\ndependencies = "requests"\n', [], []),  # a string where an array belongs
        ("project = 1\ntool = []\n[dependency-groups]\na = 5\nb = [{include-group = 3}]\n", [], []),
        ("[tool.poetry.dependencies]\nrequests = 3\nflask = {version = 2}\n", [], ["requests", "flask"]),
    ],
)
def test_hostile_or_mistyped_files_never_raise(text, problem_lines, names):
    result = parse_pyproject(text)
    assert [(p.code, p.span.line) for p in result.problems] == [("SYN001", line) for line in problem_lines]
    assert [(d.name, d.specifier) for d in result.dependencies] == [(name, "") for name in names]


def test_mistyped_values_are_skipped_not_invented():
    result = parse_pyproject('[project]\ndependencies = [1, {a = 2}, "requests"]\nname = 3\n')
    assert result.name is None
    assert [(d.name, d.span.line) for d in result.dependencies] == [("requests", 2)]


def test_empty_file():
    result = parse_pyproject("")
    assert (result.name, result.dependencies, result.problems, result.tool) == (None, (), (), {})


def test_importing_the_module_does_not_import_packaging():
    code = "import sys, dockerlint.parse.pyproject; print('packaging' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_pipfile_by_category_with_pep_440_versions_and_marker_keys():
    parsed = parse_pipfile(
        textwrap.dedent(
            """\
            [[source]]
            url = "https://download.pytorch.org/whl/cpu"
            verify_ssl = true
            name = "pytorch"

            [packages]
            Django = "~=4.2"
            celery = {version = ">=5.3,<6", extras = ["redis"]}
            pywin32 = {version = "*", sys_platform = "== 'win32'"}
            site = {path = ".", editable = true}
            torch = {version = "==2.3.1", index = "pytorch"}

            [dev-packages]
            pytest = "*"

            [docs]
            mkdocs = "*"

            [requires]
            python_version = "3.11"
            """
        )
    )
    got = [(d.name, d.specifier, d.extras, d.marker, d.group, d.span.line) for d in parsed.dependencies]
    assert got == [
        ("django", "~=4.2", (), None, "pipenv", 7),
        ("celery", "<6,>=5.3", ("redis",), None, "pipenv", 8),
        ("pywin32", "", (), "(sys_platform == 'win32')", "pipenv", 9),
        (None, "", (), None, "pipenv", 10),  # the project's own folder: no distribution to judge
        ("torch", "==2.3.1", (), None, "pipenv", 11),
        ("pytest", "", (), None, "pipenv:dev-packages", 14),
        ("mkdocs", "", (), None, "pipenv:docs", 17),
    ]
    assert parsed.tool["pipenv"]["source"][0]["name"] == "pytorch"
    broken = parse_pipfile("[packages\ndjango = '*'\n")
    assert broken.dependencies == () and broken.problems[0].message.startswith("Pipfile is not valid TOML")


def test_setup_py_literals_are_read_and_anything_computed_is_not():
    from dockerlint.parse.pyproject import parse_setup_py

    parsed = parse_setup_py(
        'import setuptools\n\nsetuptools.setup(\n    name="svc",\n    install_requires=["flask>=3", \'redis==5.0.1\'],\n'
        '    extras_require={"s3": ["boto3"]},\n)\n'
    )
    got = [(d.name, d.specifier, d.group, d.span.line, d.span.column) for d in parsed.dependencies]
    assert parsed.name == "svc" and got == [
        ("flask", ">=3", "project", 5, 24), ("redis", "==5.0.1", "project", 5, 36), ("boto3", "", "optional:s3", 6, 29)]  # fmt: skip
    assert (
        parse_setup_py("from setuptools import setup\nsetup(install_requires=open('r.txt').read().split())\n") is None
    )
    assert parse_setup_py("from setuptools import setup\nsetup(**config)\n") is None
    assert parse_setup_py("setup(install_requires=[\n" + "(" * 5000) is None  # not Python: nothing known
    assert parse_setup_py("print('no setup call')\n") is None


def test_console_scripts_are_read_with_what_they_run():
    """[project.scripts] and Poetry's scripts (its table form too): the commands an install
    puts on PATH, which the rules follow to the module a start command runs."""
    text = textwrap.dedent(
        """\
        [project]
        name = "reporter"
        [project.scripts]
        reporter = "reporter.cli:main"
        [tool.poetry.scripts]
        reporter-admin = "reporter.admin:run"
        build-assets = { reference = "assets/build.sh", type = "file" }
        sync = { reference = "reporter.sync:main", type = "console" }
        """
    )
    assert parse_pyproject(text).scripts == (
        ("build-assets", ""),
        ("reporter", "reporter.cli:main"),
        ("reporter-admin", "reporter.admin:run"),
        ("sync", "reporter.sync:main"),
    )
