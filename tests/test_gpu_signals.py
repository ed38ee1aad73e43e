"""GPU signals beyond the base image: code that needs a GPU, GPU-only serving platforms,
Kubernetes/Helm/KubeRay manifests, RunPod configuration and documented `docker run
--gpus`. Each on a small repository whose CPU twin must still be flagged."""

from __future__ import annotations

import json

import pytest

from tests.conftest import found, run_lint

SERVICE = """
    FROM python:3.11-slim
    WORKDIR /app
    RUN pip install --no-cache-dir torch==2.5.1 diffusers==0.31.0 fastapi==0.115.6
    COPY app/ ./app/
    CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]
"""


def gpu001(repo, files: dict[str, str]):
    return found(run_lint(repo(files), select=["GPU001"]), "GPU001")


# -- the code ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    ['pipe.to("cuda")', 'device = "cuda"\npipe.to(device)', "model = model.cuda()", 'pipe = make(device_map="cuda")'],
)
def test_code_that_puts_work_on_a_gpu_unconditionally(repo, line):
    code = "from diffusers import StableDiffusionPipeline\n\n"
    code += f"pipe = StableDiffusionPipeline.from_pretrained('x')\n{line}\n"
    assert gpu001(repo, {"Dockerfile": SERVICE, "app/main.py": code}) == []


def test_code_that_asks_for_a_gpu_runs_on_a_cpu_too(repo):
    code = """
        import torch
        from diffusers import StableDiffusionPipeline

        device = "cuda" if torch.cuda.is_available() else "cpu"
        pipe = StableDiffusionPipeline.from_pretrained("x").to(device)
    """
    assert gpu001(repo, {"Dockerfile": SERVICE, "app/main.py": code}) == [("GPU001", "Dockerfile", 3)]


def test_cuda_in_a_comment_or_a_test_says_nothing(repo):
    files = {
        "Dockerfile": SERVICE,
        "app/main.py": "import torch\n# model.to('cuda') would be faster on a GPU box\n",
        "app/tests/test_gpu.py": "def test_gpu(model):\n    model.to('cuda')\n",
    }
    assert gpu001(repo, files) == [("GPU001", "Dockerfile", 3)]


def test_gpu_only_serving_platform(repo):
    code = """
        from potassium import Potassium, Request, Response
        import torch

        app = Potassium("my_app")
    """
    assert gpu001(repo, {"Dockerfile": SERVICE, "app/main.py": code}) == []


def test_a_runpod_serverless_worker_runs_on_a_gpu_endpoint(repo):
    """A RunPod Serverless worker that moves its pipeline to CUDA when it can is deployed
    to a GPU endpoint: CUDA torch is what it needs there."""
    code = """
        import runpod
        import torch
        from diffusers import StableDiffusionPipeline

        pipe = StableDiffusionPipeline.from_pretrained("/models/sd15")
        if torch.cuda.is_available():
            pipe.to("cuda")


        def handler(job):
            return {"image": pipe(job["input"]["prompt"]).images[0].tobytes().hex()}


        runpod.serverless.start({"handler": handler})
    """
    assert gpu001(repo, {"Dockerfile": SERVICE, "app/main.py": code}) == []
    assert gpu001(repo, {"Dockerfile": SERVICE, "app/main.py": code.replace("runpod", "worker_sdk")}) == [
        ("GPU001", "Dockerfile", 3)
    ]


# -- deployment files -----------------------------------------------------------------------

RAY_DOCKERFILE = """
    FROM rayproject/ray:2.44.1-py311
    WORKDIR /app
    COPY requirements.txt ./
    RUN pip install -r requirements.txt
"""

VALUES = """
    image:
      repository: acme/ray-cluster
      tag: v1
    head:
      rayStartParams:
        num-gpus: "0"
    worker:
      rayStartParams:
        num-gpus: "{gpus}"
      resources:
        limits:
          nvidia.com/gpu: {gpus}
"""


def test_helm_values_beside_the_dockerfile_with_a_gpu_worker_group(repo):
    files = {
        "ray-cluster/ray.Dockerfile": RAY_DOCKERFILE,
        "ray-cluster/requirements.txt": "torch==2.6.0\n",
        "ray-cluster/values.yaml": VALUES.format(gpus=1),
        "Dockerfile": "FROM python:3.11-slim\nRUN pip install --no-cache-dir torch==2.6.0\n",
    }
    # The chart runs ray.Dockerfile's image on GPUs; the root Dockerfile is another image.
    assert gpu001(repo, files) == [("GPU001", "Dockerfile", 2)]


def test_helm_values_without_gpus(repo):
    files = {
        "ray-cluster/ray.Dockerfile": RAY_DOCKERFILE,
        "ray-cluster/requirements.txt": "torch==2.6.0\n",
        "ray-cluster/values.yaml": VALUES.format(gpus=0),
    }
    assert gpu001(repo, files) == [("GPU001", "ray.Dockerfile", 4)]


DEPLOYMENT = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: inference
    spec:
      template:
        spec:
          containers:
            - name: server
              image: {image}
              resources:
                limits:
                  nvidia.com/gpu: 1
"""


@pytest.mark.parametrize(
    ("image", "flagged"),
    [
        ("registry.example.com/acme/app:1.4.2", False),  # the repository folder's name
        ("{{ .Values.image }}", False),
        ("ollama/ollama:0.3.12", True),  # the GPU is for another image
    ],
)
def test_kubernetes_deployment_with_gpu_limits(repo, image, flagged):
    root = repo({})
    app = root / "app"
    files = {
        "app/Dockerfile": SERVICE,
        "app/app/main.py": "import torch\n",
        "app/k8s/deployment.yaml": DEPLOYMENT.format(image=image),
    }
    result = found(run_lint(repo(files), paths=[app], select=["GPU001"]), "GPU001")
    assert result == ([("GPU001", "Dockerfile", 3)] if flagged else [])


def test_two_dockerfiles_beside_a_templated_manifest_is_ambiguous(repo):
    files = {
        "Dockerfile": SERVICE,
        "worker.Dockerfile": SERVICE,
        "app/main.py": "import torch\n",
        "k8s/deployment.yaml": DEPLOYMENT.format(image="${IMAGE}"),
    }
    assert gpu001(repo, files) == [("GPU001", "Dockerfile", 3), ("GPU001", "worker.Dockerfile", 3)]


@pytest.mark.parametrize(("runs_on", "flagged"), [("GPU", False), ("CPU", True)])
def test_runpod_hub_configuration(repo, runs_on, flagged):
    hub = json.dumps({"title": "Background remover", "type": "serverless", "config": {"runsOn": runs_on}})
    files = {"Dockerfile": SERVICE, "app/main.py": "import torch\n", ".runpod/hub.json": hub}
    assert gpu001(repo, files) == ([("GPU001", "Dockerfile", 3)] if flagged else [])


@pytest.mark.parametrize(
    ("readme", "flagged"),
    [
        ("```\ndocker build -t sd-api .\ndocker run --gpus all -p 8000:8000 sd-api\n```\n", False),
        ("```\ndocker build -t sd-api .\ndocker run -p 8000:8000 sd-api\n```\n", True),
        ("Run the model server first: `docker run --gpus all -p 11434:11434 ollama/ollama`\n", True),
        # options spread over lines continued with a backslash
        ("```shell\ndocker build -t sd-api .\ndocker run \\\n    -d \\\n    --gpus all \\\n    sd-api\n```\n", False),
        ("```shell\ndocker build -t sd-api .\ndocker run \\\n    -d \\\n    -p 8000:8000 \\\n    sd-api\n```\n", True),
        # the management command forms
        ("```\ndocker image build -t sd-api .\ndocker container run --runtime=nvidia --gpus all sd-api\n```\n", False),
    ],
)
def test_documented_docker_run(repo, readme, flagged):
    files = {"Dockerfile": SERVICE, "app/main.py": "import torch\n", "README.md": readme}
    assert gpu001(repo, files) == ([("GPU001", "Dockerfile", 3)] if flagged else [])


@pytest.mark.parametrize(
    ("name", "flagged"),
    [("gpu.Dockerfile", False), ("Dockerfile.cuda", False), ("docker/api-gpu.Dockerfile", False),
     ("Dockerfile.api", True), ("gpustat.Dockerfile", True)],
)  # fmt: skip
def test_a_dockerfile_named_for_gpus_is_the_gpu_variant(repo, name, flagged):
    """`gpu.Dockerfile` beside the CPU `Dockerfile` is made to run on a GPU: its CUDA torch is
    the point. A name that only contains the letters (gpustat) says nothing."""
    files = {name: SERVICE, "app/main.py": "import torch\n"}
    assert bool(gpu001(repo, files)) is flagged


# -- GPU006: a CUDA base that nothing uses ------------------------------------------------------

CUDA_API = """
    FROM {base}
    RUN apt-get update && apt-get install -y --no-install-recommends python3-pip && rm -rf /var/lib/apt/lists/*
    COPY requirements.txt .
    RUN pip3 install --no-cache-dir -r requirements.txt
    COPY app/ /app/app/
    CMD {cmd}
"""
API_FILES = {
    "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\n",
    "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
}


def gpu006(repo, files: dict[str, str]):
    return found(run_lint(repo(files), select=["GPU006"]), "GPU006")


def cuda_api(base="nvidia/cuda:12.1.0-runtime-ubuntu22.04", cmd='["uvicorn", "app.main:app"]', **extra):
    return {"Dockerfile": CUDA_API.format(base=base, cmd=cmd), **API_FILES, **extra}


UV_CUDA_SERVICE = """
    FROM nvidia/cuda:12.3.2-cudnn9-runtime-ubuntu22.04
    COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /bin/
    COPY main.py pyproject.toml uv.lock ./
    RUN uv sync --frozen
    CMD ["uv", "run", "python", "main.py"]
"""


def test_a_lock_that_brings_a_gpu_capable_package_uses_the_cuda_base(repo):
    """`uv sync` installs what uv.lock pins: a git dependency of the project brings
    faster-whisper (CTranslate2 runs on the base's cuDNN). A lock of plain web packages
    uses nothing of it."""
    project = (
        "[project]\nname = 'speaker'\nversion = '0.1.0'\nrequires-python = '>=3.10'\n"
        "dependencies = ['fastapi==0.115.6', 'voice-agent']\n\n"
        "[tool.uv.sources]\nvoice-agent = { git = 'https://github.com/acme/voice-agent.git' }\n"
    )
    lock = (
        'version = 1\n\n[[package]]\nname = "fastapi"\nversion = "0.115.6"\n\n'
        '[[package]]\nname = "voice-agent"\nversion = "0.3.0"\n'
        'source = { git = "https://github.com/acme/voice-agent.git#0123456789abcdef0123456789abcdef01234567" }\n'
        'dependencies = [{ name = "faster-whisper" }]\n\n'
        '[[package]]\nname = "faster-whisper"\nversion = "1.1.0"\n'
    )
    files = {"Dockerfile": UV_CUDA_SERVICE, "pyproject.toml": project, "uv.lock": lock, "main.py": "import fastapi\n"}
    assert gpu006(repo, files) == []
    files["uv.lock"] = lock.replace('name = "faster-whisper"', 'name = "httpx"').replace(
        '{ name = "faster-whisper" }', '{ name = "httpx" }'
    )
    assert gpu006(repo, files) == [("GPU006", "Dockerfile", 1)]


def test_cuda_runtime_under_a_plain_api(repo):
    result = run_lint(repo(cuda_api()), select=["GPU006"]).findings
    assert [(f.code, f.span.line) for f in result] == [("GPU006", 1)]
    assert result[0].size_bytes == 3_000_000_000 and "python:3.X-slim" in result[0].fix


@pytest.mark.parametrize(
    "change",
    [
        {"base": "nvidia/cuda:12.1.0-base-ubuntu22.04"},  # cudart only: small
        {"base": "pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime"},  # ships torch: IMG002's
        {"cmd": '["/app/bin/server"]'},  # a binary of its own may use the GPU
        {"requirements.txt": "fastapi==0.115.6\nonnxruntime==1.18.0\n"},
        {"requirements.txt": "fastapi==0.115.6\nrembg[gpu]==2.0.59\n"},
        {"requirements.txt": "-r base.txt\n"},  # unreadable: unknown
        {"app/main.py": "from transformers import pipeline\n"},
        {"app/main.py": 'import os\n\nDEVICE = os.environ.get("DEVICE", "cuda")\n'},
        {"compose.yaml": "services:\n  api:\n    build: .\n    gpus: all\n"},
    ],
)
def test_anything_that_may_use_the_gpu_keeps_it_quiet(repo, change):
    base = change.pop("base", "nvidia/cuda:12.1.0-runtime-ubuntu22.04")
    cmd = change.pop("cmd", '["uvicorn", "app.main:app"]')
    assert gpu006(repo, cuda_api(base, cmd, **change)) == []


TORCH_CPU_API = {
    "Dockerfile": """
        FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY app/ /app/app/
        CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]
    """,
    "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\ntransformers==4.47.1\n",
    "app/__init__.py": "",
    "app/main.py": """
        import torch
        from fastapi import FastAPI
        from transformers import AutoModel, AutoTokenizer

        app = FastAPI()
        tokenizer = AutoTokenizer.from_pretrained("distilbert-base-uncased")
        model = AutoModel.from_pretrained("distilbert-base-uncased")


        @app.post("/embed")
        def embed(text: str) -> list[float]:
            with torch.no_grad():
                return model(**tokenizer(text, return_tensors="pt")).last_hidden_state[0, 0].tolist()
    """,
}


def test_a_cuda_torch_base_under_code_that_keeps_torch_on_the_cpu(repo):
    """pytorch/pytorch's torch is a CUDA build; the service uses torch and transformers, which
    stay on the CPU unless told, and never names a GPU; nothing runs the image with one.
    Said at info: a platform may attach a GPU the repository does not mention."""
    result = run_lint(repo(TORCH_CPU_API), select=["GPU006"]).findings
    assert [(f.code, f.span.line, f.severity.label) for f in result] == [("GPU006", 1, "info")]
    assert "whose torch is a CUDA build" in result[0].message and "download.pytorch.org/whl/cpu" in result[0].fix
    # the requirements a `poetry export` writes from the project are read as the project's
    exported = {
        **TORCH_CPU_API,
        "Dockerfile": TORCH_CPU_API["Dockerfile"]
        .replace("COPY requirements.txt .", "COPY pyproject.toml poetry.lock ./")
        .replace(
            "pip install --no-cache-dir -r requirements.txt",
            "pip install poetry==1.8.5 poetry-plugin-export==1.8.0 && poetry export -o requirements.txt "
            "&& pip install --no-cache-dir -r requirements.txt",
        ),
        "pyproject.toml": '[tool.poetry]\nname = "embedder"\nversion = "0.1.0"\ndescription = ""\nauthors = []\n\n'
        '[tool.poetry.dependencies]\npython = "^3.11"\nfastapi = "^0.115.6"\nuvicorn = "^0.32.1"\n'
        'transformers = "^4.47.1"\n',
        "poetry.lock": "",
    }
    assert gpu006(repo, exported) == [("GPU006", "Dockerfile", 1)]
    # transformers alone runs on torch: its pipeline without a device keeps it on the CPU
    pipeline_only = {
        **TORCH_CPU_API,
        "app/main.py": "from transformers import pipeline\n\nsentiment = pipeline('sentiment-analysis')\n",
    }
    assert gpu006(repo, pipeline_only) == [("GPU006", "Dockerfile", 1)]


@pytest.mark.parametrize(
    "change",
    [
        {"app/main.py": 'import torch\n\nmodel = torch.nn.Linear(2, 2).to("cuda")\n'},
        {"app/main.py": "import torch\n\nDEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'\n"},
        {"app/main.py": "import torch\nfrom sentence_transformers import SentenceTransformer\n"},  # picks a GPU itself
        {"app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n"},  # no torch at all: IMG002's
        {"compose.yaml": "services:\n  api:\n    build: .\n    gpus: all\n"},
        {"README.md": "Run it:\n\n    docker build -t embedder .\n    docker run --gpus all -p 8000:8000 embedder\n"},
    ],
)
def test_code_or_a_deployment_that_may_use_the_gpu_keeps_a_cuda_torch_base(repo, change):
    files = {**TORCH_CPU_API, **change}
    assert gpu006(repo, files) == []


def test_ray_cuda_variant_for_cpu_ray_code(repo):
    files = {
        "Dockerfile": "FROM rayproject/ray:nightly-py310-cu128\nCOPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\nCOPY main.py main.py\n",
        "requirements.txt": "ray\ndataconf\n",
        "main.py": "import ray\n\nray.init()\n",
    }
    result = run_lint(repo(files), select=["GPU006"]).findings
    assert [(f.code, f.span.line) for f in result] == [("GPU006", 1)]
    assert "`rayproject/ray:nightly-py310`" in result[0].fix


def test_devel_tag_sizes_are_not_counted_twice(repo):
    files = cuda_api(base="nvidia/cuda:12.1.1-devel-ubuntu22.04")
    result = run_lint(repo(files), select=["GPU003", "GPU006"]).findings
    sizes = {f.code: f.size_bytes for f in result}
    # GPU003 counts the compiler and headers, GPU006 the runtime libraries under them.
    assert sizes == {"GPU003": 2_550_000_000, "GPU006": 3_000_000_000}


def test_every_code_pattern_holds_one_of_the_words_files_are_sifted_by():
    # Files without any of the words are never searched: a pattern without one would never match.
    from dockerlint.model.gpu_signals import _settings

    settings = _settings()
    for pattern in settings["code_uses"] + settings["code_checks"]:
        plain = pattern.replace("\\", "")
        assert any(word in plain for word in settings["code_words"]), pattern


def test_a_use_in_one_file_and_a_check_in_another_is_quiet_for_every_image(repo):
    # The per-file answers are shared by the images of a run; each image still weighs its own files.
    worker = SERVICE.replace("COPY app/ ./app/", "COPY app/ ./app/\n    COPY worker/ ./worker/")
    files = {
        "Dockerfile": SERVICE,
        "worker/Dockerfile": worker,
        "app/main.py": 'import torch\nmodel = torch.nn.Linear(2, 2).to("cuda")\n',
        "worker/jobs.py": "import torch\nprint(torch.cuda.is_available())\n",
    }
    root = repo(files)
    result = run_lint(root, select=["GPU001"])
    flagged = [(str(f.path.relative_to(root)), f.span.line) for f in result.findings if f.code == "GPU001"]
    assert flagged == [("worker/Dockerfile", 3)]
