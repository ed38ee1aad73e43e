"""STG rules on realistic multi-stage builds: venv, --user, --prefix and wheelhouse
builders, Alpine builders with glibc runtimes, and the correct variants that must stay
silent."""

from __future__ import annotations

import pytest

from tests.conftest import found, run_lint, write_tree
from tests.test_dep_project_installs import WHEELS_DOCKERFILE

REQUIREMENTS = {"requirements.txt": "fastapi==0.111.0\nuvicorn==0.30.1\npsycopg2==2.9.9\n"}


def lint(repo, dockerfile: str, code: str, files: dict[str, str] | None = None, **config):
    root = repo({"Dockerfile": dockerfile, **REQUIREMENTS, **(files or {})})
    result = run_lint(root, select=[code], **config)
    return found(result, code), [finding.message for finding in result.findings]


# -- STG002: what COPY --from takes ------------------------------------------------------------


@pytest.mark.parametrize(
    "builder_install, copy_line",
    [
        # --user, but the system site-packages copied
        (
            "RUN pip install --user --no-cache-dir -r requirements.txt",
            "COPY --from=builder /usr/local/lib/python3.11/site-packages /usr/local/lib/python3.11/site-packages",
        ),
        # system install, but /root/.local copied
        ("RUN pip install --no-cache-dir -r requirements.txt", "COPY --from=builder /root/.local /root/.local"),
        # --prefix elsewhere than the copied folder
        (
            "RUN pip install --no-cache-dir --prefix=/build -r requirements.txt",
            "COPY --from=builder /install /usr/local",
        ),
        # setup.py's --prefix (pip before 23.1) elsewhere than the copied folder
        (
            'RUN pip install --install-option="--prefix=/build" -r requirements.txt',
            "COPY --from=builder /install /usr/local",
        ),
        # a venv at /venv, /opt/venv copied
        (
            "RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir -r requirements.txt",
            "COPY --from=builder /opt/venv /opt/venv",
        ),
        # PIP_USER from ENV means --user
        (
            "ENV PIP_USER=1\nRUN pip install --no-cache-dir -r requirements.txt",
            "COPY --from=builder /usr/local/lib/python3.11/site-packages /usr/local/lib/python3.11/site-packages",
        ),
        # the site-packages of another Python version than the builder's
        (
            "RUN pip install --no-cache-dir --prefix=/install -r requirements.txt",
            "COPY --from=builder /install/lib/python3.10/site-packages /usr/local/lib/python3.11/site-packages",
        ),
    ],
)
def test_copy_from_where_the_builder_installed_nothing(repo, builder_install, copy_line):
    dockerfile = f"""
        FROM python:3.11-slim AS builder
        WORKDIR /app
        COPY requirements.txt .
        {builder_install}
        FROM python:3.11-slim
        {copy_line}
        CMD ["uvicorn", "app.main:app"]
    """
    dockerfile = "\n".join(line.strip() for line in dockerfile.strip().splitlines())
    copy_number = dockerfile.splitlines().index(copy_line) + 1
    got, messages = lint(repo, dockerfile, "STG002")
    assert got == [("STG002", "Dockerfile", copy_number)], messages
    assert "missing at run time" in messages[0]


def test_message_names_where_the_packages_went(repo):
    dockerfile = """
        FROM python:3.11-slim AS builder
        COPY requirements.txt .
        RUN pip install --user --no-cache-dir -r requirements.txt
        FROM python:3.11-slim
        COPY --from=builder /usr/local/lib/python3.11/site-packages /usr/local/lib/python3.11/site-packages
    """
    _, messages = lint(repo, dockerfile, "STG002")
    assert "`pip install --user` (line 3)" in messages[0] and "`/root/.local`" in messages[0]


def test_wheelhouse_copied_from_the_wrong_folder(repo):
    dockerfile = """
        FROM python:3.11-slim AS builder
        COPY requirements.txt .
        RUN pip wheel --no-cache-dir --wheel-dir=/tmp/wheels -r requirements.txt
        FROM python:3.11-slim
        COPY --from=builder /wheels /wheels
        RUN pip install --no-cache-dir --no-index --find-links=/wheels -r /wheels/requirements.txt
    """
    assert lint(repo, dockerfile, "STG002")[0] == [("STG002", "Dockerfile", 5)]


CORRECT_BUILDS = {
    "venv through PATH": """
        FROM python:3.11-slim AS builder
        ENV VIRTUAL_ENV=/opt/venv
        RUN python -m venv $VIRTUAL_ENV
        ENV PATH="$VIRTUAL_ENV/bin:$PATH"
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        FROM python:3.11-slim
        COPY --from=builder /opt/venv /opt/venv
        ENV PATH=/opt/venv/bin:$PATH
    """,
    "venv activated in the RUN": """
        FROM python:3.11-slim AS builder
        RUN python3 -m venv /opt/app-env
        COPY requirements.txt .
        RUN . /opt/app-env/bin/activate && pip install --no-cache-dir -r requirements.txt
        FROM python:3.11-slim
        COPY --from=builder /opt/app-env /opt/app-env
    """,
    "uv venv and uv pip": """
        FROM python:3.12-slim AS builder
        COPY --from=ghcr.io/astral-sh/uv:0.4.18 /uv /bin/uv
        WORKDIR /app
        COPY requirements.txt .
        RUN uv venv /app/.venv && uv pip install --no-cache -r requirements.txt
        FROM python:3.12-slim
        COPY --from=builder /app/.venv /app/.venv
    """,
    "user install": """
        FROM python:3.11-slim AS builder
        COPY requirements.txt .
        RUN pip install --user --no-cache-dir -r requirements.txt
        FROM python:3.11-slim
        COPY --from=builder /root/.local /root/.local
        ENV PATH=/root/.local/bin:$PATH
    """,
    "prefix install": """
        FROM python:3.11-slim AS builder
        COPY requirements.txt .
        RUN pip install --no-cache-dir --prefix=/install -r requirements.txt
        FROM python:3.11-slim
        COPY --from=builder /install /usr/local
    """,
    "setup.py prefix install (pip before 23.1)": """
        FROM python:3.6-alpine AS builder
        RUN mkdir /install
        WORKDIR /install
        COPY requirements.txt /requirements.txt
        RUN pip install --install-option="--prefix=/install" -r /requirements.txt
        FROM python:3.6-alpine
        COPY --from=builder /install /usr/local
    """,
    "setup.py prefix install, option and value apart": """
        FROM python:3.6-alpine AS builder
        COPY requirements.txt /requirements.txt
        RUN pip install --install-option "--prefix /install" -r /requirements.txt
        FROM python:3.6-alpine
        COPY --from=builder /install /usr/local
    """,
    "system site-packages and scripts": """
        FROM python:3.11 AS builder
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        FROM python:3.11-slim
        COPY --from=builder /usr/local/lib/python3.11/site-packages /usr/local/lib/python3.11/site-packages
        COPY --from=builder /usr/local/bin /usr/local/bin
    """,
    "wheelhouse": """
        FROM python:3.11 AS builder
        COPY requirements.txt .
        RUN pip wheel --no-cache-dir -w /wheels -r requirements.txt
        FROM python:3.11-slim
        COPY --from=builder /wheels /wheels
        RUN pip install --no-cache-dir --no-index --find-links=/wheels fastapi uvicorn psycopg2 && rm -rf /wheels
    """,
    "target install": """
        FROM python:3.11-slim AS builder
        COPY requirements.txt .
        RUN pip install --no-cache-dir --target=/deps -r requirements.txt
        FROM python:3.11-slim
        COPY --from=builder /deps /app/deps
        ENV PYTHONPATH=/app/deps
    """,
    "a tool the model does not follow": """
        FROM python:3.11-slim AS builder
        RUN pip install --no-cache-dir poetry==1.8.3
        COPY pyproject.toml .
        RUN poetry config virtualenvs.in-project true && poetry install --no-root
        FROM python:3.11-slim
        COPY --from=builder /.venv /opt/venv
    """,
    "a folder filled by another command": """
        FROM python:3.11-slim AS builder
        COPY requirements.txt .
        RUN pip install --user --no-cache-dir -r requirements.txt && cp -r /root/.local /install
        FROM python:3.11-slim
        COPY --from=builder /install /usr/local
    """,
    "a private base image": """
        FROM registry.example.com/ml/base:2024.06 AS builder
        RUN pip install --no-cache-dir --user httpx==0.27.0
        FROM python:3.11-slim
        COPY --from=builder /opt/venv /opt/venv
    """,
    "an unreachable stage": """
        FROM python:3.11-slim AS builder
        RUN pip install --user --no-cache-dir httpx==0.27.0
        FROM python:3.11-slim AS debug
        COPY --from=builder /opt/venv /opt/venv
        FROM python:3.11-slim
        CMD ["python"]
    """,
}


@pytest.mark.parametrize("name", sorted(CORRECT_BUILDS))
def test_correct_builds_are_silent(repo, name):
    files = {"pyproject.toml": "[project]\nname = 'app'\nversion = '1'\n"}
    for code in ("STG002", "STG003", "STG005"):
        got, messages = lint(repo, CORRECT_BUILDS[name], code, files)
        assert got == [], (code, messages)


# -- STG005 -------------------------------------------------------------------------------------


def test_unknown_stage_names(repo):
    dockerfile = """
        FROM python:3.11-slim AS builder
        RUN python -m venv /opt/venv
        FROM python:3.11-slim AS runtime
        COPY --from=biulder /opt/venv /opt/venv
        COPY --from=5 /etc/hostname /tmp/x
        COPY --from=assets /static /static
        RUN --mount=type=bind,from=buidler,source=/opt/venv,target=/v true
        COPY --from=nginx /etc/nginx/nginx.conf /etc/nginx.conf
        COPY --from=ghcr.io/astral-sh/uv:0.4.18 /uv /bin/uv
        FROM node:20-alpine AS assets
    """
    got, messages = lint(repo, dockerfile, "STG005", targets={"Dockerfile": "runtime"})
    assert got == [("STG005", "Dockerfile", line) for line in (4, 5, 6, 7)], messages
    assert "did you mean `builder`" in messages[0]
    assert "line 10" in messages[2]


def test_unknown_stage_in_an_unreachable_stage_is_ignored(repo):
    dockerfile = """
        FROM python:3.11-slim AS builder
        FROM python:3.11-slim AS old
        COPY --from=buildr /x /x
        FROM python:3.11-slim
        COPY --from=builder /etc/hostname /tmp/x
    """
    assert lint(repo, dockerfile, "STG005")[0] == []


def test_copy_from_a_path_the_stage_never_created(repo):
    """The stage only gets the build context at that folder, the context has no such path,
    and no RUN makes it: Docker cannot find it and the build stops."""
    dockerfile = """
        FROM python:3.11 AS build
        WORKDIR /build
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY . .
        FROM python:3.11-slim
        WORKDIR /app
        COPY --from=build /build/app /app
        COPY --from=build /build/static /app/static
        CMD ["python", "app.py"]
    """
    files = {"app.py": "print('serve')\n", "static/site.css": "body {}\n"}
    got, messages = lint(repo, dockerfile, "STG002", files)
    assert got == [("STG002", "Dockerfile", 8)]
    assert "nothing in stage `build` creates `/build/app`: its `COPY .` (line 5)" in messages[0]
    assert "(did you mean `app.py`?)" in messages[0]


def test_copy_from_a_path_a_run_may_create_is_left_alone(repo):
    dockerfile = """
        FROM node:20 AS web
        WORKDIR /web
        COPY frontend/ .
        RUN npm ci && npm run build
        FROM python:3.11-slim AS tools
        COPY scripts/ /opt/scripts/
        RUN mkdir -p /opt/scripts/out && cp /etc/hostname /opt/scripts/out/
        FROM python:3.11-slim
        COPY --from=web /web/dist /app/static
        COPY --from=tools /opt/scripts/out /app/out
        COPY --from=tools /opt/scripts/run.sh /app/run.sh
    """
    files = {"frontend/package.json": "{}", "scripts/run.sh": "#!/bin/sh\n"}
    assert lint(repo, dockerfile, "STG002", files)[0] == []


# -- STG003 -------------------------------------------------------------------------------------


def test_python_minor_version_mismatch(repo):
    dockerfile = """
        FROM python:3.12-slim AS builder
        COPY requirements.txt .
        RUN pip install --no-cache-dir --prefix=/install -r requirements.txt
        FROM python:3.11-slim
        COPY --from=builder /install /usr/local
    """
    got, messages = lint(repo, dockerfile, "STG003")
    assert got == [("STG003", "Dockerfile", 5)]
    assert "Python 3.12" in messages[0] and "Python 3.11" in messages[0]


def test_alpine_builder_glibc_runtime(repo):
    dockerfile = """
        FROM python:3.11-alpine AS builder
        RUN apk add --no-cache build-base postgresql-dev
        RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir psycopg2==2.9.9
        FROM python:3.11-slim
        COPY --from=builder /opt/venv /opt/venv
    """
    got, messages = lint(repo, dockerfile, "STG003")
    assert got == [("STG003", "Dockerfile", 5)]
    assert "musl" in messages[0] and "glibc" in messages[0]


def test_unknown_versions_and_non_package_copies_are_silent(repo):
    dockerfile = """
        FROM python:3.11-alpine AS builder
        RUN apk add --no-cache build-base && mkdir /out && gcc -o /out/tool tool.c
        FROM ubuntu:22.04 AS other
        RUN apt-get update && apt-get install -y --no-install-recommends python3-venv \\
            && python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir httpx==0.27.0
        FROM python:3.12-slim
        COPY --from=builder /out/tool /usr/local/bin/tool
        COPY --from=other /opt/venv /opt/venv
    """
    assert lint(repo, dockerfile, "STG003")[0] == []


# -- STG001 / STG004 -------------------------------------------------------------------------------


def test_build_tools_left_in_the_final_stage(repo):
    dockerfile = """
        FROM python:3.11-alpine AS base
        RUN apk add --no-cache gcc musl-dev libffi-dev
        FROM python:3.11-slim
        RUN apt-get update \\
            && apt-get install -y --no-install-recommends build-essential python3-dev curl \\
            && rm -rf /var/lib/apt/lists/*
        RUN dnf install -y gcc-c++ || true
    """
    got, messages = lint(repo, dockerfile, "STG001")
    assert got == [("STG001", "Dockerfile", 5), ("STG001", "Dockerfile", 7)], messages
    assert "`build-essential`, `python3-dev`" in messages[0] and "curl" not in messages[0]


@pytest.mark.parametrize(
    "comment, reported",
    [
        ("# gcc/g++ ARE runtime deps: Triton compiles its CUDA kernels with them. Do NOT remove them.\n", False),
        ("# The compiler is needed at run time by the JIT.\n", False),
        ("# System packages for the build.\n", True),  # no run-time need said
        ("# curl is a runtime dependency of the health check.\n", True),  # another package's need
    ],
)
def test_build_tools_the_dockerfile_says_the_service_needs_stay_quiet(repo, comment, reported):
    """The maintainers' comment above the install says the compilers are run-time needs:
    their word, which the code cannot show (Triton's JIT on a GPU), is taken."""
    dockerfile = (
        f"FROM python:3.12-slim\n{comment}RUN apt-get update && apt-get install -y --no-install-recommends "
        "gcc g++ curl && rm -rf /var/lib/apt/lists/*\nCOPY requirements.txt .\n"
        'RUN pip install --no-cache-dir -r requirements.txt\nCMD ["uvicorn", "app:app"]\n'
    )
    places, _ = lint(repo, dockerfile, "STG001")
    assert places == ([("STG001", "Dockerfile", 3)] if reported else [])


@pytest.mark.parametrize(
    "devcontainer, reported",
    [
        # the Dev Containers file names the compose service that builds the image (comments allowed)
        (
            '// VS Code\n{\n  "dockerComposeFile": ["../docker-compose.yml"],\n  "service": "api", // the one\n}\n',
            False,
        ),
        ('{"build": {"dockerfile": "../Dockerfile"}}', False),
        ('{"image": "mcr.microsoft.com/devcontainers/python:3.12"}', True),  # another image
    ],
)
def test_an_image_the_dev_container_file_builds_is_where_developers_work(repo, devcontainer, reported):
    """.devcontainer/devcontainer.json builds this image for VS Code: `uv sync` runs in it and
    compiles psycopg2 on Alpine, so its compilers are what it is for."""
    files = {
        "Dockerfile": "FROM python:3.12-alpine\nRUN apk add --no-cache build-base libpq-dev\n"
        'COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCMD ["sleep", "infinity"]\n',
        "docker-compose.yml": "services:\n  api:\n    build: .\n    command: sleep infinity\n",
        ".devcontainer/devcontainer.json": devcontainer,
    }
    places, _ = lint(repo, files["Dockerfile"], "STG001", {k: v for k, v in files.items() if k != "Dockerfile"})
    assert bool(places) is reported


@pytest.mark.parametrize(
    "start, reported",
    [
        ('CMD ["python3.11", "-m", "app"]', True),  # the PPA's Python runs the service; the tool that added it stays
        ('CMD ["sh", "-c", "add-apt-repository -y ppa:acme/tools && exec python3.11 -m app"]', False),
    ],
)
def test_the_tool_that_adds_a_ppa_stays_in_the_image(repo, start, reported):
    """software-properties-common is installed for add-apt-repository (the deadsnakes PPA):
    after the build it only weighs, with the OS's python3 it depends on."""
    dockerfile = (
        "FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y --no-install-recommends software-properties-common "
        "&& add-apt-repository -y ppa:deadsnakes/ppa && apt-get install -y --no-install-recommends python3.11 "
        f"&& rm -rf /var/lib/apt/lists/*\nCOPY app/ /app/app/\nWORKDIR /app\n{start}\n"
    )
    places, messages = lint(repo, dockerfile, "STG001", {"app/__init__.py": "", "app/__main__.py": "print('hi')\n"})
    assert places == ([("STG001", "Dockerfile", 2)] if reported else [])
    if reported:
        assert messages[0].startswith("`software-properties-common` (add-apt-repository")


def test_build_tools_on_a_full_base_that_holds_them_claim_no_bytes(repo):
    """python:3.10 is buildpack-deps: gcc, make and the headers are there already, so the
    install adds little; the base's size is IMG001's to count."""
    tools = "RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*"
    root = repo(
        {
            "Dockerfile": f"""
                FROM python:3.10 AS base
                {tools}
                COPY requirements.txt .
                RUN pip install --no-cache-dir -r requirements.txt
                FROM base AS web
                COPY . .
                CMD ["uvicorn", "app:app"]
            """,
            **REQUIREMENTS,
        }
    )
    result = run_lint(root, select=["STG001", "STG004"])
    assert found(result) == [("STG004", "Dockerfile", 5)]
    (finding,) = result.findings
    assert finding.size_bytes is None and "`python:3.10` holds a tool chain already" in finding.message
    single = repo({"Dockerfile": f'FROM python:3.10\n{tools}\nCMD ["python"]\n'})
    (finding,) = run_lint(single, select=["STG001"]).findings
    assert finding.size_bytes is None and "which holds a tool chain already" in finding.message
    slim = repo({"Dockerfile": f'FROM python:3.10-slim\n{tools}\nCMD ["python"]\n'})
    (finding,) = run_lint(slim, select=["STG001"]).findings
    assert finding.size_bytes and "stay in the image" in finding.message
    # a base the knowledge does not describe (a wrapper built FROM python:3.8): what it ships
    # is unknown, so no bytes are claimed
    wrapper = repo({"Dockerfile": f'FROM joyzoursky/python-chromedriver:3.8\n{tools}\nCMD ["python"]\n'})
    (finding,) = run_lint(wrapper, select=["STG001"]).findings
    assert finding.size_bytes is None and "stay in the image:" in finding.message
    # Rust is no part of buildpack-deps: on the full base it stays as it would on slim
    rust = tools.replace("build-essential", "rustc cargo")
    (finding,) = run_lint(
        repo({"Dockerfile": f'FROM python:3.12\n{rust}\nCMD ["python"]\n'}), select=["STG001"]
    ).findings
    assert "holds a tool chain already" not in finding.message and "stay in the image" in finding.message


def test_a_jdk_where_a_jre_runs_the_service(repo):
    dockerfile = """
        FROM python:3.11.9-slim
        ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
        RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jdk-headless \\
            && rm -rf /var/lib/apt/lists/*
        RUN pip install --no-cache-dir pyspark==3.5.1
    """
    root = repo({"Dockerfile": dockerfile})
    [result] = run_lint(root, select=["STG001"]).findings
    assert "`openjdk-17-jdk-headless`" in result.message
    assert "needs the JRE `openjdk-17-jre-headless` instead of the JDK" in result.fix
    # PySpark runs Java as the service runs: the JDK is no build tool, only more than it needs
    assert result.severity.name == "INFO" and "`pyspark` runs Java as the service runs" in result.message
    assert "only to build packages" not in result.message


def test_a_jdk_beside_a_model_server_with_a_java_frontend_is_no_build_tool(repo):
    """multi-model-server (SageMaker's inference toolkit starts it) is a Java frontend: the
    JDK runs it; build-essential beside it still only builds."""
    dockerfile = """
        FROM ubuntu:22.04
        RUN apt-get update && apt-get -y install --no-install-recommends build-essential \
            openjdk-8-jdk-headless python3 python3-pip && rm -rf /var/lib/apt/lists/*
        RUN pip3 --no-cache-dir install multi-model-server==1.1.11 sagemaker-inference==1.10.1
        COPY entrypoint.py /usr/local/bin/entrypoint.py
        ENTRYPOINT ["python3", "/usr/local/bin/entrypoint.py"]
    """
    entry = "from sagemaker_inference import model_server\n\nmodel_server.start_model_server()\n"
    findings = run_lint(repo({"Dockerfile": dockerfile, "entrypoint.py": entry}), select=["STG001"]).findings
    by_severity = {item.severity.name: item.message for item in findings}
    assert set(by_severity) == {"INFO", "WARNING"}
    assert "`multi-model-server` runs Java" in by_severity["INFO"]
    assert "`build-essential`" in by_severity["WARNING"] and "openjdk" not in by_severity["WARNING"]


def test_a_python_tool_only_the_build_uses(repo):
    dockerfile = """
        FROM public.ecr.aws/lambda/python:3.11
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY ./ ./
        RUN pip install --no-cache-dir "dvc[s3]==3.55.2"
        RUN dvc init --no-scm && dvc remote add -d store s3://models/
        RUN --mount=type=secret,id=aws dvc pull model.dvc
        CMD ["handler.handler"]
    """
    files = {"requirements.txt": "onnxruntime==1.19.2\ndvc==3.55.2\n", "handler.py": "import onnxruntime\n"}
    root = repo({"Dockerfile": dockerfile, **files})
    result = run_lint(root, select=["STG001"]).findings
    assert [(f.span.line, f.message.split(" is ")[0]) for f in result] == [(5, "`dvc[s3]==3.55.2`")]
    assert "(`dvc pull model.dvc`, line 7)" in result[0].message
    assert [(r.path.name, r.span.line) for r in result[0].related][-1] == ("requirements.txt", 2)


def test_a_python_tool_the_service_uses_is_fine(repo):
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir "dvc[s3]==3.55.2" fastapi==0.111.0
        COPY app.py .
        RUN dvc pull model.dvc
        CMD ["uvicorn", "app:app"]
    """
    root = repo({"Dockerfile": dockerfile, "app.py": "import dvc.api\n\nDATA = dvc.api.read('data.csv')\n"})
    assert run_lint(root, select=["STG001"]).findings == []
    starts = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir "dvc[s3]==3.55.2"
        RUN dvc pull model.dvc
        CMD ["sh", "-c", "dvc pull && python serve.py"]
    """
    root = repo({"Dockerfile": starts, "app.py": "print()\n"})
    assert run_lint(root, select=["STG001"]).findings == []


def test_a_python_tool_an_orchestrator_task_runs_is_used(repo):
    """An Airflow DAG the image holds runs `dvc status` in a BashOperator: the scheduler's
    workers run it; a comment naming the command is no use."""
    dockerfile = """
        FROM apache/airflow:2.10.3-python3.11
        RUN pip install --no-cache-dir "dvc[s3]==3.55.2"
        RUN dvc --version
        COPY dags/ /opt/airflow/dags/
    """
    dag = """
        from airflow import DAG
        from airflow.operators.bash import BashOperator

        with DAG("refresh") as dag:
            check = BashOperator(task_id="check", bash_command=\"\"\"
                set -e
                dvc status -c
            \"\"\")
    """
    root = repo({"Dockerfile": dockerfile, "dags/refresh.py": dag})
    assert run_lint(root, select=["STG001"]).findings == []
    commented = dag.replace("dvc status -c", "echo ok") + "        # then: dvc push\n"
    root = repo({"Dockerfile": dockerfile, "dags/refresh.py": commented})
    assert [f.span.line for f in run_lint(root, select=["STG001"]).findings] == [2]


def test_an_image_made_to_build_keeps_its_compilers(repo):
    """`Dockerfile.builder` whose last stage is the builder and starts nothing: a build
    environment (for wheels, run by CI), not a service; compilers are its purpose."""
    builder = """
        FROM nvidia/cuda:12.1.1-devel-ubuntu20.04 AS builder
        RUN apt-get update -y && apt-get install -y python3.10-dev python3.10-venv git
        WORKDIR /app
        COPY csrc ./csrc
        COPY setup.py CMakeLists.txt ./
        # ENTRYPOINT [ "/bin/bash", "-c" ]
    """
    root = repo({"Dockerfile.builder": builder, "setup.py": "", "CMakeLists.txt": "", "csrc/a.cc": ""})
    assert found(run_lint(root, select=["STG001"]), "STG001") == []


def test_a_service_named_like_a_builder_still_counts(repo):
    dockerfile = """
        FROM python:3.11-slim AS build
        RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev
        RUN pip install --no-cache-dir psycopg2==2.9.9
        COPY . /app
        CMD ["gunicorn", "app:app"]
    """
    assert lint(repo, dockerfile, "STG001")[0] == [("STG001", "Dockerfile", 2)]


def test_build_tools_removed_in_the_same_run_or_only_in_a_builder(repo):
    dockerfile = """
        FROM python:3.11-slim AS builder
        RUN apt-get update && apt-get install -y --no-install-recommends build-essential
        FROM python:3.11-alpine
        RUN apk add --no-cache --virtual .build-deps gcc musl-dev \\
            && pip install --no-cache-dir cffi==1.16.0 && apk del .build-deps
        RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev \\
            && pip install --no-cache-dir psycopg2==2.9.9 \\
            && apt-get purge -y --auto-remove gcc libpq-dev && rm -rf /var/lib/apt/lists/*
        RUN apt-get update && apt-get install -y --no-install-recommends make
        RUN apt-get purge -y make
    """
    assert lint(repo, dockerfile, "STG001")[0] == []  # the last one is LAY001's


def test_final_stage_built_from_the_builder(repo):
    dockerfile = """
        FROM python:3.11-slim AS builder
        RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev
        RUN pip install --no-cache-dir psycopg2==2.9.9
        FROM builder AS app
        COPY . /app
        FROM app
        CMD ["python", "-m", "app"]
    """
    got, messages = lint(repo, dockerfile, "STG004")
    assert got == [("STG004", "Dockerfile", 6)]
    assert "stage `builder`" in messages[0] and "`gcc`, `libpq-dev`" in messages[0]


def test_final_stage_built_from_a_stage_that_builds_code(repo):
    dockerfile = """
        FROM rocm/vllm-dev:base AS base
        WORKDIR /app
        FROM base AS build_vllm
        RUN git clone https://github.com/vllm-project/vllm.git \\
            && cd vllm && pip install -r requirements/rocm.txt
        RUN cd vllm && python3 setup.py develop
        FROM build_vllm
        COPY examples /app/examples
        ENTRYPOINT ["python3", "-m", "vllm.entrypoints.openai.api_server"]
    """
    got, messages = lint(repo, dockerfile, "STG004", {"examples/a.py": "print()\n"})
    assert got == [("STG004", "Dockerfile", 7)]
    assert "FROM stage `build_vllm`, which builds code (`python3 setup.py develop`, line 6)" in messages[0]


def test_final_stage_from_a_stage_that_only_installs_or_copies_is_fine(repo):
    dockerfile = """
        FROM python:3.11-slim AS base
        RUN pip install --no-cache-dir -r requirements.txt
        FROM base AS build
        COPY . /app
        FROM build
        CMD ["python", "-m", "app"]
    """
    assert lint(repo, dockerfile, "STG004")[0] == []
    builder_named_otherwise = """
        FROM python:3.11-slim AS deps
        RUN pip wheel --no-cache-dir -r requirements.txt -w /wheels
        FROM deps
        CMD ["python", "-m", "app"]
    """
    # a stage neither named as a build stage nor working in a checkout: not judged
    assert lint(repo, builder_named_otherwise, "STG004")[0] == []


def test_final_stage_from_a_clean_stage_is_fine(repo):
    dockerfile = """
        FROM python:3.11-slim AS base
        ENV PYTHONUNBUFFERED=1
        RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*
        FROM base AS builder
        RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev
        RUN pip install --no-cache-dir --prefix=/install psycopg2==2.9.9
        FROM base
        COPY --from=builder /install /usr/local
    """
    assert lint(repo, dockerfile, "STG004")[0] == []


def test_seed_000_gpu_service_whose_packages_never_arrive(repo):
    """The shape of seed 000: a slim builder installs with --user, the CUDA runtime
    stage copies the system site-packages (and would get none of the packages)."""
    dockerfile = """
        FROM python:3.10-slim AS builder
        RUN apt-get update && apt-get install -y --no-install-recommends build-essential \\
            && rm -rf /var/lib/apt/lists/*
        COPY minimal-requirements.txt .
        RUN pip install --no-cache-dir --user -r minimal-requirements.txt

        FROM nvidia/cuda:12.3.0-runtime-ubuntu22.04
        RUN apt-get update && apt-get install -y --no-install-recommends python3.10 python3-pip \\
            && rm -rf /var/lib/apt/lists/*
        COPY --from=builder /usr/local/lib/python3.10/site-packages /usr/local/lib/python3.10/dist-packages
        COPY . /app
        CMD ["python3", "/app/main.py"]
    """
    files = {"minimal-requirements.txt": "fastapi==0.111.0\nuvicorn==0.30.1\n"}
    for code, expected in (("STG002", [("STG002", "Dockerfile", 10)]), ("STG001", []), ("STG003", [])):
        assert lint(repo, dockerfile, code, files)[0] == expected, code


def test_system_site_of_a_distribution_python(repo):
    """pip on Debian's python3 installs into dist-packages; copying site-packages from the
    same folder copies nothing, copying dist-packages is right."""
    builder = """
        FROM ubuntu:22.04 AS builder
        RUN apt-get update && apt-get install -y --no-install-recommends python3.11 python3-pip \\
            && rm -rf /var/lib/apt/lists/*
        RUN python3.11 -m pip install --no-cache-dir fastapi==0.115.6
        FROM ubuntu:22.04
        RUN apt-get update && apt-get install -y --no-install-recommends python3.11 \\
            && rm -rf /var/lib/apt/lists/*
        COPY --from=builder {source} {source}
        CMD ["python3.11", "-m", "app"]
    """
    wrong = repo({"Dockerfile": builder.format(source="/usr/local/lib/python3.11/site-packages")})
    assert found(run_lint(wrong, select=["STG002"])) == [("STG002", "Dockerfile", 8)]
    right = repo({"Dockerfile": builder.format(source="/usr/local/lib/python3.11/dist-packages")})
    assert found(run_lint(right, select=["STG002"])) == []


# -- STG006: a database server in a service image ----------------------------------------------


DJANGO = """
    FROM python:3.8.8
    RUN apt-get update \\
        && apt-get install -y postgresql postgresql-contrib gcc python3-dev redis-tools
    WORKDIR /django
    COPY requirements.txt requirements.txt
    RUN pip3 install -r requirements.txt
"""


def test_a_database_server_that_compose_runs_as_its_own_service(repo):
    compose = """
        services:
          db:
            image: postgres
          redis:
            image: redis:alpine
          app:
            build: .
            command: python3 manage.py runserver 0.0.0.0:8000
          worker:
            build: .
            command: celery -A insurance worker
    """
    got, messages = lint(repo, DJANGO, "STG006", {"docker-compose.yml": compose})
    assert got == [("STG006", "Dockerfile", 3)]
    assert "`postgresql` puts a PostgreSQL server into the image of services `app`, `worker`" in messages[0]
    assert "as its own service `db` (image `postgres`)" in messages[0]


def test_a_database_server_without_that_evidence_is_left_alone(repo):
    # no compose file: the image may run its own database on purpose
    assert lint(repo, DJANGO, "STG006")[0] == []
    # compose runs PostgreSQL, but this image starts its own server too (tests, all-in-one)
    compose = """
        services:
          db:
            image: postgres:16
          app:
            build: .
            command: sh -c "service postgresql start && python3 manage.py test"
    """
    assert lint(repo, DJANGO, "STG006", {"docker-compose.yml": compose})[0] == []
    # only client packages
    client = """
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client libpq5 redis-tools
    """
    assert lint(repo, client, "STG006", {"docker-compose.yml": compose})[0] == []


@pytest.mark.parametrize(
    "start, extra, reported",
    [
        ('CMD ["python3", "src/etl.py"]', "", True),  # connects to POSTGRES_URL elsewhere
        ('ENTRYPOINT ["python", "-m", "crawler"]', "", True),
        ('CMD ["supervisord", "-c", "/etc/supervisor.conf"]', "", False),  # may start it
        ('CMD ["sh", "-c", "service postgresql start && python3 src/etl.py"]', "", False),
        ('CMD ["python", "-m", "pytest"]', "pytest-postgresql==6.1.1\n", False),  # its fixture runs pg_ctl
        ("", "", False),  # no start command: what the image is for is unknown
    ],
)
def test_a_database_server_a_python_service_never_starts(repo, start, extra, reported):
    """The ETL image installs the PostgreSQL server but starts only its Python script,
    which connects to a database elsewhere: the server is never started."""
    dockerfile = f"""
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y --no-install-recommends postgresql postgresql-contrib libpq-dev \\
            && rm -rf /var/lib/apt/lists/*
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY src ./src
        {start}
    """
    files = {
        "requirements.txt": "psycopg2-binary==2.9.10\n" + extra,
        "src/etl.py": "import os\n\nimport psycopg2\n\npsycopg2.connect(os.environ['POSTGRES_URL'])\n",
    }
    got, messages = lint(repo, dockerfile, "STG006", files)
    assert got == ([("STG006", "Dockerfile", 2)] if reported else [])
    if reported:
        assert "never the server" in messages[0] and "`postgresql` puts a PostgreSQL server" in messages[0]


# -- STG007: Node.js left in a Python service image ----------------------------------------------


def test_node_used_only_by_the_build_stays_in_the_python_image(repo):
    dockerfile = """
        FROM nikolaik/python-nodejs:python3.8-nodejs12
        WORKDIR /app
        RUN apt-get update && apt-get install -y libpq-dev gcc
        COPY requirements.txt .
        RUN pip3 install -r requirements.txt
        COPY . .
        RUN yarn --cwd staticsrc && yarn --cwd staticsrc build
        RUN python3 manage.py collectstatic --no-input
    """
    got, messages = lint(repo, dockerfile, "STG007", {"staticsrc/package.json": "{}"})
    assert got == [("STG007", "Dockerfile", 1)]
    assert "Node.js (from `nikolaik/python-nodejs:python3.8-nodejs12`)" in messages[0]
    assert "the `node_modules` that `yarn --cwd staticsrc` installs (line 7)" in messages[0]
    installed = """
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY . /app
        RUN cd /app/web && npm ci && npm run build
        CMD ["gunicorn", "app:app"]
    """
    got, messages = lint(repo, installed, "STG007")
    assert got == [("STG007", "Dockerfile", 2)]
    assert "Node.js (`nodejs`, line 2)" in messages[0]


def test_node_a_global_tool_of_the_service_runs_on_is_used(repo):
    """The service proves with snarkjs, which `npm install -g` put into the image and the
    code starts as a process: Node.js runs it. A global tool only the build runs is not."""
    dockerfile = """
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        RUN npm install -g snarkjs@0.7.5 circom2
        COPY zk/ /app/zk/
        CMD ["python", "/app/zk/prove.py"]
    """
    prove = 'import subprocess\n\nsubprocess.run(["snarkjs", "groth16", "prove", "circuit.zkey"], check=True)\n'
    files = {"requirements.txt": "fastapi==0.115.6\n", "zk/prove.py": prove}
    assert lint(repo, dockerfile, "STG007", files)[0] == []
    files["zk/prove.py"] = "print('no proofs here')\n"
    assert lint(repo, dockerfile, "STG007", files)[0] == [("STG007", "Dockerfile", 2)]


def test_node_the_container_runs_or_a_separate_stage_is_fine(repo):
    runs_node = """
        FROM nikolaik/python-nodejs:python3.12-nodejs22
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY . /app
        RUN cd /app && npm ci
        CMD ["sh", "-c", "python worker.py & node server.js"]
    """
    assert lint(repo, runs_node, "STG007")[0] == []
    execjs = """
        FROM nikolaik/python-nodejs:python3.12-nodejs22
        RUN pip install --no-cache-dir PyExecJS==1.5.1 flask==3.0.3
        COPY . /app
        RUN cd /app && npm install
        CMD ["python", "/app/app.py"]
    """
    assert lint(repo, execjs, "STG007")[0] == []
    staged = """
        FROM node:22-slim AS web
        WORKDIR /web
        COPY web/ .
        RUN npm ci && npm run build
        FROM python:3.12-slim
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY --from=web /web/dist /app/static
    """
    assert lint(repo, staged, "STG007", {"web/package.json": "{}"})[0] == []
    node_service = """
        FROM node:22
        WORKDIR /app
        COPY . .
        RUN yarn install && yarn build
        CMD ["yarn", "start"]
    """
    assert lint(repo, node_service, "STG007")[0] == []


# -- STG008: cloud CLIs the container never runs ---------------------------------------------

SERVICE_TAIL = (
    "WORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
    'COPY app.py .\nUSER 1000\nCMD ["uvicorn", "app:api"]\n'
)
APP = {"app.py": "from fastapi import FastAPI\n\napi = FastAPI()\n"}


@pytest.mark.parametrize(
    "install, line, what",
    [
        (
            "RUN apt-get update && apt-get install -y --no-install-recommends curl "
            "&& curl -sL https://aka.ms/InstallAzureCLIDeb | bash && rm -rf /var/lib/apt/lists/*",
            2,
            "the Azure CLI (its install script)",
        ),
        ("RUN pip install --no-cache-dir awscli==1.33.0", 2, "the AWS CLI (`awscli==1.33.0` from PyPI)"),
        (
            "RUN apt-get update && apt-get install -y --no-install-recommends google-cloud-cli "
            "&& rm -rf /var/lib/apt/lists/*",
            2,
            "the Google Cloud CLI (the package `google-cloud-cli`)",
        ),
    ],
)
def test_a_cloud_cli_nothing_runs_is_reported(repo, install, line, what):
    dockerfile = f"FROM python:3.12-slim\n{install}\n{SERVICE_TAIL}"
    places, messages = lint(repo, dockerfile, "STG008", APP)
    assert places == [("STG008", "Dockerfile", line)]
    assert messages[0].startswith(what)


@pytest.mark.parametrize(
    "files, dockerfile_change",
    [
        # the service's code calls the CLI
        ({"app.py": 'import subprocess\n\nsubprocess.run(["aws", "s3", "sync", "s3://b/m", "/m"])\n'}, None),
        # the compose command runs it before the service
        (
            {
                "docker-compose.yml": "services:\n  api:\n    build: .\n    command: sh -c 'aws s3 cp s3://b/m /m && uvicorn app:api'\n"
            },
            None,
        ),
        # only a builder stage has it; the final stage starts clean
        ({}, ("RUN pip install --no-cache-dir awscli==1.33.0\n", "RUN aws --version\nFROM python:3.12-slim\n")),
    ],
)
def test_a_cloud_cli_the_container_uses_or_the_final_image_lacks_is_quiet(repo, files, dockerfile_change):
    install = "RUN pip install --no-cache-dir awscli==1.33.0\n"
    dockerfile = f"FROM python:3.12-slim\n{install}{SERVICE_TAIL}"
    if dockerfile_change is not None:
        first, second = dockerfile_change
        dockerfile = f"FROM python:3.12-slim AS tools\n{first}{second}{SERVICE_TAIL}"
    places, _ = lint(repo, dockerfile, "STG008", {**APP, **files})
    assert places == []


# -- STG009: the builder's whole folder copied across --------------------------------------------

FRONTEND = {"package.json": '{"scripts": {"build": "vite build"}, "devDependencies": {"vite": "5.4.0"}}\n'}


def frontend(install: str, copy: str, env: str = "") -> str:
    return (
        f"FROM node:20-slim AS build\n{env}WORKDIR /build\nCOPY . .\nRUN {install}\nRUN yarn run build\n\n"
        f"FROM nginx:1.27-alpine\n{copy}\n"
    )


def test_the_builders_whole_folder_with_development_packages_is_reported(repo):
    places, messages = lint(repo, frontend("yarn install", "COPY --from=build /build /usr/share/nginx/html"), "STG009",
                            FRONTEND)  # fmt: skip
    assert places == [("STG009", "Dockerfile", 8)]
    assert "`/build` of stage `build`" in messages[0] and "`yarn install` (line 4)" in messages[0]
    assert "the sources copied from the build context" in messages[0]


@pytest.mark.parametrize(
    "install, copy, env",
    [
        ("yarn install", "COPY --from=build /build/dist /usr/share/nginx/html", ""),  # only the output
        ("npm ci --omit=dev", "COPY --from=build /build /app", ""),  # production packages only
        ("yarn install --production", "COPY --from=build /build /app", ""),
        ("npm ci", "COPY --from=build /build /app", "ENV NODE_ENV=production\n"),
        ("pip install --no-cache-dir -r requirements.txt", "COPY --from=build /build /app", ""),  # no node_modules
        ("npm ci && npm run build && npm prune --omit=dev", "COPY --from=build /build /app", ""),  # pruned again
        ("yarn install && yarn run build && rm -rf node_modules", "COPY --from=build /build /app", ""),
    ],
)
def test_copying_the_output_or_production_packages_is_not_reported(repo, install, copy, env):
    assert lint(repo, frontend(install, copy, env), "STG009", FRONTEND)[0] == []


def test_the_folder_counts_however_the_sources_came_in(repo):
    dockerfile = (
        "FROM node:20-slim AS build\nWORKDIR /build\nCOPY package.json yarn.lock ./\nRUN yarn install\n"
        "COPY src/ src/\nRUN yarn run build\n\nFROM node:20-slim\nCOPY --from=build /build /app\n"
    )
    places, messages = lint(repo, dockerfile, "STG009", FRONTEND)
    assert places == [("STG009", "Dockerfile", 9)] and "build context" not in messages[0]


def test_an_install_in_another_folder_than_the_one_copied_is_not_reported(repo):
    dockerfile = (
        "FROM node:20-slim AS build\nWORKDIR /web\nCOPY . .\nRUN yarn install && yarn run build\n"
        "WORKDIR /out\nRUN cp -r /web/dist/. .\n\nFROM nginx:1.27-alpine\nCOPY --from=build /out /usr/share/nginx/html\n"
    )
    assert lint(repo, dockerfile, "STG009", FRONTEND)[0] == []


# -- STG001: a JDK unpacked from an archive ----------------------------------------------------

JDK_DOWNLOAD = (
    'RUN curl -fsSL "https://download.java.net/java/GA/jdk11/9/GPL/{archive}" -o /tmp/{archive} '
    "&& mkdir -p /opt/java && tar xzf /tmp/{archive} -C /opt/java --strip-components=1 && rm /tmp/{archive}"
)


def jdk_image(archive: str, extra: str = "", cmd: str = '["python", "app.py"]') -> str:
    return (
        "FROM python:3.11-slim\nRUN pip install --no-cache-dir pyspark==3.5.1\n"
        + JDK_DOWNLOAD.format(archive=archive)
        + f"\nENV JAVA_HOME=/opt/java\n{extra}COPY app.py .\nCMD {cmd}\n"
    )


def test_a_jdk_archive_unpacked_in_a_service_image_is_reported(repo):
    places, messages = lint(repo, jdk_image("openjdk-11.0.2_linux-x64_bin.tar.gz"), "STG001", APP)
    assert places == [("STG001", "Dockerfile", 3)]
    assert messages[0].startswith("a whole JDK (`openjdk-11.0.2_linux-x64_bin.tar.gz`) is unpacked")


@pytest.mark.parametrize(
    "archive, extra, cmd",
    [
        ("OpenJDK17U-jre_x64_linux_hotspot_17.0.9_9.tar.gz", "", '["python", "app.py"]'),  # a runtime
        ("openjdk-11.0.2_linux-x64_bin.tar.gz", "RUN javac -version\n", '["python", "app.py"]'),  # compiles
        ("openjdk-11.0.2_linux-x64_bin.tar.gz", "", '["mvn", "spring-boot:run"]'),  # the container builds
        ("spark-3.5.1-bin-hadoop3.tgz", "", '["python", "app.py"]'),  # not a JDK
    ],
)
def test_a_runtime_or_a_jdk_in_use_is_not_reported(repo, archive, extra, cmd):
    assert lint(repo, jdk_image(archive, extra, cmd), "STG001", APP)[0] == []


def test_wheels_a_builder_made_and_the_final_stage_copied_in(tmp_path):
    files = {"Dockerfile": WHEELS_DOCKERFILE, "requirements.txt": "flask==3.1.0\n", "app.py": "import flask\n"}
    result = run_lint(write_tree(tmp_path / "copied", files), select=["STG010"])
    [found_finding] = result.findings
    assert found_finding.span.line == 6 and "line 4" in found_finding.message and "line 7" in found_finding.message
    assert "--mount=type=bind,from=builder,source=/app/wheels,target=/wheels" in found_finding.fix
    assert 100_000 < found_finding.size_bytes < 10_000_000  # flask and what it requires, compressed
    mounted = WHEELS_DOCKERFILE.replace(
        "COPY --from=builder /app/wheels /wheels\n    RUN pip",
        "RUN --mount=type=bind,from=builder,source=/app/wheels,target=/wheels pip",
    )
    removed = WHEELS_DOCKERFILE.replace("/wheels/*\n", "/wheels/*\n    RUN rm -rf /wheels\n")  # LAY001's
    elsewhere = WHEELS_DOCKERFILE.replace("--wheel-dir /app/wheels", "--wheel-dir /app/dist")  # not those wheels
    for name, dockerfile in (("mounted", mounted), ("removed", removed), ("elsewhere", elsewhere)):
        assert (
            run_lint(write_tree(tmp_path / name, {**files, "Dockerfile": dockerfile}), select=["STG010"]).findings == []
        ), name


# -- STG011: project installers left in the final image --------------------------------------

POETRY_SHOP = {
    "pyproject.toml": """
        [tool.poetry]
        name = "shop"
        version = "1.0.0"
        description = "Shop API"
        authors = ["Shop <dev@example.com>"]

        [tool.poetry.dependencies]
        python = "^3.12"
        fastapi = "^0.115"
        uvicorn = "^0.32"
    """,
    "poetry.lock": "",
    "shop/__init__.py": "",
    "shop/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
}


def poetry_final(install_poetry: str, cmd: str = '["uvicorn", "shop.main:app", "--host", "0.0.0.0"]') -> str:
    return f"""
        FROM python:3.12-slim
        WORKDIR /app
        {install_poetry}
        COPY pyproject.toml poetry.lock ./
        RUN poetry config virtualenvs.create false && poetry install --only main --no-root --no-interaction
        COPY . .
        CMD {cmd}
    """


@pytest.mark.parametrize(
    "install",
    [
        "RUN pip install --no-cache-dir poetry==1.8.5",
        "RUN curl -sSL https://install.python-poetry.org | POETRY_VERSION=1.8.5 python3 -",
        # the version from an ENV the Dockerfile sets, as the RUN's shell puts it in
        "ENV POETRY_VERSION=1.8.5\n        RUN pip install --no-cache-dir poetry==${POETRY_VERSION}",
    ],
)
def test_poetry_that_only_installed_the_dependencies_stays_in_the_final_image(repo, install):
    # the hooks developers run name poetry too: no use by the container (`COPY . .` takes it)
    files = {**POETRY_SHOP, ".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/python-poetry/poetry\n"}
    files[".pre-commit-config.yaml"] += "    rev: 1.8.5\n    hooks:\n      - id: poetry-check\n"
    places, messages = lint(repo, poetry_final(install), "STG011", files)
    line = 4 if install.startswith("ENV") else 3
    assert places == [("STG011", "Dockerfile", line)]
    assert "Poetry" in messages[0] and "nothing the container runs calls `poetry`" in messages[0]


def test_uv_copied_from_its_image_into_the_final_stage_stays_there(repo):
    """`COPY --from=ghcr.io/astral-sh/uv /uv /bin/` in the only stage: the binary that
    installed the dependencies ships with the service. Mounted for the one RUN, copied into
    a builder stage only, or run by the container (`uv run`), it is not reported."""
    dockerfile = """
        FROM python:3.13-alpine
        WORKDIR /app
        COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /uvx /bin/
        COPY requirements.txt .
        RUN uv pip install --no-cache --system -r requirements.txt
        COPY main.py .
        ENTRYPOINT ["python", "main.py"]
    """
    files = {"requirements.txt": "aiogram==3.15.0\n", "main.py": "import aiogram\n"}
    places, messages = lint(repo, dockerfile, "STG011", files)
    assert places == [("STG011", "Dockerfile", 3)]
    assert "uv (copied from `ghcr.io/astral-sh/uv:0.5.11`) stays in the final image" in messages[0]
    mounted = dockerfile.replace("COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /uvx /bin/\n", "").replace(
        "RUN uv pip", "RUN --mount=from=ghcr.io/astral-sh/uv:0.5.11,source=/uv,target=/bin/uv uv pip"
    )
    assert lint(repo, mounted, "STG011", files)[0] == []
    started = dockerfile.replace('ENTRYPOINT ["python", "main.py"]', 'ENTRYPOINT ["uv", "run", "main.py"]')
    assert lint(repo, started, "STG011", files)[0] == []


@pytest.mark.parametrize(
    "makefile, reported",
    [
        ("run:\n\tpoetry run python3 ./shop/main.py\n", False),  # the target the container makes runs poetry
        ("setup:\n\tpoetry install\n\nrun:\n\tpython3 -m shop.main\n", True),  # only another target does
    ],
)
def test_poetry_a_makefile_target_the_container_makes_runs_is_used(repo, makefile, reported):
    """`CMD ["make", "run"]`: the Makefile's `run:` recipe is what the container runs."""
    files = {**POETRY_SHOP, "Makefile": makefile}
    dockerfile = poetry_final("RUN pip install --no-cache-dir poetry==1.8.5", cmd='["make", "run"]').replace(
        "RUN pip install --no-cache-dir poetry",
        "RUN apt-get update && apt-get install -y --no-install-recommends make "
        "&& rm -rf /var/lib/apt/lists/* && pip install --no-cache-dir poetry",
    )
    places, _ = lint(repo, dockerfile, "STG011", files)
    assert places == ([("STG011", "Dockerfile", 3)] if reported else [])


def test_an_installer_named_only_by_tests_and_setup_py_is_not_used_by_the_service(repo):
    """A packaging test reads `[tool.poetry]` and setup.py says to run `poetry install`:
    neither runs in the container. A service module that starts poetry uses it."""
    files = {
        **POETRY_SHOP,
        "tests/test_packaging.py": 'import tomllib\n\ndef test_name():\n    data = tomllib.load(open("pyproject.toml", "rb"))\n'
        '    assert data["tool"]["poetry"]["name"] == "shop"\n',
        "setup.py": 'raise SystemExit("shop uses Poetry: run `poetry install`")\nNAME = "poetry"\n',
    }
    places, _ = lint(repo, poetry_final("RUN pip install --no-cache-dir poetry==1.8.5"), "STG011", files)
    assert places == [("STG011", "Dockerfile", 3)]
    files["shop/upgrade.py"] = 'import subprocess\n\nsubprocess.run(["poetry", "update"], check=True)\n'
    assert lint(repo, poetry_final("RUN pip install --no-cache-dir poetry==1.8.5"), "STG011", files)[0] == []


def test_an_installer_in_an_image_compose_starts_two_ways_is_judged(repo):
    """No CMD: compose starts the API with `./start` and the worker with `./start-worker`.
    Two commands, neither running poetry, is no toolbox image that starts nothing."""
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir poetry==1.8.5
        WORKDIR /app
        COPY poetry.lock pyproject.toml start start-worker /app/
        RUN poetry config virtualenvs.create false && poetry install --only main --no-interaction
        COPY shop/ /app/shop/
    """
    compose = """
        services:
          api:
            build: .
            command: ./start
          worker:
            build: .
            command: ./start-worker
    """
    files = {
        **POETRY_SHOP,
        "docker-compose.yaml": compose,
        "start": "#!/bin/sh\nuvicorn shop.main:app --host 0.0.0.0\n",
        "start-worker": "#!/bin/sh\ncelery -A shop.tasks worker\n",
    }
    assert lint(repo, dockerfile, "STG011", files)[0] == [("STG011", "Dockerfile", 2)]
    files["start-worker"] = "#!/bin/sh\npoetry run celery -A shop.tasks worker\n"
    assert lint(repo, dockerfile, "STG011", files)[0] == []


def test_an_installer_only_listed_in_the_requirements_is_said_to_be_unused(repo):
    """Pipenv on a requirements line, and no step runs it: it installed nothing, and the
    fix is to drop it, not to move an install to a builder stage."""
    dockerfile = """
        FROM python:3.11-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY . .
        CMD ["python", "main.py"]
    """
    files = {"requirements.txt": "fastapi==0.115.6\npipenv==2024.4.0\n", "main.py": "import fastapi\n"}
    places, messages = lint(repo, dockerfile, "STG011", files)
    assert places == [("STG011", "Dockerfile", 4)] and "the build does not run it either" in messages[0]


def test_an_installer_the_container_runs_or_a_builder_holds_is_fine(repo):
    # the container starts through it
    runs = poetry_final("RUN pip install --no-cache-dir poetry==1.8.5", '["poetry", "run", "uvicorn", "shop.main:app"]')
    assert lint(repo, runs, "STG011", POETRY_SHOP)[0] == []
    # an image with no start command of its own (a toolbox CI runs commands in) may run it
    no_cmd = "\n".join(
        line for line in poetry_final("RUN pip install --no-cache-dir poetry==1.8.5").splitlines() if "CMD" not in line
    )
    assert lint(repo, no_cmd, "STG011", POETRY_SHOP)[0] == []
    # ... by the path its install script puts it at
    script = "RUN curl -sSL https://install.python-poetry.org | python3 -"
    by_path = poetry_final(script, '["/root/.local/bin/poetry", "run", "uvicorn", "shop.main:app"]')
    assert lint(repo, by_path, "STG011", POETRY_SHOP)[0] == []
    # a folder of that name on the way to another program is no run of it
    other = poetry_final(script, '["/opt/poetry/venv/bin/uvicorn", "shop.main:app"]')
    assert [place[0] for place in lint(repo, other, "STG011", POETRY_SHOP)[0]] == ["STG011"]
    # removed after the install
    removed = poetry_final("RUN pip install --no-cache-dir poetry==1.8.5").replace(
        "--no-interaction", "--no-interaction && pip uninstall -y poetry"
    )
    assert lint(repo, removed, "STG011", POETRY_SHOP)[0] == []
    # installed in a builder stage only
    builder = """
        FROM python:3.12-slim AS builder
        WORKDIR /app
        ENV POETRY_VIRTUALENVS_IN_PROJECT=true
        RUN pip install --no-cache-dir poetry==1.8.5
        COPY pyproject.toml poetry.lock ./
        RUN poetry install --only main --no-root --no-interaction
        FROM python:3.12-slim
        WORKDIR /app
        COPY --from=builder /app/.venv /app/.venv
        COPY . .
        ENV PATH="/app/.venv/bin:$PATH"
        CMD ["uvicorn", "shop.main:app", "--host", "0.0.0.0"]
    """
    assert lint(repo, builder, "STG011", POETRY_SHOP)[0] == []


PIPENV_SITE = """
    FROM python:3.11-slim
    WORKDIR /app
    RUN pip install --no-cache-dir pipenv==2023.12.1
    COPY Pipfile Pipfile.lock ./
    RUN pipenv install --system --deploy
    COPY . .
    CMD ["gunicorn", "site.wsgi", "--bind", "0.0.0.0:8000"]
"""
PIPENV_SITE_FILES = {"Pipfile": '[packages]\ngunicorn = "==23.0.0"\n', "Pipfile.lock": "{}", "site/__init__.py": "",
                     "site/wsgi.py": "def application(environ, start_response):\n    return []\n"}  # fmt: skip


def test_pipenv_left_after_a_system_install(repo):
    places, messages = lint(repo, PIPENV_SITE, "STG011", PIPENV_SITE_FILES)
    assert places == [("STG011", "Dockerfile", 3)] and "Pipenv" in messages[0] and "ships ~" in messages[0]


def test_a_ci_workflow_that_runs_the_installer_on_the_runner_is_no_use_by_the_container(repo):
    dockerfile = PIPENV_SITE
    files = {**PIPENV_SITE_FILES,
             ".github/workflows/ci.yml": """
                 on: push
                 jobs:
                   test:
                     runs-on: ubuntu-latest
                     steps:
                       - uses: actions/checkout@v4
                       - run: pip install pipenv && pipenv install --deploy --system --dev
                       - run: pytest
             """,
             ".gitlab-ci.yml": "test:\n  script:\n    - pipenv install --dev\n"}  # fmt: skip
    assert lint(repo, dockerfile, "STG011", files)[0] == [("STG011", "Dockerfile", 3)]
    # a process manager's configuration in the image does start it
    files["supervisord.conf"] = "[program:web]\ncommand=pipenv run gunicorn site.wsgi\n"
    assert lint(repo, dockerfile, "STG011", files)[0] == []


def test_uv_a_compose_entrypoint_runs_is_needed(repo):
    dockerfile = """
        FROM python:3.13-slim
        WORKDIR /app
        RUN pip install --no-cache-dir uv==0.7.3
        COPY pyproject.toml uv.lock ./
        RUN uv sync --frozen
        COPY src src
    """
    files = {
        "pyproject.toml": "[project]\nname = 'bot'\nversion = '1.0'\ndependencies = ['aiogram==3.15.0']\n",
        "uv.lock": "version = 1\n",
        "src/main.py": "import aiogram\n",
        "docker-compose.yml": """
            services:
              bot:
                build: .
                entrypoint: ["uv", "run", "src/main.py"]
        """,
    }
    assert lint(repo, dockerfile, "STG011", files)[0] == []
    files["docker-compose.yml"] = files["docker-compose.yml"].replace(
        '["uv", "run", "src/main.py"]', '["python", "src/main.py"]'
    )
    assert lint(repo, dockerfile, "STG011", files)[0] == [("STG011", "Dockerfile", 3)]


# -- STG012: the OS's python3 beside the python image's own ------------------------------------


def os_python_image(base: str, install: str, cmd: str = '["python", "app.py"]') -> str:
    return f"""
        FROM {base}
        {install}
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY app.py .
        CMD {cmd}
    """


OPENCV_APP = {"requirements.txt": "opencv-python-headless==4.10.0.84\n", "app.py": "import cv2\n"}


@pytest.mark.parametrize(
    ("base", "install", "sized"),
    [
        ("python:3.11-slim", "RUN apt-get update && apt-get install -y --no-install-recommends python3-pip", True),
        ("python:3.9", "RUN apt-get update && apt-get install -y python3-opencv ffmpeg", False),
        ("python:3.12-slim-bookworm", "RUN apt-get update && apt-get install -y python3 python3-venv", True),
        ("python:3.11-alpine", "RUN apk add --no-cache py3-numpy", False),
    ],
)
def test_os_python_packages_on_the_python_image(repo, base, install, sized):
    found_here = run_lint(repo({"Dockerfile": os_python_image(base, install), **OPENCV_APP}), select=["STG012"])
    assert [(f.code, f.span.line) for f in found_here.findings] == [("STG012", 2)]
    assert "OS's own python3" in found_here.findings[0].message
    assert bool(found_here.findings[0].size_bytes) is sized


@pytest.mark.parametrize(
    ("base", "install", "cmd"),
    [
        # the OS's Python is the only one
        ("ubuntu:22.04", "RUN apt-get update && apt-get install -y python3-pip python3-opencv", '["python3", "app.py"]'),
        # headers are STG001's
        ("python:3.11-slim", "RUN apt-get update && apt-get install -y python3-dev", '["python", "app.py"]'),
        # the container runs the OS's Python by its path
        ("python:3.11-slim", "RUN apt-get update && apt-get install -y python3-gi", '["/usr/bin/python3", "app.py"]'),
        # removed in the same RUN
        ("python:3.11-slim", "RUN apt-get update && apt-get install -y python3-pip && apt-get purge -y python3-pip",
         '["python", "app.py"]'),
    ],
)  # fmt: skip
def test_os_python_packages_that_are_the_point_or_gone_are_quiet(repo, base, install, cmd):
    files = {"Dockerfile": os_python_image(base, install, cmd), **OPENCV_APP}
    assert lint(repo, files["Dockerfile"], "STG012", OPENCV_APP)[0] == []


def test_os_python_packages_of_a_builder_stage_are_quiet(repo):
    dockerfile = """
        FROM python:3.11-slim AS builder
        RUN apt-get update && apt-get install -y python3-pip
        RUN pip wheel --no-cache-dir -w /wheels opencv-python-headless==4.10.0.84
        FROM python:3.11-slim
        COPY --from=builder /wheels /wheels
        RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
        COPY app.py .
        CMD ["python", "app.py"]
    """
    assert lint(repo, dockerfile, "STG012", OPENCV_APP)[0] == []


RUSTUP = "curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y"


def rust_image(run: str, cmd: str = '["python", "serve.py"]') -> str:
    return f"""
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
        RUN {run}
        ENV PATH="/root/.cargo/bin:${{PATH}}"
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY serve.py .
        CMD {cmd}
    """


def test_a_rust_toolchain_from_rustups_script_left_in_the_final_image(repo):
    got, messages = lint(repo, rust_image(RUSTUP), "STG001", {"serve.py": "print(1)\n"})
    assert got == [("STG001", "Dockerfile", 3)]
    assert "Rust toolchain" in messages[0] and "~/.rustup" in messages[0]


@pytest.mark.parametrize(
    ("run", "cmd"),
    [
        (RUSTUP + " && . $HOME/.cargo/env && pip install --no-binary :all: orjson && rustup self uninstall -y",
         '["python", "serve.py"]'),
        (RUSTUP + " && pip install maturin && rm -rf /root/.rustup /root/.cargo", '["python", "serve.py"]'),
        (RUSTUP, '["cargo", "run", "--release"]'),  # the service builds with it
    ],
)  # fmt: skip
def test_a_rust_toolchain_removed_or_used_by_the_container_is_fine(repo, run, cmd):
    assert lint(repo, rust_image(run, cmd), "STG001", {"serve.py": "print(1)\n"})[0] == []


def test_a_tool_chain_image_other_dockerfiles_build_from_only_as_a_builder(repo):
    """compose builds `acme-base` (compilers, headers); Runner.Dockerfile starts its builder
    stage FROM the pushed `acme/acme-base:latest` and its final stage FROM a slim image:
    the compilers are what acme-base is for, and they never ship."""
    files = {
        "Base.Dockerfile": """
            FROM python:3.12-slim-bookworm
            RUN apt-get update && apt-get install -y --no-install-recommends build-essential python3-dev \\
                && rm -rf /var/lib/apt/lists/*
            CMD ["bash"]
        """,
        "Runner.Dockerfile": """
            FROM acme/acme-base:latest AS builder
            RUN pip install --no-cache-dir --prefix=/install uwsgi==2.0.28
            FROM python:3.12-slim-bookworm
            COPY --from=builder /install /usr/local
            COPY app.py .
            CMD ["uwsgi", "--http", ":8000", "--wsgi-file", "app.py"]
        """,
        "app.py": "def application(env, start):\n    return [b'ok']\n",
        "compose.yaml": """
            services:
              base:
                image: acme-base
                build:
                  context: .
                  dockerfile: Base.Dockerfile
              web:
                build:
                  context: .
                  dockerfile: Runner.Dockerfile
        """,
    }
    assert found(run_lint(repo(files), select=["STG001"])) == []
    # built FROM it as the final stage, the compilers ship
    files["Runner.Dockerfile"] = 'FROM acme/acme-base:latest\nCOPY app.py .\nCMD ["python", "app.py"]\n'
    assert found(run_lint(repo(files), select=["STG001"])) == [("STG001", "Base.Dockerfile", 2)]


def test_a_development_image_may_keep_its_compilers(repo):
    """`dev.python.Dockerfile`, run by the Makefile and a development compose file, is no
    image that ships: STG001 leaves it, as DEP003 does."""
    dockerfile = """
        FROM python:3.12-slim
        RUN apt-get update && apt-get install -y --no-install-recommends build-essential libgdal-dev \\
            && rm -rf /var/lib/apt/lists/*
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        CMD ["dagster", "dev", "-h", "0.0.0.0"]
    """
    files = {"requirements.txt": "dagster==1.9.3\n"}
    assert found(run_lint(repo({"dev.python.Dockerfile": dockerfile, **files}), select=["STG001"])) == []
    shipped = found(run_lint(repo({"pipeline.Dockerfile": dockerfile, **files}), select=["STG001"]))
    assert shipped == [("STG001", "pipeline.Dockerfile", 2)]


def test_make_that_the_container_runs_is_no_build_tool(repo):
    """compose starts the service with `make prod-gunicorn` from the Makefile the image holds:
    make is how it runs, not what built it."""
    files = {
        "Dockerfile": """
            FROM python:3.12-slim
            RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
            WORKDIR /app
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY . .
        """,
        "requirements.txt": "gunicorn==23.0.0\ndjango==5.1.4\n",
        "Makefile": "prod-gunicorn:\n\tgunicorn app.wsgi:application --bind 0.0.0.0:8000\n",
        "compose.yaml": "services:\n  web:\n    build: .\n    command: make prod-gunicorn\n",
    }
    assert found(run_lint(repo(files), select=["STG001"])) == []
    files["compose.yaml"] = files["compose.yaml"].replace("make prod-gunicorn", "gunicorn app.wsgi:application")
    assert found(run_lint(repo(files), select=["STG001"])) == [("STG001", "Dockerfile", 2)]


def test_a_compiler_that_triton_uses_as_the_service_runs_is_no_build_tool(repo):
    """vLLM's Triton kernels build their launchers with gcc and the Python headers when they
    first run: on vllm/vllm-openai they serve the service. On a plain base they are STG001's."""
    dockerfile = """
        FROM vllm/vllm-openai:v0.6.4
        RUN apt-get update && apt-get install -y --no-install-recommends build-essential python3-dev \\
            && rm -rf /var/lib/apt/lists/*
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY main.py .
        ENTRYPOINT []
        CMD ["python3", "main.py"]
    """
    files = {"Dockerfile": dockerfile, "requirements.txt": "langchain==0.3.13\n", "main.py": "import vllm\n"}
    assert found(run_lint(repo(files), select=["STG001"])) == []
    files["Dockerfile"] = dockerfile.replace("vllm/vllm-openai:v0.6.4", "python:3.12-slim")
    assert found(run_lint(repo(files), select=["STG001"])) == [("STG001", "Dockerfile", 2)]


def test_an_installer_run_as_a_module_installed_the_dependencies(repo):
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir pipenv==2024.4.0
        WORKDIR /app
        COPY Pipfile Pipfile.lock ./
        RUN python -m pipenv install --system --deploy
        COPY . .
        CMD ["python", "main.py"]
    """
    files = {"Pipfile": '[packages]\nfastapi = "==0.115.6"\n', "Pipfile.lock": "{}", "main.py": "import fastapi\n"}
    places, messages = lint(repo, dockerfile, "STG011", files)
    assert places == [("STG011", "Dockerfile", 2)] and "it only installed the dependencies" in messages[0]


def test_an_installer_in_a_base_image_other_dockerfiles_build_on_is_theirs_to_use(repo):
    """CI builds Dockerfile.base as ghcr.io/<owner>/shop-base and Dockerfile starts FROM it
    and runs `pipenv install`: pipenv in the base image is what that build runs."""
    base = """
        FROM python:3.12-slim
        RUN pip install --no-cache-dir pipenv==2024.4.0
        CMD ["python3"]
    """
    app = """
        FROM ghcr.io/acme/shop-base:latest
        WORKDIR /app
        COPY Pipfile Pipfile.lock ./
        RUN pipenv install --system --deploy
        COPY . .
        CMD ["python", "main.py"]
    """
    workflow = """
        on: {push: {paths: ["Dockerfile.base"]}}
        jobs:
          base:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - uses: docker/build-push-action@v5
                with:
                  context: .
                  file: Dockerfile.base
                  push: true
                  tags: |
                    ghcr.io/${{ github.repository_owner }}/shop-base:latest
                    ghcr.io/${{ github.repository_owner }}/shop-base:${{ github.sha }}
    """
    files = {"Dockerfile.base": base, "Pipfile": "", "Pipfile.lock": "{}", "main.py": ""}
    # no link from the base to the Dockerfile that builds on it: its pipenv looks unused
    assert lint(repo, app, "STG011", files)[0] == [("STG011", "Dockerfile.base", 2)]
    assert lint(repo, app, "STG011", {**files, ".github/workflows/base.yml": workflow})[0] == []


@pytest.mark.parametrize(
    "code",
    [
        "model = torch.compile(model, mode='reduce-overhead')\n",
        "@torch.compile\ndef step(x):\n    return x * 2\n",
        "from torch.utils import cpp_extension\nops = cpp_extension.load(name='ops', sources=['ops.cpp'])\n",
    ],
)
def test_code_that_compiles_as_the_service_runs_keeps_its_compiler(repo, code):
    """torch.compile's Inductor writes C++ (CPU) or Triton kernels (GPU) and compiles them
    with the system C/C++ compiler when the model first runs; a JIT C++ extension does the
    same: gcc/g++ serve the service. A service that only imports torch does not need them."""
    dockerfile = """
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y --no-install-recommends build-essential \\
            && rm -rf /var/lib/apt/lists/*
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY serve.py .
        CMD ["python", "serve.py"]
    """
    files = {"requirements.txt": "torch==2.5.1\n", "serve.py": f"import torch\n\n{code}"}
    assert lint(repo, dockerfile, "STG001", files)[0] == []
    files["serve.py"] = "import re\nimport torch\n\npattern = re.compile('x')\nmodel = torch.nn.Linear(2, 2)\n"
    assert lint(repo, dockerfile, "STG001", files)[0] == [("STG001", "Dockerfile", 2)]


@pytest.mark.parametrize(
    "makefile, command, reported",
    [
        # the targets the container builds run uv and alembic: make alone would do
        ("run: migrate\n\tuv run python -m bot\nmigrate:\n\tuv run alembic upgrade head\n", "make run", True),
        ("run:\n\tuv run python -m bot\n", "bash -c 'make'", True),  # the default goal
        # a target the container builds compiles or installs: the compilers serve it
        ("run: deps\n\tuv run python -m bot\ndeps:\n\tuv sync --frozen\n", "make run", False),
        ("run:\n\tgcc -O2 -o fast fast.c && uv run python -m bot\n", "make run", False),
        # what make builds is not known: quiet as before
        ("run:\n\tuv run python -m bot\n", "make -C /app run", False),
        ("run:\n\tuv run python -m bot\n", "make serve", False),
    ],
)
def test_build_essential_kept_for_make_alone_keeps_compilers_for_nothing(repo, makefile, command, reported):
    """build-essential installed so that the container can run `make run` brings gcc and
    g++ too (~395 MB); Debian's `make` alone serves, unless a target the container builds
    compiles or installs packages."""
    dockerfile = """
        FROM python:3.12-slim
        COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /bin/
        RUN apt-get update && apt-get install -y --no-install-recommends build-essential \\
            && rm -rf /var/lib/apt/lists/*
        WORKDIR /app
        COPY pyproject.toml uv.lock ./
        RUN uv sync --frozen --no-dev
        COPY . .
    """
    files = {
        "Dockerfile": dockerfile,
        "pyproject.toml": "[project]\nname = 'bot'\nversion = '1.0'\ndependencies = ['aiogram==3.15.0']\n",
        "uv.lock": "version = 1\n",
        "Makefile": makefile,
        "compose.yaml": f"services:\n  bot:\n    build: .\n    command: {command}\n",
    }
    result = run_lint(repo(files), select=["STG001"])
    assert found(result) == ([("STG001", "Dockerfile", 3)] if reported else [])
    if reported:
        assert "for `make`, which the container runs" in result.findings[0].message
        assert result.findings[0].fix.startswith("Install `make` alone")


@pytest.mark.parametrize(
    "change, reported",
    [
        ("", True),  # fetched a git dependency at build time; the service never runs git
        ("code:import git\n", False),  # GitPython runs git as the service runs
        ("requirements:dvc==3.58.0\n", False),  # DVC calls git
        ("requirements:mlflow==2.19.0\n", False),  # MLflow records each run's git commit
        ("code:import subprocess\nsubprocess.run(['git', 'pull'], check=True)\n", False),
        ('cmd:CMD ["bash"]', False),  # a shell image: git may be what it is for
        # the console command of a distribution the image installs (langgraph-cli's `langgraph`)
        ('cmd:CMD ["langgraph", "dev"]|requirements:langgraph-cli[inmem]==0.2.7\n', True),
        ('cmd:CMD ["langgraph", "dev"]', False),  # not installed here: whose command it is is unknown
        # a command nothing the image installs provides: a tool of its own, maybe for git
        ('cmd:CMD ["gitops-agent", "run"]', False),
        # the project's own script (`pip install .` of a pyproject with [project.scripts])
        ('cmd:ENTRYPOINT ["reporter"]|project:', True),
        # a start script of the repository that ends by starting the Python service
        ('cmd:CMD ["./start.sh"]|script:#!/bin/sh\nset -e\nexec uvicorn app:api --host 0.0.0.0\n', True),
        # ... or that runs git itself on the way
        ('cmd:CMD ["./start.sh"]|script:#!/bin/sh\ngit pull --ff-only\nexec python app.py\n', False),
        # a script that starts something else
        ('cmd:CMD ["./start.sh"]|script:#!/bin/sh\nexec caddy run\n', False),
        # a login at start that stores the Hub token with git's credential helper
        (
            'cmd:CMD ["./start.sh"]|script:#!/bin/sh\nhuggingface-cli login --token "$HF_TOKEN" '
            "--add-to-git-credential\nexec uvicorn app:api --host 0.0.0.0\n",
            False,
        ),
    ],
)
def test_git_left_after_fetching_sources_is_a_build_tool(repo, change, reported):
    dockerfile = """
        FROM python:3.12-slim
        RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY app.py .
        CMD ["python", "app.py"]
    """
    files = {
        "requirements.txt": "fastapi==0.115.6\ntoolkit @ git+https://github.com/acme/toolkit.git@v1.2.0\n",
        "app.py": "import fastapi\n",
    }
    for part in change.split("|") if change else ():
        kind, _, text = part.partition(":")
        if kind == "code":
            files["app.py"] += text
        elif kind == "requirements":
            files["requirements.txt"] += text
        elif kind == "cmd":
            dockerfile = dockerfile.replace('CMD ["python", "app.py"]', text)
        elif kind == "project":
            files["pyproject.toml"] = (
                "[project]\nname = 'reporter'\nversion = '1.0'\ndependencies = ['typer==0.15.1']\n"
                "[project.scripts]\nreporter = 'reporter.cli:app'\n"
            )
            files["reporter/cli.py"] = "import typer\napp = typer.Typer()\n"
            dockerfile = dockerfile.replace(
                "COPY app.py .", "COPY pyproject.toml .\nCOPY reporter/ reporter/\nRUN pip install --no-cache-dir ."
            )
        elif kind == "script":
            files["start.sh"] = text
            dockerfile = dockerfile.replace("COPY app.py .", "COPY app.py start.sh ./")
    places, messages = lint(repo, dockerfile, "STG001", files)
    assert places == ([("STG001", "Dockerfile", 2)] if reported else [])
    if reported:
        assert messages[0].startswith("`git` is installed in the final stage") and "never runs git" in messages[0]


def test_headers_of_a_program_the_image_builds_and_installs_are_its_libraries(repo):
    """Tesseract built with `./configure && make && make install` links liblept, which came
    with libleptonica-dev: purging the -dev package would break the OCR the service runs.
    The compilers are still build tools."""
    dockerfile = """
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y --no-install-recommends build-essential libleptonica-dev wget unzip \\
            && rm -rf /var/lib/apt/lists/*
        RUN wget -q https://example.org/tesseract-5.4.1.zip && unzip tesseract-5.4.1.zip \\
            && cd tesseract-5.4.1 && ./configure && make && make install && ldconfig
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY app.py .
        CMD ["python", "app.py"]
    """
    files = {"requirements.txt": "pytesseract==0.3.13\n", "app.py": "import pytesseract\n"}
    places, messages = lint(repo, dockerfile, "STG001", files)
    assert places == [("STG001", "Dockerfile", 2)]
    assert "`build-essential`" in messages[0] and "libleptonica-dev" not in messages[0]
    without_install = dockerfile.replace(" && make install && ldconfig", "")
    assert "libleptonica-dev" in lint(repo, without_install, "STG001", files)[1][0]


@pytest.mark.parametrize(
    ("start", "flagged"),
    [
        ('CMD ["sleep", "infinity"]', False),
        ('CMD ["tail", "-f", "/dev/null"]', False),
        ('CMD ["/bin/bash"]', False),
        ('CMD ["python", "-m", "scraper"]', True),
    ],
)
def test_an_image_that_only_keeps_alive_is_a_base_for_what_comes_later(repo, start, flagged):
    """`CMD ["sleep", "infinity"]` starts no service: the image is a base (tagged by a
    Makefile, pushed, built FROM elsewhere) or a development container, and the uv it ships
    serves the builds and commands that come later."""
    dockerfile = f"""
        FROM mcr.microsoft.com/playwright/python:v1.54.0-noble
        RUN pip install --no-cache-dir uv==0.8.4
        {start}
    """
    places, _ = lint(repo, dockerfile, "STG011", {"scraper/__main__.py": "print('scrape')\n"})
    assert places == ([("STG011", "Dockerfile", 2)] if flagged else [])


def test_poetry_the_project_lists_among_its_own_dependencies_stays(repo):
    """`poetry = "^1.8.2"` under [tool.poetry.dependencies]: `poetry install` puts Poetry in
    again whatever the Dockerfile does with the one it used, so removing it saves nothing."""
    files = dict(POETRY_SHOP)
    files["pyproject.toml"] = files["pyproject.toml"].replace(
        'uvicorn = "^0.32"', 'uvicorn = "^0.32"\n        poetry = "^1.8.2"'
    )
    install = "RUN pip install --no-cache-dir poetry==1.8.5"
    assert lint(repo, poetry_final(install), "STG011", files)[0] == []
    assert lint(repo, poetry_final(install), "STG011", POETRY_SHOP)[0] == [("STG011", "Dockerfile", 3)]
