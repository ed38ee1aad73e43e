"""Realistic repositories built the right way: with every rule that is on by default,
dockerlint must say nothing about them. This is the guard against false positives
across rule families (each family's own tests cover its rules one by one)."""

from __future__ import annotations

import pytest

from tests.conftest import run_lint

UV_FASTAPI = {
    "Dockerfile": """
        # syntax=docker/dockerfile:1.7
        FROM python:3.12-slim AS builder
        ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
        COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /usr/local/bin/uv
        WORKDIR /app
        RUN --mount=type=cache,target=/root/.cache/uv \\
            --mount=type=bind,source=requirements.txt,target=requirements.txt \\
            uv venv /opt/venv && VIRTUAL_ENV=/opt/venv uv pip install -r requirements.txt

        FROM python:3.12-slim
        RUN useradd --create-home --uid 10001 app
        COPY --from=builder /opt/venv /opt/venv
        ENV PATH=/opt/venv/bin:$PATH
        WORKDIR /app
        COPY --chown=app:app app/ ./app/
        USER 10001
        EXPOSE 8000
        CMD ["gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-b", "0.0.0.0:8000", "app.main:app"]
    """,
    ".dockerignore": """
        .git
        .venv
        **/__pycache__
        .pytest_cache
        tests
        .env
    """,
    "requirements.txt": """
        fastapi==0.115.6
        gunicorn==23.0.0
        uvicorn[standard]==0.32.1
        sqlalchemy==2.0.36
        psycopg2-binary==2.9.10
        pydantic-settings==2.6.1
        python-dotenv==1.0.1
        pyyaml==6.0.2
    """,
    "app/__init__.py": "",
    "app/main.py": """
        import yaml
        from dotenv import load_dotenv
        from fastapi import FastAPI
        from pydantic_settings import BaseSettings
        from sqlalchemy import create_engine

        load_dotenv()


        class Settings(BaseSettings):
            database_url: str = "postgresql+psycopg2://app@db/app"


        settings = Settings()
        engine = create_engine(settings.database_url)
        app = FastAPI()


        @app.get("/config")
        def config() -> dict:
            with open("/etc/app/config.yaml") as handle:
                return yaml.safe_load(handle)
    """,
}

GPU_INFERENCE = {
    "Dockerfile": """
        # torch wheels bring their own CUDA libraries: the base only needs the driver glue
        FROM nvidia/cuda:12.1.1-base-ubuntu22.04
        ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1 HF_HOME=/models
        RUN apt-get update \\
            && apt-get install -y --no-install-recommends \\
                python3.11=3.11.0~rc1-1~22.04 python3-pip=22.0.2+dfsg-1ubuntu0.4 \\
            && rm -rf /var/lib/apt/lists/*
        RUN useradd --create-home --uid 10001 app
        WORKDIR /srv
        COPY requirements.txt .
        RUN python3.11 -m pip install --index-url https://download.pytorch.org/whl/cu121 torch==2.3.1 \\
            && python3.11 -m pip install -r requirements.txt
        COPY --chown=app:app server/ ./server/
        USER 10001
        VOLUME ["/models"]
        CMD ["python3.11", "-m", "server"]
    """,
    "docker-compose.yml": """
        services:
          inference:
            build: .
            volumes:
              - models:/models
            deploy:
              resources:
                reservations:
                  devices:
                    - driver: nvidia
                      count: 1
                      capabilities: [gpu]
        volumes:
          models: {}
    """,
    ".dockerignore": ".git\n**/__pycache__\nmodels\n",
    "requirements.txt": """
        transformers==4.46.3
        accelerate==1.1.1
        fastapi==0.115.6
        uvicorn==0.32.1
    """,
    "server/__init__.py": "",
    "server/__main__.py": """
        import uvicorn
        from fastapi import FastAPI
        from transformers import AutoModelForCausalLM, AutoTokenizer

        app = FastAPI()
        tokenizer = AutoTokenizer.from_pretrained("Qwen/Qwen2.5-0.5B-Instruct")
        model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-0.5B-Instruct", device_map="auto")

        if __name__ == "__main__":
            uvicorn.run(app, host="0.0.0.0", port=8000)
    """,
}

CPU_EMBEDDINGS = {
    "Dockerfile": """
        FROM python:3.11-slim AS builder
        RUN apt-get update && apt-get install -y --no-install-recommends build-essential=12.9 \\
            && rm -rf /var/lib/apt/lists/*
        RUN python -m venv /opt/venv
        ENV PATH=/opt/venv/bin:$PATH
        COPY requirements.txt /tmp/requirements.txt
        RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.3.1 \\
            && pip install --no-cache-dir -r /tmp/requirements.txt

        FROM python:3.11-slim
        RUN useradd --create-home --uid 10001 app
        COPY --from=builder /opt/venv /opt/venv
        ENV PATH=/opt/venv/bin:$PATH SENTENCE_TRANSFORMERS_HOME=/cache
        WORKDIR /app
        COPY embed/ ./embed/
        USER 10001
        VOLUME /cache
        CMD ["uvicorn", "embed.api:app", "--host", "0.0.0.0"]
    """,
    ".dockerignore": ".git\n.venv\n**/__pycache__\n",
    "requirements.txt": """
        sentence-transformers==3.3.1
        scikit-learn==1.5.2
        numpy==1.26.4
        fastapi==0.115.6
        uvicorn==0.32.1
    """,
    "embed/__init__.py": "",
    "embed/api.py": """
        from functools import lru_cache

        import numpy as np
        from fastapi import FastAPI
        from sentence_transformers import SentenceTransformer
        from sklearn.preprocessing import normalize

        app = FastAPI()


        @lru_cache
        def encoder() -> SentenceTransformer:
            return SentenceTransformer("all-MiniLM-L6-v2")


        @app.post("/embed")
        def embed(texts: list[str]) -> list[list[float]]:
            vectors = normalize(np.asarray(encoder().encode(texts)))
            return vectors.tolist()
    """,
}


DJANGO_CELERY = {
    "Dockerfile": """
        FROM python:3.11-slim AS builder
        RUN apt-get update && apt-get install -y --no-install-recommends gcc=4:12.2.0-3 libpq-dev=15.8-0+deb12u1 \\
            && rm -rf /var/lib/apt/lists/*
        WORKDIR /build
        COPY requirements.txt .
        RUN pip install --user --no-cache-dir -r requirements.txt

        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y --no-install-recommends libpq5=15.8-0+deb12u1 \\
            && rm -rf /var/lib/apt/lists/*
        COPY --from=builder /root/.local /root/.local
        ENV PATH=/root/.local/bin:$PATH PYTHONDONTWRITEBYTECODE=1
        WORKDIR /srv
        COPY manage.py ./
        COPY shop/ ./shop/
        RUN python manage.py collectstatic --noinput
        USER 65534
        CMD ["gunicorn", "shop.wsgi:application", "--bind", "0.0.0.0:8000"]
    """,
    "docker-compose.yml": """
        services:
          web:
            build: .
          worker:
            build: .
            command: celery -A shop worker -l info
          migrate:
            build: .
            command: ["python", "manage.py", "migrate"]
    """,
    ".dockerignore": ".git\n**/__pycache__\n*.sqlite3\n",
    "requirements.txt": """
        Django==5.1.4
        celery[redis]==5.4.0
        gunicorn==23.0.0
        psycopg2==2.9.10
        django-environ==0.11.2
        whitenoise==6.8.2
    """,
    "manage.py": """
        import os
        import sys

        if __name__ == "__main__":
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
            from django.core.management import execute_from_command_line

            execute_from_command_line(sys.argv)
    """,
    "shop/__init__.py": "from .celery import app as celery_app\n",
    "shop/celery.py": """
        from celery import Celery

        app = Celery("shop")
        app.config_from_object("django.conf:settings", namespace="CELERY")
    """,
    "shop/settings.py": """
        import environ

        env = environ.Env()
        DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": env("DB_NAME", default="shop")}}
        MIDDLEWARE = ["whitenoise.middleware.WhiteNoiseMiddleware"]
    """,
    "shop/wsgi.py": """
        from django.core.wsgi import get_wsgi_application

        application = get_wsgi_application()
    """,
}


@pytest.mark.parametrize(
    "files",
    [UV_FASTAPI, GPU_INFERENCE, CPU_EMBEDDINGS, DJANGO_CELERY],
    ids=["uv-fastapi", "gpu", "cpu", "django-celery"],
)
def test_correct_builds_are_silent(repo, files):
    result = run_lint(repo(files))
    assert [(f.code, f.path.name, f.span.line, f.message) for f in result.findings] == []
    assert result.notes == []
