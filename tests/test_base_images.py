"""What base images already hold (knowledge/base_images.toml) and what follows from it:
CUDA bases beyond nvidia/cuda, full Debian Python under other names, default users and
the variables a base sets, what a framework image carries."""

from __future__ import annotations

import pytest

from dockerlint.findings import Severity
from dockerlint.model.baseimage import base_image
from dockerlint.model.image import ImageRef
from dockerlint.model.ml import cuda_image
from tests.conftest import found, run_lint


def facts(text: str):
    return base_image(ImageRef.parse(text))


def lint(repo, files: dict[str, str], code: str):
    return found(run_lint(repo(files), select=[code]), code)


def findings(repo, files: dict[str, str], code: str):
    return [f for f in run_lint(repo(files), select=[code]).findings if f.code == code]


# -- the facts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cuda", "libraries"),
    [
        ("runpod/base:0.4.0-cuda12.1.1", (12, 1), "devel"),
        ("runpod/base:0.6.2-cuda12.1.0", (12, 1), "devel"),
        ("runpod/pytorch:2.0.1-py3.10-cuda11.7.1-devel", (11, 7), "devel"),
        ("runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404", (12, 8), "devel"),
        ("nvidia/cuda:12.1.0-runtime-ubuntu22.04", (12, 1), "runtime"),
        ("nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04", (12, 4), "runtime"),
        ("nvidia/cuda:12.1.1-devel-ubuntu20.04", (12, 1), "devel"),
        ("nvidia/cuda:12.2.0-base-ubuntu22.04", (12, 2), "base"),
        ("pytorch/pytorch:2.1.0-cuda11.8-cudnn8-runtime", (11, 8), "wheels"),
        ("rayproject/ray:nightly-py310-cu128", (12, 8), "devel"),
        ("rayproject/ray:2.9.0-py310-gpu", None, "devel"),
        ("rayproject/ray-ml:2.9.0-py310", None, "devel"),  # no platform tag: -gpu for ray-ml
        ("tensorflow/tensorflow:2.15.0-gpu", None, "runtime"),
        ("huggingface/transformers-pytorch-gpu:latest", None, "devel"),
        ("nvcr.io/nvidia/tensorrt:23.08-py3", None, "devel"),
        ("vllm/vllm-openai:v0.9.1", None, "devel"),
        ("nvcr.io/nvidia/deepstream:7.0-triton-multiarch", None, "base"),  # any other NGC image: CUDA, kind unknown
    ],
)
def test_cuda_images(text, cuda, libraries):
    found_facts = facts(text)
    assert found_facts is not None and found_facts.is_cuda
    assert (found_facts.cuda, found_facts.cuda_libraries) == (cuda, libraries)
    assert cuda_image(ImageRef.parse(text)) is not None


@pytest.mark.parametrize(
    "text",
    [
        "runpod/base:0.6.2-ubuntu2204",
        "rayproject/ray:2.44.1-py311",
        "rayproject/ray:2.9.0-py310-cpu",
        "rayproject/ray-ml:2.9.0-py310-cpu",
        "tensorflow/tensorflow:2.15.0",
        "huggingface/transformers-pytorch-cpu:latest",
        "pytorch/pytorch:2.1.0-cpu",
        "python:3.11-slim",
        "tiangolo/uvicorn-gunicorn-fastapi:python3.9",
    ],
)
def test_cpu_images(text):
    assert facts(text) is not None and not facts(text).is_cuda
    assert cuda_image(ImageRef.parse(text)) is None


def test_unknown_and_unresolved_images_have_no_facts():
    assert facts("registry.example.com/team/base:1.4") is None
    assert facts("${BASE_IMAGE}") is None
    assert cuda_image(ImageRef.parse("registry.example.com/team/cuda-base:12.1")) is None


def test_tag_dependent_facts():
    assert facts("pytorch/pytorch:1.11.0-cuda11.3-cudnn8-runtime").torch_version == (1, 11, 0)
    assert facts("runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404").torch_version == (2, 8, 0)
    assert facts("runpod/pytorch:2.1.0-py3.10-cuda12.1.0-devel-ubuntu22.04").torch_version == (2, 1, 0)
    assert facts("huggingface/transformers-pytorch-cpu:latest").torch == "cpu"
    assert facts("rayproject/ray:2.44.1-py311").python == "3.11"
    assert facts("python:3.12-alpine").libc == "musl"
    assert facts("apache/airflow:2.2.3").env["AIRFLOW_UID"] == "50000"
    assert facts("apache/airflow:2.2.3").runs_as_root is False
    assert facts("rayproject/ray:2.44.1-py311").runs_as_root is False
    assert facts("python:3.11").runs_as_root is True
    assert facts("public.ecr.aws/lambda/python:3.12").python == "3.12"
    assert facts("public.ecr.aws/lambda/python:3.12").compilers is False
    assert facts("mcr.microsoft.com/devcontainers/python:1-3.10-bookworm").python == "3.10"
    assert facts("continuumio/miniconda3:24.1.2-0").runs_as_root is True


@pytest.mark.parametrize(
    ("text", "slim"),
    [
        ("python:3.11", "python:3.11-slim"),
        ("python:3.11-bookworm", "python:3.11-slim-bookworm"),
        ("python:bullseye", "python:slim-bullseye"),
        ("python", "python:slim"),
        ("tiangolo/uvicorn-gunicorn-fastapi:python3.9", "tiangolo/uvicorn-gunicorn-fastapi:python3.9-slim"),
        ("tiangolo/uvicorn-gunicorn:python3.9", "tiangolo/uvicorn-gunicorn:python3.9-slim"),
        ("tiangolo/meinheld-gunicorn-flask:python3.8", "python:3.8-slim"),
        ("nikolaik/python-nodejs:python3.11-nodejs20", "nikolaik/python-nodejs:python3.11-nodejs20-slim"),
        ("ghcr.io/astral-sh/uv:python3.12-bookworm", "ghcr.io/astral-sh/uv:python3.12-bookworm-slim"),
        ("ghcr.io/astral-sh/uv:debian", "ghcr.io/astral-sh/uv:debian-slim"),
        ("ghcr.io/astral-sh/uv:trixie", "ghcr.io/astral-sh/uv:trixie-slim"),
    ],
)
def test_full_debian_python_images_and_their_lean_twin(text, slim):
    found_facts = facts(text)
    assert found_facts.compilers is True and found_facts.slim == slim


# -- IMG001 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "slim"),
    [
        ("tiangolo/uvicorn-gunicorn-fastapi:python3.9", "tiangolo/uvicorn-gunicorn-fastapi:python3.9-slim"),
        ("tiangolo/meinheld-gunicorn-flask:python3.8", "python:3.8-slim"),
    ],
)
def test_images_built_on_full_python_are_full_python(repo, base, slim):
    files = {
        "Dockerfile": f"FROM {base}\nCOPY requirements.txt /app/\n"
        "RUN pip install --no-cache-dir -r /app/requirements.txt\nCOPY ./app /app\n",
        "requirements.txt": "flask==3.0.3\n",
        "app/main.py": "from flask import Flask\n\napp = Flask(__name__)\n",
    }
    result = findings(repo, files, "IMG001")
    assert [(f.path.name, f.span.line) for f in result] == [("Dockerfile", 1)]
    assert f"`{slim}`" in result[0].message and "built on the full Debian `python:3." in result[0].message
    assert result[0].fix.startswith(f"Use `FROM {slim}`")


def test_uv_images_without_python_say_what_they_are_built_on(repo):
    """uv's derived images: debian on buildpack-deps (compilers), debian-slim and alpine
    without them; a version tag is the distroless image, the uv binaries only."""
    assert (facts("ghcr.io/astral-sh/uv:debian-slim").libc, facts("ghcr.io/astral-sh/uv:debian-slim").compilers) == (
        "glibc",
        False,
    )
    assert (facts("ghcr.io/astral-sh/uv:alpine").libc, facts("ghcr.io/astral-sh/uv:alpine").compilers) == (
        "musl",
        False,
    )
    assert facts("ghcr.io/astral-sh/uv:0.5.11").libc is None
    files = {
        "Dockerfile": 'FROM ghcr.io/astral-sh/uv:debian\nWORKDIR /app\nCOPY . .\nRUN uv sync --frozen\nCMD ["uv", "run", "main.py"]\n'
    }
    result = findings(repo, files, "IMG001")
    assert [(f.path.name, f.span.line) for f in result] == [("Dockerfile", 1)]
    assert "built on the full Debian `buildpack-deps` image" in result[0].message
    assert "python:" not in result[0].message and "~0 B" not in result[0].message
    assert "`ghcr.io/astral-sh/uv:debian-slim` is the same without them" in result[0].message


POETRY_WORKER = """\
FROM python:3.12
WORKDIR /app
RUN pip install --no-cache-dir poetry==1.8.3 && poetry config virtualenvs.create false
COPY pyproject.toml ./
RUN poetry install --no-root --only main
COPY . .
CMD ["python", "-m", "worker"]
"""

WORKER_PYPROJECT = """\
[tool.poetry]
name = "worker"
version = "0.1.0"
description = ""
authors = []

[tool.poetry.dependencies]
python = "^3.12"
sqlalchemy = "^2.0"
{driver} = "{version}"
"""


@pytest.mark.parametrize(("driver", "version"), [("mariadb", "1.1.6"), ("psycopg2", "2.9.9"), ("uwsgi", "2.0.28")])
def test_a_package_built_from_source_makes_the_slim_move_a_builder_stage_at_info(repo, driver, version):
    """mariadb 1.1, psycopg2 and uWSGI (an sdist only) compile against the full image's gcc
    and -dev headers: on slim alone their install fails, so the saving takes a builder
    stage, said at info."""
    module = {"mariadb": "mariadb", "psycopg2": "psycopg2", "uwsgi": "uwsgidecorators"}[driver]
    files = {
        "Dockerfile": POETRY_WORKER,
        "pyproject.toml": WORKER_PYPROJECT.format(driver=driver, version=version),
        "worker.py": f"import {module}\nimport sqlalchemy\n\nprint({module}, sqlalchemy)\n",
    }
    result = findings(repo, files, "IMG001")
    assert [(f.path.name, f.span.line, f.severity) for f in result] == [("Dockerfile", 1, Severity.INFO)]
    assert f"`{driver}` is built from source here" in result[0].message
    assert "builder stage" in result[0].message and result[0].autofix is None


def test_a_package_built_from_source_that_another_requires_counts_too(repo):
    """django-heroku requires psycopg2, the source distribution: switching to slim alone
    fails its install as surely as naming psycopg2 would."""
    files = {
        "Dockerfile": "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n"
        'CMD ["gunicorn", "shop.wsgi"]\n',
        "requirements.txt": "django==5.1.6\ngunicorn==23.0.0\ndjango-heroku==0.3.1\n",
        "shop/__init__.py": "",
        "shop/settings.py": "import django_heroku\n\ndjango_heroku.settings(locals())\n",
        "shop/wsgi.py": "from django.core.wsgi import get_wsgi_application\n\napplication = get_wsgi_application()\n",
    }
    result = findings(repo, files, "IMG001")
    assert [(f.span.line, f.severity) for f in result] == [(1, Severity.INFO)]
    assert "`psycopg2` is built from source here" in result[0].message and result[0].autofix is None


def test_a_source_build_with_its_own_compiler_keeps_the_plain_finding(repo):
    """The Dockerfile apt-installs gcc and the headers itself: the same lines work on slim."""
    files = {
        "Dockerfile": "FROM python:3.12\nRUN apt-get update && apt-get install -y --no-install-recommends gcc "
        "libmariadb-dev && rm -rf /var/lib/apt/lists/*\n" + POETRY_WORKER.split("\n", 1)[1],
        "pyproject.toml": WORKER_PYPROJECT.format(driver="mariadb", version="1.1.6"),
        "worker.py": "import mariadb\nimport sqlalchemy\n",
    }
    result = findings(repo, files, "IMG001")
    assert [(f.span.line, f.severity) for f in result] == [(1, Severity.WARNING)]
    assert "built from source" not in result[0].message


@pytest.mark.parametrize(
    "base",
    [
        "tiangolo/uvicorn-gunicorn-fastapi:python3.9-slim",
        "tiangolo/uwsgi-nginx-flask:python3.8-alpine",
        "tiangolo/uwsgi-nginx-flask:python3.8",
        "tiangolo/uwsgi-nginx:python3.11",
        "ubuntu:22.04",
        "ghcr.io/astral-sh/uv:debian-slim",
    ],
)
def test_lean_variants_and_other_images_are_not_full_python(repo, base):
    assert lint(repo, {"Dockerfile": f'FROM {base}\nCMD ["python3", "-V"]\n'}, "IMG001") == []


# -- IMG002 -----------------------------------------------------------------------------------

RAY_SERVE = """
    from ray import serve

    @serve.deployment
    class Echo:
        async def __call__(self, request):
            return await request.json()

    app = Echo.bind()
"""


def test_ray_image_running_ray_code_is_not_flagged(repo):
    files = {
        "Dockerfile": "FROM rayproject/ray:2.44.1-py311\nCOPY serve_app.py /home/ray/\n",
        "serve_app.py": RAY_SERVE,
    }
    assert lint(repo, files, "IMG002") == []


@pytest.mark.parametrize(("code", "flagged"), [
    ("from byaldi import RAGMultiModalModel\n\nmodel = RAGMultiModalModel.from_index('index')\n", False),
    ("import json\n\nprint(json.dumps({}))\n", True),
])  # fmt: skip
def test_code_that_imports_what_requires_the_framework_uses_it(repo, code, flagged):
    """byaldi requires torch: code that imports byaldi runs on the torch the base carries."""
    files = {
        "Dockerfile": "FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime\nRUN pip install --no-cache-dir byaldi==0.0.7\n"
        'COPY handler.py /app/\nCMD ["python", "/app/handler.py"]\n',
        "handler.py": code,
    }
    assert bool(lint(repo, files, "IMG002")) is flagged


def test_code_that_imports_a_meta_packages_modules_uses_what_it_brings(repo):
    """docling is a meta package: its `docling` modules come from docling-slim, and torch
    from docling-ibm-models below it; the pytorch base's torch is the one it runs on."""
    files = {
        "Dockerfile": "FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime\nRUN pip install --no-cache-dir docling==2.64.0\n"
        'COPY ocr_service.py /app/\nCMD ["python", "/app/ocr_service.py"]\n',
        "ocr_service.py": "from docling.document_converter import DocumentConverter\n\nDocumentConverter()\n",
    }
    assert lint(repo, files, "IMG002") == []


def test_ray_cluster_image_without_code_is_not_flagged(repo):
    files = {
        "ray.Dockerfile": "FROM rayproject/ray:2.44.1-py311\nCOPY requirements.txt ./\n"
        "RUN pip install -r requirements.txt\n",
        "requirements.txt": "mlflow==2.16.2\n",
    }
    assert lint(repo, files, "IMG002") == []


def test_ray_ml_for_ray_code_names_what_is_unused(repo):
    files = {
        "Dockerfile": "FROM rayproject/ray-ml:2.9.0-py310\nCOPY serve_app.py /home/ray/\n",
        "serve_app.py": RAY_SERVE,
    }
    result = findings(repo, files, "IMG002")
    assert [(f.path.name, f.span.line) for f in result] == [("Dockerfile", 1)]
    assert "rayproject/ray-ml" in result[0].message and "`torch`, `tensorflow`" in result[0].message
    assert "`ray`" not in result[0].message


def test_transformers_cpu_image_used_for_transformers_is_not_flagged(repo):
    files = {
        "Dockerfile": "FROM huggingface/transformers-pytorch-cpu:latest\nCOPY ./ /app\nWORKDIR /app\n",
        "app.py": "import torch\nfrom transformers import AutoModel\n",
    }
    assert lint(repo, files, "IMG002") == []


def test_framework_image_for_code_that_imports_none_of_it(repo):
    files = {
        "Dockerfile": "FROM pytorch/pytorch:2.4.1-cuda12.4-cudnn9-devel\nCOPY app.py /app/\n",
        "app.py": "import fastapi\n",
    }
    result = findings(repo, files, "IMG002")
    assert len(result) == 1 and "`torch`" in result[0].message
    # The devel tag's compiler is GPU003's to count: IMG002 counts the runtime-class image.
    assert result[0].size_bytes == 4_000_000_000 and "devel tag" in result[0].message


def test_a_module_the_start_command_runs_uses_what_its_package_requires(repo):
    """`python3 -m vllm.entrypoints.openai.api_server`: vLLM runs on torch, which the base
    carries; the code copied beside it (a prompt wrapper) imports neither."""
    dockerfile = (
        "FROM pytorch/pytorch:2.4.1-cuda12.4-cudnn9-runtime\nRUN pip install --no-cache-dir vllm==0.6.3 openai==1.52.2\n"
        "COPY llm_wrapper.py /workspace/\n"
        'CMD ["python3", "-m", "vllm.entrypoints.openai.api_server", "--model", "facebook/opt-125m"]\n'
    )
    files = {"Dockerfile": dockerfile, "llm_wrapper.py": "import openai\n"}
    assert lint(repo, files, "IMG002") == []
    files["Dockerfile"] = dockerfile.replace("vllm.entrypoints.openai.api_server", "http.server").replace(
        "vllm==0.6.3 ", ""
    )
    assert lint(repo, files, "IMG002") == [("IMG002", "Dockerfile", 1)]


VLLM_SERVICE = {
    "Dockerfile": """
        FROM vllm/vllm-openai:v0.9.1
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY . .
        ENTRYPOINT []
        CMD ["python", "main.py"]
    """,
    "requirements.txt": "langchain-community==0.3.27\nsentence-transformers\nvllm\nfastapi==0.115.6\n",
    "main.py": """
        from langchain_community.llms import VLLM

        llm = VLLM(model="Qwen/Qwen2.5-1.5B-Instruct", trust_remote_code=True)
    """,
}


def test_the_vllm_image_already_holds_cuda_torch_and_a_class_that_imports_vllm_uses_it(repo):
    """vllm/vllm-openai carries vLLM and CUDA torch: installing vllm again downloads no
    torch, and LangChain's VLLM class imports vllm when it is called."""
    assert lint(repo, VLLM_SERVICE, "GPU001") == [] and lint(repo, VLLM_SERVICE, "IMG002") == []
    api_only = {**VLLM_SERVICE, "main.py": "import fastapi\n\napp = fastapi.FastAPI()\n"}
    result = findings(repo, api_only, "IMG002")
    assert len(result) == 1 and "vLLM with CUDA torch" in result[0].message


def test_jupyter_server_started_by_command_is_used(repo):
    files = {
        "Dockerfile": 'FROM jupyter/scipy-notebook:2023-10-20\nCOPY helpers.py /home/jovyan/\nCMD ["jupyter", "lab"]\n',
        "helpers.py": "import pandas\n",
    }
    assert lint(repo, files, "IMG002") == []


# -- users: SEC001 and DL3002 -------------------------------------------------------------------


def test_user_variable_set_by_the_airflow_base_is_not_root(repo):
    dockerfile = """
        FROM apache/airflow:2.2.3
        USER root
        RUN apt-get update && apt-get install -y --no-install-recommends vim && rm -rf /var/lib/apt/lists/*
        USER $AIRFLOW_UID
    """
    assert lint(repo, {"Dockerfile": dockerfile}, "DL3002") == []


def test_user_variable_nobody_defines_is_not_taken_for_root(repo):
    dockerfile = """
        ARG AIRFLOW_IMAGE_NAME
        FROM ${AIRFLOW_IMAGE_NAME}
        USER root
        RUN apt-get update && apt-get install -y --no-install-recommends vim && rm -rf /var/lib/apt/lists/*
        USER $AIRFLOW_UID
    """
    assert lint(repo, {"Dockerfile": dockerfile}, "DL3002") == []


def test_user_variable_that_says_root_is_root(repo):
    dockerfile = """
        FROM python:3.12-slim
        ARG RUN_AS=root
        USER ${RUN_AS}
    """
    assert lint(repo, {"Dockerfile": dockerfile}, "DL3002") == [("DL3002", "Dockerfile", 3)]


@pytest.mark.parametrize(
    ("base", "flagged"),
    [
        ("apache/airflow:2.8.1", False),
        ("rayproject/ray:2.44.1-py311", False),
        ("jupyter/base-notebook:2023-10-20", False),
        ("tiangolo/uvicorn-gunicorn-fastapi:python3.11", True),
        ("nvidia/cuda:12.1.0-runtime-ubuntu22.04", True),
        ("registry.example.com/platform/python-base:3", False),
    ],
)
def test_runs_as_root_follows_the_base_images_user(repo, base, flagged):
    result = lint(repo, {"Dockerfile": f'FROM {base}\nCMD ["python", "-V"]\n'}, "SEC001")
    assert result == ([("SEC001", "Dockerfile", 1)] if flagged else [])


# -- IMG005 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "flagged"),
    [
        ("python:alpine", True),
        ("python:3-alpine", True),
        ("python:3", True),
        ("python:slim-bookworm", True),
        ("rayproject/ray:nightly-py310-cu128", True),
        ("apache/airflow:latest-python3.11", True),
        ("ultralytics/ultralytics:latest-python", True),
        ("ultralytics/ultralytics:8.3.40-python", False),
        ("python:3.12-alpine", False),
        ("python:3.11.9-slim", False),
        ("python:latest", False),  # DL3007
        ("python", False),  # DL3006
        ("rayproject/ray:2.44.1-py311", False),
        ("tiangolo/uvicorn-gunicorn-fastapi:python3.11-slim", False),
        ("registry.example.com/team/python:alpine", False),  # unknown image: its tags may mean anything
        ("python:alpine@sha256:" + "a" * 64, False),
    ],
)
def test_floating_variant_and_nightly_tags(repo, base, flagged):
    result = lint(repo, {"Dockerfile": f'FROM {base}\nCMD ["python", "-V"]\n'}, "IMG005")
    assert result == ([("IMG005", "Dockerfile", 1)] if flagged else [])


def test_floating_tag_message_suggests_a_pinned_form(repo):
    result = findings(repo, {"Dockerfile": "FROM rayproject/ray:nightly-py310-cu128\n"}, "IMG005")
    assert "`rayproject/ray:<version>-py310-cu128`" in result[0].fix
    result = findings(repo, {"Dockerfile": "FROM python:3-alpine\n"}, "IMG005")
    assert "`python:<version>-alpine`" in result[0].fix and "names no version" in result[0].message
    result = findings(repo, {"Dockerfile": "FROM apache/airflow:latest-python3.8\n"}, "IMG005")
    assert "`apache/airflow:<version>-python3.8`" in result[0].fix


def test_a_floating_tag_on_a_stage_the_image_never_builds_is_not_its_base(repo):
    """`FROM python:3` left above the real `FROM gorialis/discord.py`: the image never builds
    that stage, so its tag decides nothing; a stage the final one copies from does."""
    dead = 'FROM python:3\nFROM gorialis/discord.py:3.11\nCOPY bot.py .\nCMD ["python", "bot.py"]\n'
    assert lint(repo, {"Dockerfile": dead}, "IMG005") == []
    used = "FROM python:3-slim AS build\nRUN pip wheel --no-deps -w /w attrs==24.2.0\n" + dead.replace(
        "COPY bot.py .", "COPY --from=build /w /w\nCOPY bot.py ."
    ).replace("FROM python:3\n", "")
    assert lint(repo, {"Dockerfile": used}, "IMG005") == [("IMG005", "Dockerfile", 1)]


def test_code_that_uses_torch_through_a_library_uses_torch(repo):
    files = {
        "Dockerfile": "FROM huggingface/transformers-pytorch-cpu:latest\nCOPY ./ /app\nWORKDIR /app\n",
        "app.py": "from transformers import pipeline\n\nclassify = pipeline('sentiment-analysis')\n",
    }
    assert lint(repo, files, "IMG002") == []


def test_a_gpu_service_on_an_ngc_tensorrt_image(repo):
    """The NGC TensorRT image is a CUDA image: PyPI torch and the CUDA wheels it needs are
    what a GPU service installs there, not GPU packages on a CPU image; an image whose code
    never imports tensorrt carries it for nothing."""
    files = {
        "Dockerfile": """
            FROM nvcr.io/nvidia/tensorrt:23.08-py3
            WORKDIR /app
            RUN pip install --no-cache-dir torch==2.2.2 torchaudio==2.2.2
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY . .
            CMD ["python", "main.py"]
        """,
        "requirements.txt": "nvidia-cublas-cu12==12.1.3.1\nnvidia-cudnn-cu12==8.9.2.26\nfastapi==0.115.6\n",
        "main.py": "import torch\nimport fastapi\ndevice = 'cuda' if torch.cuda.is_available() else 'cpu'\n",
    }
    assert lint(repo, files, "GPU001") == [] and lint(repo, files, "GPU002") == []
    assert lint(repo, files, "GPU006") == []  # a framework image: IMG002's to judge
    assert lint(repo, files, "IMG002") == [("IMG002", "Dockerfile", 1)]
    files["main.py"] += "import tensorrt\n"
    assert lint(repo, files, "IMG002") == []
    # the same service on a slim Python image gets no GPU from anywhere
    files["Dockerfile"] = files["Dockerfile"].replace("nvcr.io/nvidia/tensorrt:23.08-py3", "python:3.10-slim")
    assert lint(repo, files, "GPU001") == [("GPU001", "Dockerfile", 3)]
    assert lint(repo, files, "GPU002") == [("GPU002", "requirements.txt", 1)]  # both CUDA libraries, one decision


LAINBOW_LIKE = """\
FROM pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime
WORKDIR /src
COPY --from=ghcr.io/astral-sh/uv:0.9.17 /uv /uvx /bin/
ENV UV_PROJECT_ENVIRONMENT={env}
ENV PATH="{env}/bin:$PATH"
COPY pyproject.toml uv.lock /src/
RUN uv sync --locked --no-dev
COPY inference/ /src/inference/
CMD ["uvicorn", "inference.main:app", "--host", "0.0.0.0", "--port", "8001"]
"""


@pytest.mark.parametrize(("env", "flagged"), [("/opt/venv", True), ("/opt/conda", False)])
def test_a_service_in_its_own_venv_cannot_import_the_frameworks_the_base_carries(repo, env, flagged):
    """`uv sync` into /opt/venv, first on PATH, makes a venv without the base's
    site-packages: the service imports its own torch there, and the base's CUDA PyTorch
    (~4 GB) is dead weight. Into /opt/conda, the base's own Python, it is the same torch."""
    files = {
        "Dockerfile": LAINBOW_LIKE.format(env=env),
        "pyproject.toml": '[project]\nname = "inference"\nversion = "0.1.0"\ndependencies = ["torch==2.7.1", "fastapi==0.115.6"]\n',
        "uv.lock": "version = 1\n",
        "inference/__init__.py": "",
        "inference/main.py": "import torch\nfrom fastapi import FastAPI\n\napp = FastAPI()\n",
    }
    result = findings(repo, files, "IMG002")
    if not flagged:
        assert result == []
        return
    assert [(f.path.name, f.span.line) for f in result] == [("Dockerfile", 1)]
    assert "runs in the virtual environment `/opt/venv`" in result[0].message


def test_a_cmake_build_of_llama_cpp_makes_the_slim_move_a_builder_stage(repo):
    """PyPI holds only llama-cpp-python's sdist: `pip install` compiles it with the full
    image's C++ compiler, which slim lacks."""
    files = {
        "Dockerfile": 'FROM python:3.10\nWORKDIR /llm-api\nCOPY requirements.txt .\nENV FORCE_CMAKE="1"\n'
        "RUN pip install --no-cache-dir -r requirements.txt\nCOPY app app\n"
        'CMD ["python", "./app/main.py"]\n',
        "requirements.txt": "llama-cpp-python==0.2.90\nfastapi==0.115.6\n",
        "app/main.py": "from llama_cpp import Llama\nfrom fastapi import FastAPI\n",
    }
    result = findings(repo, files, "IMG001")
    assert [(f.span.line, f.severity) for f in result] == [(1, Severity.INFO)]
    assert "`llama-cpp-python` is built from source here" in result[0].message


def test_a_test_target_on_the_full_image_does_not_ship(repo):
    """docker-bake.hcl builds `--target test` (`FROM build AS test`, which runs pytest) beside
    the shipped `bot` stage: only the bot image is reported."""
    dockerfile = """\
FROM python:3.13.1 AS build
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .

FROM build AS test
RUN pip install --no-cache-dir pytest==8.3.4
CMD ["python", "-m", "pytest"]

FROM python:3.13.1 AS bot
COPY --from=build /usr/local/lib/python3.13/site-packages /usr/local/lib/python3.13/site-packages
COPY bot.py /app/bot.py
CMD ["python", "/app/bot.py"]
"""
    bake = (
        'group "default" {\n    targets = ["main"]\n}\n\ntarget "main" {\n    dockerfile = "Dockerfile"\n}\n\n'
        'target "test" {\n    inherits = ["main"]\n    target = "test"\n}\n'
    )
    files = {"Dockerfile": dockerfile, "docker-bake.hcl": bake, "requirements.txt": "mastodon.py==1.8.1\n",
             "bot.py": "import mastodon\n"}  # fmt: skip
    result = findings(repo, files, "IMG001")
    assert [(f.span.line, f.severity) for f in result] == [(11, Severity.WARNING)]
