"""GPU rules on small realistic repositories: a CPU FastAPI embedding service, a GPU
inference service, a multi-stage CPU build that does it right; exact lines, and the
correct variants that must stay quiet."""

from __future__ import annotations

from dockerlint.findings import human_size
from dockerlint.model.ml import torch_cuda_size
from tests.conftest import found, run_lint

CPU_SERVICE = """
    FROM python:3.11-slim
    WORKDIR /app
    COPY requirements.txt .
    RUN pip install --no-cache-dir -r requirements.txt
    COPY app/ ./app/
    CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]
"""


def lint(repo, files: dict[str, str], code: str, **config):
    root = repo(files)
    return found(run_lint(root, select=[code], **config), code)


def findings(repo, files: dict[str, str], code: str, **config):
    root = repo(files)
    return [finding for finding in run_lint(root, select=[code], **config).findings if finding.code == code]


# -- GPU001 ---------------------------------------------------------------------------------


def test_cpu_embedding_service_with_pypi_torch(repo):
    result = findings(
        repo,
        {
            "Dockerfile": CPU_SERVICE,
            "requirements.txt": """
                fastapi==0.115.6
                torch==2.5.1
                sentence-transformers==3.3.1
            """,
        },
        "GPU001",
    )
    assert [(f.path.name, f.span.line) for f in result] == [("Dockerfile", 4)]
    finding = result[0]
    size = torch_cuda_size()  # the nvidia-* wheels torch requires, from the package index
    assert size > 2_000_000_000 and finding.size_bytes == size
    assert "`torch==2.5.1`" in finding.message and f"~{human_size(size)} of CUDA libraries" in finding.message
    assert (
        "`RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.5.1`" in finding.fix
    )
    assert [(r.path.name, r.span.line) for r in finding.related] == [("requirements.txt", 2)]


def test_packages_that_pull_torch_are_reported(repo):
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir transformers==4.46.3
        RUN pip install --no-cache-dir "transformers[torch]==4.46.3"
        RUN pip install --no-cache-dir openai-whisper==20240930
    """
    # transformers alone does not require torch; with [torch] it does. Once torch is in
    # (line 3), whisper finds it installed.
    assert lint(repo, {"Dockerfile": dockerfile}, "GPU001") == [("GPU001", "Dockerfile", 3)]
    result = findings(repo, {"Dockerfile": dockerfile}, "GPU001")
    assert "requires torch" in result[0].message
    assert "--index-url https://download.pytorch.org/whl/cpu torch`" in result[0].fix


def test_cpu_index_in_every_place_is_fine(repo):
    dockerfile = """
        FROM python:3.11-slim AS one
        RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.5.1 torchvision==0.20.1
        FROM python:3.11-slim AS two
        ENV PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu
        RUN pip install --no-cache-dir torch==2.5.1
        FROM python:3.11-slim AS three
        RUN pip install uv==0.5.4 && uv pip install --system --torch-backend cpu torch==2.5.1
        FROM python:3.11-slim AS four
        RUN uv pip install --system --index https://download.pytorch.org/whl/cpu torch==2.5.1
        FROM python:3.11-slim AS five
        RUN pip install --no-cache-dir "torch==2.5.1+cpu" -f https://download.pytorch.org/whl/torch_stable.html
        FROM python:3.11-slim
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        RUN pip install --no-cache-dir "torch; sys_platform == 'darwin'"
        COPY --from=one /usr/local/lib/python3.11/site-packages /usr/local/lib/python3.11/site-packages
        COPY --from=two /usr/local/lib/python3.11/site-packages /usr/local/lib/python3.11/site-packages
        COPY --from=three /usr/local/lib/python3.11/site-packages /usr/local/lib/python3.11/site-packages
        COPY --from=four /usr/local/lib/python3.11/site-packages /usr/local/lib/python3.11/site-packages
        COPY --from=five /usr/local/lib/python3.11/site-packages /usr/local/lib/python3.11/site-packages
    """
    requirements = """
        --extra-index-url https://download.pytorch.org/whl/cpu
        torch==2.5.1
        sentence-transformers==3.3.1
    """
    assert lint(repo, {"Dockerfile": dockerfile, "requirements.txt": requirements}, "GPU001") == []


def test_multi_stage_cpu_build_done_right(repo):
    """CPU torch first in the builder, then the requirements; the final stage copies the venv."""
    dockerfile = """
        FROM python:3.11 AS builder
        RUN python -m venv /opt/venv
        ENV PATH=/opt/venv/bin:$PATH
        RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.5.1
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt

        FROM python:3.11-slim
        COPY --from=builder /opt/venv /opt/venv
        ENV PATH=/opt/venv/bin:$PATH
        COPY app/ /srv/app/
        CMD ["uvicorn", "app.main:app"]
    """
    requirements = """
        torch==2.5.1
        sentence-transformers==3.3.1
    """
    assert lint(repo, {"Dockerfile": dockerfile, "requirements.txt": requirements}, "GPU001") == []
    # Without the CPU line, the builder's install is what ships through the venv.
    broken = dockerfile.replace(
        "RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.5.1",
        "RUN echo no torch yet",
    )
    assert lint(repo, {"Dockerfile": broken, "requirements.txt": requirements}, "GPU001") == [
        ("GPU001", "Dockerfile", 6)
    ]


def test_a_stage_that_only_hands_over_files_is_not_the_image(repo):
    dockerfile = """
        FROM python:3.11-slim AS export
        RUN pip install --no-cache-dir torch==2.5.1
        COPY export.py .
        RUN python export.py --output /models/model.onnx

        FROM python:3.11-slim
        RUN pip install --no-cache-dir onnxruntime==1.18.0
        COPY --from=export /models /models
    """
    assert lint(repo, {"Dockerfile": dockerfile, "export.py": "print()\n"}, "GPU001") == []


def test_gpu_signals_and_platform(repo):
    pypi_torch = "RUN pip install --no-cache-dir torch==2.5.1\n"
    assert lint(repo, {"Dockerfile": "FROM nvidia/cuda:12.4.1-base-ubuntu22.04\n" + pypi_torch}, "GPU001") == []
    assert lint(repo, {"Dockerfile": "FROM --platform=linux/arm64 python:3.11-slim\n" + pypi_torch}, "GPU001") == []
    slim = {"Dockerfile": "FROM python:3.11-slim\n" + pypi_torch}
    assert lint(repo, slim, "GPU001", gpu={"Dockerfile": True}) == []
    compose = """
        services:
          worker:
            build: .
            gpus: all
    """
    assert lint(repo, {**slim, "docker-compose.yml": compose}, "GPU001") == []


def test_config_gpu_false_wins_over_a_cuda_base(repo):
    files = {"Dockerfile": "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\nRUN pip3 install torch==2.5.1\n"}
    assert lint(repo, files, "GPU001") == []
    assert lint(repo, files, "GPU001", gpu={"Dockerfile": False}) == [("GPU001", "Dockerfile", 2)]


def test_cuda_index_on_a_cpu_image(repo):
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cu121 torch==2.3.1
        """
    }
    result = findings(repo, files, "GPU001")
    assert [f.span.line for f in result] == [2]
    assert "CUDA 12.1 build of torch" in result[0].message


# -- GPU002 ---------------------------------------------------------------------------------


def test_gpu_only_variants_on_a_cpu_image(repo):
    requirements = """
        fastapi==0.115.6
        onnxruntime-gpu==1.18.0
        tensorflow[and-cuda]==2.17.0
        tensorflow==2.17.0
        jax[cuda12]==0.4.35
        jax[cpu]==0.4.35
        nvidia-cublas-cu12==12.4.5.8
        cupy-cuda12x==13.3.0
    """
    files = {"Dockerfile": CPU_SERVICE, "requirements.txt": requirements}
    assert lint(repo, files, "GPU002") == [("GPU002", "requirements.txt", line) for line in (2, 3, 5, 7, 8)]
    first = findings(repo, files, "GPU002")[0]
    assert "`onnxruntime-gpu==1.18.0`" in first.message and "`onnxruntime`" in first.fix


def test_gpu_variants_with_a_gpu_are_fine(repo):
    dockerfile = """
        FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04
        RUN pip3 install --no-cache-dir onnxruntime-gpu==1.18.0 faiss-gpu-cu12==1.8.0.2
    """
    assert lint(repo, {"Dockerfile": dockerfile}, "GPU002") == []
    slim = {"Dockerfile": "FROM python:3.11-slim\nRUN pip install onnxruntime-gpu==1.18.0\n"}
    assert lint(repo, slim, "GPU002") == [("GPU002", "Dockerfile", 2)]
    assert lint(repo, slim, "GPU002", gpu={"Dockerfile": True}) == []


# -- GPU003 ---------------------------------------------------------------------------------


def test_devel_final_stage(repo):
    dockerfile = """
        ARG CUDA=12.4.1
        FROM nvidia/cuda:${CUDA}-cudnn-devel-ubuntu22.04
        RUN apt-get update && apt-get install -y --no-install-recommends python3-pip && rm -rf /var/lib/apt/lists/*
        COPY serve.py /app/serve.py
    """
    result = findings(repo, {"Dockerfile": dockerfile}, "GPU003")
    assert [(f.span.line, f.span.column) for f in result] == [(2, 6)]
    assert "`nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04`" in result[0].fix


def test_devel_is_fine_when_the_stage_compiles_or_only_builds(repo):
    compiles = """
        FROM nvidia/cuda:12.4.1-devel-ubuntu22.04
        ENV TORCH_CUDA_ARCH_LIST="8.0;8.6"
        RUN pip3 install --no-build-isolation flash-attn==2.6.3
    """
    builder = """
        FROM nvidia/cuda:12.4.1-devel-ubuntu22.04 AS build
        RUN nvcc -o /ops.so -shared ops.cu
        FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04
        COPY --from=build /ops.so /ops.so
    """
    assert lint(repo, {"Dockerfile": compiles}, "GPU003") == []
    assert lint(repo, {"Dockerfile": builder}, "GPU003") == []


# -- GPU004 / GPU005: a GPU inference service -------------------------------------------------


def test_gpu_inference_service_on_the_runtime_image(repo):
    dockerfile = """
        FROM nvidia/cuda:12.1.1-cudnn-runtime-ubuntu22.04
        RUN apt-get update && apt-get install -y --no-install-recommends python3-pip && rm -rf /var/lib/apt/lists/*
        COPY requirements.txt .
        RUN pip3 install --no-cache-dir -r requirements.txt
        CMD ["python3", "-m", "serve"]
    """
    requirements = """
        torch==2.5.1
        transformers==4.46.3
    """
    files = {"Dockerfile": dockerfile, "requirements.txt": requirements}
    assert lint(repo, files, "GPU004") == [("GPU004", "Dockerfile", 4)]
    # PyPI's torch 2.5 is built with CUDA 12.4: newer than the base's 12.1.
    result = findings(repo, files, "GPU005")
    assert [f.span.line for f in result] == [4]
    assert "CUDA 12.4" in result[0].message and "CUDA 12.1" in result[0].message
    assert lint(repo, files, "GPU001") == []


def test_cuda_versions_are_compared_conservatively(repo):
    def run(base: str, install: str) -> list:
        return lint(repo, {"Dockerfile": f"FROM {base}\nRUN {install}\n"}, "GPU005")

    cu121 = "pip3 install --index-url https://download.pytorch.org/whl/cu121 torch==2.3.1"
    assert run("nvidia/cuda:12.4.1-base-ubuntu22.04", cu121) == []  # older minor: compatible
    assert run("nvidia/cuda:11.8.0-base-ubuntu22.04", cu121) == [("GPU005", "Dockerfile", 2)]  # major
    assert run("nvidia/cuda:12.1.1-base-ubuntu22.04", "pip3 install torch") == []  # version unknown
    assert run("nvidia/cuda:12.4.1-base-ubuntu22.04", "pip3 install torch==2.5.1+cu124 -f x") == []
    # PyPI's default CUDA per release (knowledge/ml.toml): 2.10 is 12.8; 2.2 is unconfirmed.
    assert run("nvidia/cuda:12.4.1-base-ubuntu22.04", "pip3 install torch==2.10.0") == [("GPU005", "Dockerfile", 2)]
    assert run("nvidia/cuda:12.8.1-base-ubuntu22.04", "pip3 install torch==2.10.0") == []
    assert run("nvidia/cuda:11.8.0-base-ubuntu22.04", "pip3 install torch==2.2.2") == []
    assert run("nvidia/cuda:11.8.0-base-ubuntu22.04", "pip3 install torch==2.4.1") == [("GPU005", "Dockerfile", 2)]


def test_double_cuda_is_quiet_on_base_tags_and_torch_images(repo):
    def run(base: str, install: str, code: str = "GPU004") -> list:
        return lint(repo, {"Dockerfile": f"FROM {base}\nRUN {install}\n"}, code)

    assert run("nvidia/cuda:12.4.1-base-ubuntu22.04", "pip3 install torch==2.5.1") == []
    pytorch_image = "pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime"
    assert run(pytorch_image, "pip install sentence-transformers==3.3.1") == []
    assert run(pytorch_image, "pip install sentence-transformers==3.3.1", "GPU005") == []
    cpu_torch = "pip3 install --index-url https://download.pytorch.org/whl/cpu torch"
    assert run("nvidia/cuda:12.4.1-runtime-ubuntu22.04", cpu_torch) == []


# -- GPU001: torch from a local project's pyproject.toml -----------------------------------

PROJECT = """
    [project]
    name = "embedder"
    version = "0.3.0"
    dependencies = [
        "fastapi>=0.115",
        "sentence-transformers>=3.3",
    ]

    [project.optional-dependencies]
    rerank = ["torch>=2.4"]
    dev = ["pytest>=8"]
"""

UV_CPU = """
    [project]
    name = "embedder"
    version = "0.3.0"
    dependencies = ["fastapi>=0.115", "torch==2.5.1"]

    [[tool.uv.index]]
    name = "pytorch-cpu"
    url = "https://download.pytorch.org/whl/cpu"
    explicit = true

    [tool.uv.sources]
    torch = [{ index = "pytorch-cpu", marker = "sys_platform == 'linux'" }]
"""


def test_torch_from_a_local_project_is_reported_at_the_install_line(repo):
    dockerfile = """
        FROM python:3.12-slim
        WORKDIR /app
        COPY pyproject.toml README.md ./
        COPY src/ src/
        RUN pip install --no-cache-dir .
    """
    result = findings(repo, {"Dockerfile": dockerfile, "pyproject.toml": PROJECT}, "GPU001")
    assert [(f.path.name, f.span.line) for f in result] == [("Dockerfile", 5)]
    assert "`sentence-transformers>=3.3` requires torch" in result[0].message
    assert [(r.path.name, r.span.line) for r in result[0].related] == [("pyproject.toml", 6)]


def test_extras_of_a_local_project_decide(repo):
    project = PROJECT.replace('"sentence-transformers>=3.3",', '"numpy>=2",')

    def run(install: str) -> list:
        dockerfile = f"FROM python:3.12-slim\nWORKDIR /srv\nCOPY . .\nRUN {install}\n"
        return findings(repo, {"Dockerfile": dockerfile, "pyproject.toml": project}, "GPU001")

    assert run("pip install --no-cache-dir .") == []  # torch only in the `rerank` extra
    assert run("pip install --no-cache-dir -e .[dev]") == []
    [finding] = run('pip install --no-cache-dir -e ".[rerank]"')
    assert finding.span.line == 4 and "`torch>=2.4` comes from the default index" in finding.message
    assert [(r.path.name, r.span.line) for r in finding.related] == [("pyproject.toml", 10)]
    assert [f.span.line for f in run("uv sync --frozen --extra rerank")] == [4]
    assert [f.span.line for f in run("uv sync --all-extras")] == [4]
    assert run("uv sync --frozen --no-dev") == []


def test_uv_index_settings_give_cpu_torch_to_uv_only(repo):
    def run(install: str, project: str = UV_CPU) -> list:
        dockerfile = f"FROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\nRUN {install}\n"
        files = {"Dockerfile": dockerfile, "pyproject.toml": project, "uv.lock": "version = 1\n"}
        return lint(repo, files, "GPU001")

    assert run("uv sync --frozen --no-dev") == []
    assert run("uv pip install --system .") == []
    assert run("uv sync --project /app --locked") == []
    # pip reads no [tool.uv]: PyPI's CUDA torch.
    assert run("pip install --no-cache-dir .") == [("GPU001", "Dockerfile", 4)]
    assert run("uv sync --no-sources") == [("GPU001", "Dockerfile", 4)]
    # An explicit index serves only the packages pinned to it.
    no_sources = UV_CPU.split("[tool.uv.sources]")[0]
    assert run("uv sync", no_sources) == [("GPU001", "Dockerfile", 4)]
    # A non-explicit index is searched before PyPI.
    assert run("uv sync", no_sources.replace("explicit = true", "explicit = false")) == []
    # Without any uv settings, uv sync takes torch from PyPI.
    plain = UV_CPU.split("[[tool.uv.index]]")[0]
    assert run("uv sync --frozen", plain) == [("GPU001", "Dockerfile", 4)]


def test_cuda_index_in_tool_uv_names_the_cuda_version(repo):
    project = UV_CPU.replace("whl/cpu", "whl/cu121")
    dockerfile = "FROM nvidia/cuda:11.8.0-runtime-ubuntu22.04\nWORKDIR /app\nCOPY . .\nRUN uv sync --frozen\n"
    result = findings(repo, {"Dockerfile": dockerfile, "pyproject.toml": project}, "GPU005")
    assert [f.span.line for f in result] == [4] and "CUDA 12.1" in result[0].message
