"""GPU rules on small realistic repositories: a CPU FastAPI embedding service, a GPU
inference service, a multi-stage CPU build that does it right; exact lines, and the
correct variants that must stay quiet."""

from __future__ import annotations

import pytest

from dockerlint.findings import Severity, human_size
from dockerlint.knowledge import load
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


def test_an_unpinned_torch_brings_what_the_newest_release_requires(repo):
    requirements = "fastapi==0.115.6\ntorch\n"
    [finding] = findings(repo, {"Dockerfile": CPU_SERVICE, "requirements.txt": requirements}, "GPU001")
    size = torch_cuda_size()  # the nvidia-* wheels the newest torch requires, from the package index
    assert size > 3_000_000_000 and finding.size_bytes == size
    assert f"~{human_size(size)} of CUDA libraries" in finding.message


@pytest.mark.parametrize(
    "check",
    ['"cuda" if torch.cuda.is_available() else "cpu"', "torch.accelerator.current_accelerator() if "
     "torch.accelerator.is_available() else torch.device('cpu')"],
)  # fmt: skip
def test_code_that_takes_a_gpu_when_there_is_one_gets_the_cuda_torch_said_at_info(repo, check):
    """A detector that runs on a GPU when it has one: its CUDA torch is what it uses if the
    image is run with `--gpus`, which nothing here says. Said at info, with the CPU fix."""
    files = {
        "Dockerfile": CPU_SERVICE,
        "requirements.txt": "fastapi==0.115.6\ntorch==2.5.1\n",
        "app/__init__.py": "",
        "app/main.py": f"import torch\n\nDEVICE = {check}\n",
    }
    [finding] = findings(repo, files, "GPU001")
    assert finding.severity == Severity.INFO and finding.autofix is not None
    assert finding.message.endswith(
        "but the code uses a GPU when one is there, so if the image is run with one, keep CUDA torch"
    )
    files["app/main.py"] = "import torch\n\nDEVICE = 'cpu'\n"
    [finding] = findings(repo, files, "GPU001")
    assert finding.severity == Severity.WARNING and finding.autofix is not None


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
    size = load("ml")["torch"]["builds"]["2.5"]["nvidia"]  # the measured build of the release pinned
    assert finding.size_bytes == size
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


@pytest.mark.parametrize(
    "base",
    ["ultralytics/yolov5:latest-cpu", "ultralytics/ultralytics:8.3.3-python", "ultralytics/ultralytics:latest-cpu"],
)
def test_a_range_the_cpu_torch_of_an_ultralytics_base_satisfies_installs_nothing(repo, base):
    files = {
        "Dockerfile": CPU_SERVICE.replace("FROM python:3.11-slim", f"FROM {base}"),
        "requirements.txt": "torch>=1.8.0\ntorchvision>=0.9.0\nultralytics>=8.0.0\nfastapi==0.115.0\n",
        "app/main.py": "from fastapi import FastAPI\nfrom ultralytics import YOLO\n\napp = FastAPI()\nmodel = YOLO('best.pt')\n",
    }
    assert lint(repo, files, "GPU001") == []
    # the same requirements on a plain Python base take CUDA torch from PyPI
    files["Dockerfile"] = CPU_SERVICE
    assert lint(repo, files, "GPU001") == [("GPU001", "Dockerfile", 4)]


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


def test_a_rocm_or_xpu_build_of_torch_brings_no_cuda(repo):
    """AMD and Intel builds come from PyTorch's own indexes: a GPU build, but no CUDA
    libraries; what the project installs after it finds torch in place."""
    dockerfile = """
        FROM ubuntu:22.04
        RUN apt-get update && apt-get install -y --no-install-recommends python3-pip && rm -rf /var/lib/apt/lists/*
        WORKDIR /app
        COPY pyproject.toml .
        COPY app/ ./app/
        RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/rocm6.3 torch \\
            && pip install --no-cache-dir .
        CMD ["python3", "-m", "app.main"]
    """
    pyproject = """
        [project]
        name = "voice"
        version = "1.0"
        dependencies = ["resemblyzer==0.1.4", "fastapi==0.115.6"]
    """
    files = {"Dockerfile": dockerfile, "pyproject.toml": pyproject, "app/main.py": "import resemblyzer\n"}
    assert lint(repo, files, "GPU001") == []
    files["Dockerfile"] = dockerfile.replace("/whl/rocm6.3 torch", "/whl/xpu torch")
    assert lint(repo, files, "GPU001") == []
    files["Dockerfile"] = dockerfile.replace(
        "--index-url https://download.pytorch.org/whl/rocm6.3 torch", "torch==2.5.1+rocm6.2"
    )
    assert lint(repo, files, "GPU001") == []
    # the same command without the ROCm index takes CUDA torch from PyPI
    files["Dockerfile"] = dockerfile.replace("--index-url https://download.pytorch.org/whl/rocm6.3 ", "")
    assert lint(repo, files, "GPU001") == [("GPU001", "Dockerfile", 6)]


def test_a_spacy_transformer_pipeline_brings_torch_from_pypi(repo):
    """`spacy download en_core_web_trf` pip-installs the pipeline, whose runner requires
    torch: the default index's CUDA build, unless CPU torch is there first."""
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir spacy==3.8.2 flask==3.1.0
        RUN python -m spacy download en_core_web_sm
        RUN python -m spacy download en_core_web_trf
        COPY api.py .
        CMD ["python", "api.py"]
    """
    files = {"Dockerfile": dockerfile, "api.py": "import spacy\n\nnlp = spacy.load('en_core_web_trf')\n"}
    [finding] = findings(repo, files, "GPU001")
    assert finding.span.line == 4 and "`en_core_web_trf` requires torch" in finding.message
    files["Dockerfile"] = dockerfile.replace(
        "RUN python -m spacy download en_core_web_sm",
        "RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.5.1",
    )
    assert lint(repo, files, "GPU001") == []
    files["Dockerfile"] = dockerfile.replace("RUN python -m spacy download en_core_web_trf\n", "")
    assert lint(repo, files, "GPU001") == []


def test_torch_brought_through_an_extra_one_package_asks_of_another(repo):
    """docling requires `docling-slim[standard]`, whose standard extra brings torch: the
    extras asked along the way count, not only those of the first step."""
    files = {"Dockerfile": CPU_SERVICE, "requirements.txt": "fastapi==0.115.6\ndocling\n"}
    [finding] = findings(repo, files, "GPU001")
    assert finding.span.line == 4 and "`docling` requires torch" in finding.message
    files["requirements.txt"] = (
        "--extra-index-url https://download.pytorch.org/whl/cpu\ntorch==2.8.0+cpu\n" + (files["requirements.txt"])
    )
    assert lint(repo, files, "GPU001") == []


def test_torch_the_lock_file_brings_through_a_dependency(repo):
    """The lock, not the index, says what the pinned releases require: `acme-ocr` 0.4.1
    required torch when the lock was made, so `uv sync` installs CUDA torch from PyPI."""
    lock = """
        version = 1
        requires-python = ">=3.11"

        [[package]]
        name = "rag"
        version = "0.1.0"
        source = { virtual = "." }
        dependencies = [{ name = "acme-ocr" }, { name = "fastapi" }]

        [[package]]
        name = "acme-ocr"
        version = "0.4.1"
        source = { registry = "https://pypi.org/simple" }
        dependencies = [{ name = "acme-layout" }]

        [[package]]
        name = "acme-layout"
        version = "1.2.0"
        source = { registry = "https://pypi.org/simple" }
        dependencies = [{ name = "torch" }]

        [[package]]
        name = "torch"
        version = "2.7.1"
        source = { registry = "https://pypi.org/simple" }

        [[package]]
        name = "fastapi"
        version = "0.115.6"
        source = { registry = "https://pypi.org/simple" }
    """
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /bin/
            WORKDIR /app
            COPY pyproject.toml uv.lock ./
            RUN uv sync --locked --no-install-project
            COPY . .
            CMD ["/app/.venv/bin/uvicorn", "rag.api:app"]
        """,
        "pyproject.toml": "[project]\nname = 'rag'\nversion = '0.1.0'\ndependencies = ['acme-ocr>=0.4', 'fastapi==0.115.6']\n",
        "uv.lock": lock,
        "rag/__init__.py": "",
        "rag/api.py": "import acme_ocr\nfrom fastapi import FastAPI\n\napp = FastAPI()\n",
    }
    [finding] = findings(repo, files, "GPU001")
    assert finding.span.line == 5 and "`acme-ocr>=0.4` requires torch" in finding.message and "2.7.1" in finding.message
    files["uv.lock"] = lock.replace('dependencies = [{ name = "torch" }]', "")
    assert lint(repo, files, "GPU001") == []


def test_a_gpu_only_package_a_gpu_image_shares_with_a_cpu_one_is_said_by_neither(repo):
    """requirements.txt feeds the production image, which compose runs on a GPU, and a CPU
    test image: onnxruntime-gpu is what production needs, so the file's line stays."""
    compose = """
        services:
          api:
            build: .
            deploy:
              resources:
                reservations:
                  devices:
                    - capabilities: [gpu]
          tests:
            build:
              context: .
              dockerfile: Dockerfile.test
    """
    install = "COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY app.py .\n"
    files = {
        "Dockerfile": "FROM python:3.11-slim\n" + install + 'CMD ["python", "app.py"]\n',
        "Dockerfile.test": "FROM python:3.11-slim\n" + install + "RUN pip install --no-cache-dir pytest==8.3.4\n"
        'CMD ["pytest"]\n',
        "requirements.txt": "fastapi==0.115.6\nonnxruntime-gpu==1.20.1\n",
        "app.py": "import onnxruntime\n\nsession = onnxruntime.InferenceSession('m.onnx', providers=['CUDAExecutionProvider'])\n",
        "compose.yaml": compose,
    }
    assert lint(repo, files, "GPU002") == []
    files["compose.yaml"] = compose.replace(
        "            deploy:\n              resources:\n                reservations:\n                  devices:\n                    - capabilities: [gpu]\n",
        "",
    )
    files["app.py"] = "import onnxruntime\n"
    assert lint(repo, files, "GPU002") == [("GPU002", "requirements.txt", 2)]


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
    first, *_, cuda_library, cupy = findings(repo, files, "GPU002")
    assert "`onnxruntime-gpu==1.18.0`" in first.message and "`onnxruntime`" in first.fix
    # without a CPU twin the fix says what to do instead of naming a package to install
    assert cuda_library.fix.startswith("Remove it: CUDA libraries") and "Install" not in cuda_library.fix
    assert cupy.fix.startswith("Replace CuPy with NumPy")


def test_triton_pinned_beside_cpu_torch_compiles_for_no_gpu(repo):
    """A freeze of a whisper service pins triton, which only GPU kernels use; torch is the CPU
    build from PyTorch's index."""
    requirements = """
        --extra-index-url https://download.pytorch.org/whl/cpu
        torch==2.6.0+cpu
        openai-whisper==20240930
        triton==3.2.0
    """
    files = {"Dockerfile": CPU_SERVICE, "requirements.txt": requirements}
    (finding,) = findings(repo, files, "GPU002")
    assert finding.span.line == 4 and "`triton==3.2.0`" in finding.message and finding.fix.startswith("Remove it")
    assert lint(repo, {**files, "requirements.txt": requirements.replace("triton==3.2.0", "")}, "GPU002") == []


def test_cuda_libraries_a_freeze_pins_are_one_finding(repo):
    """A freeze of a CUDA torch pins each CUDA library it brought: removing them is one
    decision (and comes with the CPU torch), so it is one finding, with the others related."""
    requirements = """
        fastapi==0.115.6
        nvidia-cublas-cu12==12.6.4.1
        nvidia-cuda-runtime-cu12==12.6.77
        nvidia-cudnn-cu12==9.5.1.17
        onnxruntime-gpu==1.18.0
        nvidia-nccl-cu12==2.26.2
        torch==2.7.1
        triton==3.3.1
    """
    files = {"Dockerfile": CPU_SERVICE, "requirements.txt": requirements}
    assert lint(repo, files, "GPU002") == [("GPU002", "requirements.txt", line) for line in (2, 5)]
    libraries, onnxruntime = findings(repo, files, "GPU002")
    assert libraries.message.startswith("`nvidia-cublas-cu12==12.6.4.1` and 4 more GPU-only packages")
    assert [item.span.line for item in libraries.related] == [3, 4, 6, 8]
    assert "`triton==3.3.1`" in libraries.related[-1].message
    assert libraries.fix.startswith("Remove them: CUDA libraries") and "`onnxruntime`" in onnxruntime.fix
    # one library alone reads as before
    alone = requirements.replace("nvidia-cuda-runtime-cu12==12.6.77", "").replace("nvidia-cudnn-cu12==9.5.1.17", "")
    alone = alone.replace("nvidia-nccl-cu12==2.26.2", "").replace("triton==3.3.1", "")
    (library, _) = findings(repo, {**files, "requirements.txt": alone}, "GPU002")
    assert library.message.startswith("`nvidia-cublas-cu12==12.6.4.1` is a GPU-only build") and not library.related


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


@pytest.mark.parametrize(
    ("requirements", "compiler"),
    [("vllm==0.8.5\n", "vllm"), ("flashinfer-python==0.6.1\ntorch==2.8.0\n", "flashinfer-python"),
     ("deepspeed==0.16.2\ntransformers==4.47.1\n", "deepspeed"), ("transformers==4.47.1\ntorch==2.5.1\n", None)],
)  # fmt: skip
def test_a_service_that_compiles_kernels_when_it_runs_may_need_the_devel_image(repo, requirements, compiler):
    """vLLM, FlashInfer and DeepSpeed compile CUDA kernels with nvcc at run time: the
    development image may be the one the service needs. Said at info, without claiming bytes;
    transformers compiles nothing."""
    dockerfile = """
        FROM nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04
        RUN apt-get update && apt-get install -y --no-install-recommends python3-pip && rm -rf /var/lib/apt/lists/*
        COPY requirements.txt .
        RUN pip3 install --no-cache-dir -r requirements.txt
        COPY serve.py /app/serve.py
        CMD ["python3", "/app/serve.py"]
    """
    files = {"Dockerfile": dockerfile, "requirements.txt": requirements, "serve.py": "import torch\n"}
    result = findings(repo, files, "GPU003")
    assert [f.span.line for f in result] == [1]
    if compiler is None:
        assert result[0].severity.label == "warning" and result[0].size_bytes
    else:
        assert result[0].severity.label == "info" and result[0].size_bytes is None
        assert (
            f"`{compiler}`, which it installs, compiles CUDA kernels with nvcc when the service runs"
            in result[0].message
        )
        assert "`nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04`" in result[0].fix


def test_a_devel_image_without_a_runtime_twin_is_not_given_one(repo):
    """RunPod publishes development tags only: no `-runtime` tag to switch to."""
    dockerfile = """
        FROM runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04
        COPY handler.py /handler.py
        CMD ["python", "-u", "/handler.py"]
    """
    result = findings(repo, {"Dockerfile": dockerfile, "handler.py": "import torch\n"}, "GPU003")
    assert [f.span.line for f in result] == [1]
    assert "runtime-ubuntu22.04" not in result[0].fix and "publishes no runtime tags" in result[0].fix
    assert "`nvidia/cuda:12.4.<patch>-cudnn-runtime-<os>`" in result[0].fix


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


@pytest.mark.parametrize(
    "build, reported",
    [
        # a source distribution of CUDA extensions, built with nvcc unless a prebuilt wheel matches
        ("RUN pip install --no-cache-dir flash-attn==2.6.3", False),
        ("RUN pip install --no-cache-dir 'mamba_ssm>=2.2'", False),
        # a project the build clones and installs: its setup may build CUDA extensions
        ("RUN git clone https://github.com/acme/grasp_det_seg_cnn.git && pip install --no-cache-dir -e grasp_det_seg_cnn",
         False),
        ("RUN git clone https://github.com/acme/segnet.git /opt/segnet\nRUN pip install --no-cache-dir /opt/segnet", False),
        ("RUN git clone --depth 1 -b v2.1 https://github.com/acme/segnet.git /opt/segnet\n"
         "RUN pip install --no-cache-dir /opt/segnet", False),
        # plain wheels: nothing compiles
        ("RUN pip install --no-cache-dir transformers==4.47.1 accelerate==1.2.1", True),
        ("RUN git clone https://github.com/acme/configs.git && pip install --no-cache-dir flask==3.1.0", True),
    ],
)  # fmt: skip
def test_devel_is_fine_where_an_install_may_compile_cuda_extensions(repo, build, reported):
    """flash-attn and mamba-ssm publish only sources of CUDA extensions; a cloned project's
    setup.py cannot be read: the devel image's nvcc may be what the install needs."""
    dockerfile = (
        f'FROM pytorch/pytorch:2.3.0-cuda12.1-cudnn8-devel\nWORKDIR /app\n{build}\nCMD ["python", "serve.py"]\n'
    )
    assert [code for code, *_ in lint(repo, {"Dockerfile": dockerfile}, "GPU003")] == (["GPU003"] if reported else [])


@pytest.mark.parametrize(
    "build",
    [
        'ENV CMAKE_ARGS="-DGGML_CUDA=on -DGGML_CUDA_F16=on" FORCE_CMAKE=1\n'
        'RUN pip3 install --no-cache-dir "llama-cpp-python @ git+https://github.com/abetlen/llama-cpp-python.git"',
        'RUN CMAKE_ARGS="-DLLAMA_CUBLAS=on" pip3 install --no-cache-dir llama-cpp-python==0.2.20',
        'ENV FORCE_CUDA="1"\nRUN pip3 install --no-cache-dir "git+https://github.com/facebookresearch/detectron2.git"',
    ],
)
def test_devel_is_fine_where_a_pip_install_is_told_to_compile_cuda(repo, build):
    """A package built from source with CUDA switched on (llama-cpp-python's CMAKE_ARGS,
    FORCE_CUDA for extensions built where `docker build` sees no GPU) needs nvcc; CMake
    options without a CUDA switch compile for the CPU."""
    dockerfile = (
        "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\n"
        + build
        + '\nCOPY serve.py /app/\nCMD ["python3", "/app/serve.py"]\n'
    )
    assert lint(repo, {"Dockerfile": dockerfile, "serve.py": "import llama_cpp\n"}, "GPU003") == []
    cpu = dockerfile.replace("-DGGML_CUDA=on -DGGML_CUDA_F16=on", "-DGGML_BLAS=ON").replace(
        "-DLLAMA_CUBLAS=on", "-DLLAMA_BLAS=ON").replace('FORCE_CUDA="1"', 'FORCE_CUDA="0"')  # fmt: skip
    assert [f.span.line for f in findings(repo, {"Dockerfile": cpu, "serve.py": "import llama_cpp\n"}, "GPU003")] == [1]


@pytest.mark.parametrize("run", ["RUN /bin/bash install.sh", "RUN ./install.sh", "RUN sh -c 'bash install.sh'"])
def test_devel_is_fine_where_a_script_the_build_runs_compiles_cuda(repo, run):
    """The RUN runs a script of the repository whose pip install builds llama-cpp-python
    with CUDA: nvcc is needed. The same script building for the CPU needs none."""
    script = """#!/bin/bash
        source venv/bin/activate
        if [[ $CUDA_SUPPORT == "True" ]]; then
            CMAKE_ARGS="-DLLAMA_CUDA=on" pip install --no-cache-dir -r requirements.txt
        else
            pip install --no-cache-dir -r requirements.txt
        fi
    """
    files = {
        "Dockerfile": (
            "FROM nvidia/cuda:12.1.0-devel-ubuntu22.04\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends python3.10-venv\n"
            "ADD ./ assistant/\nWORKDIR /assistant\nENV CUDA_SUPPORT=True\n"
            "RUN python3.10 -m venv venv\n" + run + '\nCMD ["venv/bin/python", "serve.py"]\n'
        ),
        "install.sh": script,
        "requirements.txt": "llama-cpp-python[server]==0.2.90\n",
        "serve.py": "import llama_cpp\n",
    }
    assert lint(repo, files, "GPU003") == []
    files["install.sh"] = script.replace('CMAKE_ARGS="-DLLAMA_CUDA=on" ', 'CMAKE_ARGS="-DLLAMA_BLAS=ON" ')
    assert [code for code, *_ in lint(repo, files, "GPU003")] == ["GPU003"]
    files["install.sh"] = script.replace('CMAKE_ARGS="-DLLAMA_CUDA=on" pip', "export FORCE_CUDA=1\n            pip")
    assert lint(repo, files, "GPU003") == []


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
    # PyPI's torch 2.5 is built with CUDA 12.4, newer than the base's 12.1 but of the same
    # major release: it runs on any driver of the 12.x family (minor version compatibility)
    assert lint(repo, files, "GPU005") == []
    assert lint(repo, files, "GPU001") == []


def test_cuda_versions_are_compared_conservatively(repo):
    def run(base: str, install: str) -> list:
        return lint(repo, {"Dockerfile": f"FROM {base}\nRUN {install}\n"}, "GPU005")

    cu121 = "pip3 install --index-url https://download.pytorch.org/whl/cu121 torch==2.3.1"
    assert run("nvidia/cuda:12.4.1-base-ubuntu22.04", cu121) == []  # older minor: compatible
    assert run("nvidia/cuda:11.8.0-base-ubuntu22.04", cu121) == [("GPU005", "Dockerfile", 2)]  # major
    cu128 = "pip3 install --index-url https://download.pytorch.org/whl/cu128 torch==2.7.0"
    assert run("nvidia/cuda:12.4.1-base-ubuntu22.04", cu128) == []  # newer minor of 12.x: the 12.x driver runs it
    assert run("nvidia/cuda:12.1.1-base-ubuntu22.04", "pip3 install torch") == []  # version unknown
    assert run("nvidia/cuda:12.4.1-base-ubuntu22.04", "pip3 install torch==2.5.1+cu124 -f x") == []
    # PyPI's default CUDA per release (knowledge/ml.toml): 2.10 is 12.8; 2.2 is unconfirmed.
    assert run("nvidia/cuda:11.8.0-base-ubuntu22.04", "pip3 install torch==2.10.0") == [("GPU005", "Dockerfile", 2)]
    assert run("nvidia/cuda:12.4.1-base-ubuntu22.04", "pip3 install torch==2.10.0") == []
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


# -- the torch a base image ships -------------------------------------------------------------


def test_torch_in_the_base_satisfies_packages_that_need_torch(repo):
    files = {
        "Dockerfile": """
            FROM huggingface/transformers-pytorch-cpu:latest
            COPY ./ /app
            WORKDIR /app
            RUN pip install -r requirements_inference.txt
            CMD ["uvicorn", "app:app", "--host", "0.0.0.0"]
        """,
        "requirements_inference.txt": "pytorch-lightning==1.2.10\nfastapi==0.65.2\n",
    }
    assert lint(repo, files, "GPU001") == []


def test_unpinned_package_needing_a_newer_torch_installs_a_second_one(repo):
    dockerfile = """
        FROM pytorch/pytorch:2.1.0-cuda11.8-cudnn8-runtime
        RUN pip install --no-cache-dir \\
            fastapi \\
            diffusers \\
            xformers
        COPY main.py /app/main.py
    """
    result = findings(repo, {"Dockerfile": dockerfile}, "GPU004")
    assert [(f.path.name, f.span.line) for f in result] == [("Dockerfile", 2)]
    assert "`xformers`" in result[0].message and "torch 2.1.0" in result[0].message
    assert "second torch" in result[0].message
    assert lint(repo, {"Dockerfile": dockerfile}, "GPU005") == []


@pytest.mark.parametrize(
    "install",
    [
        "pip install --no-cache-dir torchvision==0.12.0",  # pinned: built for the base's torch (1.11.0)
        "pip install --no-cache-dir accelerate",  # Python unknown: old releases accept torch 1.11
        "pip install --no-cache-dir torch",  # already satisfied
        "pip install --no-cache-dir sentence-transformers==2.2.2",
    ],
)
def test_packages_the_base_torch_may_satisfy_stay_quiet(repo, install):
    dockerfile = f"FROM pytorch/pytorch:1.11.0-cuda11.3-cudnn8-runtime\nRUN {install}\n"
    assert lint(repo, {"Dockerfile": dockerfile}, "GPU004") == []


@pytest.mark.parametrize(
    "install, reported",
    [
        # the base installs torchvision and torchaudio with its torch: a bare name is satisfied
        ("pip install --no-cache-dir torchvision torchaudio opencv-python-headless==4.10.0.84", False),
        # an upgrade asks for the newest, which needs a newer torch
        ("pip install --no-cache-dir -U torchvision", True),
        ("pip install --no-cache-dir --upgrade torchaudio", True),
        # a pin for another torch
        ("pip install --no-cache-dir torchvision==0.20.1", True),
    ],
)
def test_a_companion_the_base_ships_with_its_torch_is_already_there(repo, install, reported):
    """pytorch/pytorch installs torchvision and torchaudio with its torch: `pip install
    torchvision` finds it installed and changes nothing; `-U` or another pin replaces it,
    and the torch under it."""
    dockerfile = f"FROM pytorch/pytorch:1.11.0-cuda11.3-cudnn8-devel\nRUN {install}\n"
    assert lint(repo, {"Dockerfile": dockerfile}, "GPU004") == ([("GPU004", "Dockerfile", 2)] if reported else [])


def test_a_pin_built_for_another_torch_than_the_base_installs_that_torch(repo):
    """xformers 0.0.16 requires torch==1.13.1 (its wheel's metadata): on a base with torch
    1.12.1, pip installs torch 1.13.1 and its CUDA wheels beside it."""
    files = {
        "Dockerfile": """
            FROM pytorch/pytorch:1.12.1-cuda11.3-cudnn8-runtime
            WORKDIR /app
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY . .
            CMD ["python", "app.py"]
        """,
        "requirements.txt": "diffusers==0.9.0\ntransformers==4.25.1\nxformers==0.0.16\n",
        "app.py": "import torch\nfrom diffusers import StableDiffusionPipeline\n",
    }
    result = findings(repo, files, "GPU004")
    assert [(f.path.name, f.span.line) for f in result] == [("Dockerfile", 4)]
    assert "`xformers==0.0.16`" in result[0].message and "torch 1.12.1" in result[0].message
    # torchvision 0.13.1 is built for the base's torch 1.12.1: nothing replaced
    files["requirements.txt"] = "diffusers==0.9.0\ntransformers==4.25.1\ntorchvision==0.13.1\n"
    assert lint(repo, files, "GPU004") == []


def test_torch_pinned_to_another_version_than_the_base(repo):
    dockerfile = "FROM pytorch/pytorch:2.1.0-cuda11.8-cudnn8-runtime\nRUN pip install --no-cache-dir torch==2.0.1\n"
    assert lint(repo, {"Dockerfile": dockerfile}, "GPU004") == [("GPU004", "Dockerfile", 2)]


def test_extra_that_pulls_torch_onto_a_cuda_runtime_image(repo):
    dockerfile = """
        FROM nvidia/cuda:12.1.0-runtime-ubuntu22.04
        RUN apt-get update && apt-get install -y --no-install-recommends python3-pip && rm -rf /var/lib/apt/lists/*
        RUN python3 -m pip install serverless-llm "serverless-llm[worker]" serverless-llm-store
    """
    result = findings(repo, {"Dockerfile": dockerfile}, "GPU004")
    assert [f.span.line for f in result] == [3]
    assert "`serverless-llm[worker]`" in result[0].message and "through the torch" in result[0].message


@pytest.mark.parametrize(
    "install, subject",
    [
        ("torch==2.3.1", "`torch==2.3.1` brings"),
        ("torch==2.3.1 torchvision==0.18.1", "`torch==2.3.1`, `torchvision==0.18.1` bring"),
    ],
)
def test_the_message_agrees_with_how_many_packages_it_names(repo, install, subject):
    dockerfile = f"FROM nvidia/cuda:12.1.0-runtime-ubuntu22.04\nRUN pip install --no-cache-dir {install}\n"
    [finding] = findings(repo, {"Dockerfile": dockerfile}, "GPU004")
    assert finding.message.startswith(subject + " ~")


def test_older_wheel_cuda_on_a_newer_cuda_base_is_not_a_mismatch(repo):
    files = {
        "Dockerfile": """
            FROM runpod/base:0.4.0-cuda12.1.1
            WORKDIR /app
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY app.py .
            CMD ["python", "app.py"]
        """,
        "requirements.txt": "runpod~=1.7.6\ntorch==2.0.1\n",
    }
    assert lint(repo, files, "GPU005") == []  # PyPI's torch 2.0 is CUDA 11.7: older, runs on the 12.1 driver
    assert lint(repo, files, "GPU004") == [("GPU004", "Dockerfile", 4)]  # runpod/base is CUDA devel
    assert lint(repo, files, "GPU001") == []


# -- images that compile CUDA/C++ code ---------------------------------------------------------

BUILDER = """
    ARG CUDA_VERSION=12.1.1
    FROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu20.04 AS builder
    RUN apt-get update -y \\
        && apt-get install -y --no-install-recommends python3.10 python3.10-dev python3-pip \\
        && rm -rf /var/lib/apt/lists/*
    WORKDIR /app
    COPY requirements-build.txt .
    RUN python3 -m pip install --no-cache-dir -r requirements-build.txt
    COPY cmake ./cmake
    COPY CMakeLists.txt .
    COPY csrc ./csrc
    COPY setup.py pyproject.toml ./
"""
BUILD_FILES = {
    "requirements-build.txt": "cmake>=3.20,<4.0.0\nninja\ntorch==2.7.0\nwheel\n",
    "CMakeLists.txt": "cmake_minimum_required(VERSION 3.20)\nproject(store LANGUAGES CXX CUDA)\n",
    "csrc/store.cu": "__global__ void copy(float *a) {}\n",
    "cmake/utils.cmake": "# helpers\n",
    "setup.py": "from setuptools import setup\n\nsetup(name='store')\n",
    "pyproject.toml": "[build-system]\nrequires = ['setuptools', 'torch==2.7.0']\n",
}


@pytest.mark.parametrize("code", ["GPU003", "GPU004", "GPU005", "STG001"])
def test_builder_image_for_a_cuda_extension_needs_what_it_has(repo, code):
    assert lint(repo, {"Dockerfile.builder": BUILDER, **BUILD_FILES}, code) == []


def test_service_on_the_devel_image_without_sources_to_compile(repo):
    dockerfile = """
        FROM nvidia/cuda:12.1.1-devel-ubuntu22.04
        RUN apt-get update -y && apt-get install -y --no-install-recommends python3-pip python3-dev \\
            && rm -rf /var/lib/apt/lists/*
        COPY requirements.txt .
        RUN pip3 install --no-cache-dir -r requirements.txt
        COPY app/ /app/app/
    """
    files = {"Dockerfile": dockerfile, "requirements.txt": "torch==2.7.0\n", "app/main.py": "import torch\n"}
    assert lint(repo, files, "GPU003") == [("GPU003", "Dockerfile", 1)]
    assert lint(repo, files, "GPU004") == [("GPU004", "Dockerfile", 5)]
    assert lint(repo, files, "STG001") == [("STG001", "Dockerfile", 2)]


# -- how torch is asked for, and how the message says it ------------------------------------------


def test_find_links_page_with_every_build_installs_a_cuda_build_of_old_torch(repo):
    files = {
        "Dockerfile": """
            FROM tiangolo/uvicorn-gunicorn:python3.9
            RUN mkdir /fastapi
            COPY requirements.txt /fastapi
            WORKDIR /fastapi
            RUN pip install -r requirements.txt -f https://download.pytorch.org/whl/torch_stable.html
            COPY . /fastapi
        """,
        "requirements.txt": "fastapi==0.109.0\ntorch==1.11.0\ntorchvision==0.12.0\n",
    }
    result = findings(repo, files, "GPU001")
    assert [(f.path.name, f.span.line) for f in result] == [("Dockerfile", 5)]
    message = result[0].message
    assert "find-links page `https://download.pytorch.org/whl/torch_stable.html`" in message
    assert "torch 1.11.0 for Linux brings its CUDA libraries inside the wheel" in message
    assert "nvidia-*" not in message and "PyPI" not in message
    assert "(~800 MB download)" in message and "torch==1.11.0+cpu" in result[0].fix
    # the saving is what the CUDA build installs beyond the CPU build: 1.64 GB against 761 MB
    torch = load("ml")["torch"]
    assert result[0].size_bytes == torch["bundled_installed_size"] - torch["cpu_installed_size"] == 879_000_000


def test_cuda_index_inside_a_conda_environment_of_a_cpu_image(repo):
    dockerfile = """
        FROM jenkins/jenkins:lts-jdk17
        USER root
        RUN conda run -n ci pip install \\
            torch==2.6.0 --extra-index-url https://download.pytorch.org/whl/cu124 \\
            mlflow==2.16.2
        USER jenkins
    """
    result = findings(repo, {"Dockerfile": dockerfile}, "GPU001")
    assert [f.span.line for f in result] == [3]
    assert "is a CUDA 12.4 build of torch" in result[0].message


def test_a_private_index_is_not_called_pypi(repo):
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir --index-url https://nexus.example.com/repository/pypi/simple torch==2.5.1
    """
    result = findings(repo, {"Dockerfile": dockerfile}, "GPU001")
    assert len(result) == 1
    assert "the index `https://nexus.example.com/repository/pypi/simple`" in result[0].message
    assert "PyPI" not in result[0].message


# -- uv sync and poetry install: the groups they install ------------------------------------------

UV_PROJECT = """
    [project]
    name = "recsys"
    version = "0.1.0"
    requires-python = ">=3.11"
    dependencies = ["fastapi>=0.115", "papermill>=2.6"]

    [dependency-groups]
    dev = ["pytest>=8"]
    ml = ["torch>=2.4.1", "lightning>=2.4"]
"""


@pytest.mark.parametrize(
    ("sync", "flagged"),
    [
        ("uv sync --frozen --all-groups", True),
        ("uv sync --frozen --group ml", True),
        ("uv sync --frozen", False),  # the default groups: dev only
        ("uv sync --frozen --all-groups --no-group ml", False),
    ],
)
def test_uv_sync_installs_the_groups_it_is_asked_for(repo, sync, flagged):
    dockerfile = f"""
        FROM python:3.11.9-slim
        COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /bin/uv
        WORKDIR /app
        COPY uv.lock pyproject.toml ./
        RUN {sync}
        CMD ["uv", "run", "papermill", "run.ipynb", "out.ipynb"]
    """
    files = {"Dockerfile": dockerfile, "pyproject.toml": UV_PROJECT, "uv.lock": "version = 1\n"}
    assert lint(repo, files, "GPU001") == ([("GPU001", "Dockerfile", 5)] if flagged else [])


POETRY_PROJECT = """
    [tool.poetry]
    name = "scorer"
    version = "0.1.0"
    description = ""
    authors = ["Team <team@example.com>"]

    [tool.poetry.dependencies]
    python = "^3.11"
    fastapi = "^0.115"

    [tool.poetry.group.ml.dependencies]
    torch = {version = "^2.4.1"%s}
    %s

    [build-system]
    requires = ["poetry-core"]
    build-backend = "poetry.core.masonry.api"
"""
CPU_SOURCE = """
    [[tool.poetry.source]]
    name = "pytorch-cpu"
    url = "https://download.pytorch.org/whl/cpu"
    priority = "explicit"
"""


@pytest.mark.parametrize(
    ("install", "source", "flagged"),
    [
        ("poetry install --no-root", False, True),
        ("poetry install --no-root --only main", False, False),
        ("poetry install --no-root --without ml", False, False),
        ("poetry install --no-root", True, False),  # torch pinned to the CPU source
    ],
)
def test_poetry_install_installs_its_groups(repo, install, source, flagged):
    project = POETRY_PROJECT % ((', source = "pytorch-cpu"', CPU_SOURCE) if source else ("", ""))
    dockerfile = f"""
        FROM python:3.11-slim
        RUN pip install --no-cache-dir poetry==1.8.4
        WORKDIR /app
        COPY pyproject.toml poetry.lock ./
        RUN {install}
    """
    files = {"Dockerfile": dockerfile, "pyproject.toml": project, "poetry.lock": "# lock\n"}
    assert lint(repo, files, "GPU001") == ([("GPU001", "Dockerfile", 5)] if flagged else [])


def test_the_torch_a_project_lock_pins_decides_what_cuda_it_brings(repo):
    """`pipenv install --deploy` installs the lock's torch 1.7.1, whose wheel holds its CUDA
    libraries: not today's torch and its nvidia-* wheels."""
    files = {
        "Dockerfile": """
            FROM python:3.8-slim
            WORKDIR /app
            RUN pip install --no-cache-dir pipenv==2023.12.1
            COPY Pipfile Pipfile.lock ./
            RUN pipenv install --deploy --system
            COPY . .
            CMD ["flask", "run", "--host", "0.0.0.0"]
        """,
        "Pipfile": '[packages]\nflask = "*"\nstanza = "*"\n',
        "Pipfile.lock": '{"default": {"flask": {"version": "==1.1.2"}, "stanza": {"version": "==1.1.1"}, '
        '"torch": {"version": "==1.7.1"}}, "develop": {}}',
        "app.py": "import stanza\nfrom flask import Flask\n\napp = Flask(__name__)\nnlp = stanza.Pipeline('en')\n",
    }
    result = findings(repo, files, "GPU001")
    assert [f.span.line for f in result] == [5]
    assert "torch 1.7.1" in result[0].message and "inside the wheel" in result[0].message
    # a lock without torch's version: today's torch and its nvidia-* wheels
    files["Pipfile.lock"] = '{"default": {"flask": {"version": "==1.1.2"}}, "develop": {}}'
    result = findings(repo, files, "GPU001")
    assert [f.span.line for f in result] == [5] and "nvidia-* wheels" in result[0].message


def test_a_gpu_use_at_the_top_of_a_module_needs_a_gpu_whatever_a_function_checks(repo):
    """The model moves to CUDA at import; `torch.cuda.is_available()` in a helper function
    does not make that line optional."""
    dockerfile = """
        FROM python:3.10-slim
        RUN pip install --no-cache-dir torch==2.7.1
        COPY app.py .
        CMD ["python", "app.py"]
    """
    code = 'import torch\n\nmodel = torch.nn.Linear(2, 2).to("cuda")\n\n\ndef info():\n    if torch.cuda.is_available():\n        print("gpu")\n'
    assert lint(repo, {"Dockerfile": dockerfile, "app.py": code}, "GPU001") == []
    # checked before use, inside the function that uses it: the service runs on a CPU too
    optional = 'import torch\n\n\ndef load():\n    if torch.cuda.is_available():\n        return torch.nn.Linear(2, 2).to("cuda")\n    return torch.nn.Linear(2, 2)\n'
    assert lint(repo, {"Dockerfile": dockerfile, "app.py": optional}, "GPU001") == [("GPU001", "Dockerfile", 2)]


@pytest.mark.parametrize(
    ("code", "reported"),
    [
        # a transformers pipeline on GPU 0: the service needs one
        ('clf = pipeline("sentiment-analysis", model="distilbert-base-uncased", device=0)\n', False),
        # device=-1 (the default) is the CPU; device_map="auto" places on a GPU only if there is one
        ('clf = pipeline("sentiment-analysis", model="distilbert-base-uncased", device=-1)\n', True),
        ('model = AutoModel.from_pretrained("distilbert-base-uncased", device_map="auto")\n', True),
    ],
)
def test_a_pipeline_placed_on_a_gpu_by_its_index_needs_one(repo, code, reported):
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir torch==2.5.1 transformers==4.47.1 accelerate==1.2.1
        COPY app.py .
        CMD ["python", "app.py"]
    """
    app = "from transformers import AutoModel, pipeline\n\n" + code
    expected = [("GPU001", "Dockerfile", 2)] if reported else []
    assert lint(repo, {"Dockerfile": dockerfile, "app.py": app}, "GPU001") == expected


@pytest.mark.parametrize(
    "venv, install, reported",
    [
        # a venv of its own does not see the base image's torch: the requirement installs another
        ("RUN uv venv /opt/venv", "uv pip install --no-cache -r requirements.txt", True),
        ("RUN python -m venv /opt/venv", "pip install --no-cache-dir -r requirements.txt", True),
        # ...unless it is made to (`--system-site-packages`), or the install goes to the image's Python
        ("RUN uv venv --system-site-packages /opt/venv", "uv pip install --no-cache -r requirements.txt", False),
        ("RUN python -m venv --system-site-packages /opt/venv", "pip install -r requirements.txt", False),
        ("", "pip install --no-cache-dir -r requirements.txt", False),
    ],
)
def test_a_venv_that_cannot_see_the_base_images_torch_installs_a_second_one(repo, venv, install, reported):
    """On pytorch/pytorch, `torch>=2.0` is satisfied by the image's torch, but not inside a
    virtual environment made without `--system-site-packages`: pip installs a second torch,
    with its CUDA libraries, into the venv."""
    dockerfile = f"""
        FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime
        WORKDIR /app
        {venv}
        ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
        COPY requirements.txt .
        RUN {install}
        COPY bot.py .
        CMD ["python", "bot.py"]
    """
    files = {
        "Dockerfile": dockerfile,
        "requirements.txt": "diffusers>=0.30\ntorch>=2.0.0\n",
        "bot.py": "import torch\nimport diffusers\n",
    }
    result = findings(repo, files, "GPU004")
    assert [(f.path.name, f.span.line) for f in result] == ([("Dockerfile", 6)] if reported else [])
    if reported:
        assert "virtual environment `/opt/venv`" in result[0].message and "second torch" in result[0].message
        assert "--system-site-packages" in result[0].fix


def test_uv_sync_on_a_torch_image_installs_torch_again_unless_it_syncs_the_images_python(repo):
    """`uv sync` makes the project's own .venv: the pytorch/pytorch torch is not in it.
    With UV_PROJECT_ENVIRONMENT at the image's conda prefix it syncs that Python instead."""
    dockerfile = """
        FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime
        COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /bin/
        WORKDIR /app
        COPY pyproject.toml uv.lock ./
        RUN uv sync --frozen --no-dev
        CMD ["uv", "run", "python", "-m", "tagger"]
    """
    files = {
        "Dockerfile": dockerfile,
        "pyproject.toml": "[project]\nname = 'tagger'\nversion = '1.0'\ndependencies = ['torch>=2.1', 'pillow>=10']\n",
        "uv.lock": "version = 1\n",
    }
    assert lint(repo, files, "GPU004") == [("GPU004", "Dockerfile", 5)]
    files["Dockerfile"] = dockerfile.replace(
        "WORKDIR /app", "ENV UV_PROJECT_ENVIRONMENT=/opt/conda\n        WORKDIR /app"
    )
    assert lint(repo, files, "GPU004") == []
    # `uv sync --active` syncs the VIRTUAL_ENV the image names: its conda Python too
    files["Dockerfile"] = dockerfile.replace(
        "WORKDIR /app", "ENV VIRTUAL_ENV=/opt/conda\n        WORKDIR /app"
    ).replace("uv sync --frozen", "uv sync --active --frozen")
    assert lint(repo, files, "GPU004") == []
    files["Dockerfile"] = dockerfile.replace("uv sync --frozen", "uv sync --active --frozen")  # no VIRTUAL_ENV
    assert lint(repo, files, "GPU004") == [("GPU004", "Dockerfile", 5)]


def test_a_dependency_the_index_cannot_read_pulls_torch_by_the_projects_lock(repo):
    """`pip install ".[asr]"`: acme-asr is no package the index reads, but the project's
    uv.lock records that it requires torch, which pip then takes from PyPI with its CUDA
    libraries into an image with no GPU."""
    lock = """
        version = 1
        requires-python = ">=3.11"

        [[package]]
        name = "acme-asr"
        version = "3.8.6"
        source = { registry = "https://pypi.org/simple" }
        dependencies = [{ name = "torch" }]

        [[package]]
        name = "torch"
        version = "2.5.1"
        source = { registry = "https://pypi.org/simple" }
    """
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
            dependencies = ["numpy>=2.1"]

            [project.optional-dependencies]
            asr = ["acme-asr>=3.8"]
        """,
        "uv.lock": lock,
        "app/__init__.py": "",
        "app/__main__.py": "import acme_asr\n\nacme_asr.load_model('small', device='cpu')\n",
    }
    result = findings(repo, files, "GPU001")
    assert [f.span.line for f in result] == [5]
    assert result[0].message.startswith(
        "`acme-asr>=3.8` requires torch, which this install takes from the default index"
    )
    files["uv.lock"] = "version = 1\n"
    assert findings(repo, files, "GPU001") == []


def test_a_compose_service_running_the_image_a_makefile_tags_gives_it_its_gpu(repo):
    """The Makefile builds `ocr:latest` from the Dockerfile; compose runs `image: ocr:latest`
    with a GPU reservation and no `build:`: that service runs this image, on a GPU."""
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY app.py .
            CMD ["python", "app.py"]
        """,
        "requirements.txt": "easyocr==1.7.0\n",
        "app.py": "import easyocr\n\nreader = easyocr.Reader(['en'])\n",
        "Makefile": "IMAGE = ocr\n\ndocker-build:\n\tdocker build -t $(IMAGE):latest .\n",
        "docker-compose.yml": """
            services:
              ocr:
                image: ocr:latest
                deploy:
                  resources:
                    reservations:
                      devices:
                        - driver: nvidia
                          count: 1
                          capabilities: [gpu]
        """,
    }
    assert lint(repo, files, "GPU001") == []
    files["Makefile"] = "docker-build:\n\tdocker build -t other:latest .\n"
    assert lint(repo, files, "GPU001") == [("GPU001", "Dockerfile", 3)]


@pytest.mark.parametrize(
    "worker_block, reported",
    [
        # the switch kept in the worker's block: it is meant to run on a GPU in production
        (
            "    # Un-comment to enable GPU capabilities in production:\n"
            "    # deploy:\n    #   resources:\n    #     reservations:\n    #       devices:\n"
            "    #         - driver: nvidia\n    #           count: all\n    #           capabilities: [gpu]\n",
            False,
        ),
        ("    # runtime: nvidia\n", False),
        ("    # gpus: all\n", False),
        # a comment that only mentions GPUs is no reservation
        ("    # TODO: try a GPU some day\n", True),
        ("", True),
    ],
)
def test_a_gpu_reservation_commented_out_in_the_service_is_its_switch(repo, worker_block, reported):
    """docker-compose.yml keeps the worker's GPU reservation commented out, to be switched on
    in production: CPU torch would break that mode. The same lines under another service
    (the model server beside it) say nothing of the worker."""
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY worker.py .
            CMD ["python", "worker.py"]
        """,
        "requirements.txt": "easyocr==1.7.0\n",
        "worker.py": "import easyocr\n\nreader = easyocr.Reader(['en'])\n",
        "docker-compose.yml": (
            "services:\n  worker:\n    build: .\n    restart: always\n"
            + worker_block
            + "  llm:\n    image: ollama/ollama\n    # deploy:\n    #   resources:\n"
            "    #     reservations:\n    #       devices:\n    #         - driver: nvidia\n"
            "volumes:\n  # gpus: all\n  data: {}\n"
        ),
    }
    assert lint(repo, files, "GPU001") == ([("GPU001", "Dockerfile", 3)] if reported else [])


@pytest.mark.parametrize(
    "base, install, reported",
    [
        ("python:3.11-slim", "pip install --no-cache-dir .", True),
        # a base the knowledge does not list, named for CUDA or GPUs
        (
            "pytorchlightning/pytorch_lightning:base-cuda-py3.10-torch2.1-cuda11.8.0",
            "pip install --no-cache-dir .",
            False,
        ),
        ("ptgctl:gpu", "pip install --no-cache-dir .", False),
        ("registry.acme.dev/ml/base:2.3-cu121", "pip install --no-cache-dir .", False),
        ("registry.acme.dev/ml/cudatools:1.0", "pip install --no-cache-dir .", True),  # no CUDA token
        # an install that asks for the project's GPU extra
        ("python:3.11-slim", "pip install --no-cache-dir '.[gpu]'", False),
        ("python:3.11-slim", "uv sync --frozen --no-dev --extra gpu", False),
        ("python:3.11-slim", "uv sync --frozen --no-dev --extra=cuda", False),
        ("python:3.11-slim", "uv sync --frozen --no-dev --extra api", True),
        ("python:3.11-slim", "poetry install --with gpu", False),
    ],
)
def test_a_base_or_an_extra_named_for_gpus_says_the_image_runs_on_one(repo, base, install, reported):
    """The Lightning CUDA base, a local `ptgctl:gpu` base and `uv sync --extra gpu` are
    built to run on a GPU: their CUDA torch is what they are for."""
    files = {
        "Dockerfile": f"""
            FROM {base}
            COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /usr/local/bin/uv
            WORKDIR /app
            COPY pyproject.toml uv.lock ./
            COPY classifier ./classifier
            RUN {install}
            CMD ["python", "-m", "classifier"]
        """,
        "pyproject.toml": """
            [project]
            name = "classifier"
            version = "1.0"
            dependencies = ["torch==2.5.1"]

            [project.optional-dependencies]
            gpu = ["nvidia-npp==13.1.0.48"]
            cuda = ["nvidia-npp==13.1.0.48"]
            api = ["fastapi==0.115.6"]
        """,
        "uv.lock": "version = 1\n",
        "classifier/__init__.py": "",
        "classifier/__main__.py": "import torch\n\nprint(torch.zeros(1))\n",
    }
    assert [code for code, *_ in lint(repo, files, "GPU001")] == (["GPU001"] if reported else [])


def test_a_gpu_reservation_in_a_compose_variant_named_before_compose(repo):
    """gpu-docker-compose.yml builds the inference image with an nvidia reservation: its
    CUDA torch is what it runs on there."""
    files = {
        "inference/Dockerfile": "FROM python:3.11-slim\nCOPY requirements.txt .\n"
        'RUN pip install --no-cache-dir -r requirements.txt\nCOPY serve.py .\nCMD ["python", "serve.py"]\n',
        "inference/requirements.txt": "open-clip-torch==2.29.0\n",
        "inference/serve.py": "import open_clip\n",
        "gpu-docker-compose.yml": "services:\n  inference:\n    build: ./inference\n    deploy:\n      resources:\n"
        "        reservations:\n          devices:\n            - driver: nvidia\n              capabilities: [gpu]\n",
    }
    assert lint(repo, files, "GPU001") == []


GPU_OVERRIDE = (
    "services:\n  worker:\n    deploy:\n      resources:\n        reservations:\n          devices:\n"
    "            - driver: nvidia\n              count: all\n              capabilities: [gpu]\n"
)


def test_a_compose_override_that_gives_the_service_a_gpu_runs_it_on_one(repo):
    """`docker compose -f docker-compose.yml -f docker-compose.gpu.yml up`: the override
    names the worker only to reserve a GPU for it; its CUDA torch is meant for that. The same
    override in another project's folder says nothing of this worker."""
    files = {
        "worker/Dockerfile": "FROM python:3.11-slim\n"
        "RUN pip install --no-cache-dir torch torchvision --index-url https://download.pytorch.org/whl/cu121\n"
        'COPY detect.py .\nCMD ["python", "detect.py"]\n',
        "worker/detect.py": "import torch\n\nmodel = torch.hub.load('ultralytics/yolov5', 'yolov5s')\n",
        "docker-compose.yml": "services:\n  worker:\n    build: ./worker\n",
        "other/docker-compose.gpu.yml": GPU_OVERRIDE,
    }
    assert lint(repo, files, "GPU001") == [("GPU001", "Dockerfile", 2)]
    assert lint(repo, {**files, "docker-compose.gpu.yml": GPU_OVERRIDE}, "GPU001") == []


def test_a_package_that_runs_only_on_a_gpu_says_the_image_is_built_for_one(repo):
    """vLLM's PyPI wheels are CUDA builds for GPUs: the CUDA torch it brings is what the
    service needs, not a CPU build."""
    dockerfile = """
        FROM python:3.12-slim
        RUN pip install --no-cache-dir vllm==0.8.5 fastapi==0.115.6
        COPY serve.py .
        CMD ["python", "serve.py"]
    """
    code = "from vllm import LLM\n\nllm = LLM(model='Qwen/Qwen2.5-0.5B-Instruct')\n"
    assert lint(repo, {"Dockerfile": dockerfile, "serve.py": code}, "GPU001") == []
    plain = dockerfile.replace("vllm==0.8.5", "sentence-transformers==3.3.1")
    code = "from sentence_transformers import SentenceTransformer\n\nm = SentenceTransformer('all-MiniLM-L6-v2')\n"
    assert lint(repo, {"Dockerfile": plain, "serve.py": code}, "GPU001") == [("GPU001", "Dockerfile", 2)]
