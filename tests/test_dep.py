"""DEP001-DEP004 on realistic services: FastAPI, Flask, Celery, Django, Ray and ML
inference images. Each "used beyond imports" path and each name trap must leave DEP001
quiet; real unused and missing packages are found at the line that installs them."""

from __future__ import annotations

import pytest

from dockerlint.knowledge import load_packages
from dockerlint.model.distributions import lookup
from tests.conftest import REPO_ROOT, found, run_lint, write_tree

DEP = ["DEP001", "DEP002", "DEP003", "DEP004"]


def lint(repo, files: dict[str, str], codes=DEP):
    return found(run_lint(repo(files), select=codes))


SLIM_REQUIREMENTS = """
    FROM python:3.11-slim
    WORKDIR /app
    COPY requirements.txt .
    RUN pip install --no-cache-dir -r requirements.txt
    COPY app/ ./app/
"""


# -- the name table ---------------------------------------------------------------------


def test_the_seven_name_traps_map_to_their_real_modules():
    expected = {
        "scikit-learn": "sklearn",
        "PyYAML": "yaml",
        "opencv-python-headless": "cv2",
        "python-dotenv": "dotenv",
        "psycopg2-binary": "psycopg2",
        "beautifulsoup4": "bs4",
        "Pillow": "PIL",
    }
    for name, module in expected.items():
        assert module in lookup(name).modules, name


def test_name_patterns_cover_namespaces_stubs_and_variants():
    # names the index does not hold: their modules come from the override file's patterns
    assert "google-cloud-bigtable-admin" not in load_packages() and "azure-mgmt-redis" not in load_packages()
    assert lookup("google-cloud-bigtable-admin").modules == ("google.cloud.bigtable_admin",)
    assert lookup("azure-mgmt-redis").modules == ("azure.mgmt.redis",)
    assert lookup("opentelemetry-instrumentation-tornado").modules == ("opentelemetry.instrumentation.tornado",)
    # names the index holds: what their wheels install
    assert "google.cloud.pubsub" in lookup("google-cloud-pubsub").modules
    assert lookup("opentelemetry-instrumentation-flask").modules == ("opentelemetry.instrumentation.flask",)
    assert lookup("types-redis").modules == () and lookup("types-redis").dev == "typing"
    assert lookup("boto3-stubs").dev == "typing"
    assert lookup("faiss-cpu").modules == ("faiss",)
    assert lookup("opencv-contrib-python-headless").modules == ("cv2",)
    assert not lookup("acme-internal-lib").known


def test_name_traps_are_neither_unused_nor_missing(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app.main"]\n',
        "requirements.txt": """
            scikit-learn==1.5.2
            PyYAML==6.0.2
            opencv-python-headless==4.10.0.84
            python-dotenv==1.0.1
            psycopg2-binary==2.9.10
            beautifulsoup4==4.12.3
            Pillow==11.0.0
        """,
        "app/__init__.py": "",
        "app/main.py": """
            import cv2
            import psycopg2
            import yaml
            from bs4 import BeautifulSoup
            from dotenv import load_dotenv
            from PIL import Image
            from sklearn.linear_model import LogisticRegression
        """,
    }
    assert lint(repo, files) == []


# -- DEP001: every use beyond imports -----------------------------------------------------


def test_fastapi_behind_gunicorn_with_uvicorn_workers(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS
        + 'CMD ["gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-b", "0.0.0.0:8000", "app.main:app"]\n',
        "requirements.txt": """
            fastapi==0.115.6
            uvicorn[standard]==0.32.1
            uvloop==0.21.0
            httptools==0.6.4
            gunicorn==23.0.0
            python-multipart==0.0.19
            SQLAlchemy[asyncio]==2.0.36
            asyncpg==0.30.0
            greenlet==3.1.1
            orjson==3.10.12
        """,
        "app/__init__.py": "",
        "app/main.py": """
            from fastapi import FastAPI, Form
            from sqlalchemy.ext.asyncio import create_async_engine

            try:
                import orjson
            except ImportError:  # optional speed-up
                orjson = None

            engine = create_async_engine("postgresql+asyncpg://app@db/app")
            app = FastAPI()

            @app.post("/login")
            async def login(user: str = Form(...)):
                return {"user": user}
        """,
    }
    assert lint(repo, files) == []


def test_worker_class_in_a_gunicorn_config_file_and_an_entrypoint_script(repo):
    files = {
        "Dockerfile": """
            FROM python:3.12-slim
            WORKDIR /srv
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY . .
            ENTRYPOINT ["/srv/docker-entrypoint.sh"]
        """,
        "requirements.txt": """
            flask==3.1.0
            gunicorn==23.0.0
            gevent==24.11.1
            alembic==1.14.0
            psycopg[binary]==3.2.3
            Flask-SQLAlchemy==3.1.1
            sentry-sdk[flask]==2.19.2
        """,
        "docker-entrypoint.sh": """
            #!/bin/sh
            set -e
            alembic upgrade head
            exec gunicorn -c gunicorn.conf.py "web:create_app()"
        """,
        "gunicorn.conf.py": """
            bind = "0.0.0.0:8000"
            worker_class = "gevent"
            workers = 4
        """,
        "web/__init__.py": """
            import sentry_sdk
            from flask import Flask
            from flask_sqlalchemy import SQLAlchemy

            db = SQLAlchemy()

            def create_app():
                app = Flask(__name__)
                app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://web@db/web"
                db.init_app(app)
                return app
        """,
        "alembic/env.py": """
            from alembic import context
        """,
    }
    assert lint(repo, files) == []


def test_celery_worker_run_by_compose_with_a_redis_broker(repo):
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /app
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY tasks/ ./tasks/
            USER nobody
        """,
        "docker-compose.yml": """
            services:
              worker:
                build: .
                command: celery -A tasks.app worker --loglevel=info --pool=gevent
                environment:
                  CELERY_BROKER_URL: redis://redis:6379/0
              beat:
                build: .
                command: ["celery", "-A", "tasks.app", "beat"]
        """,
        "requirements.txt": """
            celery[redis]==5.4.0
            redis==5.2.1
            gevent==24.11.1
            flower==2.0.1
            requests==2.32.3
        """,
        "tasks/__init__.py": "",
        "tasks/app.py": """
            import os

            import requests
            from celery import Celery

            app = Celery("tasks", broker=os.environ["CELERY_BROKER_URL"])

            @app.task
            def ping(url):
                return requests.get(url, timeout=5).status_code
        """,
    }
    # flower is installed but neither run nor imported: a real finding, at its line
    assert lint(repo, files) == [("DEP001", "requirements.txt", 4)]


def test_django_settings_strings_name_apps_drivers_and_caches(repo):
    files = {
        "Dockerfile": """
            FROM python:3.12-slim
            ENV PYTHONDONTWRITEBYTECODE=1
            WORKDIR /code
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY . .
            RUN python manage.py collectstatic --noinput
            CMD ["gunicorn", "mysite.wsgi:application", "--bind", "0.0.0.0:8000"]
        """,
        "requirements.txt": """
            Django==5.1.4
            djangorestframework==3.15.2
            django-cors-headers==4.6.0
            django-environ==0.11.2
            django-redis==5.4.0
            psycopg2-binary==2.9.10
            whitenoise==6.8.2
            gunicorn==23.0.0
        """,
        "manage.py": """
            import os
            import sys

            if __name__ == "__main__":
                os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
                from django.core.management import execute_from_command_line
                execute_from_command_line(sys.argv)
        """,
        "mysite/__init__.py": "",
        "mysite/wsgi.py": """
            from django.core.wsgi import get_wsgi_application

            application = get_wsgi_application()
        """,
        "mysite/settings.py": """
            import environ

            env = environ.Env()
            INSTALLED_APPS = [
                "django.contrib.staticfiles",
                "rest_framework",
                "corsheaders",
                "polls",
            ]
            MIDDLEWARE = [
                "corsheaders.middleware.CorsMiddleware",
                "whitenoise.middleware.WhiteNoiseMiddleware",
            ]
            DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "mysite"}}
            CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": env("REDIS_URL")}}
        """,
        "polls/__init__.py": "",
        "polls/views.py": """
            from rest_framework.decorators import api_view

            from .models import Question
        """,
        "polls/models.py": """
            from django.db import models

            class Question(models.Model):
                text = models.CharField(max_length=200)
        """,
    }
    assert lint(repo, files) == []


def test_an_image_field_needs_pillow_though_no_code_imports_it(repo):
    """Django's system checks fail for an ImageField without Pillow (fields.E210)."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["gunicorn", "app.wsgi:application", "--bind", "0.0.0.0:8000"]\n',
        "requirements.txt": "Django==5.1.4\ngunicorn==23.0.0\nPillow==11.0.0\n",
        "app/__init__.py": "",
        "app/wsgi.py": "from django.core.wsgi import get_wsgi_application\n\napplication = get_wsgi_application()\n",
        "app/catalog/__init__.py": "",
        "app/catalog/models.py": """
            from django.db import models

            class Product(models.Model):
                name = models.CharField(max_length=200)
                photo = models.ImageField(upload_to="products/", blank=True)
        """,
    }
    assert lint(repo, files, ["DEP001"]) == []
    files["app/catalog/models.py"] = files["app/catalog/models.py"].replace("models.ImageField", "models.FileField")
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 3)]


def test_classes_of_a_package_brought_in_by_another_name_their_backends(repo):
    """The code imports llama-index-core, which llama-index brought in: the reranker class
    it names runs on sentence-transformers. Function names of such a package (mlflow's
    ``log_model``, of mlflow-skinny under mlflow) are too common to tell. llama-index itself
    is imported by nothing: it is to be replaced by the core the code imports, not removed."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app"]\n',
        "requirements.txt": "llama-index==0.12.52\nsentence-transformers==3.3.1\nmlflow==2.19.0\nshap==0.46.0\n",
        "app/__init__.py": "",
        "app/__main__.py": """
            import mlflow
            from llama_index.core import VectorStoreIndex
            from llama_index.core.postprocessor import SentenceTransformerRerank

            rerank = SentenceTransformerRerank(model="cross-encoder/ms-marco-MiniLM-L-2-v2", top_n=3)
            mlflow.sklearn.log_model(None, "model")
        """,
    }
    found_findings = [f for f in run_lint(repo(files), select=["DEP001"]).findings]
    assert [f.span.line for f in found_findings] == [1, 4]  # llama-index, shap
    meta = found_findings[0]
    assert meta.message.endswith("the service uses `llama-index-core`, which only it brings in")
    assert meta.fix.startswith("Replace `llama-index==0.12.52` with `llama-index-core` in requirements.txt")
    assert meta.autofix is None and "llama-index-core" not in meta.message.split(";")[0]
    files["app/__main__.py"] = """
        import mlflow
        from llama_index.core import VectorStoreIndex

        mlflow.sklearn.log_model(None, "model")
    """
    assert [line for _, _, line in lint(repo, files, ["DEP001"])] == [1, 2, 4]


def test_a_mongodb_srv_url_needs_dnspython(repo):
    """pymongo resolves `mongodb+srv://` addresses with dnspython (which pymongo 3 does not
    require: a `mongodb://` address leaves it unused)."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app"]\n',
        "requirements.txt": "pymongo==3.12.3\ndnspython==1.16.0\n",
        "app/__init__.py": "",
        "app/__main__.py": "import pymongo\n\nclient = pymongo.MongoClient(f'mongodb+srv://{USER}:{PASSWORD}@cluster0.example.net')\n",
    }
    assert lint(repo, files, ["DEP001"]) == []
    files["app/__main__.py"] = files["app/__main__.py"].replace("mongodb+srv://", "mongodb://")
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 2)]


def test_a_virtualenv_copied_in_with_the_code_is_not_the_services_code(repo):
    """`COPY . .` takes a developer's committed virtualenv too: its packages' own files
    (networkx's examples importing scipy) say nothing of what the service uses."""
    files = {
        "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\n"
        'CMD ["python", "-m", "app"]\n',
        "requirements.txt": "numpy==2.1.3\nscipy==1.14.1\n",
        "app/__init__.py": "",
        "app/__main__.py": "import numpy\n",
        "venv38/pyvenv.cfg": "home = /usr/bin\nversion = 3.8.10\n",
        "venv38/share/doc/networkx-3.1/examples/algorithms/plot_spectral.py": "import scipy\n",
        "node_modules/some-tool/build.py": "import scipy\n",
    }
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 2)]


def test_no_lighter_build_when_another_package_requires_the_heavy_one_by_name(repo):
    """ultralytics requires opencv-python: swapping it for the headless build would add a
    second cv2 and save nothing."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app"]\n',
        "requirements.txt": "opencv-python==4.10.0.84\nnumpy==2.1.3\n",
        "app/__init__.py": "",
        "app/__main__.py": "import cv2\nimport numpy\n",
    }
    assert lint(repo, files, ["DEP004"]) == [("DEP004", "requirements.txt", 1)]
    files["requirements.txt"] += "ultralytics==8.3.40\n"
    files["app/__main__.py"] += "from ultralytics import YOLO\n"
    assert lint(repo, files, ["DEP004"]) == []


def test_a_commented_out_service_names_nothing_and_settings_read_a_dotenv(repo):
    """A compose file in the image with its redis service commented out is no use of the
    redis client (nor is a redis service by itself: it runs the server's image); its URL in
    the bot's environment is; pydantic 1's BaseSettings reads its env_file with python-dotenv."""
    files = {
        "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\n"
        'CMD ["python", "-m", "bot"]\n',
        "requirements.txt": "pydantic==1.10.13\npython-dotenv==1.0.0\nredis==4.5.5\n",
        "docker-compose.yml": "services:\n  bot:\n    build: .\n#  redis:\n#    image: redis:7\n",
        "bot/__init__.py": "",
        "bot/__main__.py": """
            from pydantic import BaseSettings

            class Settings(BaseSettings):
                token: str

                class Config:
                    env_file = ".env"
        """,
    }
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 3)]
    files["docker-compose.yml"] = files["docker-compose.yml"].replace("#", "")
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 3)]
    files["docker-compose.yml"] = files["docker-compose.yml"].replace(
        "    build: .\n", "    build: .\n    environment:\n      REDIS_URL: redis://redis:6379/0\n"
    )
    assert lint(repo, files, ["DEP001"]) == []


def test_ml_inference_dynamic_imports_requirements_and_python_m(repo):
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /app
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            RUN python -m nltk.downloader punkt
            COPY serve.py .
            CMD ["python", "serve.py"]
        """,
        "requirements.txt": """
            torch==2.5.1
            transformers==4.46.3
            sentence-transformers==3.3.1
            scikit-learn==1.5.2
            scipy==1.14.1
            pandas==2.2.3
            nltk==3.9.1
            tokenizers==0.20.3
            accelerate==1.2.0
        """,
        "serve.py": """
            import importlib

            from sentence_transformers import SentenceTransformer

            backend = importlib.import_module("torch")
            frame = __import__("pandas").DataFrame
            encoder = SentenceTransformer("all-MiniLM-L6-v2")
        """,
    }
    assert lint(repo, files) == []


def test_ray_serve_deployment(repo):
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /app
            RUN pip install --no-cache-dir "ray[serve]==2.40.0" numpy==2.1.3
            COPY deploy.py .
            CMD ["serve", "run", "deploy:app", "--host", "0.0.0.0"]
        """,
        "deploy.py": """
            import numpy as np
            from ray import serve

            @serve.deployment
            class Model:
                def __call__(self, request):
                    return float(np.mean([1, 2, 3]))

            app = Model.bind()
        """,
    }
    assert lint(repo, files) == []


def test_type_checking_only_imports_are_no_use(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app"]\n',
        "requirements.txt": """
            numpy==2.1.3
            matplotlib==3.9.3
        """,
        "app/__init__.py": "",
        "app/__main__.py": """
            from __future__ import annotations

            from typing import TYPE_CHECKING

            import numpy as np

            if TYPE_CHECKING:
                from matplotlib.figure import Figure

            def mean(values) -> float:
                return float(np.mean(values))
        """,
    }
    assert lint(repo, files) == [("DEP001", "requirements.txt", 2)]


def test_pip_install_argument_and_exact_word(repo):
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            RUN pip install --no-cache-dir flask==3.1.0 \\
                requests==2.32.3 \\
                gunicorn==23.0.0
            COPY app.py /srv/app.py
            WORKDIR /srv
            CMD ["gunicorn", "app:app"]
        """,
        "app.py": """
            from flask import Flask

            app = Flask(__name__)
        """,
    }
    result = run_lint(repo(files), select=["DEP001"])
    assert [(f.code, f.span.line, f.span.column) for f in result.findings] == [("DEP001", 3, 5)]
    assert "`requests`" in result.findings[0].message


def test_code_left_out_of_the_image_does_not_count(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app"]\n',
        ".dockerignore": "app/notebooks_helpers.py\n",
        "requirements.txt": """
            httpx==0.28.1
            pandas==2.2.3
            polars==1.16.0
        """,
        "app/__init__.py": "",
        "app/__main__.py": "import httpx\n",
        "app/notebooks_helpers.py": "import polars\n",
        "scripts/report.py": "import pandas\n",
    }
    assert lint(repo, files, ["DEP001"]) == [
        ("DEP001", "requirements.txt", 2),
        ("DEP001", "requirements.txt", 3),
    ]


def test_venv_carried_from_a_builder_counts_and_a_builder_only_install_does_not(repo):
    files = {
        "Dockerfile": """
            FROM python:3.11 AS builder
            RUN python -m venv /opt/venv
            ENV PATH=/opt/venv/bin:$PATH
            COPY requirements.txt .
            RUN pip install -r requirements.txt
            RUN pip install --prefix=/tools pytest==8.3.4 pandas==2.2.3

            FROM python:3.11-slim
            COPY --from=builder /opt/venv /opt/venv
            ENV PATH=/opt/venv/bin:$PATH
            COPY main.py .
            CMD ["python", "main.py"]
        """,
        "requirements.txt": """
            requests==2.32.3
            rich==13.9.4
        """,
        "main.py": "import requests\n",
    }
    assert lint(repo, files) == [("DEP001", "requirements.txt", 2)]


def test_uninstalled_later_is_not_in_the_image(repo):
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt && pip uninstall -y opencv-python
            COPY main.py .
            CMD ["python", "main.py"]
        """,
        "requirements.txt": """
            opencv-python==4.10.0.84
            numpy==2.1.3
        """,
        "main.py": "import numpy\n",
    }
    assert lint(repo, files) == []


def test_an_unknown_package_keeps_quiet_about_itself_not_about_common_libraries(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app"]\n',
        "requirements.txt": """
            acme-analytics==3.1.0
            acme-tools
            numpy==2.1.3
            opencv-python-headless
        """,
        "app/__init__.py": "",
        "app/__main__.py": "import acme_analytics\nimport numpy\n",
    }
    # acme-tools is unknown (its module may be anything): never reported; OpenCV is known and
    # unused, and a hand-written list names what its author wanted
    assert lint(repo, files) == [("DEP001", "requirements.txt", 4)]


def test_a_package_installed_from_a_repository_is_named_first_among_those_that_may_need_one(repo):
    """A freeze installs OpenAI's CLIP from GitHub, and the code imports it: ftfy and regex are
    its requirements, which no index holds. The hedge names clip before the unknown entries
    nothing imports."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app"]\n',
        "requirements.txt": """
            acme-backcall==0.2.0
            acme-easygui==0.98.3
            acme-matting==1.1.12
            certifi==2024.12.14
            charset-normalizer==3.4.0
            clip @ git+https://github.com/openai/CLIP.git@a1d071733d7111c9c014f024669f959182114e33
            ftfy==6.1.1
            idna==3.10
            regex==2023.10.3
            requests==2.32.3
            urllib3==2.2.3
        """,
        "app/__init__.py": "",
        "app/__main__.py": "import clip\nimport requests\n",
    }
    (found_now,) = run_lint(repo(files), select=DEP).findings  # one reason, one finding for both
    assert (found_now.span.line, [item.span.line for item in found_now.related]) == (7, [9])
    assert found_now.severity.label == "info"
    assert "but `clip`, `acme-backcall`, `acme-easygui` and others," in found_now.message


def test_a_frozen_list_with_an_unknown_package_may_list_what_that_package_requires(repo):
    """``pip freeze`` output lists every package's requirements: with one the index does not
    know, any entry some package requires may be one of its own (databricks-cli needs PyJWT)."""
    frozen = """
        acme-databricks-cli==0.17.3
        pyjwt==2.6.0
        numpy==2.1.3
        yt-dlp==2024.12.6
        requests==2.32.3
        certifi==2024.12.14
        charset-normalizer==3.4.0
        idna==3.10
        urllib3==2.2.3
    """
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app"]\n',
        "requirements.txt": frozen,
        "app/__init__.py": "",
        "app/__main__.py": "import numpy\nimport requests\n",
    }
    # yt-dlp is required by nothing in the index: reported; PyJWT may be the unknown's: said at
    # info, naming it, claiming no bytes
    found_now = sorted(run_lint(repo(files), select=DEP).findings, key=lambda f: f.span.line)
    assert [(f.span.line, f.severity.label) for f in found_now] == [(2, "info"), (4, "warning")]
    assert "`acme-databricks-cli`, whose requirements it does not know, may" in found_now[0].message
    assert found_now[0].message.startswith("`pyjwt` is installed in the image and may be unused: ")
    assert found_now[0].fix.startswith("Check whether `acme-databricks-cli` requires it; if not, remove `pyjwt==2.6.0`")
    assert "but nothing uses it" in found_now[1].message  # yt-dlp: no unknown may need it
    assert found_now[0].size_bytes is None and found_now[0].autofix is None
    # an entry added to the freeze by hand leaves it a freeze, and is judged as written: an
    # unpinned PyJWT is what its author asked for
    files["requirements.txt"] = frozen.replace("numpy==2.1.3", "numpy").replace("pyjwt==2.6.0", "pyjwt~=2.6")
    assert lint(repo, files) == [("DEP001", "requirements.txt", 2), ("DEP001", "requirements.txt", 4)]
    # without what requests requires, or with most entries unpinned, it is a hand-written list:
    # PyJWT is reported
    mostly_unpinned = frozen
    for name in ("numpy", "yt-dlp", "requests", "certifi", "charset-normalizer"):
        mostly_unpinned = mostly_unpinned.replace(f"{name}==", f"{name}>=")
    # a spaCy pipeline is no unknown: it needs spaCy only
    pipeline = "en-core-web-sm @ https://github.com/explosion/spacy-models/releases/download/en_core_web_sm-3.8.0/en_core_web_sm-3.8.0-py3-none-any.whl"
    for written in (
        mostly_unpinned,
        frozen.split("requests")[0] + "requests==2.32.3\n",
        frozen.replace("acme-databricks-cli==0.17.3", pipeline),
    ):
        files["requirements.txt"] = written
        assert lint(repo, files) == [("DEP001", "requirements.txt", 2), ("DEP001", "requirements.txt", 4)]


def test_a_freeze_of_a_conda_environment_reads_a_url_entry_at_any_release(repo):
    """``pip freeze`` in a conda environment writes ``anyio @ file:///…`` for what conda
    installed: the version is unknown, and older releases required what newer ones do not
    (anyio and httpx before 2025 required sniffio)."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app"]\n',
        "requirements.txt": """
            anyio @ file:///home/conda/feedstock_root/build_artifacts/anyio_1729121290992/work
            certifi @ file:///home/conda/feedstock_root/build_artifacts/certifi_1725278078093/work/certifi
            h11==0.14.0
            httpcore==1.0.6
            httpx @ file:///home/conda/feedstock_root/build_artifacts/httpx_1723474830126/work
            idna @ file:///home/conda/feedstock_root/build_artifacts/idna_1726459485162/work
            nltk==3.9.1
            sniffio @ file:///home/conda/feedstock_root/build_artifacts/sniffio_1708952932303/work
        """,
        "app/__init__.py": "",
        "app/__main__.py": "import httpx\n\nprint(httpx.get('https://example.org').status_code)\n",
    }
    # nltk: nothing needs it at any release; sniffio: the frozen anyio and httpx may
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 7)]


def test_a_model_loaded_from_a_pickle_may_need_the_library_that_fitted_it(repo):
    """The API loads a pipeline the training image fits and saves to a shared volume:
    unpickling imports sklearn, though no file of the API does."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["uvicorn", "app.main:app"]\n',
        "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\njoblib==1.4.2\nscikit-learn==1.5.2\nopenpyxl==3.1.5\n",
        "app/__init__.py": "",
        "app/main.py": """
            import os

            import joblib
            from fastapi import FastAPI

            app = FastAPI()
            model = joblib.load(os.environ.get("MODEL_PATH", "/artifacts/model.joblib"))


            @app.post("/predict")
            def predict(rows: list[list[float]]) -> list[float]:
                return model.predict(rows).tolist()
        """,
    }
    # openpyxl is unused either way; scikit-learn may be what the pickle holds
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 5)]
    files["app/main.py"] = files["app/main.py"].replace("joblib.load(", "joblib.hash(")
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 4), ("DEP001", "requirements.txt", 5)]


def test_dagster_dev_runs_the_webserver_of_its_own_distribution(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["dagster", "dev", "-h", "0.0.0.0", "-m", "app"]\n',
        "requirements.txt": "dagster==1.9.3\ndagster-webserver==1.9.3\nopenpyxl==3.1.5\n",
        "app/__init__.py": "from dagster import Definitions, asset\n\n\n@asset\ndef cases():\n    return 1\n\n\ndefs = Definitions(assets=[cases])\n",
    }
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 3)]


def test_a_sagemaker_serve_script_runs_the_server(repo):
    """SageMaker starts an inference image with `serve`: the script of that name (no suffix)
    is what the container runs."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + "COPY serve /usr/local/bin/serve\nRUN chmod +x /usr/local/bin/serve\n",
        "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\nopenpyxl==3.1.5\n",
        "serve": "#!/bin/bash\nset -e\ncd /app\nexec uvicorn app.main:app --host 0.0.0.0 --port 8080\n",
        "app/__init__.py": "",
        "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    }
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 3)]


def test_ultralytics_loads_the_runtime_of_the_model_file_it_is_given(repo):
    """YOLO(path) runs an exported OpenVINO or ONNX model with that runtime: which one is a
    run-time setting, so an installed runtime beside ultralytics may be the one."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app"]\n',
        "requirements.txt": "ultralytics==8.3.40\nopenvino==2024.5.0\nopenpyxl==3.1.5\n",
        "app/__init__.py": "",
        "app/__main__.py": "import os\n\nfrom ultralytics import YOLO\n\nmodel = YOLO(os.environ['MODEL_PATH'])\n",
    }
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 3)]


def test_python_from_apt_is_no_unknown_library(repo):
    """`apt-get install python3 python3-pip python3.12-venv` brings the interpreter and its
    installers, which no requirement needs; python3-yaml is a library dockerlint cannot name."""
    dockerfile = """
        FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04
        RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip python3-dev \\
            python3.12-venv{extra} && rm -rf /var/lib/apt/lists/*
        WORKDIR /app
        COPY requirements.txt .
        RUN pip3 install --no-cache-dir -r requirements.txt
        COPY app/ ./app/
        CMD ["python3", "-m", "app"]
    """
    files = {
        "requirements.txt": "requests==2.32.3\nopenpyxl==3.1.5\n",
        "app/__init__.py": "",
        "app/__main__.py": "import requests\n\nprint(requests.get('http://svc').status_code)\n",
    }
    assert lint(repo, {"Dockerfile": dockerfile.format(extra=""), **files}, ["DEP001"]) == [
        ("DEP001", "requirements.txt", 2)
    ]
    with_library = {"Dockerfile": dockerfile.format(extra=" python3-yaml"), **files}
    assert lint(repo, with_library, ["DEP001"]) == []  # python3-yaml may need what pip installs


def test_an_apt_python_library_on_the_python_image_serves_another_python(repo):
    """The python image runs its own CPython from /usr/local; `apt-get install python3-opencv`
    there installs Debian's python3 and its cv2, which that CPython never imports."""
    dockerfile = """
        FROM python:3.9
        RUN apt-get update && apt-get install -y --no-install-recommends python3-opencv ffmpeg \
            && rm -rf /var/lib/apt/lists/*
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY app/ ./app/
        CMD ["python", "-m", "app"]
    """
    files = {
        "Dockerfile": dockerfile,
        "requirements.txt": "requests==2.32.3\nopenpyxl==3.1.5\n",
        "app/__init__.py": "",
        "app/__main__.py": "import requests\n\nprint(requests.get('http://svc').status_code)\n",
    }
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 2)]


def test_no_code_in_the_image_means_no_judgement(repo):
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            RUN pip install --no-cache-dir jupyterlab==4.3.3 pandas==2.2.3
            CMD ["jupyter", "lab", "--ip=0.0.0.0"]
        """,
    }
    assert lint(repo, files) == []


# -- DEP002 ---------------------------------------------------------------------------------


def test_a_training_script_beside_a_worker_that_cannot_be_traced_is_not_the_service(repo):
    """A Celery worker loads its tasks by strings, so what it runs cannot be traced: its
    training script (models/training/, run by hand) imports pandas, which the image lacks
    and never needs; a task module's missing import is still reported."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS.replace("COPY app/ ./app/", "COPY . .")
        + "CMD celery -A worker.app worker --loglevel=info\n",
        "requirements.txt": "celery==5.4.0\nredis==5.2.1\n",
        "worker/__init__.py": "",
        "worker/app.py": "from celery import Celery\n\napp = Celery('w', include=['worker.tasks'])\n",
        "worker/tasks.py": "import numpy\n\nfrom worker.app import app\n",
        "models/training/train_classifier.py": "import pandas as pd\n\nframe = pd.read_csv('faces.csv')\n",
    }
    assert lint(repo, files, ["DEP002"]) == [("DEP002", "tasks.py", 1)]


def test_an_import_under_the_main_guard_of_an_imported_module_does_not_run(repo):
    """The service imports app/classifier.py, whose `if __name__ == "__main__":` block (a
    manual check with OpenCV) runs only when the file is run as a script; the image's start
    command runs app.main. Run as the start script, the block runs, and cv2 is missing."""
    classifier = (
        "import json\n\n\ndef classify(text):\n    return json.dumps({'label': text})\n\n\n"
        "if __name__ == '__main__':\n    import cv2\n\n    print(cv2.imread('sample.png'))\n"
    )
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["uvicorn", "app.main:app"]\n',
        "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\n",
        "app/__init__.py": "",
        "app/main.py": "from fastapi import FastAPI\n\nfrom app.classifier import classify\n\napp = FastAPI()\n",
        "app/classifier.py": classifier,
    }
    assert lint(repo, files, ["DEP002"]) == []
    files["Dockerfile"] = SLIM_REQUIREMENTS + 'CMD ["python", "app/classifier.py"]\n'
    assert lint(repo, files, ["DEP002"]) == [("DEP002", "classifier.py", 9)]


def test_missing_packages_found_at_the_import(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["uvicorn", "app.main:app"]\n',
        "requirements.txt": """
            fastapi==0.115.6
            uvicorn==0.32.1
        """,
        "app/__init__.py": "",
        "app/main.py": """
            import json

            import httpx
            from fastapi import FastAPI
            from starlette.requests import Request

            from app import helpers
            from .db import session

            try:
                import uvloop
            except ImportError:
                uvloop = None

            app = FastAPI()
        """,
        "app/helpers.py": "import yaml\n",
        "app/db.py": "",
        "tests/test_main.py": "import pytest\n",
    }
    assert lint(repo, files, ["DEP002"]) == [("DEP002", "helpers.py", 1), ("DEP002", "main.py", 3)]


def test_a_module_newer_releases_moved_out_is_provided_by_the_release_pinned(repo):
    """langgraph 0.2 holds `langgraph.prebuilt`; from 0.3 that module is a distribution of
    its own, langgraph-prebuilt, which langgraph requires. Pinned to 0.2.35 it is neither
    missing nor is langgraph unused; with no version, pip takes the newest langgraph, which
    brings it too."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app/agent.py"]\n',
        "requirements.txt": "langgraph==0.2.35\nlangchain-openai==0.2.14\n",
        "app/agent.py": """
            from langchain_openai import ChatOpenAI
            from langgraph.prebuilt import create_react_agent

            agent = create_react_agent(ChatOpenAI(model="gpt-4o-mini"), tools=[])
            print(agent.invoke({"messages": [("user", "hello")]}))
        """,
    }
    assert lint(repo, files) == []
    files["requirements.txt"] = "langgraph\nlangchain-openai==0.2.14\n"
    assert lint(repo, files) == []
    files["requirements.txt"] = "langchain-openai==0.2.14\n"
    assert lint(repo, files, ["DEP002"]) == [("DEP002", "agent.py", 2)]  # no langgraph at all


OWN_PACKAGE = {
    "requirements.txt": "flask==3.0.3\ngunicorn==23.0.0\n",
    "main.py": """
        from flask import Flask

        import settings
        from api.core import models

        try:
            import local_overrides
        except ImportError:
            local_overrides = None

        app = Flask(__name__)
        app.config.from_object(settings)
    """,
    "settings.py": "DEBUG = False\n",
    "local_overrides.py": "DEBUG = True\n",
    "api/__init__.py": "",
    "api/core/__init__.py": "",
    "api/core/models.py": "MODELS = {}\n",
    "api/tests/test_models.py": "import pytest\n",
}


def test_a_module_of_the_repository_the_image_does_not_copy_is_missing(repo):
    """main.py is copied, the settings module and the api package it imports are not: the
    container stops at the import (an optional import may be absent)."""
    dockerfile = """
        FROM python:3.11-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY main.py .
        CMD ["gunicorn", "main:app", "--bind", "0.0.0.0:8000"]
    """
    files = {"Dockerfile": dockerfile, **OWN_PACKAGE}
    assert lint(repo, files, ["DEP002"]) == [("DEP002", "main.py", 3), ("DEP002", "main.py", 4)]
    findings = run_lint(repo(files), select=["DEP002"]).findings
    assert "the repository's `api/` is not copied in" in findings[1].message
    assert "`settings.py`" in findings[0].fix


def test_what_a_module_the_image_should_hold_imports_is_not_unused(repo):
    """bot.py imports the repository's sheets.py and config package, which the COPY leaves
    out (DEP002's): the fix copies them in, so gspread, which sheets.py imports, and
    python-dotenv, which config/ imports, are not unused. rich, which nothing imports, is;
    so are they when no code of the image imports those modules."""
    dockerfile = """
        FROM python:3.11-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY bot.py .
        CMD ["python", "bot.py"]
    """
    files = {
        "Dockerfile": dockerfile,
        "requirements.txt": "requests==2.32.3\ngspread==6.1.4\npython-dotenv==1.0.1\nrich==13.9.4\n",
        "bot.py": "import requests\n\nfrom config import TOKEN\nfrom sheets import update_sheet\n",
        "sheets.py": "import gspread\n\n\ndef update_sheet(rows):\n    return gspread.service_account()\n",
        "config/__init__.py": "from config.settings import TOKEN\n",
        "config/settings.py": "import os\n\nfrom dotenv import load_dotenv\n\nload_dotenv()\nTOKEN = os.environ['TOKEN']\n",
    }
    found = run_lint(repo(files), select=["DEP001", "DEP002"]).findings
    assert sorted((f.code, f.span.line) for f in found) == [("DEP001", 4), ("DEP002", 3), ("DEP002", 4)]
    assert "`rich`" in next(f for f in found if f.code == "DEP001").message
    files["bot.py"] = "import requests\n"
    found = run_lint(repo(files), select=["DEP001"]).findings
    assert sorted(f.span.line for f in found) == [2, 3, 4]


def test_a_repository_module_the_image_holds_or_mounts_is_not_missing(repo):
    copied = """
        FROM python:3.11-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY . .
        CMD ["gunicorn", "main:app", "--bind", "0.0.0.0:8000"]
    """
    assert lint(repo, {"Dockerfile": copied, **OWN_PACKAGE}, ["DEP002"]) == []
    only_main = copied.replace("COPY . .", "COPY main.py .")
    compose = """
        services:
          web:
            build: .
            volumes:
              - .:/app
    """
    # the compose service binds the repository over /app
    assert lint(repo, {"Dockerfile": only_main, "compose.yaml": compose, **OWN_PACKAGE}, ["DEP002"]) == []
    # the project is installed as a package
    installed = only_main.replace("COPY main.py .", "COPY . /src\nRUN pip install --no-cache-dir /src\nCOPY main.py .")
    pyproject = "[project]\nname = 'site'\nversion = '1.0'\ndependencies = []\n"
    files = {"Dockerfile": installed, "pyproject.toml": pyproject, **OWN_PACKAGE}
    assert lint(repo, files, ["DEP002"]) == []


def test_a_data_volume_does_not_bring_the_modules_the_image_lacks(repo):
    """compose mounts `./documents` and `./chroma_db` under /app: data, not the repository's
    `db_utils.py` and `config.py` that main.py imports. `config` is also a PyPI name, but the
    module is the repository's own, not copied in."""
    dockerfile = """
        FROM python:3.11-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY main.py .
        CMD ["python", "main.py"]
    """
    compose = """
        services:
          api:
            build: .
            volumes:
              - ./documents:/app/documents
              - ./chroma_db:/app/chroma_db
    """
    files = {
        "Dockerfile": dockerfile,
        "compose.yaml": compose,
        "requirements.txt": "fastapi==0.115.6\n",
        "main.py": "import fastapi\n\nfrom db_utils import load_all\nfrom config import DB_PATH\n",
        "db_utils.py": "def load_all():\n    return []\n",
        "config.py": "DB_PATH = './chroma_db'\n",
    }
    assert lint(repo, files, ["DEP002"]) == [("DEP002", "main.py", 3), ("DEP002", "main.py", 4)]
    messages = [finding.message for finding in run_lint(repo(files), select=["DEP002"]).findings]
    assert all("is not copied in" in message for message in messages)
    files["compose.yaml"] = compose.replace("./documents:/app/documents", ".:/app")
    assert lint(repo, files, ["DEP002"]) == []


def test_a_package_built_as_its_own_context_cannot_import_itself_by_name(repo):
    """compose builds mcp_server/ as its own context and copies its files to /workspace:
    `from mcp_server.registry import ...` finds no `mcp_server` package there (whatever
    distribution on PyPI ships a module of that name)."""
    files = {
        "mcp_server/Dockerfile": "FROM python:3.11-slim\nRUN pip install --no-cache-dir fastapi==0.115.6 uvicorn==0.32.1\n"
        'WORKDIR /workspace\nCOPY . /workspace\nCMD ["uvicorn", "server:app", "--host", "0.0.0.0"]\n',
        "mcp_server/server.py": "from fastapi import FastAPI\n\nfrom mcp_server.registry import tools\n\napp = FastAPI()\n",
        "mcp_server/registry.py": "tools = []\n",
        "compose.yaml": "services:\n  mcp:\n    build: ./mcp_server\n",
    }
    result = run_lint(repo(files), select=["DEP002"])
    assert [(f.path.name, f.span.line) for f in result.findings] == [("server.py", 3)]
    assert "the image holds no `mcp_server` package" in result.findings[0].message
    assert "would)" not in result.findings[0].message


def test_a_fallback_import_is_needed_only_when_what_is_tried_first_is_missing(repo):
    """`try: tflite_runtime` / `except ImportError: tensorflow.lite`: with tflite-runtime
    installed the fallback never runs; with neither installed, the fallback's is missing."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app"]\n',
        "requirements.txt": "fastapi==0.115.6\ntflite-runtime==2.14.0\n",
        "app/__init__.py": "",
        "app/__main__.py": """
            import fastapi

            try:
                from tflite_runtime.interpreter import Interpreter
            except ImportError:
                from tensorflow.lite.python.interpreter import Interpreter
        """,
    }
    assert lint(repo, files, ["DEP002"]) == []
    files["requirements.txt"] = "fastapi==0.115.6\n"
    assert lint(repo, files, ["DEP002"]) == [("DEP002", "__main__.py", 6)]


def test_code_an_image_does_not_run_is_not_missing_anything(repo):
    """A build environment (no CMD, ENTRYPOINT or compose command) copies the source to build
    it; that the run-time requirements are not installed there is no problem."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS,
        "requirements.txt": "fastapi==0.115.6\n",
        "app/__init__.py": "",
        "app/client.py": "import httpx\n\nclient = httpx.Client()\n",
    }
    assert lint(repo, files, ["DEP002"]) == []
    files["Dockerfile"] = SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app.client"]\n'
    assert lint(repo, files, ["DEP002"]) == [("DEP002", "client.py", 1)]


def test_code_every_service_copies_is_missing_a_package_only_when_every_image_lacks_it(repo):
    """A web image and a worker image each `COPY . /app`; the worker runs the tracking job
    the web app only enqueues by name, and installs what it imports."""
    dockerfile = """
        FROM python:3.11-slim
        WORKDIR /app
        COPY {requirements} .
        RUN pip install --no-cache-dir -r {requirements}
        COPY . /app
        CMD {command}
    """
    files = {
        "web.Dockerfile": dockerfile.format(requirements="web.txt", command='["gunicorn", "app:app"]'),
        "worker.Dockerfile": dockerfile.format(requirements="worker.txt", command='["rq", "worker"]'),
        "web.txt": "flask==3.0.3\ngunicorn==23.0.0\nrq==1.16.2\n",
        "worker.txt": "rq==1.16.2\nopencv-python-headless==4.10.0.84\n",
        "app.py": """
            from flask import Flask
            from redis import Redis
            from rq import Queue

            app = Flask(__name__)
            queue = Queue(connection=Redis())

            @app.post("/track")
            def track():
                return {"job": queue.enqueue("tracking.track_video", "input.mp4").id}
        """,
        "tracking.py": "import cv2\n\ndef track_video(path):\n    return cv2.VideoCapture(path).isOpened()\n",
    }
    assert lint(repo, files, ["DEP002"]) == []  # the worker, which runs it, installs opencv
    files["worker.txt"] = "rq==1.16.2\n"
    assert lint(repo, files, ["DEP002"]) == [("DEP002", "tracking.py", 1)]  # no image has cv2: said once


def test_a_shared_project_an_image_installs_must_declare_what_its_code_imports(repo):
    """The api image installs pydantic for itself; the test image installs the shared
    project, which declares no dependencies, and runs its tests: that image has no
    pydantic, whatever the api image holds."""
    files = {
        "api.Dockerfile": """
            FROM python:3.12-slim
            WORKDIR /app
            COPY api/requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY shared /app/shared
            COPY api /app/api
            CMD ["uvicorn", "api.main:app"]
        """,
        "tests.Dockerfile": """
            FROM python:3.12-slim
            WORKDIR /app
            COPY shared /app/shared
            RUN pip install --no-cache-dir /app/shared pytest==8.3.4
            CMD ["pytest", "-v", "shared/tests"]
        """,
        "api/requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\npydantic==2.10.3\n",
        "api/main.py": "from fastapi import FastAPI\n\nfrom shared.models import Job\n\napp = FastAPI()\n",
        "shared/pyproject.toml": '[project]\nname = "shared"\nversion = "0.1.0"\ndependencies = []\n',
        "shared/shared/__init__.py": "",
        "shared/shared/models.py": "from pydantic import BaseModel\n\n\nclass Job(BaseModel):\n    url: str\n",
        "shared/tests/test_models.py": "from shared.models import Job\n",
    }
    assert lint(repo, files, ["DEP002"]) == [("DEP002", "models.py", 1)]


def test_an_import_written_in_a_docstring_is_not_missing(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app"]\n',
        "requirements.txt": "requests==2.32.3\n",
        "app/__init__.py": "",
        "app/__main__.py": '''
            """Fetch the settings.

            Callers may parse the answer themselves:

                from yaml import safe_load
            """
            import requests
        ''',
    }
    assert lint(repo, files, ["DEP002"]) == []


def test_most_files_are_read_by_the_line_scan_and_qualified_imports_keep_their_flags():
    from dockerlint.model.code import scan_python

    scan = scan_python(
        "import os, numpy as np\n"
        "try:\n    import orjson as fast_json\nexcept ImportError:\n    fast_json = None\n"
        "if TYPE_CHECKING:\n    import pandas\n"
    )
    assert not scan.exact
    got = [(item.module, item.optional, item.type_checking) for item in scan.imports]
    assert got == [("os", False, False), ("numpy", False, False), ("orjson", True, False), ("pandas", False, True)]
    dynamic = scan_python("import importlib\nplugin = importlib.import_module('plugins.fast')\n")
    assert dynamic.exact
    assert [(item.module, item.dynamic) for item in dynamic.imports] == [("importlib", False), ("plugins.fast", True)]


def test_only_files_that_name_a_gui_call_are_searched_for_one():
    from dockerlint.model.code import scan_python

    assert scan_python("import cv2\ncv2.imshow('frame', image)\n").mentions.calls == {"imshow"}
    assert scan_python("import cv2\nshow = 'imshow'\n").mentions.calls == frozenset()


def test_an_install_from_a_known_repository_is_named_by_its_distribution(repo):
    """`pip install git+https://github.com/openai/whisper.git` installs openai-whisper (its
    setup's name): nothing imports `whisper`, so it is unused, and the other packages are
    judged as usual. An unknown repository is an install dockerlint cannot name: what
    it requires is unknown, and nothing is said of what some package may need."""
    dockerfile = """
        FROM python:3.11-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        RUN pip install --no-cache-dir git+https://github.com/openai/whisper.git
        COPY app/ ./app/
        CMD ["python", "-m", "app"]
    """
    files = {
        "Dockerfile": dockerfile,
        "requirements.txt": "torch==2.5.1\nnltk==3.9.1\n",
        "app/__init__.py": "",
        "app/__main__.py": "import torch\n\nprint(torch.ones(2))\n",
    }
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "Dockerfile", 5), ("DEP001", "requirements.txt", 2)]
    files["Dockerfile"] = dockerfile.replace(
        "RUN pip install --no-cache-dir git+https://github.com/openai/whisper.git\n", ""
    )
    files["requirements.txt"] = "torch==2.5.1\nnltk==3.9.1\ngit+https://github.com/openai/whisper.git@v20240930\n"
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 2), ("DEP001", "requirements.txt", 3)]
    files["app/__main__.py"] += "import whisper\n"
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 2)]
    files["requirements.txt"] = "torch==2.5.1\nnltk==3.9.1\ngit+https://github.com/acme/speech-tools.git\n"
    assert lint(repo, files, ["DEP001"]) == []  # speech-tools may require nltk


def test_nothing_is_missing_when_an_install_cannot_be_named(repo):
    base = {
        "requirements.txt": "fastapi==0.115.6\n",
        "main.py": "import yaml\nimport fastapi\n",
    }
    wheels = {
        **base,
        "Dockerfile": """
            FROM python:3.11-slim
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt /wheels/*.whl
            COPY main.py .
        """,
    }
    assert lint(repo, wheels, ["DEP002"]) == []


def test_an_installer_run_as_a_module_installs_what_dockerlint_cannot_name(tmp_path):
    """`python -m pipenv install` installs the Pipfile's packages, as `pipenv install` does."""
    for number, run in enumerate(("python -m pipenv install --system --deploy", "pipenv install --system")):
        files = {
            "Pipfile": '[packages]\nflask = "*"\npymongo = "*"\n',
            "app.py": "import flask\nimport pymongo\n",
            "Dockerfile": f'FROM python:3.11-slim\nRUN pip install pipenv\nCOPY . .\nRUN {run}\nCMD ["python", "app.py"]\n',
        }
        assert found(run_lint(write_tree(tmp_path / str(number), files), select=["DEP002"])) == [], run
    files["Dockerfile"] = files["Dockerfile"].replace("RUN pipenv install --system\n", "")
    assert [line for _, _, line in found(run_lint(write_tree(tmp_path / "none", files), select=["DEP002"]))] == [1, 2]


def test_nothing_is_missing_on_an_image_that_brings_its_own_packages(repo):
    files = {
        "Dockerfile": """
            FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime
            RUN pip install --no-cache-dir fastapi==0.115.6
            COPY main.py .
        """,
        "main.py": "import torch\nimport fastapi\n",
    }
    assert lint(repo, files, ["DEP002"]) == []


# -- DEP003 ---------------------------------------------------------------------------------


def test_dev_tools_only_in_the_final_image(repo):
    files = {
        "Dockerfile": """
            FROM python:3.11-slim AS build
            COPY requirements.txt requirements-dev.txt ./
            RUN pip install --no-cache-dir -r requirements-dev.txt && pytest -q

            FROM python:3.11-slim
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            RUN pip install --no-cache-dir ipython==8.30.0
            COPY app.py .
            CMD ["python", "app.py"]
        """,
        "requirements.txt": "flask==3.1.0\n",
        "requirements-dev.txt": "-r requirements.txt\npytest==8.3.4\nruff==0.8.3\n",
        "app.py": "import flask\n",
    }
    assert lint(repo, files, ["DEP003"]) == [("DEP003", "Dockerfile", 8)]


def flask_app_with(tool: str) -> dict[str, str]:
    """A Flask service whose requirements list ``tool`` beside Flask (line 2)."""
    return {
        "Dockerfile": """
            FROM python:3.11-slim
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY app.py .
            CMD ["python", "app.py"]
        """,
        "requirements.txt": f"flask==3.1.0\n{tool}\n",
        "app.py": "import flask\n",
    }


@pytest.mark.parametrize("tool", ["twine==5.0.0", "bump2version==1.0.1", "pip-tools==7.4.1"])
def test_release_tools_in_the_main_dependencies_are_dev_tools(repo, tool):
    """Publishing, versioning and locking tools serve the people who release the project,
    not the service: in the final image they ship unused."""
    files = flask_app_with(tool)
    result = [item for item in run_lint(repo(files), select=["DEP003"]).findings if item.code == "DEP003"]
    assert [(item.path.name, item.span.line) for item in result] == [("requirements.txt", 2)]
    assert "a packaging or release tool" in result[0].message
    # a container that runs it (a release image) uses it
    files["Dockerfile"] = files["Dockerfile"].replace('CMD ["python", "app.py"]', 'CMD ["twine", "upload", "dist/*"]')
    if tool.startswith("twine"):
        assert lint(repo, files, ["DEP003"]) == []


def test_a_tool_the_service_runs_as_a_process_is_the_services(repo):
    """A worker compiles users' requirements with `pip-compile` in a subprocess: pip-tools
    is part of the service, not a release tool left in the image."""
    files = flask_app_with("pip-tools==7.4.1")
    files["app.py"] = (
        "import asyncio\n\nimport flask\n\n\nasync def lock(path):\n"
        '    process = await asyncio.create_subprocess_exec("pip-compile", "--quiet", path)\n'
        "    return await process.wait()\n"
    )
    assert lint(repo, files, ["DEP003"]) == []
    files["app.py"] = files["app.py"].replace('"pip-compile"', '"pip-audit"')
    assert lint(repo, files, ["DEP003"]) == [("DEP003", "requirements.txt", 2)]


@pytest.mark.parametrize("tool", ["asynctest==0.13.0", "nonebug==0.4.3", "django-nose==1.4.7"])
def test_test_libraries_in_the_main_dependencies_are_dev_tools(repo, tool):
    """asyncio mocks, NoneBot's test kit and Django's nose runner listed with the service's
    own dependencies still only serve its tests."""
    files = flask_app_with(tool)
    assert lint(repo, files, ["DEP003"]) == [("DEP003", "requirements.txt", 2)]


def test_a_tool_installed_only_for_another_tool_is_said_with_it(repo):
    """nodeenv is pyright's requirement, frozen on its own line: one decision, one finding,
    on pyright. pytest under pytest-asyncio is a tool of its own (the plugin's host)."""
    files = {
        "Dockerfile": """
            FROM python:3.12-slim
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY app.py .
            CMD ["python", "app.py"]
        """,
        "requirements.txt": "flask==3.1.0\nnodeenv==1.9.1\npyright==1.1.390\npytest==8.3.4\npytest-asyncio==0.24.0\n",
        "app.py": "import flask\n",
    }
    result = run_lint(repo(files), select=["DEP003"])
    assert found(result) == [("DEP003", "requirements.txt", line) for line in (3, 4, 5)]
    pyright = next(finding for finding in result.findings if finding.span.line == 3)
    assert "with `nodeenv` (line 2), installed only for it" in pyright.message
    # beside pre-commit, which requires it too, nodeenv is not pyright's alone
    files["requirements.txt"] += "pre-commit==4.0.1\n"
    assert ("DEP003", "requirements.txt", 2) in found(run_lint(repo(files), select=["DEP003"]))


def test_a_requirements_file_compiled_from_pyproject_installs_what_pyproject_lists(repo):
    """The service installs requirements.txt, which `uv pip compile pyproject.toml` made;
    Dockerfile.test installs pyproject.toml itself, for tests that call the API over HTTP.
    Both images install loguru: the test image's view alone does not make it unused. A
    requirements.txt written by hand is no compile of pyproject.toml."""
    compiled = (
        "# This file was autogenerated by uv via the following command:\n"
        "#    uv pip compile pyproject.toml -o requirements.txt\n"
        "fastapi==0.115.6\n    # via shop (pyproject.toml)\n"
        "loguru==0.7.3\n    # via shop (pyproject.toml)\n"
        "uvicorn==0.32.1\n    # via shop (pyproject.toml)\n"
    )
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /app
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY shop ./shop
            CMD ["uvicorn", "shop.main:app", "--host", "0.0.0.0"]
        """,
        "Dockerfile.test": """
            FROM python:3.11-slim
            WORKDIR /tests
            COPY pyproject.toml .
            RUN pip install --no-cache-dir . pytest==8.3.4 httpx==0.28.1
            COPY tests .
            CMD ["pytest", "-v"]
        """,
        "pyproject.toml": """
            [project]
            name = "shop"
            version = "0.1.0"
            requires-python = ">=3.11"
            dependencies = [
              "fastapi>=0.115.6,<0.116",
              "uvicorn>=0.32.1,<0.33",
              "loguru>=0.7.3,<0.8",
            ]
        """,
        "requirements.txt": compiled,
        "shop/__init__.py": "",
        "shop/main.py": "import fastapi\nfrom loguru import logger\n\napp = fastapi.FastAPI()\n",
        "tests/test_api.py": "import httpx\n\n\ndef test_health():\n    assert httpx.get('http://api:8000/health').status_code == 200\n",
    }
    assert found(run_lint(repo(files), select=["DEP001"])) == []
    files["requirements.txt"] = "\n".join(line for line in compiled.splitlines() if not line.startswith("#"))
    reported = found(run_lint(repo(files), select=["DEP001"]))
    assert [(path, line) for _, path, line in reported] == [("pyproject.toml", line) for line in (6, 7, 8)]


def test_a_test_image_and_a_notebook_image_may_hold_their_tools(repo):
    test_image = {
        "Dockerfile": """
            FROM python:3.11-slim
            RUN pip install --no-cache-dir pytest==8.3.4 pytest-cov==6.0.0 requests==2.32.3
            COPY tests/ /tests/
            CMD ["pytest", "/tests"]
        """,
        "tests/test_api.py": "import requests\n",
    }
    assert lint(repo, test_image, ["DEP003"]) == []


@pytest.mark.parametrize(
    ("where", "written", "quiet"),
    [
        ("README.md", "Run the tests inside the container:\n\n```bash\n$ docker exec -it shop_api pytest\n```\n", True),
        ("Makefile", "test:\n\tdocker compose exec -T api python -m pytest -q\n", True),
        ("scripts/test.sh", "#!/bin/sh\nset -e\ndocker exec -u app shop_api pytest -q tests/\n", True),
        (
            ".github/workflows/ci.yml",
            "jobs:\n  test:\n    steps:\n      - run: docker-compose run --rm api sh -c 'pytest -x'\n",
            True,
        ),
        # the database's container, or tests run on the host, are no use by this image
        ("README.md", "```bash\ndocker exec -it shop_db psql -U shop\npytest\n```\n", False),
        ("Makefile", "test:\n\tdocker compose exec db pytest\n", False),
    ],
)
def test_tests_the_documents_run_inside_the_container_use_its_test_tools(repo, where, written, quiet):
    """The README runs pytest in the running service (`docker exec -it shop_api pytest`):
    pytest and its plugins are the image's tools. black, which no document runs there, is not."""
    files = {
        "Dockerfile": """
            FROM python:3.12-slim
            WORKDIR /app
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY . .
            CMD ["uvicorn", "main:app", "--host", "0.0.0.0"]
        """,
        "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\npytest==8.3.4\npytest-asyncio==0.24.0\nblack==24.10.0\n",
        "docker-compose.yml": """
            services:
              db:
                image: postgres:16
                container_name: shop_db
              api:
                build: .
                container_name: shop_api
                depends_on: [db]
        """,
        "main.py": "import fastapi\napp = fastapi.FastAPI()\n",
        "pytest.ini": "[pytest]\nasyncio_mode = auto\n",
        "tests/test_main.py": "import main\n",
        where: written,
    }
    expected = [5] if quiet else [3, 4, 5]
    assert lint(repo, files, ["DEP003"]) == [("DEP003", "requirements.txt", line) for line in expected]


def test_a_test_plugin_that_brings_a_package_the_service_uses_stays(repo):
    """pytest-playwright is how playwright gets in: the scraper imports playwright, and the
    image runs `playwright install`; removing the plugin removes the browser driver."""
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt && playwright install --with-deps firefox
            COPY scraper.py .
            CMD ["python", "scraper.py"]
        """,
        "requirements.txt": "pytest-playwright==0.4.4\nhttpx==0.28.1\n",
        "scraper.py": "import httpx\nfrom playwright.sync_api import sync_playwright\n",
    }
    assert lint(repo, files, ["DEP003"]) == []
    # with playwright on a line of its own, the plugin is a test tool like any other
    files["requirements.txt"] = "pytest-playwright==0.4.4\nplaywright==1.49.1\nhttpx==0.28.1\n"
    assert lint(repo, files, ["DEP003"]) == [("DEP003", "requirements.txt", 1)]


def test_what_the_start_script_runs_is_run_by_the_container(repo):
    """CMD ["./start.sh"], and start.sh starts `jupyter lab` beside the API: the notebook
    tool is what the container runs."""
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /app
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY . .
            EXPOSE 8000 8888
            CMD ["./start.sh"]
        """,
        "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\njupyterlab==4.3.4\n",
        "start.sh": "#!/bin/sh\njupyter lab --ip 0.0.0.0 --no-browser &\nexec uvicorn api:app --host 0.0.0.0\n",
        "api.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    }
    assert lint(repo, files, ["DEP003"]) == []
    files["start.sh"] = "#!/bin/sh\nexec uvicorn api:app --host 0.0.0.0\n"
    assert lint(repo, files, ["DEP003"]) == [("DEP003", "requirements.txt", 3)]


def test_a_dockerfile_named_for_development_is_left_alone(repo):
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir flask==3.1.0 gunicorn==23.0.0 debugpy==1.8.9 ipython==8.30.0
        COPY app.py .
        CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
    """
    for name in (
        "Dockerfile.dev",
        "docker/test.Dockerfile",
        "dev.dockerfile",
        "docker/lab.Dockerfile",
        "Dockerfile.local",
    ):
        assert lint(repo, {name: dockerfile, "app.py": "import flask\n"}, ["DEP003"]) == [], name
    # the same image as the web service is a production one
    assert len(lint(repo, {"docker/web.Dockerfile": dockerfile, "app.py": "import flask\n"}, ["DEP003"])) == 2
    # ...unless it starts a server that reloads on code changes, or the framework's development server
    for start in ('["gunicorn", "--reload", "app:app"]', '["flask", "run", "--host", "0.0.0.0"]'):
        reloading = dockerfile.replace('["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]', start)
        assert lint(repo, {"docker/web.Dockerfile": reloading, "app.py": "import flask\n"}, ["DEP003"]) == [], start
    # a compose service that starts the same image with a production server makes it a production image
    compose = (
        "services:\n  web:\n    build: {context: ., dockerfile: docker/web.Dockerfile}\n"
        "  api:\n    build: {context: ., dockerfile: docker/web.Dockerfile}\n"
        '    command: ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]\n'
    )
    reloading = dockerfile.replace('["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]', '["flask", "run"]')
    files = {"docker/web.Dockerfile": reloading, "app.py": "import flask\n", "compose.yaml": compose}
    assert len(lint(repo, files, ["DEP003"])) == 2


def test_a_development_image_beside_it_does_not_keep_the_production_image_s_tools(repo):
    """Dockerfile and Dockerfile.dev both `uv sync` the same pyproject (its dev group
    included): the development image holds pytest and ruff by design, the production
    image should not, and its finding stands though the other image does not say it."""
    pyproject = """
        [project]
        name = "shortener"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["django>=5.2", "gunicorn>=23.0"]

        [dependency-groups]
        dev = ["pytest>=8.4.1", "ruff>=0.12.1"]
    """
    image = """
        FROM python:3.12-slim
        COPY --from=ghcr.io/astral-sh/uv:0.7.13 /uv /bin/uv
        WORKDIR /app
        COPY pyproject.toml uv.lock ./
        RUN uv sync --locked --no-install-project
        COPY . .
        CMD ["uv", "run", "gunicorn", "config.wsgi:application"]
    """
    files = {
        "Dockerfile": image,
        "Dockerfile.dev": image.replace("gunicorn config.wsgi:application", "python manage.py runserver"),
        "pyproject.toml": pyproject,
        "uv.lock": "version = 1\n",
        "manage.py": "import django\n",
        "config/__init__.py": "",
        "config/wsgi.py": "from django.core.wsgi import get_wsgi_application\n\napplication = get_wsgi_application()\n",
    }
    assert lint(repo, files, ["DEP003"]) == [("DEP003", "pyproject.toml", 8)] * 2  # pytest, ruff


def test_an_image_compose_runs_as_its_test_service_is_left_alone(repo):
    files = {
        "docker/Dockerfile": """
            FROM python:3.12-slim
            WORKDIR /app
            COPY requirements.txt requirements-test.txt /tmp/
            RUN pip install --no-cache-dir -r /tmp/requirements.txt -r /tmp/requirements-test.txt
            COPY . .
        """,
        "requirements.txt": "sqlalchemy==2.0.36\n",
        "requirements-test.txt": "pytest==8.3.4\n",
        "etl/__init__.py": "import sqlalchemy\n",
        "compose.yaml": "services:\n  {service}:\n    build:\n      context: .\n      dockerfile: docker/Dockerfile\n",
    }
    tests = {**files, "compose.yaml": files["compose.yaml"].format(service="tests")}
    assert lint(repo, tests, ["DEP003"]) == []
    etl = {**files, "compose.yaml": files["compose.yaml"].format(service="etl")}
    assert lint(repo, etl, ["DEP003"]) == [("DEP003", "requirements-test.txt", 1)]
    # the same image serves `etl` and a `tests` service: it ships to production all the same
    both = {
        **etl,
        "compose.yaml": etl["compose.yaml"] + files["compose.yaml"].format(service="tests")[len("services:\n") :],
    }
    assert lint(repo, both, ["DEP003"]) == [("DEP003", "requirements-test.txt", 1)]


# -- DEP004 ---------------------------------------------------------------------------------


def test_tensorflow_on_a_cpu_image_and_not_with_a_gpu(repo):
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir tensorflow==2.18.0
        COPY predict.py .
        CMD ["python", "predict.py"]
    """
    cpu = {"Dockerfile": dockerfile, "predict.py": "import tensorflow as tf\n"}
    assert lint(repo, cpu, ["DEP004"]) == [("DEP004", "Dockerfile", 2)]
    # before 2.1 the `tensorflow` wheel was the CPU build (`tensorflow-gpu` the other one)
    old = {**cpu, "Dockerfile": dockerfile.replace("python:3.11-slim", "python:3.7-slim").replace("2.18.0", "2.0.0")}
    assert lint(repo, old, ["DEP004"]) == []


def test_tensorflow_that_a_used_package_of_unread_requirements_may_require_stays(repo):
    """deepface 0.0.95 is older than the release the package index read, and required
    tensorflow by name: installing tensorflow-cpu instead would install both."""
    assert "tensorflow" not in lookup("deepface", "0.0.95").requires  # what the index can say
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir deepface==0.0.95 tensorflow==2.13.1
        COPY match.py .
        CMD ["python", "match.py"]
    """
    files = {"Dockerfile": dockerfile, "match.py": "from deepface import DeepFace\n\nDeepFace.build_model('Facenet')\n"}
    assert lint(repo, files, ["DEP004"]) == []
    # a used package of unread requirements that has nothing to do with tensorflow changes nothing
    other = dockerfile.replace("deepface==0.0.95", "edge-tts-internal==0.1.0")
    code = "import edge_tts_internal\nimport tensorflow as tf\n"
    assert lint(repo, {"Dockerfile": other, "match.py": code}, ["DEP004"]) == [("DEP004", "Dockerfile", 2)]


def test_opencv_an_extra_of_a_used_package_requires_by_name_stays(repo):
    """unstructured[all-docs] brings unstructured-inference, which requires opencv-python by
    name: installing the headless build instead would leave both in the image."""
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir "unstructured[all-docs]==0.16.11" opencv-python==4.10.0.84
        COPY ingest.py .
        CMD ["python", "ingest.py"]
    """
    code = "import cv2\nfrom unstructured.partition.auto import partition\n\nprint(partition('scan.pdf'), cv2.__version__)\n"
    assert lint(repo, {"Dockerfile": dockerfile, "ingest.py": code}, ["DEP004"]) == []
    alone = dockerfile.replace('"unstructured[all-docs]==0.16.11" ', "")
    assert lint(repo, {"Dockerfile": alone, "ingest.py": "import cv2\n"}, ["DEP004"]) == [("DEP004", "Dockerfile", 2)]


def test_xgboost_on_a_cpu_image_where_xgboost_cpu_exists(repo):
    """xgboost's Linux wheels require nvidia-nccl-cu12; xgboost-cpu (2.1.0 on, x86_64 only)
    is the same module without them."""
    dockerfile = """
        FROM python:3.12-slim
        RUN pip install --no-cache-dir fastapi==0.115.6 {xgboost}
        COPY predict.py .
        CMD ["python", "predict.py"]
    """
    files = {"predict.py": "import fastapi\nimport xgboost\n"}
    result = run_lint(repo({"Dockerfile": dockerfile.format(xgboost="xgboost==2.1.3"), **files}), select=["DEP004"])
    assert found(result) == [("DEP004", "Dockerfile", 2)]
    (finding,) = result.findings
    # the GPU build's own extra bytes, and the NCCL wheel only it requires
    nccl = lookup("nvidia-nccl-cu12").installed_bytes()
    wheels = lookup("xgboost").installed_bytes() - lookup("xgboost-cpu").installed_bytes()
    assert "`xgboost-cpu`" in finding.message and finding.size_bytes == wheels + nccl
    # before xgboost-cpu was published, or built for arm64 too: nothing to swap to
    assert lint(repo, {"Dockerfile": dockerfile.format(xgboost="xgboost==1.7.6"), **files}, ["DEP004"]) == []
    both = {
        "Dockerfile": dockerfile.format(xgboost="xgboost==2.1.3"),
        **files,
        "docker-bake.hcl": 'target "default" {\n  platforms = ["linux/amd64", "linux/arm64"]\n}\n',
    }
    assert lint(repo, both, ["DEP004"]) == []


def test_tensorflow_with_a_compose_gpu_reservation_is_fine(repo):
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            RUN pip install --no-cache-dir tensorflow==2.18.0
            COPY predict.py .
            CMD ["python", "predict.py"]
        """,
        "docker-compose.yml": """
            services:
              predict:
                build: .
                deploy:
                  resources:
                    reservations:
                      devices:
                        - driver: nvidia
                          count: 1
                          capabilities: [gpu]
        """,
        "predict.py": "import tensorflow as tf\n",
    }
    assert lint(repo, files, ["DEP004"]) == []


def test_opencv_gui_build_is_fine_when_the_code_opens_windows(repo):
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            RUN pip install --no-cache-dir opencv-python==4.10.0.84
            COPY viewer.py .
            CMD ["python", "viewer.py"]
        """,
        "viewer.py": """
            import cv2

            frame = cv2.imread("x.png")
            cv2.imshow("frame", frame)
            cv2.waitKey(0)
        """,
    }
    assert lint(repo, files, ["DEP004"]) == []


@pytest.mark.parametrize("call", ["cv2.destroyAllWindows()", "cv2.destroyWindow('video')", "cv2.moveWindow('v', 0, 0)"])
def test_opencv_gui_build_is_kept_for_a_window_call_that_headless_opencv_lacks(repo, call):
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            RUN pip install --no-cache-dir fastapi==0.115.0 opencv-python==4.10.0.84
            COPY detect.py .
            CMD ["fastapi", "run", "detect.py"]
        """,
        "detect.py": f"""
            import cv2
            from fastapi import FastAPI

            app = FastAPI()

            @app.post("/video")
            def video(path: str):
                capture = cv2.VideoCapture(path)
                frames = 0
                while capture.read()[0]:
                    frames += 1
                capture.release()
                {call}
                return {{"frames": frames}}
        """,
    }
    assert lint(repo, files, ["DEP004"]) == []
    files["detect.py"] = files["detect.py"].replace(call, "pass")
    assert [code for code, *_ in lint(repo, files, ["DEP004"])] == ["DEP004"]


# -- the bundled examples -------------------------------------------------------------------


def test_bundled_examples():
    bloated = found(run_lint(REPO_ROOT / "examples" / "ml-service", select=DEP))
    assert bloated == [
        ("DEP001", "requirements.txt", 12),  # pandas
        ("DEP001", "requirements.txt", 14),  # opencv-python
        ("DEP003", "requirements.txt", 17),  # jupyter
        ("DEP003", "requirements.txt", 18),  # pytest
        ("DEP004", "requirements.txt", 14),  # opencv-python -> headless
    ]
    assert found(run_lint(REPO_ROOT / "examples" / "ml-service-fixed", select=DEP)) == []


def test_psycopg2_compiled_in_the_final_stage_but_not_in_a_builder(repo):
    code = {"app.py": "import psycopg2\n", "requirements.txt": "psycopg2==2.9.10\n"}
    single = """
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev \\
            && rm -rf /var/lib/apt/lists/*
        COPY requirements.txt app.py ./
        RUN pip install --no-cache-dir -r requirements.txt
        CMD ["python", "app.py"]
    """
    root = repo({"Dockerfile": single, **code})
    assert found(run_lint(root, select=["DEP004"])) == [("DEP004", "requirements.txt", 1)]
    builder = """
        FROM python:3.11-slim AS builder
        RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev \\
            && rm -rf /var/lib/apt/lists/*
        COPY requirements.txt .
        RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt
        FROM python:3.11-slim
        COPY --from=builder /opt/venv /opt/venv
        COPY app.py .
        CMD ["/opt/venv/bin/python", "app.py"]
    """
    root = repo({"Dockerfile": builder, **code})
    assert found(run_lint(root, select=["DEP004"])) == []


def test_psycopg2_before_2_8_shipped_its_own_wheels(repo):
    """Until 2.8 the psycopg2 distribution itself had manylinux wheels: nothing compiles."""
    dockerfile = """
        FROM python:3.7-slim
        COPY requirements.txt app.py ./
        RUN pip install --no-cache-dir -r requirements.txt
        CMD ["python", "app.py"]
    """
    for pin, expected in (("psycopg2==2.7.7", []), ("psycopg2==2.8.6", [("DEP004", "requirements.txt", 1)])):
        files = {"Dockerfile": dockerfile, "app.py": "import psycopg2\n", "requirements.txt": pin + "\n"}
        assert found(run_lint(repo(files), select=["DEP004"])) == expected, pin


def test_project_specific_import_names_from_configuration(repo):
    """An internal distribution whose module name cannot be guessed: without configuration
    dockerlint stays quiet about it (unknown), with `known-modules` it knows it is used."""
    root = repo(
        {
            "Dockerfile": """
            FROM python:3.11-slim
            COPY requirements.txt service.py ./
            RUN pip install --no-cache-dir -r requirements.txt
            CMD ["python", "service.py"]
        """,
            "requirements.txt": "acme-platform-sdk==4.2.0\nacme-billing==1.0.0\nfastapi==0.115.6\n",
            "service.py": "import acmesdk\nimport fastapi\n",
        }
    )
    assert found(run_lint(root, select=["DEP001"])) == []
    configured = run_lint(
        root, select=["DEP001"], known_modules={"acme-platform-sdk": ["acmesdk"], "acme-billing": ["acme_billing"]}
    )
    assert found(configured) == [("DEP001", "requirements.txt", 2)]
    assert "`acme-billing`" in configured.findings[0].message
    assert found(run_lint(root, select=["DEP001"])) == []  # the next run without it forgets it


# -- notebooks, and answers the line scan must not decide alone ------------------------------


def _notebook(*cells: str) -> str:
    import json

    rows = [
        {"cell_type": "code", "execution_count": n, "metadata": {}, "outputs": [], "source": cell.splitlines(True)}
        for n, cell in enumerate(cells, 1)
    ]
    kernel = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return json.dumps({"cells": rows, "metadata": {"kernelspec": kernel}, "nbformat": 4, "nbformat_minor": 5}, indent=1)


def test_notebooks_in_the_image_are_read(repo):
    """A notebook's imports, magics and shell commands count as use; what nothing uses is
    still reported; a notebook's import of something not installed is no DEP002 (the
    service does not run notebooks)."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + "COPY notebooks/ ./notebooks/\n" + 'CMD ["uvicorn", "app.main:app"]\n',
        "requirements.txt": """
            fastapi==0.115.6
            uvicorn[standard]==0.32.1
            pandas==2.2.3
            scikit-learn==1.5.2
            matplotlib==3.9.3
            tensorboard==2.18.0
            plotly==5.24.1
        """,
        "app/__init__.py": "",
        "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
        "notebooks/explore.ipynb": _notebook(
            "%matplotlib inline\n%load_ext tensorboard\nimport pandas as pd\n",
            "from sklearn.linear_model import LogisticRegression\nimport xgboost\n",
        ),
    }
    assert lint(repo, files) == [("DEP001", "requirements.txt", 7)]


def test_a_string_that_looks_like_a_type_checking_block_does_not_hide_an_import(repo):
    """The line scan reads `import boto3` as under TYPE_CHECKING here; before DEP001 rests
    on that, ast reads the file and sees a run-time import."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["uvicorn", "app.main:app"]\n',
        "requirements.txt": "fastapi==0.115.6\nuvicorn[standard]==0.32.1\nboto3==1.35.81\npandas==2.2.3\n",
        "app/__init__.py": "",
        "app/main.py": (
            "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
            "def stats():\n"
            '    doc = """\nif TYPE_CHECKING:\n    """\n'
            "    import boto3\n"
            "    return boto3.client\n"
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n"
            "    import pandas\n"
        ),
    }
    from dockerlint.model.code import scan_python

    line_scan = scan_python(files["app/main.py"])
    assert not line_scan.exact
    assert ("boto3", True) in [(item.module, item.type_checking) for item in line_scan.imports]
    assert lint(repo, files) == [("DEP001", "requirements.txt", 4)]  # pandas: only for the type checker


def test_a_file_neither_parser_can_read_gets_a_note(repo):
    root = repo(
        {
            "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app.main"]\n',
            "requirements.txt": "requests==2.32.3\n",
            "app/__init__.py": "",
            "app/main.py": "import requests\nimport redis\n\ndef broken(:\n    pass\n",
        }
    )
    result = run_lint(root, select=["DEP"])
    assert found(result) == []
    notes = [note for note in result.notes if note.path.name == "main.py"]
    assert notes and "could not be parsed as Python" in notes[0].message


def test_the_cycle_collector_is_back_on_after_scanning(repo):
    """Scanning turns the cycle collector off for speed; a run must leave it as it found it."""
    import gc

    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app.main"]\n',
        "requirements.txt": "requests==2.32.3\n",
        "app/main.py": "import requests\n",
    }
    assert gc.isenabled()
    lint(repo, files)
    assert gc.isenabled()


def _pickled_model(module: str, name: str) -> bytes:
    """A pickled classifier of ``module.name``, as ``pickle.dump(model, f)`` writes it."""
    return (
        b"\x80\x04\x95"
        + bytes(8)
        + b"\x8c"
        + bytes([len(module)])
        + module.encode()
        + b"\x94\x8c"
        + (bytes([len(name)]) + name.encode() + b"\x94\x93\x94)\x81\x94}\x94\x8c\x0cn_estimators\x94K\xc8sb.")
    )


def test_a_pickled_model_copied_into_the_image_uses_the_library_of_its_classes(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS
        + 'COPY models/classifier.pkl ./models/\nCMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]\n',
        "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\nxgboost==2.1.3\n",
        "app/__init__.py": "",
        "app/main.py": """
            import pickle

            from fastapi import FastAPI

            app = FastAPI()
            with open("models/classifier.pkl", "rb") as handle:
                model = pickle.load(handle)
        """,
        "models/classifier.pkl": _pickled_model("xgboost.sklearn", "XGBClassifier"),
        "models/old.pkl": _pickled_model("lightgbm.sklearn", "LGBMClassifier"),
    }
    assert lint(repo, files, ["DEP001"]) == []
    # a model left out of the image (only the old one is copied) names nothing the image needs
    files["Dockerfile"] = files["Dockerfile"].replace("classifier.pkl", "old.pkl")
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 3)]


def test_a_model_pickled_under_another_suffix_is_read_by_its_head(repo):
    """`model.bin` saved with pickle names scikit-learn's classes, not xgboost's: the image
    holds the model the code loads, so xgboost is unused; a `.bin` that is no pickle (a zip
    of PyTorch weights) names nothing and leaves the model unknown."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["gunicorn", "app.predict:app", "--bind", "0.0.0.0:9696"]\n',
        "requirements.txt": "flask==3.0.3\ngunicorn==23.0.0\nscikit-learn==1.5.2\nxgboost==2.1.3\n",
        "app/__init__.py": "",
        "app/predict.py": """
            import pickle

            from flask import Flask, jsonify, request

            with open("app/model.bin", "rb") as f_in:
                dv, model = pickle.load(f_in)

            app = Flask("charges")


            @app.route("/predict", methods=["POST"])
            def predict():
                return jsonify(float(model.predict(dv.transform([request.get_json()]))[0]))
        """,
        "app/model.bin": _pickled_model("sklearn.ensemble._forest", "RandomForestRegressor"),
    }
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 4)]
    files["app/model.bin"] = b"PK\x03\x04" + bytes(64)  # no pickle: the model may be an xgboost one
    assert lint(repo, files, ["DEP001"]) == []


def test_a_pickled_model_linked_from_outside_the_repository_is_not_read(tmp_path):
    outside = tmp_path / "elsewhere" / "classifier.pkl"
    outside.parent.mkdir()
    outside.write_bytes(_pickled_model("xgboost.sklearn", "XGBClassifier"))
    root = write_tree(
        tmp_path / "service",
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "Dockerfile": SLIM_REQUIREMENTS + "COPY models/ ./models/\n" + 'CMD ["python", "-m", "app"]\n',
            "requirements.txt": "numpy==2.1.3\nxgboost==2.1.3\n",
            "app/__init__.py": "",
            "app/__main__.py": "import pickle\nimport numpy\nmodel = pickle.load(open('models/classifier.pkl', 'rb'))\n",
        },
    )
    (root / "models").mkdir()
    (root / "models" / "classifier.pkl").symlink_to(outside)
    result = run_lint(root, select=["DEP001"])
    assert found(result) == [("DEP001", "requirements.txt", 2)]


def test_an_image_that_starts_nothing_may_be_a_base_for_others(repo):
    """A shared base (`docker build -t my-python common/`) installs what the images built
    FROM it use: said at info, without a removal fix."""
    files = {
        "common/Dockerfile": """
            FROM python:3.9-slim
            COPY ./common/requirements.txt ./common/
            RUN pip install --no-cache-dir -r ./common/requirements.txt
            COPY ./common/*.py ./common/
        """,
        "common/requirements.txt": "flask==3.0.3\nredis==5.0.1\n",
        "common/utils.py": "from flask import jsonify\n",
    }
    root = repo(files)
    (finding,) = run_lint(root, select=["DEP001"]).findings
    assert finding.severity.name == "INFO" and finding.autofix is None
    assert "the image starts nothing" in finding.message and "`redis`" in finding.message
    # a keep-alive start command starts nothing either
    kept = {**files, "common/Dockerfile": files["common/Dockerfile"] + 'CMD ["sleep", "infinity"]\n'}
    (finding,) = run_lint(repo(kept), select=["DEP001"]).findings
    assert finding.severity.name == "INFO" and "the image starts nothing" in finding.message
    files["common/Dockerfile"] += 'CMD ["flask", "--app", "common.utils", "run"]\n'
    (finding,) = run_lint(repo(files), select=["DEP001"]).findings
    assert finding.severity.name == "WARNING" and "starts nothing" not in finding.message


def test_a_server_beside_the_web_app_the_code_defines_serves_it_when_the_image_starts_nothing(repo):
    """`CMD ["sleep", "infinity"]` while the real command waits commented out: the code
    defines a FastAPI app, and uvicorn is how it is served. An image that runs something
    else (a worker script) does not use it."""
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /app
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY main.py .
            # CMD ["uvicorn", "main:app", "--host", "0.0.0.0"]
            CMD ["sleep", "infinity"]
        """,
        "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\n",
        "main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/embed')\ndef embed():\n    return []\n",
    }
    assert lint(repo, files, ["DEP001"]) == []
    files["Dockerfile"] = files["Dockerfile"].replace('CMD ["sleep", "infinity"]', 'CMD ["python", "main.py"]')
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 2)]


@pytest.mark.parametrize(
    "command, reported",
    [
        ("python manage.py runserver 0.0.0.0:8000", False),  # the development server
        ("python manage.py migrate", True),
        ("python -m worklog.jobs", True),
    ],
)
def test_a_production_server_beside_the_development_server_is_for_production(repo, command, reported):
    """Compose starts Django's `runserver`; gunicorn, installed beside it, is how the README
    and the nginx deployment serve the same application. An image that runs a job does
    not use it."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS.replace("COPY app/ ./app/", "COPY . ."),
        "requirements.txt": "django==5.1.6\ngunicorn==23.0.0\n",
        "manage.py": "import os\n\nfrom django.core.management import execute_from_command_line\n",
        "config/__init__.py": "",
        "config/wsgi.py": "from django.core.wsgi import get_wsgi_application\n\napplication = get_wsgi_application()\n",
        "worklog/__init__.py": "",
        "worklog/jobs.py": "import django\n\ndjango.setup()\n",
        "docker-compose.yml": f"services:\n  web:\n    build: .\n    command: {command}\n",
    }
    assert lint(repo, files, ["DEP001"]) == ([("DEP001", "requirements.txt", 2)] if reported else [])


KAFKA_PAIR = {
    "requirements.txt": "aiokafka==0.11.0\nmysqlclient==2.2.4\n",
    "consumer.py": """
        import asyncio

        from aiokafka import AIOKafkaConsumer

        from store import save


        async def main():
            async for message in AIOKafkaConsumer("logs", bootstrap_servers="kafka:9092"):
                save(message.value)


        asyncio.run(main())
    """,
    "store.py": "import MySQLdb\n\n\ndef save(value):\n    MySQLdb.connect(host='db').cursor().execute('INSERT', (value,))\n",
    "producer.py": "import requests\n\nfrom parser import parse\n",
    "parser.py": "import pytz\n\n\ndef parse(line):\n    return line\n",
}


def test_a_missing_package_counts_only_in_code_the_start_command_reaches(repo):
    """The image copies the whole repository; it runs consumer.py, which imports store.py.
    producer.py and parser.py run on the host: what they import need not be in the image."""
    dockerfile = """
        FROM python:3.11-slim
        WORKDIR /Home
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY . .
        CMD ["python3", "consumer.py"]
    """
    files = {"Dockerfile": dockerfile, **KAFKA_PAIR}
    assert lint(repo, files, ["DEP002"]) == []
    # what the consumer reaches is checked: store.py's import of a package not installed
    files["requirements.txt"] = "aiokafka==0.11.0\n"
    assert lint(repo, files, ["DEP002"]) == [("DEP002", "store.py", 1)]
    # `sh -c` running the one command is that command
    files["Dockerfile"] = dockerfile.replace(
        'CMD ["python3", "consumer.py"]', 'CMD ["sh", "-c", "exec python3 consumer.py"]'
    )
    assert lint(repo, files, ["DEP002"]) == [("DEP002", "store.py", 1)]
    # `uv run` of a script runs it with the project's Python
    files["Dockerfile"] = dockerfile.replace('CMD ["python3", "consumer.py"]', 'CMD ["uv", "run", "consumer.py"]')
    assert lint(repo, files, ["DEP002"]) == [("DEP002", "store.py", 1)]
    # a start command that cannot be traced (a shell script) checks every file, as before
    files["Dockerfile"] = dockerfile.replace(
        'CMD ["python3", "consumer.py"]', 'CMD ["sh", "-c", "sleep 5 && python3 consumer.py"]'
    )
    assert lint(repo, files, ["DEP002"]) == [("DEP002", "parser.py", 1), ("DEP002", "producer.py", 1),
                                             ("DEP002", "store.py", 1)]  # fmt: skip


def test_a_console_script_of_the_installed_project_reaches_only_its_module(repo):
    """`CMD ["reporter", "serve"]` runs `[project.scripts] reporter = "reporter.cli:main"` of
    the project `pip install .` installs from src/: the export tool beside it, run by hand
    with pandas, is not the service's code."""
    files = {
        "Dockerfile": """
            FROM python:3.12-slim
            WORKDIR /app
            COPY pyproject.toml ./
            COPY src ./src
            RUN pip install --no-cache-dir .
            CMD ["reporter", "serve"]
        """,
        "pyproject.toml": (
            "[project]\nname = 'reporter'\nversion = '1.0'\ndependencies = ['httpx==0.28.1']\n"
            "[project.scripts]\nreporter = 'reporter.cli:main'\n"
            "[tool.setuptools.packages.find]\nwhere = ['src']\n"
        ),
        "src/reporter/__init__.py": "",
        "src/reporter/cli.py": "import httpx\n\nfrom reporter import store\n\n\ndef main():\n    store.save(httpx.get('http://x'))\n",
        "src/reporter/store.py": "import json\n\n\ndef save(value):\n    return json.dumps(value)\n",
        "src/tools/__init__.py": "",
        "src/tools/export.py": "import pandas\n\n\ndef export(rows):\n    return pandas.DataFrame(rows)\n",
    }
    assert lint(repo, files, ["DEP002"]) == []
    # what the console script reaches is checked
    files["src/reporter/store.py"] = "import redis\n\n\ndef save(value):\n    redis.Redis().set('k', value)\n"
    assert lint(repo, files, ["DEP002"]) == [("DEP002", "store.py", 1)]
    # a command the project does not declare is not traced: every file counts, as before
    files["Dockerfile"] = files["Dockerfile"].replace('CMD ["reporter", "serve"]', 'CMD ["report-server"]')
    assert lint(repo, files, ["DEP002"]) == [("DEP002", "export.py", 1), ("DEP002", "store.py", 1)]


def test_a_module_the_service_imports_under_a_guard_may_lack_its_packages(repo):
    """server.py tries the TensorRT backend and falls back to faster-whisper: what the
    guarded module imports (soundfile) need not be installed; what the fallback imports
    must be."""
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /app
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY server.py ./
            COPY backends ./backends
            CMD ["python", "server.py"]
        """,
        "requirements.txt": "websockets==14.1\n",
        "server.py": "import websockets\n\nfrom backends.fast import transcribe\n\ntry:\n"
        "    from backends.trt import Engine\nexcept Exception:\n    Engine = None\n",
        "backends/__init__.py": "",
        "backends/fast.py": "from faster_whisper import WhisperModel\n\n\ndef transcribe(audio):\n    return []\n",
        "backends/trt.py": "import soundfile\n\n\nclass Engine:\n    pass\n",
    }
    assert lint(repo, files, ["DEP002"]) == [("DEP002", "fast.py", 1)]


@pytest.mark.parametrize("runner", ["poetry run ", "uv run ", ""])
def test_a_server_started_through_a_project_runner_reaches_only_its_app(repo, runner):
    """`poetry run uvicorn geo.main:app` serves geo.main: the one-off scraper beside it, which
    imports tqdm, is never imported by the service, and its import is not the image's problem."""
    cmd = ", ".join(f'"{word}"' for word in (*runner.split(), "uvicorn", "geo.main:app", "--host=0.0.0.0"))
    files = {
        "Dockerfile": f"""
            FROM python:3.11-slim
            WORKDIR /app
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY geo ./geo
            CMD [{cmd}]
        """,
        "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\n",
        "geo/__init__.py": "",
        "geo/main.py": "from fastapi import FastAPI\n\nfrom geo.places import nearby\n\napp = FastAPI()\n",
        "geo/places.py": "def nearby(lat, lon):\n    return []\n",
        "geo/scrapers/__init__.py": "",
        "geo/scrapers/scrape_food.py": "import json\n\nfrom tqdm import tqdm\n\nfor item in tqdm([]):\n    print(json.dumps(item))\n",
    }
    assert lint(repo, files, ["DEP002"]) == []
    files["geo/places.py"] = "from geo.scrapers.scrape_food import tqdm\n\n\ndef nearby(lat, lon):\n    return []\n"
    assert lint(repo, files, ["DEP002"]) == [("DEP002", "scrape_food.py", 3)]


# -- environment markers: the image's Python, never dockerlint's own --------------------


_MARKED_REQUIREMENTS = """\
fastapi==0.115.6
uvicorn==0.32.1
scikit-learn==1.6.0 ; python_version >= "3.12"
pandas==2.2.3 ; python_version >= "3.12"
tomli==2.0.1 ; python_version < "3.11"
"""

_MARKED_APP = {
    "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
}


def _marked_service(base: str) -> dict[str, str]:
    return {
        "Dockerfile": f"FROM {base}\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\nCOPY app/ ./app/\n"
        'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]\n',
        "requirements.txt": _MARKED_REQUIREMENTS,
        **_MARKED_APP,
    }


def _unused_lines(repo, files) -> set[int]:
    return {line for code, name, line in lint(repo, files, ["DEP001"]) if name == "requirements.txt"}


def test_a_marker_is_judged_by_the_python_of_the_image(repo):
    # python_version >= "3.12" holds on python:3.12, whatever Python runs dockerlint;
    # python_version < "3.11" (tomli, line 5) does not: pip skips it there
    assert _unused_lines(repo, _marked_service("python:3.12-slim")) == {3, 4}


def test_a_marker_the_image_python_rules_out_installs_nothing(repo):
    assert _unused_lines(repo, _marked_service("python:3.10-slim")) == {5}


def test_a_marker_on_an_image_whose_python_is_unknown_may_hold(repo):
    files = _marked_service("ubuntu:22.04")
    files["Dockerfile"] = files["Dockerfile"].replace(
        "WORKDIR /app\n", "RUN apt-get update && apt-get install -y --no-install-recommends python3-pip\nWORKDIR /app\n"
    )
    assert {3, 4} <= _unused_lines(repo, files)


@pytest.mark.parametrize(("entrypoint", "missing"), [
    ("#!/bin/sh\nset -e\npdm install\npdm run python manage.py runserver 0.0.0.0:8000\n", False),
    ("#!/bin/sh\npip install --no-cache-dir -r requirements.txt\nexec python manage.py runserver 0.0.0.0:8000\n", False),
    ("#!/bin/sh\nexec python manage.py runserver 0.0.0.0:8000\n", True),
])  # fmt: skip
def test_a_container_that_installs_packages_as_it_starts_is_not_missing_them(repo, entrypoint, missing):
    """compose starts the image with entrypoint.sh, which installs the project's packages
    before the server: the image holding no Django is how it is meant to be."""
    files = {
        "Dockerfile": "FROM python:3.12\nRUN pip install -U pdm\nCOPY src/ /project/\nWORKDIR /project\n",
        "docker-compose.yml": 'services:\n  web:\n    build: .\n    command: ["sh", "/project/entrypoint.sh"]\n',
        "src/entrypoint.sh": entrypoint,
        "src/manage.py": "import django\n",
        "src/requirements.txt": "django==5.1.4\n",
    }
    assert [code for code, _, _ in lint(repo, files, ["DEP002"])] == (["DEP002"] if missing else [])


@pytest.mark.parametrize(("entrypoint", "missing"), [
    ('ENTRYPOINT ["zinit", "init"]\n', False),  # a supervisor starts scripts dockerlint does not follow
    ('CMD ["python", "/server/manage.py", "runserver"]\n', True),  # nothing installs before the server
])  # fmt: skip
def test_an_image_that_installs_only_its_installer_may_install_the_rest_at_start(repo, entrypoint, missing):
    """The build installs Poetry and copies the project; a process supervisor runs
    `poetry install` when the container starts. Django is not missing there."""
    files = {
        "Dockerfile": "FROM python:3.10-slim\nRUN pip install poetry==1.8.5\nCOPY ./server /server\n"
        "COPY ./docker/zinit /etc/zinit\n" + entrypoint,
        "server/pyproject.toml": '[tool.poetry]\nname = "cshr"\nversion = "1.0"\n\n[tool.poetry.dependencies]\n'
        'python = "^3.10"\ndjango = "^5.0"\n',
        "server/manage.py": "import django\n",
        "docker/zinit/backend.yaml": "exec: bash -c 'cd /server && poetry install --no-root && poetry run python manage.py runserver'\n",
    }
    assert [code for code, _, _ in lint(repo, files, ["DEP002"])] == (["DEP002"] if missing else [])


def test_a_django_migration_that_imports_a_dropped_package_is_said_at_info(repo):
    """A RunPython step of an old migration imports pymongo, which the project has since
    dropped: history that `migrate` runs once, not the service's code path."""
    files = {
        "Dockerfile": """
            FROM python:3.12-slim
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY . /app
            WORKDIR /app
            CMD ["gunicorn", "site_api.wsgi"]
        """,
        "requirements.txt": "django==5.1.4\ngunicorn==23.0.0\n",
        "site_api/__init__.py": "",
        "site_api/wsgi.py": "from django.core.wsgi import get_wsgi_application\n\napplication = get_wsgi_application()\n",
        "users/__init__.py": "",
        "users/migrations/__init__.py": "",
        "users/migrations/0002_copy_from_mongo.py": (
            "from django.db import migrations\n\n\ndef copy(apps, schema_editor):\n"
            "    import pymongo\n\n    pymongo.MongoClient()\n\n\n"
            "class Migration(migrations.Migration):\n    operations = [migrations.RunPython(copy)]\n"
        ),
        "users/views.py": "import requests\n",
    }
    result = run_lint(repo(files), select=["DEP002"])
    levels = {finding.path.name: finding.severity.label for finding in result.findings}
    assert levels == {"0002_copy_from_mongo.py": "info", "views.py": "error"}


def test_a_backport_of_a_standard_library_module_is_unused(repo):
    """`asyncio==3.4.3`, `pathlib`, `enum34`: the image's Python has the module, and its
    standard library comes first on sys.path, so `import asyncio` never loads the backport.
    The dataclasses backport serves a Python 3.6 image, which lacks the module."""
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /app
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY app.py .
            CMD ["python", "app.py"]
        """,
        "requirements.txt": "flask==3.0.3\nasyncio==3.4.3\npathlib==1.0.1\ndataclasses==0.6\nenum34==1.1.10\n",
        "app.py": "import asyncio\nimport dataclasses\nimport enum\nimport pathlib\n\nimport flask\n",
    }
    result = [item for item in run_lint(repo(files), select=["DEP001"]).findings if item.code == "DEP001"]
    assert [item.span.line for item in result] == [2, 3, 4, 5]
    assert "a backport of the standard library's `enum`" in result[3].message
    files["Dockerfile"] = files["Dockerfile"].replace("python:3.11-slim", "python:3.6-slim")
    assert lint(repo, files, ["DEP001"]) == [
        ("DEP001", "requirements.txt", 2),
        ("DEP001", "requirements.txt", 3),
        ("DEP001", "requirements.txt", 5),
    ]


@pytest.mark.parametrize(
    "requirement, code", [("fasttext==0.9.3", "import fasttext\n"), ("tinysegmenter==0.4", "import tinysegmenter\n")]
)
def test_a_source_distribution_that_maps_its_package_from_a_subfolder(repo, requirement, code):
    """fasttext's setup.py installs `fasttext` from python/fasttext_module/: the import is
    the package's, not an unused install."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app.langid"]\n',
        "requirements.txt": f"{requirement}\nrich==13.9.4\n",
        "app/__init__.py": "",
        "app/langid.py": code,
    }
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 2)]


@pytest.mark.parametrize("pin", ["pynvml==11.5.0", "pynvml==12.0.0", "pynvml"])
def test_a_module_name_that_moved_between_releases_is_served_at_each(repo, pin):
    """pynvml 11 is the `pynvml` module; pynvml 12 ships pynvml_utils and serves `import
    pynvml` through nvidia-ml-py. The GPU monitor's `import pynvml` uses it either way; an
    image whose code never imports it does not."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app.monitor"]\n',
        "requirements.txt": f"fastapi==0.115.6\n{pin}\n",
        "app/__init__.py": "",
        "app/monitor.py": "import fastapi\nimport pynvml\n\npynvml.nvmlInit()\n",
    }
    assert lint(repo, files, ["DEP001"]) == []
    files["app/monitor.py"] = "import fastapi\n"
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 2)]


def test_an_import_of_a_module_git_keeps_out_is_made_by_hand_not_missing(repo):
    """The bot imports `config`, a config.py each user writes (the README says so) and
    .gitignore keeps out of git: where the image is built from a prepared checkout the module
    is there, so no PyPI package is asked for; a clean checkout lacks it, which is said at info."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS.replace("COPY app/ ./app/", "COPY . .") + 'CMD ["python", "bot.py"]\n',
        "requirements.txt": "aiogram==3.15.0\n",
        "bot.py": "import aiogram\n\nimport config\n\nprint(config.TOKEN, aiogram)\n",
        ".gitignore": ".venv\nconfig.py\n",
    }
    result = run_lint(repo(files), select=["DEP002"])
    assert [(f.code, f.path.name, f.span.line, f.severity.name) for f in result.findings] == [
        ("DEP002", "bot.py", 3, "INFO")
    ]
    assert ".gitignore keeps a module of that name out of git (line 2)" in result.findings[0].message
    # two more files import it: one cause, one finding, with their imports as related lines
    files["handlers.py"] = "import config\n"
    files["bot.py"] = "import aiogram\n\nimport config\nimport handlers\nimport replies\n\nprint(config.TOKEN)\n"
    files["replies.py"] = "from config import ADMIN\n"
    (finding,) = run_lint(repo(files), select=["DEP002"]).findings
    assert (finding.path.name, finding.span.line) == ("bot.py", 3)
    assert sorted((item.path.name, item.span.line) for item in finding.related) == [
        ("handlers.py", 1),
        ("replies.py", 1),
    ]
    files[".gitignore"] = ".venv\n"
    findings = run_lint(repo(files), select=["DEP002"]).findings
    assert {(f.severity.name, "no installed distribution provides it" in f.message) for f in findings} == {
        ("ERROR", True)
    }


def test_a_tool_the_lock_installs_for_another_package_is_no_tool_of_the_image(repo):
    """A `uv export` lock lists jupyter-core `# via acme-reports`: the resolver put it there
    for that library (whose requirements the index does not know), not as a notebook tool;
    `# via jupyterlab`, a tool, leaves it a tool."""
    lock = (
        "# This file was autogenerated by uv via the following command:\n"
        "#    uv export --format requirements.txt\n"
        "acme-reports==1.0.0\n    # via reporter\n"
        "jupyter-core==5.8.1\n    # via acme-reports\n"
        "fastapi==0.115.6\n    # via reporter\n"
    )
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app.main"]\n',
        "requirements.txt": lock,
        "app/__init__.py": "",
        "app/main.py": "import acme_reports\nimport fastapi\n",
    }
    assert lint(repo, files, ["DEP003"]) == []
    files["requirements.txt"] = lock.replace("    # via acme-reports\n", "    # via jupyterlab\n")
    assert lint(repo, files, ["DEP003"]) == [("DEP003", "requirements.txt", 5)]


def test_code_of_a_folder_with_its_own_dependencies_is_another_environments(repo):
    """server/ holds Python a compiled server embeds, with its own pyproject.toml that the
    image never installs: its imports are that project's, not missing from this image.
    Without that manifest, the same import is missing."""
    dockerfile = """
        FROM python:3.12-slim
        WORKDIR /workspace
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY . .
        CMD ["supervisord", "-c", "/workspace/supervisord.conf"]
    """
    files = {
        "Dockerfile": dockerfile,
        "requirements.txt": "supervisor==4.2.5\nhttpx==0.28.1\n",
        "client.py": "import httpx\n",
        "server/moshi-server/pyproject.toml": "[project]\nname = 'tts-python'\nversion = '0.1.0'\ndependencies = ['julius']\n",
        "server/moshi-server/voice.py": "import julius\n",
    }
    root = repo(files)
    assert found(run_lint(root, select=["DEP002"])) == []
    (root / "server/moshi-server/pyproject.toml").unlink()
    assert found(run_lint(root, select=["DEP002"])) == [("DEP002", "voice.py", 1)]
    # the image installs that project: its imports are the image's again
    files["server/moshi-server/pyproject.toml"] = (
        "[project]\nname = 'tts-python'\nversion = '0.1.0'\ndependencies = []\n"
    )
    files["Dockerfile"] = dockerfile.replace(
        "COPY . .", "COPY . .\n        RUN pip install --no-cache-dir ./server/moshi-server"
    )
    assert lint(repo, files, ["DEP002"]) == [("DEP002", "voice.py", 1)]


def test_the_server_of_an_application_the_start_command_does_not_serve_is_kept(repo):
    """The image's CMD runs the queue worker; the same image holds the FastAPI app that
    `uvicorn app.main:app` serves where the command is overridden (compose, the README):
    uvicorn is that app's server. When the CMD's program serves the app itself, or starts
    uvicorn, a second server (gunicorn) is still unused."""
    dockerfile = """
        FROM python:3.10-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY app/ app/
        CMD ["python", "app/worker.py"]
    """
    files = {
        "Dockerfile": dockerfile,
        "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\npika==1.3.2\n",
        "app/__init__.py": "",
        "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
        "app/worker.py": "import pika\n\npika.BlockingConnection()\n",
    }
    assert lint(repo, files, ["DEP001"]) == []
    files["Dockerfile"] = dockerfile.replace('["python", "app/worker.py"]', '["uvicorn", "app.main:app"]')
    files["requirements.txt"] += "gunicorn==23.0.0\n"
    files["app/main.py"] += "import pika\n"
    assert lint(repo, files, ["DEP001"]) == [("DEP001", "requirements.txt", 4)]
