"""DEP001-DEP003 for images that install a project with ``uv sync`` or ``poetry install``:
the distributions come from the pyproject.toml the image holds at that step, with the
groups and extras each tool selects by default and through its options."""

from __future__ import annotations

import pytest

from dockerlint.findings import Severity
from tests.conftest import found, run_lint, write_tree

DEP = ["DEP001", "DEP002", "DEP003", "DEP004"]


def lint(repo, files: dict[str, str]):
    return found(run_lint(repo(files), select=DEP))


# -- uv ---------------------------------------------------------------------------------

UV_PROJECT = """
    [project]
    name = "inference-api"
    version = "1.0.0"
    requires-python = ">=3.11"
    dependencies = [
        "fastapi>=0.115",
        "uvicorn[standard]>=0.32",
    ]

    [project.optional-dependencies]
    notebook = ["jupyterlab>=4.3"]

    [dependency-groups]
    dev = ["pytest>=8.3"]
    lint = ["ruff>=0.8"]
    typing = ["mypy>=1.13"]
"""
# Line numbers in UV_PROJECT.
FASTAPI, JUPYTERLAB, PYTEST, RUFF, MYPY = 6, 11, 14, 15, 16

API_CODE = {
    "app/__init__.py": "",
    "app/main.py": """
        from fastapi import FastAPI

        app = FastAPI()


        @app.get("/health")
        def health() -> dict:
            return {"ok": True}
    """,
}


def uv_image(sync: str) -> str:
    return f"""
        FROM python:3.12-slim
        COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /uvx /bin/
        WORKDIR /app
        COPY . .
        RUN {sync}
        ENV PATH="/app/.venv/bin:$PATH"
        CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]
    """


def dev_tool_lines(repo, sync: str, project: str = UV_PROJECT) -> list[int]:
    files = {"Dockerfile": uv_image(sync), "pyproject.toml": project, "uv.lock": "version = 1\n", **API_CODE}
    return [line for code, name, line in lint(repo, files) if code == "DEP003" and name == "pyproject.toml"]


def test_uv_sync_installs_the_dev_group_by_default(repo):
    files = {"Dockerfile": uv_image("uv sync --frozen"), "pyproject.toml": UV_PROJECT, **API_CODE}
    assert lint(repo, files) == [("DEP003", "pyproject.toml", PYTEST)]


@pytest.mark.parametrize(
    ("sync", "lines"),
    [
        ("uv sync --frozen --no-dev", []),
        ("uv sync --locked --no-dev --compile-bytecode --link-mode copy", []),
        ("UV_NO_DEV=1 uv sync --frozen", []),
        ("env UV_NO_DEV=1 uv sync --frozen", []),
        ("cd /app && uv --no-cache sync --frozen", [PYTEST]),
        ("uv sync --all-groups", [PYTEST, RUFF, MYPY]),
        ("uv sync --all-groups --no-group dev", [RUFF, MYPY]),
        ("uv sync --group lint", [PYTEST, RUFF]),
        ("uv sync --no-default-groups --group typing", [MYPY]),
        ("uv sync --only-group lint", [RUFF]),
        ("uv sync --only-dev", [PYTEST]),
        ("uv sync --no-dev --extra notebook", [JUPYTERLAB]),
        ("uv sync --no-dev --all-extras", [JUPYTERLAB]),
        ("uv sync --no-dev --all-extras --no-extra notebook", []),
        ("uv sync --frozen --no-install-package pytest", []),
    ],
)
def test_uv_sync_options_select_groups_and_extras(repo, sync, lines):
    assert dev_tool_lines(repo, sync) == lines


def test_a_dev_tool_already_in_a_group_is_left_out_by_the_install_option(repo):
    """A tool in a dependency group is where it belongs: the install must leave the group
    out; a tool in the project's own dependencies must move to one."""
    files = {"Dockerfile": uv_image("uv sync --all-groups"), "pyproject.toml": UV_PROJECT, **API_CODE}
    helps = {item.span.line: item.fix for item in run_lint(repo(files), select=["DEP003"]).findings}
    assert "`uv sync --no-dev`" in helps[PYTEST] and "`uv sync --no-group lint`" in helps[RUFF]
    assert "Remove" not in helps[PYTEST]
    files["pyproject.toml"] = UV_PROJECT.replace(
        '"uvicorn[standard]>=0.32",', '"uvicorn[standard]>=0.32",\n        "pytest>=8.3",'
    )
    helps = {item.span.line: item.fix for item in run_lint(repo(files), select=["DEP003"]).findings}
    assert "a requirements-dev.txt (or a dependency group)" in helps[FASTAPI + 2]
    poetry = {
        "Dockerfile": poetry_image("poetry install --no-root"),
        "pyproject.toml": POETRY_PROJECT,
        "poetry.lock": "",
        **WORKER_CODE,
    }
    helps = {item.span.line: item.fix for item in run_lint(repo(poetry), select=["DEP003"]).findings}
    assert "`poetry install --without dev` (or `--only main`)" in helps[POETRY_PYTEST]


def test_tool_uv_default_groups_replace_dev(repo):
    project = UV_PROJECT + '\n[tool.uv]\ndefault-groups = ["dev", "lint"]\n'
    assert dev_tool_lines(repo, "uv sync --frozen", project) == [PYTEST, RUFF]
    assert dev_tool_lines(repo, "uv sync --frozen --no-dev", project) == [RUFF]
    assert dev_tool_lines(repo, "uv sync --frozen --no-default-groups", project) == []
    every = UV_PROJECT + '\n[tool.uv]\ndefault-groups = "all"\n'
    assert dev_tool_lines(repo, "uv sync --frozen", every) == [PYTEST, RUFF, MYPY]


def test_legacy_tool_uv_dev_dependencies_are_the_dev_group(repo):
    project = """
        [project]
        name = "inference-api"
        version = "1.0.0"
        dependencies = ["fastapi>=0.115", "uvicorn>=0.32"]

        [tool.uv]
        dev-dependencies = [
            "pytest>=8.3",
        ]
    """
    assert dev_tool_lines(repo, "uv sync --frozen", project) == [8]
    assert dev_tool_lines(repo, "uv sync --frozen --no-dev", project) == []


UV_DOCKER_PATTERN = """
    FROM python:3.12-slim
    COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /uvx /bin/
    WORKDIR /app
    RUN --mount=type=cache,target=/root/.cache/uv \\
        --mount=type=bind,source=uv.lock,target=uv.lock \\
        --mount=type=bind,source=pyproject.toml,target=pyproject.toml \\
        uv sync --frozen --no-install-project --no-dev
    COPY app/ app/
    ENV PATH="/app/.venv/bin:$PATH"
    CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]
"""


def test_the_lock_file_decides_the_versions_a_project_installs(repo):
    project = """
        [project]
        name = "fetcher"
        version = "1.0.0"
        dependencies = ["requests>=2.25", "chardet>=3"]
    """
    code = {"app/__init__.py": "", "app/main.py": "import requests\n\nrequests.get('https://example.org', timeout=5)\n"}
    image = uv_image("uv sync --frozen --no-dev")
    # without a lock: today's requests, which no longer needs chardet
    assert lint(repo, {"Dockerfile": image, "pyproject.toml": project, **code}) == [("DEP001", "pyproject.toml", 4)]
    lock = """
        version = 1

        [[package]]
        name = "requests"
        version = "2.25.0"

        [[package]]
        name = "chardet"
        version = "4.0.0"
    """
    # uv installs what uv.lock pins: requests 2.25.0 requires chardet
    assert lint(repo, {"Dockerfile": image, "pyproject.toml": project, "uv.lock": lock, **code}) == []


def test_unused_dependency_of_a_uv_project_is_reported_at_its_pyproject_line(repo):
    project = UV_PROJECT.replace('"uvicorn[standard]>=0.32",', '"uvicorn[standard]>=0.32",\n        "pandas>=2.2",')
    files = {"Dockerfile": UV_DOCKER_PATTERN, "pyproject.toml": project, "uv.lock": "version = 1\n", **API_CODE}
    assert lint(repo, files) == [("DEP001", "pyproject.toml", 8)]


def test_a_pyproject_copied_into_the_image_does_not_make_its_dependencies_used(repo):
    """`COPY . .` puts pyproject.toml in the image; naming a package there is no use of it."""
    project = UV_PROJECT.replace('"uvicorn[standard]>=0.32",', '"uvicorn[standard]>=0.32",\n        "pandas>=2.2",')
    files = {"Dockerfile": uv_image("uv sync --frozen --no-dev"), "pyproject.toml": project, **API_CODE}
    assert lint(repo, files) == [("DEP001", "pyproject.toml", 8)]


def test_a_missing_import_is_reported_when_every_install_is_named(repo):
    code = {**API_CODE, "app/client.py": "import httpx\n\nclient = httpx.Client()\n"}
    code["app/main.py"] = "from app.client import client\n" + code["app/main.py"]
    files = {"Dockerfile": UV_DOCKER_PATTERN, "pyproject.toml": UV_PROJECT, "uv.lock": "version = 1\n", **code}
    assert lint(repo, files) == [("DEP002", "client.py", 1)]


@pytest.mark.parametrize(
    "sync",
    [
        "uv sync --frozen --package api",  # one member of a workspace
        "uv sync --frozen --future-selection-flag",  # an option we do not know
        "uv sync --frozen --project $SERVICE_DIR",  # a folder we cannot resolve
    ],
)
def test_a_uv_sync_we_do_not_understand_names_nothing(repo, sync):
    code = {**API_CODE, "app/client.py": "import httpx\n\nclient = httpx.Client()\n"}
    files = {"Dockerfile": uv_image(sync), "pyproject.toml": UV_PROJECT, **code}
    assert lint(repo, files) == []


def test_an_unreadable_pyproject_names_nothing(repo):
    code = {**API_CODE, "app/client.py": "import httpx\n"}
    files = {"Dockerfile": uv_image("uv sync --frozen"), "pyproject.toml": "[project\nname = 'x'\n", **code}
    assert lint(repo, files) == []


BUILDER = """
    FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim AS builder
    ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
    WORKDIR /app
    COPY pyproject.toml uv.lock ./
    RUN uv sync --frozen --no-install-project
    COPY app/ app/

    FROM python:3.12-slim-bookworm
    WORKDIR /app
    {copy}
    ENV PATH="/app/.venv/bin:$PATH"
    CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]
"""


def test_a_builder_venv_copied_to_the_final_stage_counts(repo):
    dockerfile = BUILDER.format(copy="COPY --from=builder /app /app")
    files = {"Dockerfile": dockerfile, "pyproject.toml": UV_PROJECT, "uv.lock": "version = 1\n", **API_CODE}
    assert lint(repo, files) == [("DEP003", "pyproject.toml", PYTEST)]


def test_a_builder_venv_that_is_not_copied_does_not_count(repo):
    dockerfile = BUILDER.format(
        copy="COPY --from=builder /app/app ./app\nRUN pip install --no-cache-dir fastapi uvicorn"
    )
    files = {"Dockerfile": dockerfile, "pyproject.toml": UV_PROJECT, "uv.lock": "version = 1\n", **API_CODE}
    assert lint(repo, files) == []


def test_uv_project_environment_decides_what_a_copy_carries(repo):
    dockerfile = BUILDER.replace("ENV UV_COMPILE", "ENV UV_PROJECT_ENVIRONMENT=/opt/venv UV_COMPILE").format(
        copy="COPY --from=builder /opt/venv /opt/venv\nCOPY app/ app/"
    )
    files = {"Dockerfile": dockerfile, "pyproject.toml": UV_PROJECT, "uv.lock": "version = 1\n", **API_CODE}
    assert lint(repo, files) == [("DEP003", "pyproject.toml", PYTEST)]
    elsewhere = dockerfile.replace(
        "COPY --from=builder /opt/venv /opt/venv", "COPY --from=builder /app/.venv /opt/venv"
    )
    assert lint(repo, {**files, "Dockerfile": elsewhere}) == []


def test_a_correct_uv_image_is_silent(repo):
    project = """
        [project]
        name = "inference-api"
        version = "1.0.0"
        dependencies = [
            "flask>=3.1",
            "gunicorn>=23.0",
            "redis>=5.2",
        ]

        [dependency-groups]
        dev = ["pytest>=8.3", "ruff>=0.8"]
    """
    code = {
        "app/__init__.py": "",
        "app/main.py": """
            import redis
            from flask import Flask

            app = Flask(__name__)
            cache = redis.Redis(host="cache")
        """,
    }
    dockerfile = UV_DOCKER_PATTERN.replace(
        'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]', 'CMD ["gunicorn", "app.main:app"]'
    )
    assert lint(repo, {"Dockerfile": dockerfile, "pyproject.toml": project, "uv.lock": "version = 1\n", **code}) == []


# -- poetry -----------------------------------------------------------------------------

POETRY_PROJECT = """
    [tool.poetry]
    name = "billing-worker"
    version = "0.4.0"
    description = "Billing worker"
    authors = ["Ops <ops@example.com>"]

    [tool.poetry.dependencies]
    python = "^3.11"
    celery = "^5.4"
    httpx = "^0.28"
    pandas = { version = "^2.2", optional = true }

    [tool.poetry.extras]
    reports = ["pandas"]

    [tool.poetry.group.dev.dependencies]
    pytest = "^8.3"

    [tool.poetry.group.docs]
    optional = true

    [tool.poetry.group.docs.dependencies]
    mkdocs = "^1.6"

    [build-system]
    requires = ["poetry-core>=1.9"]
    build-backend = "poetry.core.masonry.api"
"""
PANDAS, POETRY_PYTEST, MKDOCS = 11, 17, 23

WORKER_CODE = {
    "worker/__init__.py": "",
    "worker/tasks.py": """
        import httpx
        from celery import Celery

        app = Celery("billing", broker="redis://queue:6379/0")
        ledger = httpx.Client(base_url="http://ledger")
    """,
}


def test_what_the_lock_file_says_a_git_library_requires_is_used_through_it(repo):
    """The index cannot read a library installed from git; uv.lock (and poetry.lock) record
    what the resolver found it requires: boto3, which the service uses through it."""
    project = """
        [project]
        name = "monitor-bot"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["boto3==1.38.4", "monitor-lib", "rich==13.9.4"]

        [tool.uv.sources]
        monitor-lib = { git = "https://github.com/example/monitor-lib.git", rev = "1.0.0" }
    """
    lock = """
        version = 1

        [[package]]
        name = "boto3"
        version = "1.38.4"
        dependencies = [{ name = "botocore" }, { name = "jmespath" }, { name = "s3transfer" }]

        [[package]]
        name = "monitor-lib"
        version = "1.0.0"
        source = { git = "https://github.com/example/monitor-lib.git?rev=1.0.0#bbdefc007fd0a21f5c569c07411a11f8c3e77f64" }
        dependencies = [{ name = "boto3" }]

        [[package]]
        name = "rich"
        version = "13.9.4"
    """
    code = {
        "app/__init__.py": "",
        "app/main.py": "from monitor_lib.clients import AWSClient\n\nAWSClient().upload('report.csv')\n",
    }
    image = uv_image("uv sync --frozen --no-dev")
    files = {"Dockerfile": image, "pyproject.toml": project, "uv.lock": lock, **code}
    # boto3 is the library's; rich nothing requires, said for sure now that the library's
    # requirements are read
    found_here = run_lint(repo(files), select=["DEP001"]).findings
    assert [(f.code, f.span.line) for f in found_here] == [("DEP001", 5)]
    assert "`rich`" in found_here[0].message and "whose requirements it does not know" not in found_here[0].message
    # the same library in poetry.lock, its dependencies a table
    poetry_lock = lock.replace('dependencies = [{ name = "boto3" }]', '[package.dependencies]\n        boto3 = "*"')
    poetry_lock = poetry_lock.replace(
        'dependencies = [{ name = "botocore" }, { name = "jmespath" }, { name = "s3transfer" }]', ""
    )
    assert "[package.dependencies]" in poetry_lock
    files = {"Dockerfile": image, "pyproject.toml": project, "uv.lock": poetry_lock, **code}
    assert lint(repo, files) == [("DEP001", "pyproject.toml", 5)]


def test_what_the_lock_says_a_release_older_than_the_index_read_requires_is_used_through_it(repo):
    """openai-whisper 20230124 required transformers (its GPT-2 tokenizer); later releases
    require tiktoken instead, and the index read only those. poetry.lock records what the
    pinned release requires: transformers is whisper's, not unused. At a release the
    index read, the lock's word is not needed and transformers is unused."""
    project = """
        [tool.poetry]
        name = "transcriber"
        version = "1.0.0"
        description = "Speech to text"
        authors = ["Ops <ops@example.com>"]

        [tool.poetry.dependencies]
        python = "^3.10"
        openai-whisper = "20230124"
        transformers = "^4.22.1"
    """
    lock = """
        [[package]]
        name = "openai-whisper"
        version = "20230124"
        optional = false
        python-versions = ">=3.7"

        [package.dependencies]
        more-itertools = "*"
        numpy = "*"
        torch = "*"
        tqdm = "*"
        transformers = ">=4.19.0"

        [[package]]
        name = "transformers"
        version = "4.30.2"
        optional = false
        python-versions = ">=3.7.0"
    """
    files = {
        "Dockerfile": poetry_image("poetry install --only main --no-root"),
        "pyproject.toml": project,
        "poetry.lock": lock,
        "worker/__init__.py": "",
        "worker/tasks.py": "import whisper\n\nmodel = whisper.load_model('base')\n",
    }
    assert lint(repo, files) == []
    files["pyproject.toml"] = project.replace('"20230124"', '"20250625"')
    files["poetry.lock"] = lock.replace('"20230124"', '"20250625"').replace(
        'transformers = ">=4.19.0"', 'tiktoken = "*"'
    )
    assert lint(repo, files) == [("DEP001", "pyproject.toml", 10)]


def test_what_a_package_the_lock_file_reaches_loads_by_itself_is_used(repo):
    """demucs publishes no wheel, so the index cannot say what it requires; uv.lock records
    torchaudio, which from 2.9 decodes through torchcodec: the torchcodec the GPU extra adds
    is used, though nothing imports it. Without torchaudio in the lock, it is not."""
    project = """
        [project]
        name = "karaoke"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["demucs==4.0.1"]

        [project.optional-dependencies]
        gpu = ["torchcodec==0.8.0"]
    """
    lock = """
        version = 1

        [[package]]
        name = "demucs"
        version = "4.0.1"
        source = { registry = "https://pypi.org/simple" }
        dependencies = [{ name = "torch" }, { name = "torchaudio" }]

        [[package]]
        name = "torchcodec"
        version = "0.8.0"
    """
    code = {"app/__init__.py": "", "app/main.py": "import demucs.separate\n\ndemucs.separate.main(['song.mp3'])\n"}
    files = {"Dockerfile": uv_image("uv sync --frozen --no-dev --extra gpu"), "pyproject.toml": project,
             "uv.lock": lock, **code}  # fmt: skip
    assert lint(repo, files) == []
    files["uv.lock"] = lock.replace(', { name = "torchaudio" }', "")
    assert lint(repo, files) == [("DEP001", "pyproject.toml", 8)]


def poetry_image(install: str) -> str:
    """A builder that installs the dependencies into /app/.venv; the final stage takes
    the venv and the code, not pyproject.toml."""
    return f"""
        FROM python:3.12-slim AS builder
        ENV POETRY_VIRTUALENVS_IN_PROJECT=true POETRY_NO_INTERACTION=1
        RUN pip install --no-cache-dir poetry==1.8.4
        WORKDIR /app
        COPY pyproject.toml poetry.lock ./
        RUN {install}

        FROM python:3.12-slim
        WORKDIR /app
        COPY --from=builder /app/.venv /app/.venv
        COPY worker/ worker/
        ENV PATH="/app/.venv/bin:$PATH"
        CMD ["celery", "-A", "worker.tasks", "worker"]
    """


def poetry_findings(repo, install: str) -> list[tuple[str, str, int]]:
    files = {"Dockerfile": poetry_image(install), "pyproject.toml": POETRY_PROJECT, "poetry.lock": "", **WORKER_CODE}
    return lint(repo, files)


@pytest.mark.parametrize(
    ("install", "lines"),
    [
        ("poetry install --no-root", [("DEP003", POETRY_PYTEST)]),
        ("poetry install --no-root --without dev", []),
        ("poetry install --no-root --only main", []),
        ("poetry install --no-root --no-dev", []),
        ("poetry install --no-root --with docs", [("DEP003", POETRY_PYTEST), ("DEP003", MKDOCS)]),
        ("poetry install --no-root --only main,docs", [("DEP003", MKDOCS)]),
        ("poetry install --no-root --all-groups", [("DEP003", POETRY_PYTEST), ("DEP003", MKDOCS)]),
        ("poetry install --no-root --without dev -E reports", [("DEP001", PANDAS)]),
        ("poetry -n install --no-root --without=dev --all-extras --no-ansi", [("DEP001", PANDAS)]),
        ("poetry sync --no-root --only main", []),
    ],
)
def test_poetry_install_options_select_groups_and_extras(repo, install, lines):
    assert poetry_findings(repo, install) == [(code, "pyproject.toml", line) for code, line in lines]


def test_poetry_venv_outside_the_copied_folder_does_not_count(repo):
    dockerfile = poetry_image("poetry install --no-root").replace("POETRY_VIRTUALENVS_IN_PROJECT=true ", "")
    files = {"Dockerfile": dockerfile, "pyproject.toml": POETRY_PROJECT, "poetry.lock": "", **WORKER_CODE}
    assert lint(repo, files) == []  # the venv stays in the builder's cache folder


def test_poetry_without_virtualenvs_installs_into_the_final_image(repo):
    dockerfile = """
        FROM python:3.12-slim
        RUN pip install --no-cache-dir poetry==1.8.4
        WORKDIR /app
        RUN --mount=type=bind,source=pyproject.toml,target=pyproject.toml \\
            --mount=type=bind,source=poetry.lock,target=poetry.lock \\
            poetry config virtualenvs.create false && poetry install --no-root --no-interaction -E reports
        COPY worker/ worker/
        CMD ["celery", "-A", "worker.tasks", "worker"]
    """
    files = {"Dockerfile": dockerfile, "pyproject.toml": POETRY_PROJECT, "poetry.lock": "", **WORKER_CODE}
    assert lint(repo, files) == [("DEP001", "pyproject.toml", PANDAS), ("DEP003", "pyproject.toml", POETRY_PYTEST)]


def test_poetry_installing_the_project_brings_its_code_into_the_image(repo):
    """Without --no-root the project itself is installed into the venv, so its code is in
    the final image even though only the venv is copied; with --no-root it is not, and
    there is no code to judge by."""
    dockerfile = poetry_image("poetry install --only main").replace("COPY pyproject.toml poetry.lock ./", "COPY . .")
    dockerfile = dockerfile.replace("COPY worker/ worker/\n", "")
    files = {"Dockerfile": dockerfile, "pyproject.toml": POETRY_PROJECT, "poetry.lock": "", **WORKER_CODE}
    files["worker/tasks.py"] = "from celery import Celery\n\napp = Celery('billing')\n"
    assert lint(repo, files) == [("DEP001", "pyproject.toml", 10)]  # httpx: nothing imports it
    assert lint(repo, {**files, "Dockerfile": dockerfile.replace("--only main", "--only main --no-root")}) == []


def test_poetry_package_mode_false_installs_no_project(repo):
    project = POETRY_PROJECT.replace('authors = ["Ops <ops@example.com>"]', "package-mode = false")
    dockerfile = poetry_image("poetry install --only main").replace("COPY pyproject.toml poetry.lock ./", "COPY . .")
    dockerfile = dockerfile.replace("COPY worker/ worker/\n", "")
    files = {"Dockerfile": dockerfile, "pyproject.toml": project, "poetry.lock": "", **WORKER_CODE}
    assert lint(repo, files) == []


def test_a_correct_poetry_image_is_silent(repo):
    project = POETRY_PROJECT.replace('pandas = { version = "^2.2", optional = true }', 'gunicorn = "^23.0"')
    dockerfile = poetry_image("poetry install --no-root --only main")
    files = {"Dockerfile": dockerfile, "pyproject.toml": project, "poetry.lock": "", **WORKER_CODE}
    files["Dockerfile"] = dockerfile.replace(
        'CMD ["celery", "-A", "worker.tasks", "worker"]',
        'CMD ["sh", "-c", "celery -A worker.tasks worker & gunicorn worker.health:app"]',
    )
    assert lint(repo, files) == []


WHEELS_DOCKERFILE = """
    FROM python:3.11 AS builder
    WORKDIR /app
    COPY requirements.txt .
    RUN pip wheel --no-cache-dir --wheel-dir /app/wheels -r requirements.txt
    FROM python:3.11-slim
    COPY --from=builder /app/wheels /wheels
    RUN pip install --no-cache /wheels/*
    WORKDIR /srv
    COPY app.py .
    CMD ["python", "app.py"]
"""


def test_wheels_a_builder_made_are_what_its_pip_wheel_named(tmp_path):
    """`pip wheel -r requirements.txt -w DIR` in a builder, the folder copied over and
    installed from a glob: the image holds what the requirements file names."""
    files = {
        "Dockerfile": WHEELS_DOCKERFILE,
        "requirements.txt": "flask==3.1.0\nblack==24.10.0\nrequests==2.32.3\n",
        "app.py": "import flask\n",
    }
    result = run_lint(write_tree(tmp_path / "built", files), select=["DEP"])
    assert [(f.code, f.path.name, f.span.line) for f in result.findings] == [
        ("DEP003", "requirements.txt", 2),
        ("DEP001", "requirements.txt", 3),
    ]
    # wheels from elsewhere (the build context) are still unnamed: nothing is judged
    files["Dockerfile"] = WHEELS_DOCKERFILE.replace("COPY --from=builder /app/wheels /wheels", "COPY wheels /wheels")
    files["wheels/README"] = "built by CI\n"
    assert run_lint(write_tree(tmp_path / "context", files), select=["DEP"]).findings == []


def test_a_pyproject_two_images_install_is_judged_by_both(repo):
    """The worker image and the API image install one pyproject.toml; only the API runs
    gunicorn: removing it from the shared file would break the API."""
    project = POETRY_PROJECT.replace('httpx = "^0.28"', 'httpx = "^0.28"\n    gunicorn = "^23.0"')
    dockerfile = """
        FROM python:3.12-slim
        WORKDIR /app
        RUN pip install --no-cache-dir poetry==1.8.4 && poetry config virtualenvs.create false
        COPY pyproject.toml poetry.lock ./
        RUN poetry install --no-root --without dev
        COPY . .
        CMD {command}
    """
    files = {"pyproject.toml": project, "poetry.lock": "", **WORKER_CODE}
    worker = dockerfile.format(command='["celery", "-A", "worker.tasks", "worker"]')
    api = dockerfile.format(command='["sh", "-c", "sleep 5; gunicorn worker.tasks:app -b 0.0.0.0:8000"]')
    assert lint(repo, {**files, "worker.Dockerfile": worker}) == [("DEP001", "pyproject.toml", 11)]
    assert lint(repo, {**files, "worker.Dockerfile": worker, "api.Dockerfile": api}) == []


# -- pipenv -------------------------------------------------------------------------------

PIPFILE = """
    [[source]]
    url = "https://pypi.org/simple"
    verify_ssl = true
    name = "pypi"

    [packages]
    django = "==4.2.7"
    gunicorn = "*"
    psycopg2-binary = "*"
    pandas = "==2.1.4"
    pywin32 = {version = "*", sys_platform = "== 'win32'"}
    accounts = {path = "./accounts", editable = true}

    [dev-packages]
    pytest = "*"

    [requires]
    python_version = "3.11"
"""
# Line numbers in PIPFILE.
PIPENV_PANDAS, PIPENV_PYTEST = 10, 15
PIPFILE_LOCK = (
    '{"_meta": {"requires": {"python_version": "3.11"}}, "default": {"django": {"version": "==4.2.7"}, '
    '"gunicorn": {"version": "==21.2.0"}, "psycopg2-binary": {"version": "==2.9.9"}, '
    '"pandas": {"version": "==2.1.4"}}, "develop": {"pytest": {"version": "==7.4.3"}}}'
)
DJANGO_CODE = {
    "config/__init__.py": "",
    "config/settings.py": """
        INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "accounts"]
        DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "site"}}
    """,
    "config/wsgi.py": """
        import os

        from django.core.wsgi import get_wsgi_application

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        application = get_wsgi_application()
    """,
    "accounts/__init__.py": "",
    "accounts/models.py": "from django.db import models\n",
}


def pipenv_image(install: str, copy: str = "COPY Pipfile Pipfile.lock ./") -> str:
    return f"""
        FROM python:3.11-slim
        WORKDIR /app
        RUN pip install --no-cache-dir pipenv==2023.12.1
        {copy}
        RUN {install}
        COPY . .
        CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000"]
    """


def pipenv_files(install: str, **more) -> dict[str, str]:
    return {
        "Dockerfile": pipenv_image(install),
        "Pipfile": PIPFILE,
        "Pipfile.lock": PIPFILE_LOCK,
        **DJANGO_CODE,
        **more,
    }


@pytest.mark.parametrize(
    ("install", "lines"),
    [
        ("pipenv install --system --deploy", [("DEP001", "Pipfile", PIPENV_PANDAS)]),
        ("pipenv sync --system", [("DEP001", "Pipfile", PIPENV_PANDAS)]),
        ("PIPENV_VENV_IN_PROJECT=1 pipenv install --deploy --ignore-pipfile", [("DEP001", "Pipfile", PIPENV_PANDAS)]),
        (
            "pipenv install --system --deploy --dev",
            [("DEP001", "Pipfile", PIPENV_PANDAS), ("DEP003", "Pipfile", PIPENV_PYTEST)],
        ),
        (
            "pipenv install --system --categories 'packages dev-packages'",
            [("DEP001", "Pipfile", PIPENV_PANDAS), ("DEP003", "Pipfile", PIPENV_PYTEST)],
        ),  # fmt: skip
        ("pipenv install --system --categories dev-packages", [("DEP003", "Pipfile", PIPENV_PYTEST)]),
        # a package argument, or a requirements file, installs what the Pipfile does not say
        ("pipenv install --system requests", []),
        ("pipenv install --system -r requirements.txt", []),
    ],
)
def test_pipenv_installs_the_pipfile_categories_it_is_asked_for(repo, install, lines):
    """The Pipfile's [packages] at the lock's versions, [dev-packages] with --dev; a package
    for Windows only is not installed, a local path is the project's own code."""
    assert lint(repo, pipenv_files(install)) == lines


def test_a_dev_package_installed_by_pipenv_is_left_out_by_its_option(repo):
    found_here = run_lint(repo(pipenv_files("pipenv install --system --deploy --dev")), select=["DEP003"]).findings
    assert [item.span.line for item in found_here] == [PIPENV_PYTEST]
    assert "`pipenv install` without `--dev`" in found_here[0].fix


def test_a_pipenv_virtualenv_counts_where_the_final_stage_copies_it(repo):
    dockerfile = """
        FROM python:3.11-slim AS builder
        ENV PIPENV_VENV_IN_PROJECT=1
        WORKDIR /app
        RUN pip install --no-cache-dir pipenv==2023.12.1
        COPY Pipfile Pipfile.lock ./
        RUN pipenv install --deploy

        FROM python:3.11-slim
        WORKDIR /app
        COPY --from=builder /app/.venv /app/.venv
        COPY . .
        ENV PATH="/app/.venv/bin:$PATH"
        CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000"]
    """
    files = pipenv_files("", Dockerfile=dockerfile)
    assert lint(repo, files) == [("DEP001", "Pipfile", PIPENV_PANDAS)]
    # without PIPENV_VENV_IN_PROJECT the virtualenv is under the home folder: not copied
    files["Dockerfile"] = dockerfile.replace("ENV PIPENV_VENV_IN_PROJECT=1\n", "")
    assert lint(repo, files) == []


def test_a_pipfile_that_reads_as_a_freeze_beside_an_unknown_entry_hedges(repo):
    """Every entry pinned, with what the known ones require: a freeze. An entry the index
    cannot read (a private package) may need the others: said at info, naming it."""
    pipfile = """
        [packages]
        django = "==4.2.7"
        asgiref = "==3.7.2"
        sqlparse = "==0.4.4"
        gunicorn = "==21.2.0"
        packaging = "==23.2"
        acme-deploy-tools = "==3.1.0"
        docopt = "==0.6.2"

        [packages.coverage]
        version = "==7.3.2"
        extras = ["toml"]
    """
    files = {**pipenv_files("pipenv install --system --deploy"), "Pipfile": pipfile}
    del files["Pipfile.lock"]
    result = {f.message.split("`")[1]: f for f in run_lint(repo(files), select=["DEP001", "DEP003"]).findings}
    assert set(result) == {"docopt", "coverage"}
    assert (
        result["docopt"].severity == Severity.INFO
        and "`acme-deploy-tools`, whose requirements" in result["docopt"].message
    )
    assert result["coverage"].code == "DEP003" and result["coverage"].span.line == 10  # its own table's header
    # a hand-written Pipfile (versions left open) is judged as usual
    files["Pipfile"] = pipfile.replace('"==0.6.2"', '"*"').replace('"==4.2.7"', '"*"').replace('"==3.7.2"', '"*"').replace(
        '"==0.4.4"', '"*"').replace('"==21.2.0"', '"*"')  # fmt: skip
    result = {f.message.split("`")[1]: f for f in run_lint(repo(files), select=["DEP001"]).findings}
    assert result["docopt"].severity == Severity.WARNING


# -- setup.py -----------------------------------------------------------------------------

SETUP_SERVICE = {
    "Dockerfile": """
        FROM python:3.11-slim
        WORKDIR /api
        COPY . /api
        RUN pip install --no-cache-dir -e .
        CMD ["python", "-m", "service.main"]
    """,
    "setup.py": """
        from setuptools import find_packages, setup

        setup(
            name="service",
            version="0.1",
            packages=find_packages(),
            install_requires=[
                "pika==1.3.2",
                "loguru==0.7.2",
                "redis==5.0.1",
            ],
            extras_require={"test": ["pytest==8.3.3"]},
        )
    """,
    "service/__init__.py": "",
    "service/main.py": "import pika\nfrom loguru import logger\n\nlogger.info(pika.__version__)\n",
}


def test_a_setup_py_project_installed_with_pip_declares_what_it_installs(repo):
    """Its literal install_requires, read with ast (never run): redis is unused."""
    assert lint(repo, SETUP_SERVICE) == [("DEP001", "setup.py", 10)]
    finding = run_lint(repo(SETUP_SERVICE), select=["DEP001"]).findings[0]
    assert finding.autofix is not None  # the string stands alone on its line


def test_a_setup_py_that_computes_its_requirements_names_nothing(repo):
    computed = SETUP_SERVICE["setup.py"].replace(
        '[\n                "pika==1.3.2",\n                "loguru==0.7.2",\n                "redis==5.0.1",\n            ]',
        'open("requirements.txt").read().splitlines()',
    )
    assert "open(" in computed
    files = {**SETUP_SERVICE, "setup.py": computed, "requirements.txt": "pika==1.3.2\nredis==5.0.1\n"}
    assert lint(repo, files) == []


# -- poetry export: the requirements stage of the FastAPI guide --------------------------------


def export_image(export: str, installed: str = "/app/requirements.txt") -> str:
    """A stage that only exports the lock to requirements.txt; the final stage pip-installs it."""
    return f"""
        FROM python:3.12-slim AS requirements-stage
        WORKDIR /tmp
        RUN pip install --no-cache-dir "poetry==1.8.4"
        COPY pyproject.toml poetry.lock* /tmp/
        RUN {export}

        FROM python:3.12-slim
        WORKDIR /app
        COPY --from=requirements-stage /tmp/requirements.txt {installed}
        RUN pip install --no-cache-dir -r requirements.txt
        COPY worker/ worker/
        CMD ["celery", "-A", "worker.tasks", "worker"]
    """


@pytest.mark.parametrize(
    ("export", "lines"),
    [
        # the main group only, unless groups are asked for (unlike `poetry install`)
        ("poetry export -f requirements.txt --output requirements.txt --without-hashes", []),
        ("poetry export --without-hashes > requirements.txt", []),
        ("poetry export -o requirements.txt --with dev", [("DEP003", POETRY_PYTEST)]),
        ("poetry export -o requirements.txt --dev", [("DEP003", POETRY_PYTEST)]),
        ("poetry export -o requirements.txt --only main,docs", [("DEP003", MKDOCS)]),
        ("poetry export -o requirements.txt --with dev,docs --without docs", [("DEP003", POETRY_PYTEST)]),
        ("poetry export -o requirements.txt -E reports", [("DEP001", PANDAS)]),
        ("poetry export -o requirements.txt --all-extras", [("DEP001", PANDAS)]),
    ],
)
def test_poetry_export_installs_the_groups_it_exports(repo, export, lines):
    files = {"Dockerfile": export_image(export), "pyproject.toml": POETRY_PROJECT, "poetry.lock": "", **WORKER_CODE}
    assert lint(repo, files) == [(code, "pyproject.toml", line) for code, line in lines]


def test_a_requirements_file_no_export_wrote_names_nothing(repo):
    # constraints.txt installs nothing itself; another file than the one installed; the export
    # written in the final stage, which is read the same way
    for export, installed in [
        ("poetry export -f constraints.txt -o requirements.txt --with dev", "/app/requirements.txt"),
        ("poetry export -o other.txt --with dev", "/app/requirements.txt"),
    ]:
        files = {"Dockerfile": export_image(export, installed), "pyproject.toml": POETRY_PROJECT, "poetry.lock": "", **WORKER_CODE}  # fmt: skip
        assert lint(repo, files) == []
    single = """
        FROM python:3.12-slim
        WORKDIR /app
        COPY pyproject.toml poetry.lock ./
        RUN pip install --no-cache-dir "poetry==1.8.4" && poetry export --with dev -o requirements.txt \\
            && pip install --no-cache-dir -r requirements.txt
        COPY worker/ worker/
        CMD ["celery", "-A", "worker.tasks", "worker"]
    """
    files = {"Dockerfile": single, "pyproject.toml": POETRY_PROJECT, "poetry.lock": "", **WORKER_CODE}
    assert lint(repo, files) == [("DEP003", "pyproject.toml", POETRY_PYTEST)]


def test_an_exported_torch_is_the_cuda_build_pypi_serves(repo):
    project = POETRY_PROJECT.replace('httpx = "^0.28"', 'httpx = "^0.28"\n    torch = "^2.4"')
    code = {**WORKER_CODE, "worker/tasks.py": WORKER_CODE["worker/tasks.py"] + "import torch\n"}
    files = {"Dockerfile": export_image("poetry export -o requirements.txt"), "pyproject.toml": project,
             "poetry.lock": "", **code}  # fmt: skip
    assert found(run_lint(repo(files), select=["GPU001"])) == [("GPU001", "Dockerfile", 10)]


def test_packages_poetry_add_names_in_the_dockerfile_are_installs_of_their_own(repo):
    """`poetry add loguru "httpx[http2]"` installs those two into the project's environment:
    judged like any install, at their words in the Dockerfile (an option that changes what
    is added leaves the command unnamed, as before)."""
    dockerfile = """
        FROM python:3.12-slim
        RUN pip install --no-cache-dir poetry==1.8.5 && poetry config virtualenvs.create false
        WORKDIR /app
        COPY pyproject.toml ./
        RUN poetry install --no-root
        RUN poetry add loguru "httpx[http2]"
        COPY bot ./bot
        CMD ["python", "-m", "bot.main"]
    """
    files = {
        "Dockerfile": dockerfile,
        "pyproject.toml": "[tool.poetry]\nname = 'bot'\nversion = '0.1.0'\n\n[tool.poetry.dependencies]\n"
        'python = "^3.12"\naiogram = "3.15.0"\nredis = "5.2.1"\n',
        "bot/__init__.py": "",
        "bot/main.py": "import aiogram\nimport httpx\n",
    }
    unused = [item for item in lint(repo, files) if item[0] == "DEP001"]
    assert unused == [("DEP001", "Dockerfile", 6), ("DEP001", "pyproject.toml", 8)]
    files["Dockerfile"] = dockerfile.replace("poetry add loguru", "poetry add --allow-unknown-option loguru")
    # unnamed, it may install what requires redis: nothing is judged that some package requires
    assert [item for item in lint(repo, files) if item[0] == "DEP001"] == []


# -- an `if` on a build argument -----------------------------------------------------------

INSTALL_DEV_IMAGE = """
    FROM python:3.12-slim
    ENV POETRY_VERSION=1.8.3 POETRY_VIRTUALENVS_CREATE=false
    RUN pip install --no-cache-dir poetry==${POETRY_VERSION}
    WORKDIR /app
    ARG INSTALL_DEV=false
    COPY pyproject.toml poetry.lock ./
    RUN if [ "$INSTALL_DEV" = "true" ]; then \\
            poetry install --no-root; \\
        else \\
            poetry install --no-root --without dev; \\
        fi
    COPY app ./app
    CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]
"""

INSTALL_DEV_PROJECT = """
    [tool.poetry]
    name = "inference-api"
    version = "1.0.0"

    [tool.poetry.dependencies]
    python = "^3.11"
    fastapi = "^0.115"
    uvicorn = "^0.32"

    [tool.poetry.group.dev.dependencies]
    pytest = "^8.3"
"""


def test_the_branch_a_build_argument_rules_out_installs_nothing(repo):
    """`ARG INSTALL_DEV=false` and `if [ "$INSTALL_DEV" = "true" ]; then poetry install;
    else poetry install --without dev; fi`: the image built with the default has no
    pytest. A compose service that builds with INSTALL_DEV=true gets the other branch."""
    files = {"Dockerfile": INSTALL_DEV_IMAGE, "pyproject.toml": INSTALL_DEV_PROJECT, "poetry.lock": "", **API_CODE}
    assert [item for item in lint(repo, files) if item[0] == "DEP003"] == []
    # the test image compose builds takes the other branch: its pytest is a test image's tool
    files["compose.yaml"] = (
        "services:\n  api:\n    build:\n      context: .\n      args:\n        INSTALL_DEV: 'true'\n"
    )
    assert [item for item in lint(repo, files) if item[0] == "DEP003"] == [("DEP003", "pyproject.toml", 11)]
    # an ARG without a default is the builder's to give (`--build-arg INSTALL_DEV=true`): undecided
    files = {
        "Dockerfile": INSTALL_DEV_IMAGE.replace("ARG INSTALL_DEV=false", "ARG INSTALL_DEV"),
        "pyproject.toml": INSTALL_DEV_PROJECT,
        "poetry.lock": "",
        **API_CODE,
    }
    assert [item for item in lint(repo, files) if item[0] == "DEP003"] == [("DEP003", "pyproject.toml", 11)]
    # a condition dockerlint cannot decide keeps both branches, as before
    undecided = INSTALL_DEV_IMAGE.replace('[ "$INSTALL_DEV" = "true" ]', "[ -f /run/secrets/dev ]")
    files = {"Dockerfile": undecided, "pyproject.toml": INSTALL_DEV_PROJECT, "poetry.lock": "", **API_CODE}
    assert [item for item in lint(repo, files) if item[0] == "DEP003"] == [("DEP003", "pyproject.toml", 11)]


def test_the_branch_ruled_out_is_still_read_by_the_hadolint_rules(repo):
    """hadolint reads every branch as written: DL3013 still names the unpinned pip install."""
    dockerfile = (
        'FROM python:3.12-slim\nARG DEBUG=0\nRUN if [ "$DEBUG" = "1" ]; then pip install --no-cache-dir debugpy; fi\n'
    )
    assert found(run_lint(repo({"Dockerfile": dockerfile}), select=["DL3013"])) == [("DL3013", "Dockerfile", 3)]


def test_a_pip_install_of_the_project_learns_unknown_requirements_from_its_lock(repo):
    """`pip install ".[asr]"` ignores uv.lock, but the lock records what the resolver found
    each package requires: acme-asr, which no index reads, requires pyannote-audio. Without
    that record, pyannote-audio may be unused (said at info)."""
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /app
            COPY pyproject.toml .
            COPY app/ ./app/
            RUN pip install --no-cache-dir ".[asr]"
            CMD ["python", "-m", "app"]
        """,
        "pyproject.toml": """
            [project]
            name = "transcriber"
            version = "0.3.0"
            requires-python = ">=3.11"
            dependencies = ["numpy>=2.1"]

            [project.optional-dependencies]
            asr = ["acme-asr>=3.8", "pyannote-audio>=3.3"]
        """,
        "uv.lock": """
            version = 1
            requires-python = ">=3.11"

            [[package]]
            name = "acme-asr"
            version = "3.8.6"
            source = { registry = "https://pypi.org/simple" }
            dependencies = [
                { name = "numpy" },
                { name = "pyannote-audio" },
            ]

            [[package]]
            name = "pyannote-audio"
            version = "3.3.2"
            source = { registry = "https://pypi.org/simple" }
        """,
        "app/__init__.py": "",
        "app/__main__.py": "import acme_asr\nimport numpy\n\nacme_asr.load_model('small')\n",
    }
    assert lint(repo, files) == []
    files["uv.lock"] = "version = 1\n"  # a lock that records nothing of acme-asr
    assert lint(repo, files) == [("DEP001", "pyproject.toml", 8)]


def test_a_requirements_file_exported_beside_the_lock_learns_unknown_requirements_from_it(repo):
    """requirements.txt is `uv export`'s pinned list, beside the uv.lock it came from: the
    lock records that acme-remote, which no index reads, requires aiohttp and ifaddr, so
    they are not unused. Without that record they may be (said at info)."""
    files = {
        "Dockerfile": """
            FROM python:3.12-slim
            WORKDIR /driver
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY driver/ ./driver/
            CMD ["python", "-m", "driver"]
        """,
        "requirements.txt": "acme-remote==0.5.1\naiohttp==3.11.11\nifaddr==0.2.0\n",
        "pyproject.toml": "[project]\nname = 'driver'\nversion = '1.0'\ndependencies = ['acme-remote>=0.5']\n",
        "uv.lock": """
            version = 1
            requires-python = ">=3.12"

            [[package]]
            name = "acme-remote"
            version = "0.5.1"
            source = { registry = "https://pypi.org/simple" }
            dependencies = [
                { name = "aiohttp" },
                { name = "ifaddr" },
            ]
        """,
        "driver/__init__.py": "",
        "driver/__main__.py": "import acme_remote\n\nacme_remote.serve()\n",
    }
    assert lint(repo, files) == []
    files["uv.lock"] = "version = 1\n"
    assert lint(repo, files) == [("DEP001", "requirements.txt", 2)]
