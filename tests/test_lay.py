"""LAY rules: bytes deleted a layer too late, copy order that busts the install cache,
packages installed twice; each with the correct variants that must stay silent."""

from __future__ import annotations

import pytest

from dockerlint.model.distributions import newest_version
from tests.conftest import found, run_lint


def lint(repo, dockerfile: str, code: str, files: dict[str, str | bytes] | None = None):
    root = repo({"Dockerfile": dockerfile, **(files or {})})
    result = run_lint(root, select=[code])
    return found(result, code), result.findings


# -- LAY001 ---------------------------------------------------------------------------------------


def test_files_and_packages_deleted_in_a_later_layer(repo):
    dockerfile = """
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y --no-install-recommends build-essential git \\
            && rm -rf /var/lib/apt/lists/*
        WORKDIR /app
        COPY models/encoder.onnx /tmp/encoder.onnx
        COPY . .
        RUN curl -fsSL -o /tmp/get-pip.py https://bootstrap.pypa.io/get-pip.py && python /tmp/get-pip.py
        RUN git clone --depth 1 https://github.com/example/tokenizers.git /src/tokenizers
        RUN pip install --no-cache-dir /src/tokenizers
        RUN rm -rf /tmp/encoder.onnx /tmp/get-pip.py /src/tokenizers /app/notebooks /app/not-in-context
        RUN apt-get purge -y --auto-remove build-essential git
    """
    files = {
        "models/encoder.onnx": b"\0" * 3_000_000,
        "notebooks/explore.ipynb": "{}",
        "app/main.py": "import numpy\n",
    }
    got, findings = lint(repo, dockerfile, "LAY001", files)
    assert got == [("LAY001", "Dockerfile", 10)] * 4 + [("LAY001", "Dockerfile", 11)]
    by_target = {finding.message.split("`")[1]: finding for finding in findings}
    onnx = by_target["/tmp/encoder.onnx"]
    assert "`COPY` on line 5" in onnx.message and onnx.size_bytes == 3_000_000
    assert onnx.related[0].span.line == 5
    assert "`curl` on line 7" in by_target["/tmp/get-pip.py"].message
    assert "`git clone` on line 8" in by_target["/src/tokenizers"].message
    assert "`COPY` on line 6" in by_target["/app/notebooks"].message
    packages = by_target["build-essential"]
    assert "`build-essential`, `git` are removed here" in packages.message and "line 2" in packages.message


def test_same_run_cleanup_builders_and_runtime_files_are_fine(repo):
    dockerfile = """
        FROM python:3.11-slim AS builder
        COPY models/encoder.onnx /tmp/encoder.onnx
        RUN rm /tmp/encoder.onnx
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y --no-install-recommends gcc \\
            && pip install --no-cache-dir psycopg2==2.9.9 && apt-get purge -y gcc \\
            && rm -rf /var/lib/apt/lists/*
        RUN wget -O /tmp/a.tgz https://example.com/a.tgz && tar xzf /tmp/a.tgz -C /opt && rm /tmp/a.tgz
        WORKDIR /app
        COPY . .
        RUN pip install --no-cache-dir . && rm -rf /app/build /tmp/*
    """
    files = {"models/encoder.onnx": b"\0" * 10, "pyproject.toml": "[project]\nname='a'\nversion='1'\n"}
    assert lint(repo, dockerfile, "LAY001", files)[0] == []


def test_a_relative_path_starts_in_the_base_images_working_directory(repo):
    """jupyter/scipy-notebook ends with WORKDIR /home/jovyan: `COPY cities.csv ./` puts the
    file there, and the message names it there."""
    dockerfile = """
        FROM jupyter/scipy-notebook:2023-10-20
        COPY cities.csv ./
        RUN python -c "import pandas; pandas.read_csv('cities.csv').to_parquet('cities.parquet')" && rm cities.csv
    """
    got, findings = lint(repo, dockerfile, "LAY001", {"cities.csv": "name,population\n" * 2000})
    assert got == [("LAY001", "Dockerfile", 3)]
    assert findings[0].message.startswith("`/home/jovyan/cities.csv` is deleted here")


def test_a_requirements_file_the_install_read_and_deleted_is_tidying(repo):
    """`uv pip install -r requirements.txt && rm -f requirements.txt`: the manifest the install
    read, a few hundred bytes, is tidied away; no layer weight worth a change. A file the RUN
    did not install from is still said."""
    dockerfile = """
        FROM python:3.13-alpine
        WORKDIR /app
        COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /bin/
        COPY src/ requirements.txt notes.txt ./
        RUN uv pip install --no-cache --system -r requirements.txt && rm -f requirements.txt notes.txt
    """
    extra = {"requirements.txt": "aiogram==3.15.0\n", "notes.txt": "release notes\n" * 100, "src/main.py": ""}
    got, findings = lint(repo, dockerfile, "LAY001", extra)
    assert got == [("LAY001", "Dockerfile", 5)]
    assert findings[0].message.startswith("`/app/notes.txt` is deleted here")


def test_deleting_in_the_final_stage_what_a_parent_stage_added(repo):
    dockerfile = """
        FROM python:3.11-slim AS base
        ADD https://example.com/data/cities.csv.gz /data/cities.csv.gz
        FROM base
        RUN rm /data/cities.csv.gz
    """
    assert lint(repo, dockerfile, "LAY001")[0] == [("LAY001", "Dockerfile", 4)]


# -- LAY002 ---------------------------------------------------------------------------------------

PROJECT = {"requirements.txt": "flask==3.0.3\n", "app/__init__.py": "", "app/main.py": "import flask\n"}


def test_whole_tree_copied_before_the_install(repo):
    dockerfile = """
        FROM python:3.11-slim AS builder
        WORKDIR /src
        COPY . .
        RUN pip install --no-cache-dir --prefix=/install -r requirements.txt
        FROM python:3.11-slim
        COPY --from=builder /install /usr/local
        WORKDIR /app
        COPY ./ /app/
        RUN pip install --no-cache-dir -r /app/requirements.txt
    """
    got, findings = lint(repo, dockerfile, "LAY002", PROJECT)
    assert got == [("LAY002", "Dockerfile", 3), ("LAY002", "Dockerfile", 8)]
    assert "line 4" in findings[0].message and "`COPY requirements.txt .`" in findings[0].fix


def test_manifest_first_is_fine(repo):
    dockerfile = """
        FROM python:3.11-slim
        WORKDIR /app
        COPY requirements.txt constraints.txt ./
        RUN pip install --no-cache-dir -r requirements.txt -c constraints.txt
        COPY . .
        RUN pip install --no-cache-dir --no-deps .
    """
    files = {**PROJECT, "constraints.txt": "flask==3.0.3\n", "pyproject.toml": "[project]\nname='a'\nversion='1'\n"}
    assert lint(repo, dockerfile, "LAY002", files)[0] == []


def test_a_requirements_folder_without_code_is_fine(repo):
    dockerfile = """
        FROM python:3.11-slim
        COPY requirements/ /tmp/requirements/
        RUN pip install --no-cache-dir -r /tmp/requirements/prod.txt
    """
    files = {"requirements/prod.txt": "-r base.txt\ngunicorn==22.0.0\n", "requirements/base.txt": "flask==3.0.3\n"}
    assert lint(repo, dockerfile, "LAY002", files)[0] == []


def test_code_copied_before_a_separate_requirements_install(repo):
    dockerfile = """
        FROM python:3.12-slim
        WORKDIR /app
        COPY api /app/api
        COPY common /app/common
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        CMD ["uvicorn", "api.main:app"]
    """
    files = {
        "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\n",
        "api/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
        "common/util.py": "VALUE = 1\n",
    }
    got, findings = lint(repo, dockerfile, "LAY002", files)
    assert got == [("LAY002", "Dockerfile", 3)]  # one finding, on the first code COPY
    assert "before `pip install -r requirements.txt` on line 6" in findings[0].message
    # the code after the install, or an install that reads the code (-e ./common), is fine
    after = dockerfile.replace("COPY api /app/api\n", "").replace("COPY common /app/common\n", "") + (
        "COPY api /app/api\nCOPY common /app/common\n"
    )
    assert lint(repo, after, "LAY002", files)[0] == []
    local = {**files, "requirements.txt": "fastapi==0.115.6\n-e ./common\n"}
    assert lint(repo, dockerfile, "LAY002", local)[0] == []


def test_code_copied_before_installing_named_packages(repo):
    dockerfile = """
        FROM python:3.10-slim
        WORKDIR /app
        COPY infer.py .
        RUN pip install --upgrade pip
        RUN pip install --no-cache-dir faster-whisper==1.1.0
        CMD ["python", "infer.py"]
    """
    got, findings = lint(repo, dockerfile, "LAY002", {"infer.py": "import faster_whisper\n"})
    assert got == [("LAY002", "Dockerfile", 3)]  # upgrading pip is no dependency install
    assert "before `pip install faster-whisper==1.1.0` on line 5" in findings[0].message
    assert findings[0].fix == "Move this COPY below the install: the install first, then the code."


def test_pins_installed_after_the_copied_project_itself_stay_after_it(repo):
    """`pip install .` reads the copied code; the downgrades after it override what it
    installed: they cannot move above the COPY, and no finding says they should."""
    dockerfile = """
        FROM python:3.8-slim
        RUN pip install --no-cache-dir tensorflow==2.6.2
        COPY ./segmenter /app
        WORKDIR /app
        RUN pip install --no-cache-dir .
        RUN pip install --no-cache-dir protobuf==3.20.1
        RUN pip install --no-cache-dir numpy==1.19.5
        CMD ["python", "-m", "segmenter"]
    """
    files = {
        "segmenter/setup.py": "from setuptools import setup\n\nsetup(name='segmenter', install_requires=['nibabel'])\n",
        "segmenter/segmenter/__init__.py": "",
        "segmenter/segmenter/__main__.py": "import nibabel\nimport tensorflow\n",
    }
    assert lint(repo, dockerfile, "LAY002", files)[0] == []
    # without the project install between them, the pin could go first
    no_project = dockerfile.replace("RUN pip install --no-cache-dir .\n", "")
    assert lint(repo, no_project, "LAY002", files)[0] == [("LAY002", "Dockerfile", 3)]


UV_PROJECT = {
    "pyproject.toml": "[project]\nname = 'shop'\nversion = '1.0'\ndependencies = ['fastapi==0.115.6']\n",
    "uv.lock": "version = 1\n",
    "poetry.lock": "",
    "shop/__init__.py": "",
    "shop/main.py": "import fastapi\n",
}


def test_whole_tree_copied_before_uv_sync_or_poetry_install(repo):
    for install, lock, dependencies_only in (
        ("uv sync --frozen --no-dev", "uv.lock", "uv sync --frozen --no-install-project"),
        ("poetry install --only main", "poetry.lock", "poetry install --no-root"),
    ):
        dockerfile = f"""
            FROM python:3.12-slim
            WORKDIR /app
            ADD . /app
            RUN pip install --no-cache-dir uv poetry && {install}
            CMD ["python", "-m", "shop.main"]
        """
        got, findings = lint(repo, dockerfile, "LAY002", UV_PROJECT)
        assert got == [("LAY002", "Dockerfile", 3)]
        assert f"`{install.split()[0]} {install.split()[1]}` on line 4" in findings[0].message
        assert f"`COPY pyproject.toml {lock} ./`, then `RUN {dependencies_only}`" in findings[0].fix


def test_the_manifest_to_copy_first_is_named_by_its_place_in_the_context(repo):
    """WORKDIR / and `pip install -r /app/requirements.txt` of a file at the context root:
    the COPY source is `requirements.txt`, not the image path."""
    dockerfile = """
        FROM python:3.12-slim
        COPY app /app/app
        COPY requirements.txt /app/requirements.txt
        RUN pip install --no-cache-dir -r /app/requirements.txt
        CMD ["celery", "-A", "app.worker", "worker"]
    """
    files = {"requirements.txt": "celery==5.4.0\n", "app/__init__.py": "", "app/worker.py": "import celery\n"}
    got, findings = lint(repo, dockerfile, "LAY002", files)
    assert got == [("LAY002", "Dockerfile", 2)]
    assert (
        "`COPY requirements.txt app/requirements.txt` and `RUN pip install -r app/requirements.txt`" in findings[0].fix
    )


def test_a_run_that_installs_the_copied_project_needs_the_copy_before_it(repo):
    """`pip install .` reads the copied tree: the COPY cannot move below that RUN; what keeps
    the dependencies cached is installing them first, from a requirements file."""
    files = {
        "pyproject.toml": "[project]\nname = 'nomad'\nversion = '1.0'\ndependencies = ['flask==3.0.3']\n",
        "nomad/__init__.py": "",
        "nomad/app.py": "import flask\n",
    }
    dockerfile = """
        FROM python:3.12-slim
        WORKDIR /app
        COPY . /app
        RUN pip install --no-cache-dir . && pip install --no-cache-dir gunicorn==23.0.0
        CMD ["gunicorn", "nomad.app:app"]
    """
    got, findings = lint(repo, dockerfile, "LAY002", files)
    # the advice is to install the project's dependencies before the code, not to move the COPY
    assert got == [("LAY002", "Dockerfile", 3)] and "`RUN pip install --no-deps .`" in findings[0].fix
    assert "Move this COPY below" not in findings[0].fix
    # dependencies installed from a compiled requirements file first: only the project reinstalls
    first = dockerfile.replace(
        "COPY . /app",
        "COPY requirements.txt .\n        RUN pip install --no-cache-dir -r requirements.txt\n        COPY . /app",
    )
    assert lint(repo, first, "LAY002", {**files, "requirements.txt": "flask==3.0.3\n"})[0] == []
    # the project with an extra of its own (`.[inference]`) is the project as well
    extra = dockerfile.replace("pip install --no-cache-dir . &&", 'pip install --no-cache-dir ".[inference]" &&')
    got, findings = lint(repo, extra, "LAY002", files)
    assert got == [("LAY002", "Dockerfile", 3)] and "`RUN pip install --no-deps .[inference]`" in findings[0].fix


@pytest.mark.parametrize(
    "first_install, second_install",
    [
        # the manifest alone with a stub package: the dependencies are installed from it...
        (
            "RUN mkdir -p src/nomad && touch src/nomad/__init__.py && uv pip install --no-cache .",
            "uv pip install --no-cache .",
        ),
        # ...or compiled elsewhere: the project goes on top without them
        ("", "uv pip install --no-cache --no-deps ."),
    ],
)
def test_a_project_whose_dependencies_are_in_place_reinstalls_only_itself(repo, first_install, second_install):
    """An install of the project after its dependencies were installed from the manifest
    alone (a stub package), or one with `--no-deps`, reinstalls only the project when the
    code changes: the layer of the dependencies stays cached."""
    files = {
        "pyproject.toml": "[project]\nname = 'nomad'\nversion = '1.0'\ndependencies = ['discord.py==2.4.0']\n",
        "src/nomad/__init__.py": "",
        "src/nomad/bot.py": "import discord\n",
    }
    dockerfile = f"""
        FROM python:3.12-slim
        COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /bin/
        ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
        RUN uv venv /opt/venv
        WORKDIR /app
        COPY pyproject.toml .
        {first_install}
        COPY src/ src/
        RUN {second_install}
        CMD ["python", "-m", "nomad.bot"]
    """
    assert lint(repo, dockerfile, "LAY002", files)[0] == []
    # with neither, every code change reinstalls discord.py
    busting = dockerfile.replace(first_install, "").replace("--no-deps ", "")
    assert lint(repo, busting, "LAY002", files)[0] == [("LAY002", "Dockerfile", 8)]


def test_the_package_folder_copied_before_the_manifest_and_the_project_install(repo):
    """`COPY app /app/app`, then `COPY pyproject.toml .` and `pip install .`: the code layer
    sits below the install as surely as `COPY . .` would."""
    files = {
        "pyproject.toml": "[project]\nname = 'voice'\nversion = '1.0'\ndependencies = ['fastapi==0.115.6']\n",
        "app/__init__.py": "",
        "app/main.py": "import fastapi\n",
    }
    dockerfile = """
        FROM python:3.11-slim
        WORKDIR /app
        COPY app /app/app
        COPY pyproject.toml .
        RUN pip install --no-cache-dir .
        CMD ["uvicorn", "app.main:app"]
    """
    got, findings = lint(repo, dockerfile, "LAY002", files)
    assert got == [("LAY002", "Dockerfile", 3)]
    assert "brings in the project's code before `pip install .` on line 5" in findings[0].message
    # dependencies installed first from a compiled requirements file: only the project reinstalls
    first = dockerfile.replace(
        "COPY app /app/app",
        "COPY requirements.txt .\n        RUN pip install --no-cache-dir -r requirements.txt\n        COPY app /app/app",
    )
    assert lint(repo, first, "LAY002", {**files, "requirements.txt": "fastapi==0.115.6\n"})[0] == []


def test_whole_tree_copied_before_pipenv_install(repo):
    files = {
        "Pipfile": '[packages]\nflask = "==3.0.3"\n',
        "Pipfile.lock": '{"default": {"flask": {"version": "==3.0.3"}}, "develop": {}}',
        "app.py": "import flask\n",
    }
    dockerfile = """
        FROM python:3.12-slim
        WORKDIR /app
        RUN pip install --no-cache-dir pipenv==2023.12.1
        COPY . .
        RUN pipenv install --system --deploy
        CMD ["python", "app.py"]
    """
    got, findings = lint(repo, dockerfile, "LAY002", files)
    assert got == [("LAY002", "Dockerfile", 4)]
    assert "before `pipenv install` on line 5" in findings[0].message
    assert "`COPY Pipfile Pipfile.lock ./`, then `pipenv install` as it is, then `COPY . .`" in findings[0].fix
    manifests_first = dockerfile.replace("COPY . .\n        RUN pipenv install --system --deploy", (
        "COPY Pipfile Pipfile.lock ./\n        RUN pipenv install --system --deploy\n        COPY . ."))  # fmt: skip
    assert lint(repo, manifests_first, "LAY002", files)[0] == []


def test_whole_tree_copied_before_pdm_install(repo):
    files = {
        "pyproject.toml": '[project]\nname = "site"\nversion = "1.0"\ndependencies = ["flask==3.0.3"]\n',
        "pdm.lock": '[metadata]\ngroups = ["default"]\n\n[[package]]\nname = "flask"\nversion = "3.0.3"\n',
        "app.py": "import flask\n",
    }
    dockerfile = """
        FROM python:3.12-slim
        WORKDIR /app
        RUN pip install --no-cache-dir pdm==2.22.3
        COPY . .
        RUN pdm install --prod
        CMD ["pdm", "run", "python", "app.py"]
    """
    got, findings = lint(repo, dockerfile, "LAY002", files)
    assert got == [("LAY002", "Dockerfile", 4)]
    assert "before `pdm install` on line 5" in findings[0].message
    assert "`COPY pyproject.toml pdm.lock ./`, then `RUN pdm install --frozen-lockfile --no-self`" in findings[0].fix
    manifests_first = dockerfile.replace("COPY . .\n        RUN pdm install --prod", (
        "COPY pyproject.toml pdm.lock ./\n        RUN pdm install --prod --no-self\n        COPY . ."))  # fmt: skip
    assert lint(repo, manifests_first, "LAY002", files)[0] == []


def test_manifests_first_then_the_project_is_fine(repo):
    dockerfile = """
        FROM python:3.12-slim
        WORKDIR /app
        RUN pip install --no-cache-dir uv
        COPY pyproject.toml uv.lock ./
        RUN uv sync --frozen --no-install-project
        COPY . .
        RUN uv sync --frozen
    """
    assert lint(repo, dockerfile, "LAY002", UV_PROJECT)[0] == []


def test_manifests_copied_again_after_the_whole_tree_do_not_save_the_install(repo):
    # `COPY . /app` already changed the layers below the install: copying the manifests
    # once more does not bring the cache back
    dockerfile = """
        FROM python:3.12-slim
        WORKDIR /app
        RUN pip install --no-cache-dir poetry==1.8.3 && poetry config virtualenvs.create false
        COPY . /app
        COPY pyproject.toml poetry.lock ./
        RUN poetry install --no-root --only main
        CMD ["python", "-m", "shop.main"]
    """
    got, findings = lint(repo, dockerfile, "LAY002", UV_PROJECT)
    assert got == [("LAY002", "Dockerfile", 4)] and "`poetry install` on line 6" in findings[0].message
    pip = {"requirements.txt": "fastapi==0.115.6\n", "shop/__init__.py": "", "shop/main.py": "import fastapi\n"}
    dockerfile = """
        FROM python:3.12-slim
        WORKDIR /app
        COPY . /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
    """
    got, findings = lint(repo, dockerfile, "LAY002", pip)
    assert got == [("LAY002", "Dockerfile", 3)] and "`pip install -r requirements.txt` on line 5" in findings[0].message
    # the whole tree after the install is the right order
    dockerfile = dockerfile.replace("COPY . /app\n        COPY requirements.txt .", "COPY requirements.txt .")
    assert lint(repo, dockerfile + "        COPY . /app\n", "LAY002", pip)[0] == []


# -- LAY003 ---------------------------------------------------------------------------------------


def test_torch_reinstalled_from_the_cpu_index(repo):
    dockerfile = """
        FROM python:3.11-slim
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        RUN pip install --no-cache-dir torch==2.3.1+cpu torchvision==0.18.1+cpu \\
            --index-url https://download.pytorch.org/whl/cpu
        RUN pip install --no-cache-dir --force-reinstall numpy==1.26.4
    """
    files = {"requirements.txt": "torch==2.3.1\ntorchvision==0.18.1\nnumpy==1.26.4\n"}
    got, findings = lint(repo, dockerfile, "LAY003", files)
    assert got == [("LAY003", "Dockerfile", 4), ("LAY003", "Dockerfile", 4), ("LAY003", "Dockerfile", 6)]
    assert "`torch`" in findings[0].message and "download.pytorch.org" in findings[0].message
    assert findings[0].related[0].span.line == 3


def test_satisfied_or_repeated_requirements_are_fine(repo):
    dockerfile = """
        FROM python:3.11-slim AS builder
        RUN pip install --no-cache-dir numpy==1.26.4
        FROM python:3.11-slim
        RUN pip install --no-cache-dir --upgrade pip
        COPY requirements.txt .
        RUN pip install --no-cache-dir torch==2.3.1+cpu --index-url https://download.pytorch.org/whl/cpu
        RUN pip install --no-cache-dir -r requirements.txt
        RUN pip install --no-cache-dir pip==24.1 numpy==2.0.0
        RUN pip install --no-cache-dir "fastapi>=0.110"
    """
    files = {"requirements.txt": "torch==2.3.1\nfastapi==0.111.0\n"}
    assert lint(repo, dockerfile, "LAY003", files)[0] == []


def test_a_pin_from_the_cpu_index_is_its_local_build(repo):
    """`torch==2.4.1` from PyTorch's CPU index installs 2.4.1+cpu (the index holds only local
    builds of torch, torchvision and torchaudio): a later `==2.4.1+cpu` is satisfied."""
    dockerfile = """
        FROM python:3.10-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.4.1 && \\
            pip install --no-cache-dir -r requirements.txt
        COPY main.py .
        CMD ["python", "main.py"]
    """
    files = {"requirements.txt": "torch==2.4.1+cpu\nnumpy==1.26.4\n", "main.py": "import torch\n"}
    assert lint(repo, dockerfile, "LAY003", files)[0] == []
    # from PyPI, `torch==2.4.1` is the CUDA build: the CPU pin replaces it, in the same RUN
    got, findings = lint(
        repo, dockerfile.replace("--index-url https://download.pytorch.org/whl/cpu ", ""), "LAY003", files
    )
    assert got == [("LAY003", "Dockerfile", 5)]
    assert "installed twice in this RUN" in findings[0].message
    assert "earlier layer" not in findings[0].message
    # numpy mirrored on that index keeps its PyPI version: a later other pin still replaces it
    cpu_numpy = dockerfile.replace("torch==2.4.1 &&", "torch==2.4.1 numpy==1.26.3 &&")
    got, findings = lint(repo, cpu_numpy, "LAY003", files)
    assert got == [("LAY003", "Dockerfile", 5)] and "`numpy`" in findings[0].message


def test_torchvision_pin_replaces_the_newest_torch_an_earlier_layer_installed(repo):
    dockerfile = """
        FROM python:3.11 AS build
        WORKDIR /build
        COPY requirements.txt .
        RUN pip3 install torch torchvision torchaudio
        RUN pip install -r requirements.txt
        COPY . .
        FROM python:3.11-slim
        COPY --from=build /build /app
        CMD ["python", "/app/app.py"]
    """
    files = {"requirements.txt": "flask==3.0.3\ntorchvision==0.17.0\n", "app.py": "import flask\n"}
    got, findings = lint(repo, dockerfile, "LAY003", files)
    assert got == [("LAY003", "Dockerfile", 5)]
    message = findings[0].message
    assert "`torchvision==0.17.0` (requirements.txt:2) requires torch==2.2.0" in message
    assert "line 4" in message and "this stage does not ship" in message
    assert findings[0].related[0].span.line == 4


def test_exact_torch_then_a_torchvision_built_for_another_torch(repo):
    dockerfile = """
        FROM python:3.10-slim
        RUN pip install --no-cache-dir torch==2.3.1 --index-url https://download.pytorch.org/whl/cpu
        RUN pip install --no-cache-dir torchvision==0.17.2
    """
    got, findings = lint(repo, dockerfile, "LAY003", {})
    assert got == [("LAY003", "Dockerfile", 3)]
    assert "replaces the torch 2.3.1 that line 2 installed" in findings[0].message
    assert "stay in that earlier layer" in findings[0].message


def test_torch_family_that_already_matches_is_not_reinstalled(repo):
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir torch==2.3.1+cpu --index-url https://download.pytorch.org/whl/cpu
        RUN pip install --no-cache-dir torchvision==0.18.1 torchaudio==2.3.1 xformers>=0.0.27
        RUN pip install --no-cache-dir --no-deps torchvision==0.17.0
        FROM python:3.11-slim AS other
        RUN pip install --no-cache-dir torch
        RUN pip install --no-cache-dir "torchvision>=0.18"
    """
    assert lint(repo, dockerfile, "LAY003", {})[0] == []


def test_an_unpinned_install_then_an_older_pin_stores_both_releases(repo):
    """pip takes the newest selenium for the bare name; the requirements' older pin then
    replaces it in a later layer, and the first copy stays in the earlier one."""
    dockerfile = """
        FROM python:3.12-slim
        RUN pip install --no-cache-dir selenium
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY . .
        CMD ["python", "scrape.py"]
    """
    files = {"requirements.txt": "selenium==4.21.0\nrequests==2.32.3\n", "scrape.py": "import selenium\n"}
    got, findings = lint(repo, dockerfile, "LAY003", files)
    assert got == [("LAY003", "Dockerfile", 4)]
    newest = newest_version("selenium")
    assert f"`==4.21.0` instead of the newest release, {newest}" in findings[0].message
    assert findings[0].related[0].span.line == 2
    # the newest release pinned, a constraints file, or an unknown Python: nothing is replaced
    quiet = [
        files | {"requirements.txt": f"selenium=={newest}\n"},
        files,
        files,
    ]
    dockerfiles = [
        dockerfile,
        dockerfile.replace(
            "pip install --no-cache-dir selenium", "pip install --no-cache-dir -c requirements.txt selenium"
        ),
        dockerfile.replace("FROM python:3.12-slim", "FROM registry.example.com/base/python:latest"),
    ]
    for written, tree in zip(dockerfiles, quiet, strict=True):
        assert lint(repo, written, "LAY003", tree)[0] == [], written


def test_unknown_python_keeps_an_unpinned_torch_undecided(repo):
    # On Python 3.8 the newest torch is 2.4.1, which torchvision 0.19.1 accepts: with the
    # Python unknown, pip may not replace anything.
    dockerfile = """
        FROM example.com/ml/base:latest
        RUN pip install --no-cache-dir torch
        RUN pip install --no-cache-dir torchvision==0.19.1
    """
    assert lint(repo, dockerfile, "LAY003", {})[0] == []


# -- LAY004, LAY005 ---------------------------------------------------------------------------------


def test_update_upgrade_and_install_in_separate_layers(repo):
    dockerfile = """
        FROM python:3.11.5
        RUN pip install --no-cache-dir torchvision==0.18.1
        RUN apt-get update
        RUN apt-get upgrade
        RUN apt-get install -y ffmpeg
        RUN apt update -qq
        RUN DEBIAN_FRONTEND=noninteractive apt-get dist-upgrade --no-install-recommends
    """
    got, findings = lint(repo, dockerfile, "LAY004")
    assert got == [("LAY004", "Dockerfile", 3), ("LAY004", "Dockerfile", 6)]
    assert "`apt-get upgrade` on line 4 and `apt-get install` on line 5 use its" in findings[0].message
    assert [related.span.line for related in findings[0].related] == [4, 5]
    got, findings = lint(repo, dockerfile, "LAY005")
    assert got == [("LAY005", "Dockerfile", 4), ("LAY005", "Dockerfile", 7)]
    assert "`apt-get dist-upgrade` without `-y`" in findings[1].message


def test_apt_steps_that_update_in_the_same_run_or_answer_yes(repo):
    dockerfile = """
        FROM debian:bookworm-slim AS tools
        RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
        RUN apt-get update && apt-get upgrade -y
        RUN apt-get update \\
            && apt-get --assume-yes full-upgrade \\
            && apt-get -o APT::Get::Assume-Yes=true dist-upgrade \\
            && apt-get -qq upgrade && yes | apt-get upgrade && apt-get -s dist-upgrade
        RUN apt-get update
        FROM python:3.11-slim
        RUN echo 'APT::Get::Assume-Yes "true";' > /etc/apt/apt.conf.d/90yes
        RUN apt-get update && apt-get upgrade && rm -rf /var/lib/apt/lists/*
        COPY --from=tools /usr/bin/curl /usr/bin/curl
    """
    assert lint(repo, dockerfile, "LAY004")[0] == []
    assert lint(repo, dockerfile, "LAY005")[0] == []


def test_apt_in_a_stage_the_build_never_runs_is_not_reported(repo):
    dockerfile = """
        FROM debian:bookworm-slim AS unused
        RUN apt-get update
        RUN apt-get upgrade
        FROM python:3.11-slim
        CMD ["python"]
    """
    assert lint(repo, dockerfile, "LAY004")[0] == []
    assert lint(repo, dockerfile, "LAY005")[0] == []


# -- LAY006 -----------------------------------------------------------------------------------------


def test_model_downloads_after_the_code_is_copied(repo):
    dockerfile = """
        FROM python:3.11-slim AS base
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY src/ src/
        FROM base
        RUN python -m spacy download en_core_web_sm \\
            && python -c "from transformers import AutoModel; AutoModel.from_pretrained('bert-base-uncased')"
        CMD ["python", "-m", "src.app"]
    """
    files = {
        "requirements.txt": "spacy==3.7.5\ntransformers==4.44.2\n",
        "src/app.py": "import spacy\n",
        "src/nlp.py": "import transformers\n",
    }
    got, findings = lint(repo, dockerfile, "LAY006", files)
    assert got == [("LAY006", "Dockerfile", 7)]
    assert "line 5" in findings[0].message and findings[0].related[0].span.line == 5


def test_model_downloads_before_the_code_or_after_data_only_copies(repo):
    dockerfile = """
        FROM python:3.11-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY config/ config/
        RUN python -m spacy download en_core_web_sm
        COPY . .
        RUN python -m compileall -q src
        CMD ["python", "-m", "src.app"]
    """
    files = {
        "requirements.txt": "spacy==3.7.5\n",
        "config/settings.yaml": "a: 1\n",
        "config/labels.yaml": "b: 2\n",
        "src/app.py": "import spacy\n",
    }
    assert lint(repo, dockerfile, "LAY006", files)[0] == []


def test_the_download_script_folder_copied_first_and_the_code_after(repo):
    """`COPY scripts/ scripts/` brings the script the download runs; the service's code
    comes in after the download: the order LAY006 asks for."""
    dockerfile = """
        FROM python:3.10-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY scripts/ scripts/
        RUN python3 scripts/download_model.py
        COPY detector/ detector/
        CMD ["uvicorn", "detector.main:app", "--host", "0.0.0.0"]
    """
    files = {
        "requirements.txt": "huggingface-hub==0.26.5\nfastapi==0.115.6\nuvicorn==0.32.1\n",
        "scripts/__init__.py": "",
        "scripts/download_model.py": "from huggingface_hub import snapshot_download\n\n"
        'snapshot_download("hustvl/yolos-tiny", local_dir="/model")\n',
        "scripts/download_pictures.py": "import urllib.request\n",
        "detector/__init__.py": "",
        "detector/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    }
    assert lint(repo, dockerfile, "LAY006", files)[0] == []
    # the same download after the service's own code is copied re-runs on every change
    after = dockerfile.replace("COPY scripts/ scripts/\n", "COPY scripts/ scripts/\nCOPY detector/ detector/\n")
    assert lint(repo, after, "LAY006", files)[0] == [("LAY006", "Dockerfile", 7)]


# -- LAY008 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("second", "flagged"),
    [
        ("COPY --from=builder /app/.venv /app/.venv", True),
        ("COPY --from=builder /app/.venv/ /app/.venv/", True),
        ("COPY --from=builder /app/.venv /opt/venv", False),  # another place: a second environment
        ("COPY --from=builder /opt/models /app/models", False),  # not inside the first copy's source
        ("COPY --from=other /app/.venv /app/.venv", False),  # another stage's files
        ("COPY --from=builder /app/.venv/lib/* /app/.venv/lib/", False),  # a glob: what it takes is unknown
    ],
)
def test_a_folder_a_copy_from_a_stage_already_brought_copied_again(repo, second, flagged):
    dockerfile = f"""
        FROM python:3.12-slim AS builder
        WORKDIR /app
        RUN python -m venv .venv && .venv/bin/pip install --no-cache-dir fastapi==0.115.6
        FROM python:3.12-slim AS other
        RUN python -m venv /app/.venv
        FROM python:3.12-slim
        COPY --from=builder /app /app
        {second}
        CMD ["/app/.venv/bin/python", "-m", "http.server"]
    """
    assert lint(repo, dockerfile, "LAY008")[0] == ([("LAY008", "Dockerfile", 8)] if flagged else [])


# -- LAY007 -----------------------------------------------------------------------------------------


def test_recursive_chmod_of_pulled_weights_and_chown_of_a_copied_tree(repo):
    dockerfile = """
        FROM amazon/aws-lambda-python
        ARG MODEL_DIR=./models
        RUN mkdir $MODEL_DIR
        COPY ./ ./
        RUN pip install --no-cache-dir "dvc[s3]==3.51.2"
        RUN dvc pull dvcfiles/trained_model.dvc
        RUN chmod -R 0755 $MODEL_DIR
        RUN useradd app && chown -fR app:app data
        CMD ["lambda_handler.handler"]
    """
    files = {
        "dvcfiles/trained_model.dvc": "wdir: ../models\nouts:\n- md5: 02f3b0034769ba45d758ad1bb9de33a3\n"
        "  size: 17562590\n  path: model.onnx\n",
        "lambda_handler.py": "def handler(event, context):\n    return {}\n",
        "data/embeddings.npy": b"\0" * 1_200_000,
    }
    got, findings = lint(repo, dockerfile, "LAY007", files)
    assert got == [("LAY007", "Dockerfile", 7), ("LAY007", "Dockerfile", 8)]
    assert "under `./models`" in findings[0].message and "`dvc pull` on line 6" in findings[0].message
    assert findings[0].size_bytes == 17562590
    assert "`COPY` on line 4" in findings[1].message and findings[1].size_bytes == 1_200_000


def test_permissions_set_where_files_are_added_or_small_trees_are_fine(repo):
    dockerfile = """
        FROM python:3.11-slim
        RUN useradd --create-home app
        WORKDIR /app
        COPY . /app
        RUN chown -R app:app /app
        RUN git clone --depth 1 https://github.com/example/tools /opt/tools && chmod -R a+rX /opt/tools
        COPY --chown=app:app --chmod=755 scripts/ /opt/scripts/
        RUN chmod 755 /opt/scripts/run.sh && chown -R app /home/app /var/log
        USER app
    """
    files = {"app.py": "print('hi')\n", "scripts/run.sh": "#!/bin/sh\n"}
    assert lint(repo, dockerfile, "LAY007", files)[0] == []


def test_one_finding_when_the_same_copy_busts_the_install_and_the_download(repo):
    dockerfile = """
        FROM python:3.8-slim
        WORKDIR /app
        COPY . .
        RUN pip install --no-cache-dir -r requirements.txt
        RUN python3 -m spacy download en_core_web_md
    """
    files = {"requirements.txt": "spacy==3.7.5\n", "app.py": "import spacy\n"}
    root = repo({"Dockerfile": dockerfile, **files})
    result = run_lint(root, select=["LAY002", "LAY006"])
    assert found(result) == [("LAY002", "Dockerfile", 3)]
    assert "and the model download on line 5" in result.findings[0].message


def test_a_script_the_build_runs_before_the_install_is_no_code_that_busts_it(repo):
    """`COPY model_download.py .` then `RUN python model_download.py`: a step of the build
    (the model download), not the service's code; the code comes after the install."""
    dockerfile = """
        FROM python:3.10-slim
        RUN pip install --no-cache-dir huggingface_hub==0.26.2
        COPY model_download.py .
        RUN python model_download.py
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY . .
        CMD ["python3", "-u", "handler.py"]
    """
    files = {
        "model_download.py": "from huggingface_hub import snapshot_download\n\nsnapshot_download('org/sd15', local_dir='/models')\n",
        "requirements.txt": "diffusers==0.31.0\n",
        "handler.py": "import diffusers\n",
    }
    assert lint(repo, dockerfile, "LAY002", files)[0] == []
    # the service's own code copied before the install still busts it
    service_first = dockerfile.replace("COPY model_download.py .", "COPY model_download.py handler.py .")
    assert lint(repo, service_first, "LAY002", files)[0] == [("LAY002", "Dockerfile", 3)]
