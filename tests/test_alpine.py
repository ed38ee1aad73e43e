"""IMG003: ML packages without musllinux wheels on an Alpine base."""

from __future__ import annotations

from tests.conftest import found, run_lint


def lint(repo, files: dict) -> list:
    return found(run_lint(repo(files), select=["IMG003"]), "IMG003")


def test_ml_packages_on_alpine(repo):
    files = {
        "Dockerfile": """
            FROM python:3.12-alpine3.20 AS base
            RUN apk add --no-cache libstdc++
            FROM base
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
        """,
        "requirements.txt": """
            fastapi==0.115.6
            sentence-transformers==3.3.1
            numpy==2.1.3
            onnxruntime==1.20.1
        """,
    }
    assert lint(repo, files) == [("IMG003", "requirements.txt", 2), ("IMG003", "requirements.txt", 4)]


def test_slim_bases_and_unused_alpine_stages_are_fine(repo):
    files = {
        "Dockerfile": """
            FROM alpine:3.20 AS unused
            RUN pip install torch
            FROM python:3.12-alpine AS tools
            RUN pip install --no-cache-dir httpx==0.28.1 numpy==2.1.3
            FROM python:3.12-slim
            COPY --from=tools /usr/local/bin/httpx /usr/local/bin/httpx
            RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.5.1
        """,
    }
    assert lint(repo, files) == []


def test_torch_on_alpine_is_no_cuda_torch(repo):
    """torch publishes no musllinux wheel: on Alpine its install fails (IMG003), and no ~3 GB
    of CUDA libraries come with it, which GPU001 would claim on a slim base."""
    files = {
        "Dockerfile": """
            FROM python:3.13-alpine
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY app.py .
            CMD ["python", "app.py"]
        """,
        "requirements.txt": "torch==2.7.1\n",
        "app.py": "import torch\n",
    }
    result = run_lint(repo(files), select=["IMG003", "GPU001"])
    assert found(result) == [("IMG003", "requirements.txt", 1)]
    files["Dockerfile"] = files["Dockerfile"].replace("python:3.13-alpine", "python:3.13-slim")
    assert found(run_lint(repo(files), select=["IMG003", "GPU001"])) == [("GPU001", "Dockerfile", 3)]
