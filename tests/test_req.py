"""REQ001-REQ003 across everything one image installs: realistic repositories, exact
lines, and the correct setups that must stay silent."""

from __future__ import annotations

import pytest

from tests.conftest import found, run_lint

REQ = ["REQ001", "REQ002", "REQ003"]
INSTALL = "COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
SIMPLE = "FROM python:3.11-slim\n" + INSTALL


def lint(root, codes=REQ):
    return run_lint(root, select=codes)


MONOREPO = {
    "compose.yaml": """
        services:
          api:
            build:
              context: .
              dockerfile: services/api/Dockerfile
          worker:
            build:
              context: .
              dockerfile: services/worker/Dockerfile
    """,
    "libs/common.txt": """
        pydantic==2.7.4
        numpy==1.26.4
        requests==2.32.3
    """,
    "services/api/requirements.txt": """
        -r ../../libs/common.txt
        fastapi==0.111.0
        numpy>=2.0
        requests==2.32.3
    """,
    "services/api/Dockerfile": """
        FROM python:3.11-slim
        WORKDIR /app
        COPY libs/ /app/libs/
        COPY services/api/requirements.txt /app/services/api/
        RUN pip install --no-cache-dir -r services/api/requirements.txt
        COPY services/api/ /app/services/api/
        CMD ["uvicorn", "services.api.main:app"]
    """,
    "services/worker/requirements.txt": """
        -r ../../libs/common.txt
        celery==5.4.0
    """,
    "services/worker/Dockerfile": """
        FROM python:3.11-slim
        WORKDIR /app
        COPY libs/ /app/libs/
        COPY services/worker/requirements.txt /app/services/worker/
        RUN pip install --no-cache-dir -r services/worker/requirements.txt
        CMD ["celery", "-A", "services.worker", "worker"]
    """,
    ".dockerignore": ".git\n",
}


def test_monorepo_conflict_and_duplicate_across_an_include(repo):
    result = lint(repo(MONOREPO))
    assert found(result, "REQ001") == [("REQ001", "requirements.txt", 3)]
    conflict = next(f for f in result.findings if f.code == "REQ001")
    assert "`numpy==1.26.4` at libs/common.txt:2" in conflict.message
    assert "`numpy>=2.0` at services/api/requirements.txt:3" in conflict.message
    assert [r.span.line for r in conflict.related] == [2]
    # requests is pinned identically in the include and the service file: a duplicate
    duplicates = [f for f in result.findings if f.code == "REQ002"]
    assert [(f.path.parent.name, f.path.name, f.span.line) for f in duplicates] == [("api", "requirements.txt", 4)]
    assert found(result, "REQ003") == []


def test_files_that_never_meet_in_one_image_never_conflict(repo):
    files = dict(MONOREPO)
    files["services/api/requirements.txt"] = "fastapi==0.111.0\nnumpy==2.1.0\n"
    files["services/api/Dockerfile"] = MONOREPO["services/api/Dockerfile"].replace("COPY libs/ /app/libs/\n", "")
    assert found(lint(repo(files))) == []


def test_constraints_take_part_but_install_nothing(repo):
    root = repo(
        {
            "requirements.txt": "fastapi==0.111.0\npydantic>=2\nuvicorn\n",
            "constraints.txt": "pydantic<2\nuvicorn==0.30.1\nboto3==1.34.0\nboto3==1.35.0\n",
            "Dockerfile": """
            FROM python:3.11-slim
            COPY requirements.txt constraints.txt /tmp/
            RUN pip install --no-cache-dir -c /tmp/constraints.txt -r /tmp/requirements.txt
        """,
        }
    )
    result = lint(root)
    # pydantic conflicts with its constraint (reported at the later line, the requirement);
    # boto3 is only constrained, never installed: quiet. uvicorn is pinned by the constraint.
    assert found(result) == [("REQ001", "requirements.txt", 2)]
    assert "(constraint) at constraints.txt:1" in result.findings[0].message


def test_markers_follow_the_base_image_python(repo):
    requirements = 'numpy==1.26.4 ; python_version < "3.12"\nnumpy==2.1.0 ; python_version >= "3.12"\nnumpy>=2\n'
    for base, expected in (
        ("python:3.11-slim", [("REQ001", "requirements.txt", 3)]),
        ("python:3.12-slim-bookworm", []),
        ("nvidia/cuda:12.4.1-runtime-ubuntu22.04", []),  # unknown Python: markers undecided
    ):
        root = repo(
            {
                "requirements.txt": requirements,
                "Dockerfile": f"FROM {base}\n" + INSTALL,
            }
        )
        assert found(lint(root, ["REQ001"])) == expected, base


def test_full_version_markers_need_a_patch_in_the_tag(repo):
    requirements = 'torch==2.1.0 ; python_full_version >= "3.10.5"\ntorch==2.3.1\n'
    for base, expected in (("python:3.10-slim", []), ("python:3.10.12-slim", [("REQ001", "requirements.txt", 2)])):
        root = repo(
            {
                "requirements.txt": requirements,
                "Dockerfile": f"FROM {base}\n" + INSTALL,
            }
        )
        assert found(lint(root, ["REQ001"])) == expected, base


def test_platform_markers_use_the_from_platform(repo):
    requirements = 'onnxruntime-gpu==1.18.0 ; platform_machine == "x86_64"\nonnxruntime-gpu==1.17.0\n'
    for platform, expected in (("linux/arm64", []), ("linux/amd64", [("REQ001", "requirements.txt", 2)]), ("", [])):
        flag = f"--platform={platform} " if platform else ""
        root = repo(
            {
                "requirements.txt": requirements,
                "Dockerfile": f"FROM {flag}python:3.11-slim\n" + INSTALL,
            }
        )
        assert found(lint(root, ["REQ001"])) == expected, platform


def test_pip_arguments_and_pyproject_extras_join_the_set(repo):
    root = repo(
        {
            "pyproject.toml": """
            [project]
            name = "svc"
            version = "1.0"
            dependencies = ["httpx>=0.27", "pandas"]
            [project.optional-dependencies]
            gpu = ["torch>=2.3"]
        """,
            "requirements.lock": "httpx==0.26.0\ntorch==2.3.1\n",
            "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /src
            COPY . .
            RUN pip install --no-cache-dir -r requirements.lock \\
             && pip install --no-cache-dir --no-deps ".[gpu]" "torch<2.3"
        """,
            ".dockerignore": ".git\n",
        }
    )
    result = lint(root)
    # httpx: the lock file pins below pyproject's floor; torch: the argument refuses the lock
    assert found(result, "REQ001") == [("REQ001", "Dockerfile", 5), ("REQ001", "pyproject.toml", 4)]
    # pandas: nothing pins it in this image
    assert found(result, "REQ003") == [("REQ003", "pyproject.toml", 4)]


def test_copy_from_carries_installs_only_with_the_place_they_went(repo):
    files = {
        "requirements.txt": "scikit-learn==1.5.0\n",
        "requirements-build.txt": "scikit-learn==1.4.2\ncython==3.0.10\n",
    }
    carried = """
        FROM python:3.11-slim AS build
        RUN python -m venv /opt/venv
        ENV PATH=/opt/venv/bin:$PATH
        COPY requirements-build.txt .
        RUN pip install --no-cache-dir -r requirements-build.txt
        FROM python:3.11-slim
        COPY --from=build /opt/venv /opt/venv
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
    """
    assert found(lint(repo({**files, "Dockerfile": carried}), ["REQ001"])) == [("REQ001", "requirements.txt", 1)]
    artefacts_only = carried.replace("COPY --from=build /opt/venv /opt/venv", "COPY --from=build /app/dist /app/dist")
    assert found(lint(repo({**files, "Dockerfile": artefacts_only}), ["REQ001"])) == []


def test_a_venv_installed_through_its_own_pip_is_carried_by_copying_it(repo):
    """`/venv/bin/pip install -r` in a builder, then `COPY --from=build /venv /venv` into a
    distroless final stage: the requirements are the final image's."""
    dockerfile = """
        FROM debian:bookworm-slim AS build
        RUN apt-get update && apt-get install --no-install-recommends --yes python3-venv \\
            && python3 -m venv /venv && rm -rf /var/lib/apt/lists/*
        COPY requirements.txt /requirements.txt
        RUN /venv/bin/pip install --disable-pip-version-check -r /requirements.txt
        FROM gcr.io/distroless/python3-debian12
        COPY --from=build /venv /venv
        COPY app.py /app/app.py
        ENTRYPOINT ["/venv/bin/python3", "/app/app.py"]
    """
    files = {"Dockerfile": dockerfile, "requirements.txt": "flask\nrequests==2.32.3\n", "app.py": "import flask\n"}
    assert found(lint(repo(files), ["REQ003"])) == [("REQ003", "requirements.txt", 1)]


def test_utf16_requirements(repo):
    text = "\ufefffastapi==0.111.0\r\nrequests\r\nfastapi>=0.100\r\n"
    root = repo(
        {
            "requirements.txt": text.encode("utf-16-le"),
            "Dockerfile": SIMPLE,
        }
    )
    assert found(lint(root)) == [("REQ002", "requirements.txt", 3), ("REQ003", "requirements.txt", 2)]


CERTIFI = "certifi==2024.7.4 \\\n    --hash=sha256:" + "a" * 64 + "\n"


def test_duplicates_quiet_for_lock_files_extras_and_variables(repo):
    root = repo(
        {
            "requirements/prod.txt": CERTIFI,
            "requirements/dev.txt": CERTIFI + "pytest==8.2.2 \\\n    --hash=sha256:" + "b" * 64 + "\n",
            "requirements/extra.txt": (
                "uvicorn==0.30.1\nuvicorn[standard]\nmylib==${MYLIB_VERSION}\n--config-settings editable_mode=compat\n"
            ),
            "Dockerfile": """
            FROM python:3.11-slim
            COPY requirements/ /tmp/requirements/
            RUN pip install --no-cache-dir -r /tmp/requirements/prod.txt -r /tmp/requirements/dev.txt \\
             && pip install --no-cache-dir -r /tmp/requirements/extra.txt
        """,
        }
    )
    assert found(run_lint(root, select=["REQ"])) == []


def test_two_files_each_image_installs_alone_pinned_alike_are_no_duplicate(repo):
    """api.txt and worker.txt each pin pandas==2.2.3 for their own image; the development
    image installs both: neither file can drop the line, and the pins agree. A file that
    includes the other and pins it again is a duplicate."""
    files = {
        "requirements/api.txt": "fastapi==0.115.6\npandas==2.2.3\n",
        "requirements/worker.txt": "celery==5.4.0\npandas==2.2.3\n",
        "Dockerfile": """
            FROM python:3.12-slim
            COPY requirements/ /tmp/requirements/
            RUN pip install --no-cache-dir -r /tmp/requirements/api.txt -r /tmp/requirements/worker.txt
        """,
    }
    assert found(run_lint(repo(files), select=["REQ002"])) == []
    files["requirements/worker.txt"] = "-r api.txt\ncelery==5.4.0\npandas==2.2.3\n"
    assert found(run_lint(repo(files), select=["REQ002"])) == [("REQ002", "worker.txt", 3)]


def test_noqa_in_a_requirements_file(repo):
    root = repo(
        {
            "requirements.txt": "flask==3.0.3\nflask==3.0.3  # noqa: REQ002\nrequests  # noqa\n",
            "Dockerfile": SIMPLE,
        }
    )
    assert found(lint(root)) == []


def test_a_three_way_clash_names_every_line(repo):
    root = repo(
        {
            "requirements.txt": "protobuf>=3.20,<3.21\nprotobuf!=3.20.*\nprotobuf>=3.0\n",
            "Dockerfile": SIMPLE,
        }
    )
    result = lint(root, ["REQ001"])
    assert found(result) == [("REQ001", "requirements.txt", 2)]
    assert "requirements.txt:1" in result.findings[0].message
    assert "requirements.txt:3" not in result.findings[0].message


# -- REQ004 from the Dockerfile: a requirements file the build context does not hold -------------


def test_requirements_file_missing_from_the_context_is_reported_in_the_dockerfile(repo):
    root = repo(
        {
            "serving/Dockerfile": """
                FROM python:3.11-slim
                COPY ./ /app
                WORKDIR /app
                RUN pip install -r requirements_prod.txt
                CMD ["uvicorn", "app:app"]
            """,
            "serving/requirements.txt": "fastapi==0.111.0\n",
            "serving/app.py": "import fastapi\n",
        }
    )
    result = lint(root, ["REQ004"])
    assert found(result) == [("REQ004", "Dockerfile", 4)]
    (finding,) = result.findings
    assert "`-r requirements_prod.txt`" in finding.message and str(root) not in finding.message
    assert finding.span.column == 20


@pytest.mark.parametrize(
    "export, reported",
    [
        ("poetry export -o requirements.txt --without-hashes", False),
        ("poetry export --without-hashes --output=requirements.txt", False),
        ("uv export --no-dev --output-file requirements.txt", False),
        ("uv pip compile pyproject.toml -o requirements.txt", False),
        ("pip-compile --output-file=requirements.txt requirements.in", False),
        ("pdm export -o requirements.txt", False),
        ("poetry export -o requirements-dev.txt --with dev", True),  # another file
        ("poetry export --without-hashes", True),  # to standard output
    ],
)
def test_a_requirements_file_a_repository_script_exports_before_building_is_made(repo, export, reported):
    """deploy.sh exports requirements.txt from pyproject.toml, then builds: the checkout has
    no requirements.txt, but the build it documents does."""
    files = {
        "Dockerfile": (
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
            'RUN pip install --no-cache-dir -r requirements.txt\nCOPY bot.py .\nCMD ["python", "bot.py"]\n'
        ),
        "pyproject.toml": "[tool.poetry]\nname = 'bot'\n[tool.poetry.dependencies]\naiogram = '3.15.0'\n",
        "bot.py": "import aiogram\n",
        "deploy.sh": f"#!/bin/sh\nset -e\n{export}\ndocker compose up --build -d\n",
        "compose.yaml": "services:\n  bot:\n    build: .\n",
    }
    assert found(lint(repo(files), ["REQ004"])) == ([("REQ004", "Dockerfile", 4)] if reported else [])


def test_a_remote_constraints_file_is_a_note_of_the_run_not_a_finding(repo):
    """`-c https://…/constraints-3.11.txt` is how Airflow documents its installs: pip reads
    it, dockerlint does not (no network). The run says what it did not read; the file is fine."""
    files = {
        "Dockerfile": "FROM apache/airflow:2.9.3-python3.11\n" + INSTALL,
        "requirements.txt": (
            "-c https://raw.githubusercontent.com/apache/airflow/constraints-2.9.3/constraints-3.11.txt\n"
            "apache-airflow-providers-amazon\n"
        ),
    }
    result = lint(repo(files), ["REQ004"])
    assert found(result) == []
    assert [(note.path.name, note.level) for note in result.notes] == [("requirements.txt", "info")]
    assert result.notes[0].message.startswith("line 1: -c https://") and "not followed" in result.notes[0].message


PROJECT = """[project]
name = "fastapp"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = [
    "fastapi[standard]==0.115.6",
    "sqlalchemy==2.0.36",
    "pandas",
]

[tool.uv]
dev-dependencies = ["pytest==8.3.4"]
"""


@pytest.mark.parametrize("tool", ["uv pip install --system", "pip install"])
def test_a_pyproject_given_to_r_is_read_as_the_project_s_dependencies_by_uv(repo, tool):
    """`uv pip install -r pyproject.toml` installs [project].dependencies; pip reads any -r
    file as a requirements file and stops at `[project]`: one finding, not one per line."""
    files = {
        "Dockerfile": "FROM python:3.12-slim\nCOPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /usr/local/bin/uv\n"
        f"WORKDIR /app\nCOPY pyproject.toml .\nRUN {tool} --no-cache -r pyproject.toml\nCOPY app ./app\n"
        'CMD ["fastapi", "run", "app/main.py"]\n',
        "pyproject.toml": PROJECT,
        "app/main.py": "import fastapi\nimport sqlalchemy\n\napp = fastapi.FastAPI()\n",
    }
    result = run_lint(repo(files), select=["REQ", "DEP001"])
    if tool.startswith("uv"):
        # read as requirements: pandas is unused (and unpinned, which its removal makes moot), at its own line
        assert sorted(found(result)) == [("DEP001", "pyproject.toml", 8)]
    else:
        assert ("REQ004", "Dockerfile", 5) in found(result)
        assert not [f for f in result.findings if f.code == "REQ005"]  # no error per line of the TOML
        (stops,) = [f for f in result.findings if f.code == "REQ004"]
        assert "pip reads it as a requirements file" in stops.message


def test_a_folder_copied_over_the_destination_adds_to_it(repo):
    """`COPY web/. ./` after `COPY requirements.txt ./`: the folder has no requirements.txt,
    and the one copied before is still there (a COPY merges into the destination)."""
    dockerfile = """
        FROM python:3.12-slim
        WORKDIR /app
        COPY requirements.txt ./
        COPY /web/. ./
        RUN pip install --no-cache-dir -r requirements.txt
        CMD ["python", "web.py"]
    """
    files = {"requirements.txt": "flask==3.1.0\n", "web/web.py": "import flask\n"}
    root = repo({"web/web.Dockerfile": dockerfile, "docker-compose.yml": COMPOSE_AT_ROOT, **files})
    assert found(lint(root, ["REQ003", "REQ004"])) == []
    # with nothing copied before, the folder's missing file is reported
    root = repo(
        {
            "web/web.Dockerfile": dockerfile.replace("        COPY requirements.txt ./\n", ""),
            "docker-compose.yml": COMPOSE_AT_ROOT,
            **files,
        }
    )
    assert found(lint(root, ["REQ004"])) == [("REQ004", "web.Dockerfile", 4)]


COMPOSE_AT_ROOT = "services:\n  web:\n    build:\n      context: .\n      dockerfile: web/web.Dockerfile\n"


def test_a_source_above_the_context_is_read_from_its_root_as_buildkit_does(repo):
    """BuildKit joins a COPY source to the context root: `../requirements.txt` is the
    context's own requirements.txt (the classic builder refused it)."""
    dockerfile = """
        FROM python:3.12-slim
        WORKDIR /app
        COPY ../{name} .
        RUN pip install --no-cache-dir -r {name}
        COPY . .
        CMD ["python", "-m", "etl"]
    """
    files = {"requirements.txt": "prefect==3.1.5\n", "etl/__init__.py": "", "etl/__main__.py": "import prefect\n"}
    root = repo({"Dockerfile": dockerfile.format(name="requirements.txt"), **files})
    assert found(lint(root, ["REQ004", "CTX003"])) == []
    root = repo({"Dockerfile": dockerfile.format(name="requirements-prod.txt"), **files})
    assert ("REQ004", "Dockerfile", 4) in found(lint(root, ["REQ004"]))


def test_a_file_copied_to_a_folder_of_the_base_image_is_read_where_the_install_finds_it(repo):
    """`COPY requirements.txt /app` with no slash: the install reads /app/requirements.txt,
    so /app is a folder the base image holds and the file is there, not renamed to /app."""
    root = repo(
        {
            "Dockerfile": """
                FROM ghcr.io/acme/python3.13:main
                COPY requirements.txt /app
                RUN uv pip install --system -r /app/requirements.txt
                COPY . /app
                CMD ["gunicorn", "--chdir", "/app", "embed:app"]
            """,
            "requirements.txt": "flask==3.1.0\nsentence-transformers\ngunicorn==23.0.0\n",
            "embed.py": "import flask\nfrom sentence_transformers import SentenceTransformer\n",
        }
    )
    assert found(lint(root, ["REQ003", "REQ004"])) == [("REQ003", "requirements.txt", 2)]


def test_requirements_file_written_by_the_build_is_not_missing(repo):
    root = repo(
        {
            "Dockerfile": """
                FROM python:3.11-slim AS export
                WORKDIR /app
                COPY pyproject.toml poetry.lock ./
                RUN pip install --no-cache-dir poetry==1.8.3 && poetry export -o requirements.txt
                FROM python:3.11-slim
                WORKDIR /app
                COPY --from=export /app/requirements.txt .
                RUN pip install --no-cache-dir -r requirements.txt
                COPY . .
            """,
            "pyproject.toml": "[tool.poetry]\nname = 'svc'\n",
            "poetry.lock": "",
        }
    )
    assert found(lint(root, ["REQ004"])) == []


def test_hash_lines_without_continuations_are_one_finding(repo):
    digest = "sha256:" + "ab" * 32
    root = repo(
        {
            "Dockerfile": SIMPLE,
            "requirements.txt": "".join(
                f"{name}==1.0\n    --hash={digest}\n\n" for name in ("flask", "numpy", "pillow")
            ),
        }
    )
    result = lint(root, ["REQ005"])
    assert found(result) == [("REQ005", "requirements.txt", 2)]
    assert "(lines 2, 5, 8)" in result.findings[0].message


def test_a_requirement_pip_cannot_read_on_its_command_line(repo):
    """`fastapi=0.115.12` (one `=`) and `"pandas>=2.0 <3"` (a space for a comma) stop
    `pip install`; paths, URLs, extras, markers, pins and variables are all fine."""
    dockerfile = """
        FROM python:3.12-slim AS build
        RUN pip wheel --no-cache-dir -w /wheels "pandas>=2.0 <3"
        FROM python:3.12-slim
        ARG EXTRA=redis==5.2.1
        COPY --from=build /wheels /wheels
        COPY . /app
        RUN pip install --no-cache-dir fastapi=0.115.12 uvicorn[standard]==0.34.0 \\
            && pip install --no-cache-dir /app "./app[test]" "numpy<2; python_version < '3.13'" \\
               git+https://github.com/psf/black.git@24.10.0 "torch==2.5.1+cpu" "$EXTRA" \\
               https://example.com/wheels/acme-1.0-py3-none-any.whl "requests==2.*"
        CMD ["uvicorn", "app.main:app"]
    """
    result = lint(repo({"Dockerfile": dockerfile, "app/main.py": "import fastapi\n"}), ["REQ005"])
    assert found(result) == [("REQ005", "Dockerfile", 2), ("REQ005", "Dockerfile", 7)]
    assert 'did you mean "=="' in result.findings[1].message and "`fastapi=0.115.12`" in result.findings[1].message


def test_a_requirement_written_with_an_escaped_comparison_is_one_word(repo):
    """`uvicorn[standard]\\>=0.29` is one shell word, `uvicorn[standard]>=0.29` to pip, as
    `fastapi\\>=0.110` is; a word pip cannot read is said with the command as written."""
    dockerfile = """
        FROM python:3.12-slim
        COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /bin/uv
        RUN uv pip install --system --no-cache \\
            fastapi\\>=0.110 \\
            uvicorn[standard]\\>=0.29 \\
            httpx[http2]\\=0.28
        COPY app /app
        CMD ["uvicorn", "app.main:app"]
    """
    result = lint(repo({"Dockerfile": dockerfile, "app/main.py": "import fastapi\n"}), ["REQ005"])
    assert found(result) == [("REQ005", "Dockerfile", 6)]
    assert "`httpx[http2]=0.28`" in result.findings[0].message
    assert "`uv pip install` stops" in result.findings[0].message


def test_a_bare_torch_on_a_base_image_that_ships_torch_installs_nothing(repo):
    """pytorch/pytorch:2.5.1 holds torch 2.5.1: `torch` in the requirements is satisfied and
    pip leaves it, so builds do not drift; with `--upgrade`, or on a plain Python base, they do."""
    files = {
        "Dockerfile": "FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime\n" + INSTALL,
        "requirements.txt": "torch\ntransformers==4.47.1\n",
    }
    assert found(lint(repo(files), ["REQ003"])) == []
    upgrade = {**files, "Dockerfile": files["Dockerfile"].replace("pip install --no-cache-dir", "pip install -U")}
    assert found(lint(repo(upgrade), ["REQ003"])) == [("REQ003", "requirements.txt", 1)]
    plain = {**files, "Dockerfile": SIMPLE}
    assert found(lint(repo(plain), ["REQ003"])) == [("REQ003", "requirements.txt", 1)]


def test_torch_companions_the_base_installs_beside_its_torch_are_kept(repo):
    """pytorch/pytorch:2.5.1 installs torchvision 0.20.1 and torchaudio 2.5.1 with its torch:
    `torchvision>=0.19` is satisfied and pip leaves it; `torchvision>=0.21` is not."""
    files = {
        "Dockerfile": "FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime\n" + INSTALL,
        "requirements.txt": "torchvision>=0.19\ntorchaudio>=2.4\ntransformers==4.47.1\n",
    }
    assert found(lint(repo(files), ["REQ003"])) == []
    newer = {**files, "requirements.txt": "torchvision>=0.21\ntorchaudio>=2.4\ntransformers==4.47.1\n"}
    assert found(lint(repo(newer), ["REQ003"])) == [("REQ003", "requirements.txt", 1)]


def test_playwright_on_the_playwright_image_is_the_tag_release(repo):
    """mcr.microsoft.com/playwright/python:v1.51.0 has playwright 1.51.0 and its browsers:
    a bare `playwright` is met by it, and pip keeps it."""
    files = {
        "Dockerfile": "FROM mcr.microsoft.com/playwright/python:v1.51.0-jammy\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n",
        "requirements.txt": "playwright\nsupabase\n",
    }
    assert found(lint(repo(files), ["REQ003"])) == [("REQ003", "requirements.txt", 2)]
    plain = {
        **files,
        "Dockerfile": files["Dockerfile"].replace(
            "mcr.microsoft.com/playwright/python:v1.51.0-jammy", "python:3.12-slim"
        ),
    }
    assert found(lint(repo(plain), ["REQ003"])) == [
        ("REQ003", "requirements.txt", 1),
        ("REQ003", "requirements.txt", 2),
    ]


def test_what_the_airflow_image_ships_under_its_constraints_stays(repo):
    """apache/airflow:2.9.3 installs Airflow with its default extras under Airflow's
    constraints: a bare `pandas` finds it there and pip keeps it; polars it does not ship."""
    files = {
        "Dockerfile": "FROM apache/airflow:2.9.3\nCOPY requirements.txt /\nRUN pip install --no-cache-dir -r /requirements.txt\n",
        "requirements.txt": "pandas\npolars\n",
    }
    assert found(lint(repo(files), ["REQ003"])) == [("REQ003", "requirements.txt", 2)]
    plain = {**files, "Dockerfile": files["Dockerfile"].replace("apache/airflow:2.9.3", "python:3.11-slim")}
    assert found(lint(repo(plain), ["REQ003"])) == [
        ("REQ003", "requirements.txt", 1),
        ("REQ003", "requirements.txt", 2),
    ]


# -- REQ001 through torch coupling and the command line --------------------------------------------


def test_torch_pin_no_allowed_torchvision_or_xformers_accepts(repo):
    root = repo(
        {
            "Dockerfile": "FROM runpod/base:0.4.0-cuda12.1.1\n" + INSTALL,
            "requirements.txt": """
                runpod~=1.7.6
                torch==2.0.1
                torchvision>=0.18.0
                xformers>=0.0.27
                diffusers>=0.31.0
            """,
        }
    )
    result = lint(root, ["REQ001"])
    assert found(result) == [("REQ001", "requirements.txt", 2)]
    message = result.findings[0].message
    assert "`torchvision>=0.18.0` at requirements.txt:3" in message and "0.18.0 requires torch==2.3.0" in message
    assert "`xformers>=0.0.27` at requirements.txt:4" in message
    assert [related.span.line for related in result.findings[0].related] == [3, 4]


def test_two_coupled_pins_for_different_torch_releases(repo):
    dockerfile = "FROM python:3.11-slim\nRUN pip install --no-cache-dir torchvision==0.17.0 torchaudio==2.3.0\n"
    root = repo({"Dockerfile": dockerfile})
    result = lint(root, ["REQ001"])
    assert found(result) == [("REQ001", "Dockerfile", 2)]
    assert "no torch release satisfies both" in result.findings[0].message
    assert "torchvision 0.17.0 requires torch==2.2.0" in result.findings[0].message


def test_matching_torch_family_pins_are_fine(repo):
    root = repo(
        {
            "Dockerfile": """
                FROM python:3.11-slim
                COPY requirements.txt .
                RUN pip install --no-cache-dir -r requirements.txt \\
                    --extra-index-url https://download.pytorch.org/whl/cu121
                RUN pip install --no-cache-dir torchvision>=0.19
            """,
            "requirements.txt": """
                torch==2.3.1+cu121
                torchvision==0.18.1+cu121
                torchaudio==2.3.1
                xformers>=0.0.27,<0.0.27.post1
                torchvision>=0.17 ; python_version < "3.9"
            """,
        }
    )
    # the later torchvision>=0.19 is another resolution: pip replaces torch there (LAY003)
    assert found(lint(root, ["REQ001"])) == []


def test_requirements_file_and_command_line_disagree(repo):
    root = repo(
        {
            "Dockerfile": """
                FROM python:3.11-slim
                COPY requirements.txt .
                RUN pip install --no-cache-dir -r requirements.txt "numpy>=2"
            """,
            "requirements.txt": "numpy==1.26.4\npandas==2.2.2\n",
        }
    )
    result = lint(root, ["REQ001"])
    assert found(result) == [("REQ001", "Dockerfile", 3)]
    assert "`numpy==1.26.4` at requirements.txt:1" in result.findings[0].message


# -- REQ006 ------------------------------------------------------------------------------------------


def test_conda_freeze_is_one_finding_per_file_and_windows_pins_another(repo):
    root = repo(
        {
            "Dockerfile": SIMPLE + "RUN pip install --no-cache-dir pywinpty==2.0.13 flask==3.0.3\n",
            "requirements.txt": """
                anyio @ file:///tmp/build/80754af9/anyio_1617783277988/work/dist
                fastapi==0.111.0
                numpy @ file:///home/conda/feedstock_root/build_artifacts/numpy_1675642561072/work
                Django @ file:///D:/bld/django_1646775829781/work
                pywin32==306
                windows-curses==2.3.3
                pywin32-ctypes==0.2.3
            """,
        }
    )
    result = lint(root, ["REQ006"])
    assert found(result) == [
        ("REQ006", "Dockerfile", 4),
        ("REQ006", "requirements.txt", 1),
        ("REQ006", "requirements.txt", 5),
    ]
    by_line = {(finding.path.name, finding.span.line): finding for finding in result.findings}
    conda = by_line["requirements.txt", 1]
    assert "2 more lines like it (lines 3, 4)" in conda.message and str(root) not in conda.message
    assert [related.span.line for related in conda.related] == [3, 4]
    windows = by_line["requirements.txt", 5]
    assert "`pywin32==306`" in windows.message and "`windows-curses==2.3.3`" in windows.message
    assert "pywin32-ctypes" not in windows.message
    assert "`pywinpty==2.0.13`" in by_line["Dockerfile", 4].message


def test_local_wheels_markers_and_windows_images_are_fine(repo):
    root = repo(
        {
            "linux/Dockerfile": """
                FROM python:3.11-slim
                COPY wheels/ /wheels/
                COPY requirements.txt .
                RUN pip install --no-cache-dir -r requirements.txt
            """,
            "linux/requirements.txt": """
                pywin32==306 ; sys_platform == "win32"
                pywinpty==2.0.13 ; os_name == "nt"
                internal @ file:///wheels/internal-1.0-py3-none-any.whl
                tools @ file:///opt/src/tools
            """,
            "linux/wheels/internal-1.0-py3-none-any.whl": "",
            "windows/Dockerfile": """
                FROM python:3.11-windowsservercore-ltsc2022
                COPY requirements.txt .
                RUN pip install --no-cache-dir -r requirements.txt
            """,
            "windows/requirements.txt": "pywin32==306\nnumpy @ file:///C:/b/abs_x/croot/numpy_1/work\n",
        }
    )
    assert found(lint(root, ["REQ006"])) == []


# -- REQ007 ------------------------------------------------------------------------------------------


def test_two_opencv_builds_directly_and_through_a_dependency(repo):
    root = repo(
        {
            "api/Dockerfile": "FROM python:3.11-slim\n" + INSTALL,
            "api/requirements.txt": "opencv-python==4.10.0.84\nfastapi==0.111.0\nopencv-contrib-python-headless\n",
            "detector/Dockerfile": """
                FROM python:3.11-slim
                RUN pip install --no-cache-dir ultralytics==8.2.0
                COPY requirements.txt .
                RUN pip install --no-cache-dir -r requirements.txt
            """,
            "detector/requirements.txt": "opencv-python-headless==4.10.0.84\n",
        }
    )
    result = lint(root, ["REQ007"])
    assert found(result) == [("REQ007", "requirements.txt", 1), ("REQ007", "requirements.txt", 3)]
    by_folder = {finding.path.parent.name: finding.message for finding in result.findings}
    assert "`opencv-python` (required by `ultralytics==8.2.0` at Dockerfile:2)" in by_folder["detector"]
    assert "`opencv-python-headless` (`opencv-python-headless==4.10.0.84` at" in by_folder["detector"]
    assert by_folder["api"].startswith("2 distributions of `cv2` are installed into this image: `opencv-python`")


@pytest.mark.parametrize("install", ["poetry install --no-root --only main", "uv sync --frozen --no-dev"])
def test_two_builds_of_one_package_that_a_project_install_installs(repo, install):
    """`poetry install` and `uv sync` install what pyproject.toml lists: onnxruntime and
    onnxruntime-gpu both write `onnxruntime`. A dev group that is not installed says nothing."""
    files = {
        "Dockerfile": f"FROM python:3.12-slim\nRUN pip install --no-cache-dir poetry==2.1.1 uv==0.5.11\n"
        f"WORKDIR /app\nCOPY pyproject.toml poetry.lock uv.lock ./\nRUN {install}\nCOPY src ./src\n"
        'CMD ["python", "-m", "src.api"]\n',
        "pyproject.toml": "[project]\nname = 'tracker'\nversion = '0.1.0'\nrequires-python = '>=3.12'\n"
        "dependencies = ['onnxruntime>=1.21', 'fastapi>=0.115', 'onnxruntime-gpu>=1.21']\n"
        "[dependency-groups]\ndev = ['opencv-python>=4.10', 'opencv-python-headless>=4.10']\n",
        "poetry.lock": "# @generated by Poetry\n",
        "uv.lock": "version = 1\n",
        "src/__init__.py": "",
        "src/api.py": "import onnxruntime\n",
    }
    result = lint(repo(files), ["REQ007"])
    assert found(result) == [("REQ007", "pyproject.toml", 5)]
    assert "2 distributions of `onnxruntime`" in result.findings[0].message


def test_two_projects_that_took_one_import_name(repo):
    """kafka is kafka-python's old name: both install `kafka`; the service imports one of
    them, which one depends on install order."""
    root = repo(
        {
            "Dockerfile": "FROM python:3.11-slim\n" + INSTALL,
            "requirements.txt": "flask==3.1.0\nkafka-python==2.0.2\nrequests==2.32.3\nkafka~=1.3.5\n",
        }
    )
    result = lint(root, ["REQ007"])
    assert found(result) == [("REQ007", "requirements.txt", 4)]
    assert result.findings[0].message.startswith("2 distributions of `kafka` are installed")
    assert result.findings[0].fix.startswith("Keep the one the code is written for; ")
    root = repo({"Dockerfile": "FROM python:3.11-slim\n" + INSTALL, "requirements.txt": "kafka-python==2.0.2\n"})
    assert found(lint(root, ["REQ007"])) == []


def test_a_package_installed_without_its_requirements_brings_no_second_build(repo):
    """`pip install ultralytics --no-deps` is the known way to keep only the headless
    OpenCV: ultralytics' opencv-python is not installed. Without `--no-deps` it is."""
    dockerfile = (
        "FROM python:3.12-slim\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt && \\\n"
        "    pip install --no-cache-dir ultralytics==8.3.40 --no-deps\n"
    )
    files = {"Dockerfile": dockerfile, "requirements.txt": "opencv-python-headless==4.10.0.84\ntorch==2.5.1\n"}
    assert found(lint(repo(files), ["REQ007"])) == []
    files["Dockerfile"] = dockerfile.replace(" --no-deps", "")
    assert found(lint(repo(files), ["REQ007"])) == [("REQ007", "Dockerfile", 4)]


def test_one_opencv_build_per_image_is_fine(repo):
    root = repo(
        {
            "Dockerfile": """
                FROM python:3.11-slim AS train
                RUN pip install --no-cache-dir opencv-python==4.10.0.84
                FROM python:3.11-slim
                COPY requirements.txt .
                RUN pip install --no-cache-dir -r requirements.txt
            """,
            "requirements.txt": "opencv-python-headless==4.10.0.84\neasyocr==1.7.1\n",
        }
    )
    assert found(lint(root, ["REQ007"])) == []


def test_a_package_listed_many_times_is_one_duplicate_and_one_unpinned(repo):
    # One mistake (a line pasted again and again, here and in an include), one finding
    # each: REQ002 at the first repeat naming the others, REQ003 at the first listing.
    requirements = "-r base.txt\nfastapi==0.111.0\n" + "pydantic\n" * 5
    root = repo({"requirements.txt": requirements, "base.txt": "pydantic\n", "Dockerfile": SIMPLE})
    result = lint(root)
    assert found(result) == [("REQ002", "requirements.txt", 3), ("REQ003", "base.txt", 1)]
    duplicate = next(f for f in result.findings if f.code == "REQ002")
    assert "`pydantic` at base.txt:1" in duplicate.message
    assert "(and again at requirements.txt:4, requirements.txt:5, requirements.txt:6 and 1 more)" in duplicate.message
    assert [(r.path.name, r.span.line) for r in duplicate.related] == [
        ("base.txt", 1),
        ("requirements.txt", 4),
        ("requirements.txt", 5),
        ("requirements.txt", 6),
    ]


def test_two_packages_each_repeated_are_two_findings(repo):
    root = repo(
        {"requirements.txt": "flask==3.0.3\nrequests==2.32.3\nflask==3.0.3\nrequests==2.32.3\n", "Dockerfile": SIMPLE}
    )
    assert found(lint(root)) == [("REQ002", "requirements.txt", 3), ("REQ002", "requirements.txt", 4)]


def test_a_version_comparison_the_shell_takes_for_a_redirection(repo):
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir torch>=2.1 --index-url https://download.pytorch.org/whl/cpu
        RUN pip install --no-cache-dir "fastapi>=0.110" 'uvicorn<1' numpy==2.1.3 > /tmp/pip.log 2>&1
        RUN python -m pip install --no-cache-dir pandas<3
        RUN echo "numpy>=1.20" > requirements.txt && pip install -r requirements.txt
    """
    result = run_lint(repo({"Dockerfile": dockerfile}), select=["REQ008"])
    assert [(f.span.line, f.message.split("`")[1]) for f in result.findings] == [(2, "torch>=2.1"), (4, "pandas<3")]
    assert result.findings[0].fix == 'Quote the requirement: `pip install "torch>=2.1"`.'
    assert "fails the install" in result.findings[1].message


def test_the_unquoted_comparisons_of_one_command_are_one_finding(repo):
    """Nine unquoted floors on one training image's `pip install`: one mistake, quoted at
    once, said once with the requirements it drops."""
    requirements = " ".join(f"pkg{number}>=1.{number}" for number in range(1, 10))
    dockerfile = f"FROM python:3.11-slim\nRUN pip install --no-cache-dir {requirements}\n"
    (finding,) = run_lint(repo({"Dockerfile": dockerfile}), select=["REQ008"]).findings
    assert finding.message.startswith("9 requirements are not quoted (`pkg1>=1.1`, `pkg2>=1.2`,")
    assert "and 4 more" in finding.message and "installs each package at any version" in finding.message


def test_unquoted_comparisons_after_an_and_list_are_found(repo):
    """`pip install --upgrade pip && pip install openai>=1.52.2 vllm>=0.6.3`: the second pip
    install of the list drops both floors."""
    dockerfile = (
        "FROM python:3.11-slim\nRUN pip install --upgrade pip && \\\n"
        "    pip install openai>=1.52.2 vllm>=0.6.3 python-dotenv\n"
    )
    (finding,) = run_lint(repo({"Dockerfile": dockerfile}), select=["REQ008"]).findings
    assert finding.message.startswith("2 requirements are not quoted (`openai>=1.52.2`, `vllm>=0.6.3`)")


def test_a_pin_to_a_build_variable_on_the_command_pins_the_listed_package(repo):
    """`apache-airflow==${AIRFLOW_VERSION}` beside `-r requirements.txt` (the apache/airflow
    image sets the variable; here an ARG does) pins the Airflow the file lists bare."""
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            ARG AIRFLOW_VERSION=2.6.3
            COPY requirements.txt .
            RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r requirements.txt
        """,
        "requirements.txt": "apache-airflow\napache-airflow-providers-trino\npolars==0.20.31\n",
    }
    # Airflow is pinned (to the base's version); its provider is not
    assert found(lint(repo(files), ["REQ003"])) == [("REQ003", "requirements.txt", 2)]
    files["Dockerfile"] = files["Dockerfile"].replace('"apache-airflow==${AIRFLOW_VERSION}" ', "")
    assert found(lint(repo(files), ["REQ003"])) == [
        ("REQ003", "requirements.txt", 1),
        ("REQ003", "requirements.txt", 2),
    ]


# -- REQ009 ---------------------------------------------------------------------------------

POETRY_PROJECT = {
    "pyproject.toml": """
        [tool.poetry]
        name = "billing"
        version = "1.0.0"
        description = "Billing API"
        authors = ["Ops <ops@example.com>"]

        [tool.poetry.dependencies]
        python = "^3.12"
        fastapi = "^0.115"

        [tool.poetry.group.dev.dependencies]
        pytest = "^8.3"
    """,
    "poetry.lock": "",
    "billing/__init__.py": "",
    "billing/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
}


def poetry_dockerfile(get_poetry: str, install: str) -> str:
    return f"""
        FROM python:3.12-slim
        ENV POETRY_VIRTUALENVS_CREATE=false
        WORKDIR /app
        {get_poetry}
        COPY pyproject.toml poetry.lock ./
        RUN {install}
        COPY . .
        CMD ["uvicorn", "billing.main:app", "--host", "0.0.0.0"]
    """


def removed_commands(repo, get_poetry: str, install: str) -> list[tuple[str, str, int]]:
    files = {"Dockerfile": poetry_dockerfile(get_poetry, install), **POETRY_PROJECT}
    return found(lint(repo(files), ["REQ009"]))


EXPORT = "poetry export -f requirements.txt -o requirements.txt --without-hashes && pip install -r requirements.txt"


def test_poetry_2_commands_under_an_install_that_takes_the_newest_poetry(repo):
    """An unpinned Poetry (or a range the newest release meets, or a pin past 2.0) is Poetry 2:
    no `export` without its plugin, no `install --no-dev`."""
    for get_poetry in (
        "RUN pip install --no-cache-dir poetry",
        "RUN pip install --no-cache-dir 'poetry>=1.5'",
        "RUN pip install --no-cache-dir poetry==2.1.3",
        "RUN pipx install poetry",
        "RUN curl -sSL https://install.python-poetry.org | python3 -",
    ):
        assert removed_commands(repo, get_poetry, "poetry install --no-dev --no-root") == [
            ("REQ009", "Dockerfile", 6)
        ], get_poetry
        assert removed_commands(repo, get_poetry, EXPORT) == [("REQ009", "Dockerfile", 6)], get_poetry
    files = {"Dockerfile": poetry_dockerfile("RUN pip install poetry", EXPORT), **POETRY_PROJECT}
    message = lint(repo(files), ["REQ009"]).findings[0].message
    assert "poetry-plugin-export" in message and "installs poetry at its newest release" in message


def test_poetry_1_its_plugin_or_the_options_poetry_2_has_are_fine(repo):
    for get_poetry, install in (
        ("RUN pip install --no-cache-dir poetry==1.8.5", "poetry install --no-dev --no-root"),
        ("RUN pip install --no-cache-dir 'poetry<2'", EXPORT),
        ("RUN pip install --no-cache-dir 'poetry>=1.8,<2.0'", "poetry install --no-dev"),
        ("ENV POETRY_VERSION=1.8.5\nRUN curl -sSL https://install.python-poetry.org | python3 -", EXPORT),
        ("RUN pip install --no-cache-dir poetry poetry-plugin-export", EXPORT),
        ("RUN pip install --no-cache-dir poetry && poetry self add poetry-plugin-export", EXPORT),
        ("RUN pip install --no-cache-dir poetry", "poetry install --without dev --no-root"),
        ("RUN pip install --no-cache-dir poetry", "poetry install --only main --no-root"),
        ("# Poetry comes with the base image: its release is not known", "poetry install --no-dev"),
    ):
        assert removed_commands(repo, get_poetry, install) == [], (get_poetry, install)


def test_on_a_python_poetry_2_does_not_support_pip_takes_poetry_1(repo):
    """Poetry 2.0 requires Python 3.9: on 3.8, or a Python the tag does not tell
    (tiangolo's python3.7 images), `pip install poetry` gets a Poetry 1 release."""
    for base in ("python:3.8-slim", "tiangolo/uvicorn-gunicorn-fastapi:python3.7"):
        dockerfile = poetry_dockerfile("RUN pip install --no-cache-dir poetry", "poetry install --no-dev")
        files = {"Dockerfile": dockerfile.replace("python:3.12-slim", base), **POETRY_PROJECT}
        assert found(lint(repo(files), ["REQ009"])) == [], base


def test_a_poetry_installed_in_the_stage_built_on_counts(repo):
    dockerfile = """
        FROM python:3.12-slim AS poetry
        RUN pip install --no-cache-dir poetry
        FROM poetry AS requirements
        COPY pyproject.toml poetry.lock ./
        RUN poetry export -f requirements.txt -o /requirements.txt
        FROM python:3.12-slim
        COPY --from=requirements /requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
    """
    assert found(lint(repo({"Dockerfile": dockerfile, **POETRY_PROJECT}), ["REQ009"])) == [("REQ009", "Dockerfile", 5)]


def test_an_unpinned_requirement_says_whether_it_has_a_lower_bound(repo):
    files = {
        "Dockerfile": "FROM python:3.12-slim\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n",
        "requirements.txt": "fastapi>=0.110.0\nrequests\nhttpx!=0.28.0\nuvicorn==0.32.1\nboto3==1.35.81\n",
    }
    messages = sorted(finding.message for finding in lint(repo(files), ["REQ003"]).findings)
    assert messages[0].startswith("`fastapi>=0.110.0` sets only a lower bound (no `==`, `~=` or upper bound)")
    assert messages[1].startswith("`httpx!=0.28.0` sets no version") and messages[2].startswith(
        "`requests` sets no version"
    )


def test_a_standard_library_backport_is_not_asked_to_be_pinned(repo):
    """`asyncio` from PyPI is the 2014 backport; Python 3.12's own asyncio loads first. It is
    to be deleted (DEP001 says so), not pinned. `dataclasses` is a backport only where the
    image's Python has the module: on 3.6 it is the package the code gets."""
    files = {
        "Dockerfile": "FROM python:3.12-slim\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n",
        "requirements.txt": "asyncio\nrequests\n",
    }
    assert [f.span.line for f in lint(repo(files), ["REQ003"]).findings] == [2]
    files["Dockerfile"] = files["Dockerfile"].replace("python:3.12-slim", "python:3.6-slim")
    files["requirements.txt"] = "dataclasses\nrequests\n"
    assert [f.span.line for f in lint(repo(files), ["REQ003"]).findings] == [1, 2]


def test_a_constraints_file_the_environment_names_pins_what_it_lists(repo):
    """`ENV PIP_CONSTRAINT=/app/constraints.txt` applies the file to every pip install, as
    `-c` does: what it pins is pinned; what it leaves out is not."""
    files = {
        "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY constraints.txt requirements.txt ./\n"
        "ENV PIP_CONSTRAINT=/app/constraints.txt\nRUN pip install --no-cache-dir -r requirements.txt\n",
        "requirements.txt": "fastapi\ntenacity>=8\nhttpx\n",
        "constraints.txt": "fastapi==0.115.6\ntenacity==8.2.3\n",
    }
    assert [f.span.line for f in lint(repo(files), ["REQ003"]).findings] == [3]
    files["Dockerfile"] = files["Dockerfile"].replace("ENV PIP_CONSTRAINT=/app/constraints.txt\n", "")
    (finding,) = lint(repo(files), ["REQ003"]).findings  # a file that pins none: one finding
    assert (finding.span.line, finding.also_lines) == (1, (2, 3))


def test_a_file_that_pins_none_of_its_requirements_is_one_finding(repo):
    """Nothing in requirements.txt is pinned, or nearly nothing: one decision (compile a
    lock, or pin them all), said once, naming them; a file that pins a good part of its
    requirements keeps a finding per unpinned line."""
    files = {
        "Dockerfile": "FROM python:3.12-slim\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n",
        "requirements.txt": "fastapi\nuvicorn[standard]\nsqlalchemy>=2\npydantic\nhttpx\nredis\ncelery\n",
    }
    (finding,) = lint(repo(files), ["REQ003"]).findings
    assert finding.message.startswith("none of the 7 requirements of requirements.txt sets a version (`fastapi`,")
    assert "and 2 more" in finding.message and finding.also_lines == (2, 3, 4, 5, 6, 7)
    assert [item.span.line for item in finding.related] == [2, 3, 4, 5, 6, 7]
    files["requirements.txt"] = files["requirements.txt"].replace("httpx", "httpx==0.28.1")
    (finding,) = lint(repo(files), ["REQ003"]).findings  # one pin among seven: still the file's choice
    assert finding.message.startswith(
        "6 of the 7 requirements of requirements.txt set no version or only a lower bound (`fastapi`,"
    )
    assert finding.also_lines == (2, 3, 4, 6, 7)
    # many unpinned beside fewer pinned (a pyproject of lower bounds, a few pins): one decision too
    pins = "".join(f"pinned{number}==1.0\n" for number in range(5))
    files["requirements.txt"] = pins + "".join(f"loose{number}>=1.0\n" for number in range(6))
    (finding,) = lint(repo(files), ["REQ003"]).findings
    assert finding.message.startswith("6 of the 11 requirements of requirements.txt set no version or only a lower")
    files["requirements.txt"] = pins + "pinned5==1.0\n" + "".join(f"loose{number}>=1.0\n" for number in range(6))
    assert len(lint(repo(files), ["REQ003"]).findings) == 6  # as many pinned: each line its own
    files["requirements.txt"] = "fastapi==0.115.6\nuvicorn[standard]==0.32.1\nsqlalchemy>=2\npydantic\nhttpx\n"
    assert [f.span.line for f in lint(repo(files), ["REQ003"]).findings] == [3, 4, 5]


UV_PROJECT_FILES = {
    "pyproject.toml": "[project]\nname = 'api'\nversion = '0.1.0'\nrequires-python = '>=3.12'\n"
    "dependencies = ['fastapi==0.115.6']\n",
    "uv.lock": "version = 1\nrequires-python = '>=3.12'\n",
    "api/__init__.py": "",
}


@pytest.mark.parametrize(
    "copy, sync, expected",
    [
        ("COPY pyproject.toml ./", "uv sync --no-dev", "WARNING"),  # the lock comes later with the code
        ("COPY pyproject.toml ./", "uv sync --frozen --no-dev", "ERROR"),  # uv refuses without it
        ("COPY pyproject.toml ./", "uv lock && uv sync --frozen --no-dev", "WARNING"),  # a new lock, made in the build
        ("COPY pyproject.toml uv.lock ./", "uv sync --frozen --no-dev", None),
        ("COPY . .", "uv sync --frozen --no-dev", None),
        # a bind mount of the lock for the install's RUN
        ("COPY pyproject.toml ./", "--mount=type=bind,source=uv.lock,target=/app/uv.lock uv sync --frozen", None),
    ],
)
def test_a_project_install_without_the_lock_the_repository_commits(repo, copy, sync, expected):
    files = {
        "Dockerfile": "# syntax=docker/dockerfile:1\nFROM python:3.12-slim\n"
        "COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /usr/local/bin/uv\nWORKDIR /app\n"
        f'{copy}\nRUN {sync}\nCOPY . .\nCMD ["/app/.venv/bin/python", "-m", "api"]\n',
        **UV_PROJECT_FILES,
    }
    result = lint(repo(files), ["REQ010"])
    assert [(f.span.line, f.severity.name) for f in result.findings] == ([(6, expected)] if expected else [])
    if expected == "WARNING":
        said = "the lock the build makes again (`uv lock` at line 6)" if "uv lock" in sync else "runs without `uv.lock`"
        assert said in result.findings[0].message and "which the repository commits" in result.findings[0].message


def test_a_project_the_repository_does_not_lock_has_no_lock_to_leave_out(repo):
    files = {
        "Dockerfile": "FROM python:3.12-slim\nRUN pip install --no-cache-dir poetry==1.8.5\nWORKDIR /app\n"
        "COPY pyproject.toml ./\nRUN poetry install --no-root\n",
        "pyproject.toml": "[tool.poetry]\nname = 'bot'\nversion = '0.1.0'\ndescription = ''\nauthors = []\n"
        "[tool.poetry.dependencies]\npython = '^3.12'\naiogram = '^3.15'\n",
    }
    assert lint(repo(files), ["REQ010"]).findings == []
    files["poetry.lock"] = "# @generated by Poetry\n"
    assert [f.span.line for f in lint(repo(files), ["REQ010"]).findings] == [5]


@pytest.mark.parametrize(
    "install, lock, reported",
    [
        # uv's pip interface and pip read pyproject.toml's ranges, never the lock beside it
        ("uv pip install --system -r pyproject.toml", "uv.lock", True),
        ("uv pip install --system --requirements pyproject.toml", "uv.lock", True),
        ("pip install --no-cache-dir .", "uv.lock", True),
        ("pip install --no-cache-dir .", "poetry.lock", True),
        # the dependencies come from elsewhere: nothing to resolve, or an exported lock first
        ("pip install --no-cache-dir --no-deps .", "uv.lock", False),
        (
            "uv export --frozen --no-hashes -o requirements.txt && pip install --no-cache-dir -r requirements.txt"
            "\nRUN pip install --no-cache-dir .",
            "uv.lock",
            False,
        ),
        ("pip install --no-cache-dir .", None, False),  # nothing locked
    ],
)
def test_an_install_that_reads_pyproject_not_the_lock_the_repository_commits(repo, install, lock, reported):
    files = {
        "Dockerfile": "FROM python:3.12-slim\nRUN pip install --no-cache-dir uv==0.5.11\nWORKDIR /app\n"
        f'COPY . .\nRUN {install}\nCMD ["python", "-m", "api"]\n',
        **{name: text for name, text in UV_PROJECT_FILES.items() if name != "uv.lock"},
    }
    if lock:
        files[lock] = UV_PROJECT_FILES["uv.lock"]
    result = lint(repo(files), ["REQ010"])
    assert [(f.span.line, f.severity.name) for f in result.findings] == ([(5, "WARNING")] if reported else [])
    if reported:
        assert f"not `{lock}`, which the repository commits" in result.findings[0].message


def test_a_pin_of_a_line_dep001_says_to_remove_is_not_asked_for(repo):
    """`aiohttp` is unused (DEP001, a warning): asking to pin it too is moot, so REQ003 says
    only `requests`. Where DEP001 only hedges (info), the pin is asked for as well."""
    files = {
        "Dockerfile": "FROM python:3.12-slim\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
        'COPY app.py .\nCMD ["python", "app.py"]\n',
        "requirements.txt": "requests\naiohttp\nfastapi==0.115.6\nuvicorn==0.32.1\npydantic==2.10.4\n",
        "app.py": "import fastapi\nimport pydantic\nimport requests\nimport uvicorn\n",
    }
    result = lint(repo(files), ["REQ003", "DEP001"])
    assert sorted((f.code, f.span.line) for f in result.findings) == [("DEP001", 2), ("REQ003", 1)]
    result = lint(repo(files), ["REQ003"])
    assert sorted((f.code, f.span.line) for f in result.findings) == [("REQ003", 1), ("REQ003", 2)]
