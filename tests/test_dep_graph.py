"""DEP001/DEP003 decided from the requirement graph of the package index: requirements
at the pinned version, packages another package uses lazily, packages only a framework's
string names, unknown names, and the size of what removing a package saves."""

from __future__ import annotations

import pytest
from msgspec.structs import replace

from dockerlint.findings import Severity
from dockerlint.knowledge import load_packages
from dockerlint.model.distributions import (
    _glob_test,
    calls,
    indexed,
    lookup,
    plugin_hosts,
    required_by_some,
    requirements_read,
)
from tests.conftest import run_lint

DEP = ["DEP001", "DEP002", "DEP003", "DEP004"]

SLIM_REQUIREMENTS = """
    FROM python:3.11-slim
    WORKDIR /app
    COPY requirements.txt .
    RUN pip install --no-cache-dir -r requirements.txt
    COPY . .
"""


def findings(repo, files: dict[str, str], codes=DEP):
    return sorted(run_lint(repo(files), select=codes).findings, key=lambda item: (item.code, item.span.line))


def lines(items) -> list[tuple[str, int]]:
    return [(item.code, item.span.line) for item in items]


# -- requirements at the pinned version ------------------------------------------------------

FROZEN_REDIS_SERVICE = """
    async-timeout==4.0.2
    certifi==2022.6.15
    chardet==4.0.0
    Deprecated==1.2.13
    idna==2.10
    packaging==21.3
    pyparsing==3.0.9
    redis==4.3.4
    requests==2.25.0
    urllib3==1.26.12
    wrapt==1.14.1
"""


def test_versions_pinned_in_a_freeze_file_decide_the_edges():
    assert "chardet" in lookup("requests", "2.25.0").requires
    assert "chardet" not in lookup("requests", "2.31.0").requires
    assert {"async-timeout", "deprecated"} <= set(lookup("redis", "4.3.4").requires)
    assert "pyparsing" in lookup("packaging", "21.3").requires
    assert "pyparsing" not in lookup("packaging", "24.1").requires


def test_a_freeze_file_of_a_redis_and_requests_service_is_quiet(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "worker.py"]\n',
        "requirements.txt": FROZEN_REDIS_SERVICE,
        "worker.py": """
            import redis
            import requests

            queue = redis.Redis(host="redis")
            while True:
                _, url = queue.blpop("urls")
                requests.get(url.decode(), timeout=10)
        """,
    }
    assert findings(repo, files) == []


def test_an_unused_root_of_a_freeze_file_is_reported_once_with_what_only_it_needs(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "worker.py"]\n',
        "requirements.txt": FROZEN_REDIS_SERVICE,
        "worker.py": "import redis\n\nredis.Redis(host='redis').ping()\n",
    }
    found = findings(repo, files)
    # requests goes, and chardet, idna, urllib3 and certifi go with it: one finding, on requests
    assert lines(found) == [("DEP001", 9)]
    message = found[0].message
    assert message.startswith("`requests` (~") and "with the 4 packages only it needs" in message
    assert found[0].size_bytes > lookup("requests").size
    assert "`chardet==4.0.0`" in found[0].fix and "`urllib3==1.26.12`" in found[0].fix


def test_newer_pins_no_longer_need_what_older_ones_did(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "worker.py"]\n',
        "requirements.txt": """
            certifi==2024.8.30
            chardet==4.0.0
            charset-normalizer==3.4.0
            idna==3.10
            requests==2.32.3
            urllib3==2.2.3
        """,
        "worker.py": "import requests\n\nrequests.get('https://example.org', timeout=5)\n",
    }
    # requests 2.32 reads charset-normalizer; nothing needs chardet any more
    assert lines(findings(repo, files)) == [("DEP001", 2)]


# -- used by another package, not by an import -----------------------------------------------


def test_a_diffusers_service_calling_xformers_through_the_pipeline(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "serve.py"]\n',
        "requirements.txt": """
            diffusers==0.31.0
            transformers==4.46.3
            accelerate==1.1.1
            torch==2.5.1
            xformers==0.0.28.post3
            gradio==5.6.0
        """,
        "serve.py": """
            import torch
            from diffusers import StableDiffusionPipeline

            pipe = StableDiffusionPipeline.from_pretrained("stabilityai/sd-2-1", torch_dtype=torch.float16)
            pipe.enable_xformers_memory_efficient_attention()
            pipe("an astronaut").images[0].save("out.png")
        """,
    }
    # xformers, transformers and accelerate are used by diffusers; gradio by nothing
    assert lines(findings(repo, files)) == [("DEP001", 6)]


def test_the_clip_tokenizer_of_a_stable_diffusion_pipeline_cleans_prompts_with_ftfy(repo):
    """The pipeline loads transformers' CLIPTokenizer, which uses ftfy when it is installed."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "serve.py"]\n',
        "requirements.txt": "diffusers==0.9.0\ntransformers==4.25.1\nftfy==6.1.1\ntorch==1.13.1\nredis==5.0.1\n",
        "serve.py": """
            from diffusers import StableDiffusionPipeline

            pipe = StableDiffusionPipeline.from_pretrained("stabilityai/stable-diffusion-2-base")
            pipe("a lighthouse at dawn").images[0].save("out.png")
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 5)]  # redis only


def test_the_sdxl_pipelines_watermark_with_invisible_watermark_when_it_is_installed(repo):
    """diffusers' Stable Diffusion XL pipelines import `imwatermark` and mark every image
    when invisible-watermark is installed: the service uses it without importing it."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "serve.py"]\n',
        "requirements.txt": "diffusers==0.30.3\ntransformers==4.44.2\ninvisible-watermark==0.2.0\ntorch==2.4.1\nredis==5.0.1\n",
        "serve.py": """
            from diffusers import StableDiffusionXLPipeline

            pipe = StableDiffusionXLPipeline.from_pretrained("stabilityai/stable-diffusion-xl-base-1.0")
            pipe("a lighthouse at dawn").images[0].save("out.png")
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 5)]  # redis only
    # a Stable Diffusion 1.x pipeline marks nothing: the watermarker is installed for nothing
    files["serve.py"] = files["serve.py"].replace("StableDiffusionXLPipeline", "StableDiffusionPipeline")
    files["serve.py"] = files["serve.py"].replace("stable-diffusion-xl-base-1.0", "stable-diffusion-2-base")
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 3), ("DEP001", 5)]


def test_drf_docs_urls_need_coreapi(repo):
    """`include_docs_urls` builds its view from a CoreAPI schema (DRF asserts coreapi is
    installed); a project that never calls it has coreapi for nothing."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["gunicorn", "site_api.wsgi"]\n',
        "requirements.txt": "django==3.2.25\ndjangorestframework==3.14.0\ncoreapi==2.3.3\ngunicorn==22.0.0\n",
        "site_api/__init__.py": "",
        "site_api/wsgi.py": "from django.core.wsgi import get_wsgi_application\n\napplication = get_wsgi_application()\n",
        "site_api/urls.py": """
            from django.urls import path
            from rest_framework.documentation import include_docs_urls

            urlpatterns = [path("docs/", include_docs_urls(title="Site API"))]
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["site_api/urls.py"] = "from django.urls import path\nfrom rest_framework import routers\n\nurlpatterns = []\n"
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 3)]


def test_drf_schema_view_needs_pyyaml_and_uritemplate_and_the_database_url_its_driver(repo):
    """`get_schema_view()` renders the OpenAPI schema with OpenAPIRenderer, which asserts
    that yaml is installed, from paths read with uritemplate; `dj_database_url.config()`
    takes DATABASE_URL from the environment: the installed PostgreSQL driver may be it."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["gunicorn", "site_api.wsgi"]\n',
        "requirements.txt": "django==5.1.4\ndjangorestframework==3.15.2\npyyaml==6.0.2\nuritemplate==4.1.1\n"
        "dj-database-url==2.3.0\npsycopg2-binary==2.9.10\ngunicorn==23.0.0\n",
        "site_api/__init__.py": "",
        "site_api/wsgi.py": "from django.core.wsgi import get_wsgi_application\n\napplication = get_wsgi_application()\n",
        "site_api/settings.py": """
            import dj_database_url

            DATABASES = {"default": dj_database_url.config(default="sqlite:///db.sqlite3")}
        """,
        "site_api/urls.py": """
            from django.urls import path
            from rest_framework.schemas import get_schema_view

            urlpatterns = [path("openapi/", get_schema_view(title="Site API", public=True))]
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["site_api/urls.py"] = "from django.urls import path\nfrom rest_framework import routers\n\nurlpatterns = []\n"
    files["site_api/settings.py"] = 'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3"}}\n'
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 3), ("DEP001", 4), ("DEP001", 5), ("DEP001", 6)]


def test_the_time_zone_data_zoneinfo_falls_back_on_is_used(repo):
    """zoneinfo reads the first-party tzdata package when the image has no system time-zone
    database (python:3.x-slim may not); code that never uses zoneinfo has tzdata for nothing."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "clock.py"]\n',
        "requirements.txt": "httpx==0.28.1\ntzdata==2024.2\n",
        "clock.py": """
            from datetime import datetime
            from zoneinfo import ZoneInfo

            import httpx

            print(datetime.now(ZoneInfo("Europe/Berlin")), httpx.__version__)
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["clock.py"] = "from datetime import datetime, timezone\n\nimport httpx\n\nprint(datetime.now(timezone.utc))\n"
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 2)]


def test_the_time_zone_data_a_package_reads_through_zoneinfo_is_used(repo):
    """tzlocal's get_localzone() is a zoneinfo.ZoneInfo: where the system has no such zone,
    zoneinfo reads the tzdata package, which the project lists on purpose beside it."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "bridge.py"]\n',
        "requirements.txt": "paho-mqtt==2.1.0\ntzdata==2024.2\ntzlocal==5.2\n",
        "bridge.py": """
            import paho.mqtt.client as mqtt
            import tzlocal

            client = mqtt.Client()
            print(tzlocal.get_localzone())
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["bridge.py"] = "import paho.mqtt.client as mqtt\n\nclient = mqtt.Client()\n"
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 2), ("DEP001", 3)]


def test_flask_caching_loads_the_client_its_cache_type_names(repo):
    """`CACHE_TYPE: "RedisCache"` makes Flask-Caching import redis when the app starts."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
        "requirements.txt": "flask==3.1.0\nflask-caching==2.3.0\nredis==5.2.1\n",
        "app.py": """
            from flask import Flask
            from flask_caching import Cache

            app = Flask(__name__)
            cache = Cache(app, config={"CACHE_TYPE": "RedisCache", "CACHE_REDIS_HOST": "cache"})
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["app.py"] = files["app.py"].replace('"RedisCache", "CACHE_REDIS_HOST": "cache"', '"SimpleCache"')
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 3)]


def test_a_package_that_works_with_pandas_frames_when_installed_does_not_use_pandas(repo):
    """scikit-learn handles pandas frames when the service has pandas (`try: import pandas
    as pd` / `except ImportError: pd = None`) and looks at pandas dtypes under every fit:
    neither makes an installed pandas used by a service that never makes a frame."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "predict.py"]\n',
        "requirements.txt": "scikit-learn==1.5.2\npandas==2.2.3\n",
        "predict.py": """
            from sklearn.linear_model import LogisticRegression

            model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
            print(model.predict([[2.0]]))
        """,
    }
    [unused] = findings(repo, files)
    assert (unused.code, unused.span.line) == ("DEP001", 2) and unused.message.startswith("`pandas`")


LANGCHAIN_PDF_CHATBOT = """
    import streamlit as st
    from langchain_community.document_loaders import PyPDFLoader
    from langchain_community.vectorstores import FAISS
    from langchain_openai import ChatOpenAI, OpenAIEmbeddings

    upload = st.file_uploader("PDF")
    if upload:
        pages = PyPDFLoader(upload.name).load()
        store = FAISS.from_documents(pages, OpenAIEmbeddings())
        st.write(ChatOpenAI().invoke(st.text_input("Question")).content)
"""


def test_a_langchain_pdf_chatbot_uses_its_loaders_packages(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["streamlit", "run", "app.py"]\n',
        "requirements.txt": """
            langchain==0.3.9
            langchain-community==0.3.8
            langchain-openai==0.2.10
            pypdf==5.1.0
            streamlit==1.40.2
            redis==5.2.0
        """,
        "app.py": LANGCHAIN_PDF_CHATBOT,
    }
    # langchain-community 0.3.8 requires langchain (0.4 no longer does); pypdf is imported
    # when the loader's load() runs; redis is left over
    assert lines(findings(repo, files)) == [("DEP001", 6)]


def test_a_wrapper_that_imports_its_package_in_a_validator_uses_it(repo):
    """LangChain's PubMedAPIWrapper imports xmltodict in the pydantic validator its
    construction runs (langchain_community/utilities/pubmed.py, `validate_environment`)."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "search.py"]\n',
        "requirements.txt": """
            langchain-community==0.3.27
            xmltodict==0.14.2
            feedparser==6.0.11
        """,
        "search.py": """
            import sys

            from langchain_community.utilities.pubmed import PubMedAPIWrapper

            print(PubMedAPIWrapper(top_k_results=3).run(sys.argv[1]))
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 3)]  # feedparser is left over


VECTOR_STORE_CHATBOT = {
    "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["streamlit", "run", "app.py"]\n',
    "requirements.txt": """
        langchain-community==0.3.8
        langchain-openai==0.2.10
        pypdf==5.1.0
        faiss-cpu==1.9.0
        streamlit==1.40.2
    """,
    "app.py": LANGCHAIN_PDF_CHATBOT,
}


def test_a_vector_store_class_the_code_names_uses_its_backend(repo):
    # FAISS.from_documents is inherited from langchain-core's VectorStore and imports
    # nothing itself: the class named for faiss is what says the code runs on it.
    assert lines(findings(repo, VECTOR_STORE_CHATBOT)) == []


def test_an_integration_named_for_the_singular_of_its_backend_uses_it(repo):
    """LangChain's SentenceTransformerEmbeddings runs on sentence-transformers."""
    files = {
        **VECTOR_STORE_CHATBOT,
        "requirements.txt": VECTOR_STORE_CHATBOT["requirements.txt"].replace(
            "faiss-cpu==1.9.0", "faiss-cpu==1.9.0\n        sentence-transformers==3.3.1"
        ),
        "app.py": LANGCHAIN_PDF_CHATBOT.replace(
            "from langchain_openai import ChatOpenAI, OpenAIEmbeddings",
            "from langchain_community.embeddings import SentenceTransformerEmbeddings\n"
            "    from langchain_openai import ChatOpenAI",
        ).replace("OpenAIEmbeddings()", 'SentenceTransformerEmbeddings(model_name="all-MiniLM-L6-v2")'),
    }
    assert lines(findings(repo, files)) == []


def test_a_database_engine_read_from_the_environment_keeps_its_driver(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["gunicorn", "site.wsgi"]\n',
        "requirements.txt": """
            Django==4.2.16
            psycopg2-binary==2.9.10
            gunicorn==23.0.0
            redis==5.2.0
        """,
        "site/__init__.py": "",
        "site/wsgi.py": "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
        "site/settings.py": """
            import os

            DATABASES = {"default": {"ENGINE": os.environ.get("DATABASE_ENGINE", "django.db.backends.sqlite3")}}
        """,
    }
    # the engine is chosen where the container runs: psycopg2 may be it; redis is no SQL driver
    assert lines(findings(repo, files)) == [("DEP001", 4)]
    files["site/settings.py"] = 'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3"}}\n'
    assert lines(findings(repo, files)) == [("DEP001", 2), ("DEP001", 4)]


def test_an_install_that_cannot_be_named_may_need_what_others_require(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + "COPY dist/ /dist/\nRUN pip install --no-cache-dir /dist/*.whl\n"
        'CMD ["python", "serve.py"]\n',
        "requirements.txt": """
            scipy==1.14.1
            pyngrok==7.2.1
        """,
        "dist/.keep": "",
        "serve.py": "print('serving')\n",
    }
    # the wheel's own requirements are unknown: scipy (which packages do require) may be one
    # of them; nothing indexed requires pyngrok
    assert "scipy" in required_by_some() and "pyngrok" not in required_by_some()
    assert lines(findings(repo, files)) == [("DEP001", 2)]
    files["Dockerfile"] = SLIM_REQUIREMENTS + 'CMD ["python", "serve.py"]\n'
    assert lines(findings(repo, files)) == [("DEP001", 1), ("DEP001", 2)]


def test_a_hydra_plugin_is_used_where_hydra_runs(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "train.py"]\n',
        "requirements.txt": """
            hydra-core==1.3.2
            hydra-colorlog==1.2.0
        """,
        "train.py": """
            import hydra

            @hydra.main(config_path="configs", config_name="config", version_base=None)
            def main(config):
                print(config)

            main()
        """,
    }
    # Hydra imports every module under hydra_plugins when it starts
    assert plugin_hosts("hydra-colorlog") == ("hydra-core",)
    assert lines(findings(repo, files)) == []
    files["train.py"] = "print('no hydra here')\n"
    assert lines(findings(repo, files)) == [("DEP001", 1), ("DEP001", 2)]  # hydra-core, and its plugin


def test_django_heroku_settings_use_whitenoise_and_dj_database_url(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["gunicorn", "site.wsgi"]\n',
        "requirements.txt": """
            Django==3.2.25
            django-heroku==0.3.1
            dj-database-url==0.5.0
            whitenoise==5.3.0
            psycopg2-binary==2.9.9
            gunicorn==20.1.0
            requests==2.31.0
        """,
        "site/__init__.py": "",
        "site/wsgi.py": "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
        "site/settings.py": """
            import django_heroku

            INSTALLED_APPS = ["django.contrib.admin", "django.contrib.staticfiles"]
            django_heroku.settings(locals())
        """,
    }
    found = findings(repo, files)
    # psycopg2 as django-heroku's psycopg2 is satisfied by nothing here; requests is unused
    assert ("DEP001", 7) in lines(found)
    assert not {("DEP001", 3), ("DEP001", 4)} & set(lines(found))


def test_an_app_the_settings_name_uses_the_extra_named_for_it(repo):
    """A freeze of `django-allauth[socialaccount]` lists requests, PyJWT and cryptography on
    lines of their own; Django imports the `allauth.socialaccount` app INSTALLED_APPS names,
    and with it what that extra holds. Without that app, they are unused."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["gunicorn", "site.wsgi"]\n',
        "requirements.txt": """
            Django==5.2.8
            django-allauth==65.13.1
            gunicorn==23.0.0
            requests==2.32.5
            PyJWT==2.10.1
            cryptography==46.0.3
        """,
        "site/__init__.py": "",
        "site/wsgi.py": "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
        "site/settings.py": """
            INSTALLED_APPS = [
                "django.contrib.auth",
                "allauth",
                "allauth.account",
                "allauth.socialaccount",
                "allauth.socialaccount.providers.google",
            ]
            AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]
        """,
    }
    assert lines(findings(repo, files)) == []
    files["site/settings.py"] = files["site/settings.py"].replace('"allauth.socialaccount', '"allauth.mfa')
    assert {4, 5} <= {line for code, line in lines(findings(repo, files)) if code == "DEP001"}


def test_a_client_the_settings_load_through_the_framework_is_used_whoever_brings_it(repo):
    """Django's own RedisCache backend imports `redis`, which only django-redis brings: an
    unused django-redis is replaced by redis, not removed with it (which breaks the cache).
    The settings naming django-redis's own backend use it."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["gunicorn", "site.wsgi"]\n',
        "requirements.txt": "Django==5.1.4\ndjango-redis==5.4.0\ngunicorn==23.0.0\n",
        "site/__init__.py": "",
        "site/wsgi.py": "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
        "site/settings.py": """
            INSTALLED_APPS = ["django.contrib.admin", "django.contrib.staticfiles"]
            CACHES = {
                "default": {
                    "BACKEND": "django.core.cache.backends.redis.RedisCache",
                    "LOCATION": "redis://redis:6379/1",
                }
            }
        """,
    }
    (finding,) = findings(repo, files)
    assert (finding.code, finding.span.line) == ("DEP001", 2)
    assert finding.message.endswith("the service uses `redis`, which only it brings in")
    assert finding.fix.startswith("Replace `django-redis==5.4.0` with `redis` in requirements.txt")
    assert finding.size_bytes < 1_000_000  # django-redis alone, not the redis client
    files["site/settings.py"] = files["site/settings.py"].replace(
        "django.core.cache.backends.redis", "django_redis.cache"
    )
    assert findings(repo, files) == []


def test_papermill_runs_notebooks_in_the_kernel_ipykernel_provides(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "run.py"]\n',
        "requirements.txt": """
            papermill==2.6.0
            ipykernel==6.29.5
            pytest==8.3.3
        """,
        "run.py": "import papermill\n\npapermill.execute_notebook('in.ipynb', 'out.ipynb')\n",
    }
    assert lines(findings(repo, files)) == [("DEP003", 3)]


def test_a_debug_toolbar_named_by_the_settings_is_run_by_the_service(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["gunicorn", "site.wsgi"]\n',
        "requirements.txt": """
            Django==4.2.16
            django-debug-toolbar==4.4.6
            gunicorn==23.0.0
            ipdb==0.13.13
        """,
        "site/__init__.py": "",
        "site/wsgi.py": "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
        "site/settings.py": """
            INSTALLED_APPS = ["django.contrib.admin", "debug_toolbar"]
            MIDDLEWARE = ["debug_toolbar.middleware.DebugToolbarMiddleware"]
        """,
    }
    assert lines(findings(repo, files)) == [("DEP003", 4)]


# -- names the index does not know --------------------------------------------------------------


def test_an_unknown_private_package_keeps_quiet_about_itself_and_unsure_about_the_rest(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app"]\n',
        "requirements.txt": """
            acme-analytics==3.1.0
            numpy==2.1.3
            matplotlib==3.9.2
        """,
        "app/__init__.py": "",
        "app/__main__.py": "import acme_analytics\nimport numpy\n",
    }
    found = findings(repo, files)
    # matplotlib is unused, but acme-analytics, which the code imports, may require it
    assert lines(found) == [("DEP001", 3)] and found[0].severity == Severity.INFO
    assert "`acme-analytics`, whose requirements it does not know, may" in found[0].message
    files["app/__main__.py"] = "import numpy\n"  # an unused private package: matplotlib is unused
    found = findings(repo, files)
    assert lines(found) == [("DEP001", 3)] and found[0].severity == Severity.WARNING
    # but acme-analytics stays (nothing says to remove it) and may need contourpy, kiwisolver...
    assert "only it needs" not in found[0].message


def test_the_index_knows_names_the_naming_guess_gets_wrong():
    assert lookup("facenet-pytorch").known and lookup("facenet-pytorch").modules == ("facenet_pytorch",)
    assert lookup("whisper").known and lookup("whisper").modules == ("whisper",)
    assert lookup("dvc").known and "dvc" in lookup("dvc").commands


def test_the_index_marks_what_pulls_cuda():
    from dockerlint.model.distributions import cuda_size, newest, pulls
    from dockerlint.model.ml import ml, torch_cuda_size

    assert pulls("sentence-transformers", (), "torch")
    assert pulls("transformers", ("torch",), "torch") and not pulls("transformers", (), "torch")
    assert pulls("openai-whisper", (), "torch") and not pulls("fastapi", (), "torch")
    assert cuda_size("numpy") == 0
    # the nvidia-* wheels the newest torch requires are read into the index: they are CUDA
    # libraries, counted whole
    assert newest("nvidia-cudnn-cu13").size > newest("nvidia-cudnn-cu13").cuda_bytes > 500_000_000
    assert torch_cuda_size() == cuda_size("torch") > 3_000_000_000
    assert ml()["torch"]["cuda_libraries_size"] > 1_000_000_000  # the measured figure, for an index without them


WHISPER = """
    FROM python:3.10-slim
    RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
    RUN pip install --no-cache-dir openai-whisper==20231117
    RUN pip install --no-cache-dir setuptools-rust==1.8.1
    COPY transcribe.py .
    CMD ["python", "transcribe.py"]
"""
TRANSCRIBE = "import whisper\n\nprint(whisper.load_model('base').transcribe('a.wav')['text'])\n"


def test_a_build_helper_installed_after_every_install_serves_nothing(repo):
    found = findings(repo, {"Dockerfile": WHISPER, "transcribe.py": TRANSCRIBE})
    assert lines(found) == [("DEP003", 4)]
    assert "a build helper that no later install uses" in found[0].message


def test_a_build_helper_installed_before_a_source_build_is_quiet(repo):
    before = WHISPER.replace(
        "RUN pip install --no-cache-dir openai-whisper==20231117\n    RUN pip install --no-cache-dir setuptools-rust==1.8.1",
        "RUN pip install --no-cache-dir setuptools-rust==1.8.1\n    RUN pip install --no-cache-dir openai-whisper==20231117",
    )
    assert before != WHISPER
    assert lines(findings(repo, {"Dockerfile": before, "transcribe.py": TRANSCRIBE})) == []


def test_a_build_helper_the_same_run_builds_with_afterwards_is_quiet(repo):
    same_run = WHISPER.replace(
        "RUN pip install --no-cache-dir openai-whisper==20231117\n    RUN pip install --no-cache-dir setuptools-rust==1.8.1",
        "RUN pip install --no-cache-dir --upgrade setuptools-rust==1.8.1 \\\n"
        "        && pip install --no-cache-dir openai-whisper==20231117",
    )
    assert same_run != WHISPER
    assert lines(findings(repo, {"Dockerfile": same_run, "transcribe.py": TRANSCRIBE})) == []
    # the same RUN with the helper installed last still flags it
    helper_last = same_run.replace("--upgrade setuptools-rust==1.8.1", "openai-whisper==20231117").replace(
        "&& pip install --no-cache-dir openai-whisper==20231117", "&& pip install --no-cache-dir setuptools-rust==1.8.1"
    )
    assert lines(findings(repo, {"Dockerfile": helper_last, "transcribe.py": TRANSCRIBE})) == [("DEP003", 4)]


def test_a_build_helper_in_a_requirements_file_is_not_placed_and_stays_quiet(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + '    CMD ["python", "transcribe.py"]\n',
        "requirements.txt": "openai-whisper==20231117\nsetuptools-rust==1.8.1\n",
        "transcribe.py": TRANSCRIBE,
    }
    assert [item for item in lines(findings(repo, files)) if item[0] == "DEP003"] == []


ASYNC_SQLALCHEMY = {
    "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["uvicorn", "app.main:app"]\n',
    "requirements.txt": """
        fastapi==0.115.5
        uvicorn==0.32.1
        sqlalchemy>=2.0.44
        asyncpg==0.30.0
        greenlet>=3.2.4
    """,
    "app/__init__.py": "",
    "app/main.py": """
        from fastapi import FastAPI
        from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

        engine = create_async_engine("postgresql+asyncpg://db/app")
        app = FastAPI()
    """,
}


def test_an_extra_named_for_the_part_the_code_imports_is_used(repo):
    # SQLAlchemy 2.1 requires greenlet only through its `asyncio` extra, which is what
    # sqlalchemy.ext.asyncio runs on.
    assert lines(findings(repo, ASYNC_SQLALCHEMY)) == []


def test_the_same_extra_is_unused_by_code_that_never_imports_that_part(repo):
    files = dict(ASYNC_SQLALCHEMY)
    files["app/main.py"] = """
        from fastapi import FastAPI
        from sqlalchemy import create_engine

        engine = create_engine("postgresql://db/app")
        app = FastAPI()
    """
    files["requirements.txt"] = ASYNC_SQLALCHEMY["requirements.txt"].replace(
        "asyncpg==0.30.0", "psycopg2-binary==2.9.10"
    )
    (unused,) = findings(repo, files)
    assert (unused.code, unused.span.line) == ("DEP001", 5)
    assert unused.message.startswith("`greenlet`")


def test_a_backend_no_imported_integration_is_named_for_stays_unused(repo):
    files = {
        **VECTOR_STORE_CHATBOT,
        "requirements.txt": VECTOR_STORE_CHATBOT["requirements.txt"].replace(
            "faiss-cpu==1.9.0", "faiss-cpu==1.9.0\n        chromadb==0.5.20"
        ),
        "app.py": LANGCHAIN_PDF_CHATBOT.replace("FAISS", "Chroma"),
    }
    # Chroma runs on chromadb; nothing the code imports is named for faiss
    (unused,) = findings(repo, files)
    assert (unused.code, unused.span.line) == ("DEP001", 4)
    assert unused.message.startswith("`faiss-cpu`")


@pytest.mark.parametrize("pattern", ["pytest-*", "*-stubs", "mypy-boto3-*", "a*a", "types-?", "[a-z]*-gpu", "exact"])
@pytest.mark.parametrize(
    "name", ["pytest-cov", "pytest-", "pytest", "boto3-stubs", "-stubs", "a", "aa", "types-x", "exact"]
)
def test_naming_patterns_fit_as_shell_globs_do(pattern, name):
    """The override file's naming patterns (``pytest-*``) are tested without a regular
    expression where they are one ``*``; a name fits exactly when ``fnmatch`` says so."""
    from fnmatch import fnmatchcase

    assert _glob_test(pattern)(name) == fnmatchcase(name, pattern)


# -- packages without modules of their own -----------------------------------------------------

AIRFLOW_DAGS = {
    "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "dags/etl.py"]\n',
    "dags/etl.py": """
        from airflow import DAG
        from airflow.operators.python import PythonOperator

        with DAG("etl") as dag:
            PythonOperator(task_id="load", python_callable=print)
    """,
}


def test_an_airflow_2_pin_is_judged_by_the_wheel_before_the_move(repo):
    """apache-airflow 3 holds no modules (its code moved to apache-airflow-core); the index
    read the newest 2.x wheel, so a 2.10.2 pin is judged by what 2.x installs: used by the
    DAGs that import it, unused in an image whose code does not."""
    assert lookup("apache-airflow").modules == ()
    pinned = lookup("apache-airflow", "2.10.2")
    assert pinned.modules == ("airflow",) and pinned.size > 10_000_000
    no_dags = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
        "app.py": "print('hello')\n",
        "requirements.txt": "apache-airflow==2.10.2\n",
    }
    [unused] = findings(repo, no_dags, ["DEP001"])
    assert unused.message.startswith("`apache-airflow` (~") and "imports `airflow`" in unused.message
    assert findings(repo, {**AIRFLOW_DAGS, "requirements.txt": "apache-airflow==2.10.2\n"}) == []


def test_an_unpinned_airflow_3_meta_package_is_not_judged(repo):
    """apache-airflow 3 holds no modules of its own: its DAGs import apache-airflow-core's."""
    assert findings(repo, {**AIRFLOW_DAGS, "requirements.txt": "apache-airflow\n"}, ["DEP001"]) == []


OTLP_SERVICE = {
    "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
    "requirements.txt": "llama-index==0.14.25\nopentelemetry-exporter-otlp-proto-grpc==1.27.0\nfastapi==0.115.0\n",
}


@pytest.mark.parametrize("imported", ["from llama_index.core import VectorStoreIndex\n", ""])
def test_packages_without_modules_of_their_own_are_not_judged(repo, imported):
    """llama-index holds no modules (its code is llama-index-core's): whether code uses it
    is not something DEP001 can tell, used or not. The OTLP exporter, a namespace five
    folders deep, is read down to its package, which the code imports."""
    assert lookup("llama-index").modules == ()
    assert lookup("opentelemetry-exporter-otlp-proto-grpc").modules == ("opentelemetry.exporter.otlp.proto.grpc",)
    code = "from fastapi import FastAPI\nfrom opentelemetry.exporter.otlp.proto.grpc.trace_exporter import X\n"
    assert findings(repo, {**OTLP_SERVICE, "app.py": code + imported}, ["DEP001"]) == []


def test_cuda_libraries_inside_an_nvidia_wheel_are_counted_once(monkeypatch):
    """An nvidia-* wheel is CUDA libraries: its size counts, and the libraries found inside
    it are not added again; those a wheel of another name bundles (triton's) are."""
    import dockerlint.model.distributions as distributions
    from dockerlint.model.distributions import Distribution, cuda_size

    wheels = {
        "torch": Distribution("torch", ("torch",), size=900, cuda_bytes=0),
        "nvidia-cublas": Distribution("nvidia-cublas", ("nvidia",), size=600, cuda_bytes=590),
        "triton": Distribution("triton", ("triton",), size=1000, cuda_bytes=40),
    }
    monkeypatch.setattr(distributions, "_required_closure", lambda start: frozenset(wheels))
    monkeypatch.setattr(distributions, "newest", wheels.__getitem__)
    assert cuda_size("torch") == 600 + 40


def test_only_installed_packages_make_others_used(repo, monkeypatch):
    """transformers loads tensorflow by a string when it is installed, and tensorflow needs
    keras: neither is in this image, so what keras would import (pandas, at load time)
    is not used by anything."""
    import dockerlint.checks.dep as dep

    def lookup_with_edge(name, version=None):
        found = lookup(name, version)
        return found if name != "keras" else replace(found, may_use={"pandas": ("keras",)})

    monkeypatch.setattr(dep, "lookup", lookup_with_edge)
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
        "requirements.txt": "transformers==4.46.3\ntorch==2.5.1\npandas==2.2.3\n",
        "app.py": "from transformers import pipeline\n\nclassify = pipeline('sentiment-analysis')\n",
    }
    assert "tensorflow" in lookup("transformers").loads and "keras" in lookup("tensorflow").requires
    assert [(f.code, f.message.split("`")[1]) for f in findings(repo, files, ["DEP001"])] == [("DEP001", "pandas")]


def test_an_import_is_not_missing_when_the_pinned_release_may_provide_it(repo, monkeypatch):
    """Once the index knows apache-airflow-core owns `airflow`, a DAG image that pins
    apache-airflow 2.10.2 (whose wheel held `airflow` itself) must not be told it lacks it."""
    import dockerlint.checks.dep as dep

    monkeypatch.setattr(dep, "_owners", lambda top, paths, generation: ["apache-airflow-core"] * (top == "airflow"))
    files = {**AIRFLOW_DAGS, "requirements.txt": "apache-airflow==2.10.2\n"}
    assert findings(repo, files, ["DEP002"]) == []
    unpinned = {**AIRFLOW_DAGS, "requirements.txt": "flask==3.0.3\n"}  # the same import with no airflow at all
    assert [f.code for f in findings(repo, unpinned, ["DEP002"])] == ["DEP002"]


def test_a_cpu_build_named_after_its_gpu_twin_carries_its_modules_not_its_cuda():
    """xgboost-cpu, as the index reads it: xgboost's module without the NCCL wheel xgboost
    pulls on Linux, and without its CUDA kernels."""
    from dockerlint.model.distributions import closure

    twin, cpu = lookup("xgboost"), lookup("xgboost-cpu")
    assert "nvidia-nccl-cu12" in twin.requires and cpu.modules == twin.modules
    assert not any(name.startswith("nvidia-") for name in closure({"xgboost-cpu"}))
    assert cpu.known and cpu.size < twin.size / 5


def test_an_integration_the_index_did_not_read_keeps_quiet_about_what_it_is_named_after(repo):
    """langchain-groq is named by the langchain-* pattern, not read by the index: it
    requires groq, though nothing here can tell; a backend it is not named after is
    still judged."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "-m", "app"]\n',
        "requirements.txt": "langchain-groq\ngroq\nyt-dlp\n",
        "app/__init__.py": "",
        "app/__main__.py": "from langchain_groq import ChatGroq\n",
    }
    assert not indexed("langchain-groq") and lookup("langchain-groq").known and indexed("groq")
    assert lines(findings(repo, files)) == [("DEP001", 3)]


def test_pandas_engines_are_used_by_code_that_calls_pandas_not_by_its_dependents(repo):
    """openpyxl is an engine the code names to pandas (read_excel): with pandas only
    streamlit's dependency, nothing names it; with the code importing pandas, it may."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["streamlit", "run", "app/main.py"]\n',
        "requirements.txt": "streamlit==1.41.1\nopenpyxl==3.1.5\n",
        "app/__init__.py": "",
        "app/main.py": "import streamlit as st\n\nst.title('Orders')\n",
    }
    assert lines(findings(repo, files)) == [("DEP001", 2)]
    files["app/main.py"] = (
        "import pandas as pd\nimport streamlit as st\n\nst.dataframe(pd.read_excel(st.file_uploader('x')))\n"
    )
    assert lines(findings(repo, files)) == []


def test_an_engine_of_a_library_the_base_image_ships_is_used_by_code_that_calls_it(repo):
    """NGC's PyTorch image ships pandas: the code's `pd.read_excel` needs openpyxl, which the
    image installs; spaCy's Chinese class loads spacy-pkuseg for the `pkuseg` segmenter."""
    files = {
        "Dockerfile": "FROM nvcr.io/nvidia/pytorch:24.01-py3\nCOPY requirements.txt .\n"
        'RUN pip install --no-cache-dir -r requirements.txt\nCOPY train.py .\nCMD ["python", "train.py"]\n',
        "requirements.txt": "openpyxl==3.1.5\nspacy==3.8.2\nspacy-pkuseg==1.0.0\n",
        "train.py": "import pandas as pd\nimport spacy.lang.zh\n\nframe = pd.read_excel('claims.xlsx')\n"
        'nlp = spacy.lang.zh.Chinese.from_config({"nlp": {"tokenizer": {"segmenter": "pkuseg"}}})\n',
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["train.py"] = "import torch\n\nprint(torch.__version__)\n"
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 1), ("DEP001", 2), ("DEP001", 3)]


def test_a_freeze_entry_pinned_older_than_the_index_read_may_need_its_neighbours(repo):
    """pycuda 2022.2.2 required appdirs; the release the index read requires platformdirs:
    beside that old pin, appdirs may be what it needs. Both unused here: pycuda is reported,
    and appdirs at info, naming it."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "infer.py"]\n',
        "requirements.txt": "appdirs==1.4.4\nMako==1.3.5\nMarkupSafe==2.1.5\nplatformdirs==4.2.2\n"
        "pycuda==2022.2.2\npytools==2024.1.5\ntyping_extensions==4.12.2\n",
        "infer.py": "import json\n",
    }
    by_line = {finding.span.line: finding for finding in findings(repo, files, ["DEP001"])}
    assert by_line[1].severity.name == "INFO" and "`pycuda`" in by_line[1].message
    assert 5 in by_line


def test_a_local_project_holds_only_what_the_image_copies_of_it(repo):
    """pyproject.toml sits at the repository root, beside `api/` and `worker/`; the image
    copies `api/` and installs the project: worker's imports are not in it."""
    files = {
        "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml ./\nCOPY api ./api\n"
        'RUN pip install --no-cache-dir .\nCMD ["uvicorn", "api.main:app"]\n',
        "pyproject.toml": "[project]\nname = 'shop'\nversion = '1.0'\n"
        "dependencies = ['fastapi==0.115.6', 'uvicorn==0.32.1', 'celery==5.4.0']\n",
        "api/__init__.py": "",
        "api/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
        "worker/__init__.py": "",
        "worker/tasks.py": "from celery import Celery\n\napp = Celery('shop')\n",
    }
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 4)]
    files["Dockerfile"] = files["Dockerfile"].replace("COPY api ./api\n", "COPY api ./api\nCOPY worker ./worker\n")
    assert lines(findings(repo, files, ["DEP001"])) == []


def test_a_package_of_the_repository_is_not_the_distribution_of_the_same_import_name(repo):
    """`from proto import predict_pb2` imports the repository's own proto/ package, not the
    proto-plus that google-api-core brings: the unused client is simply removed."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + "COPY proto/ ./proto/\n" + 'CMD ["python", "server.py"]\n',
        "requirements.txt": "grpcio==1.68.1\ngoogle-api-python-client==2.92.0\n",
        "proto/__init__.py": "",
        "proto/predict_pb2.py": "DESCRIPTOR = None\n",
        "server.py": "import grpc\nfrom proto import predict_pb2\n",
    }
    [finding] = findings(repo, files, ["DEP001"])
    assert finding.span.line == 2 and "which only it brings in" not in finding.message
    assert finding.fix.startswith("Remove `google-api-python-client==2.92.0`")


COMPILED_REQUIREMENTS = """\
#
# This file is autogenerated by pip-compile with Python 3.12
#
#    pip-compile requirements.in
#
acme-ocr==1.0.0
    # via -r requirements.in
deprecated==1.2.14
    # via acme-ocr
fastapi==0.115.6
    # via -r requirements.in
lxml==5.3.0
    # via
    #   acme-ocr
    #   pikepdf
pikepdf==9.4.2
    # via acme-ocr
pillow==11.0.0  # via pikepdf
requests==2.32.3
    # via -r requirements.in
"""


def test_a_compiled_requirements_file_says_what_each_entry_is_there_for(repo):
    """pip-compile's `# via` notes are the resolver's answer for the pinned versions: what
    acme-ocr (which no index knows) needs stays, and requests, which only requirements.in
    asks for and nothing imports, is unused for sure, not only maybe."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
        "requirements.txt": COMPILED_REQUIREMENTS,
        "app.py": "import acme_ocr\nfrom fastapi import FastAPI\n",
    }
    [finding] = findings(repo, files, ["DEP001"])
    assert finding.span.line == 19 and finding.severity.name == "WARNING"


def test_geopandas_writes_to_postgis_with_geoalchemy2(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "load.py"]\n',
        "requirements.txt": "geopandas==1.0.1\ngeoalchemy2==0.16.0\npsycopg2-binary==2.9.10\nsqlalchemy==2.0.36\n",
        "load.py": "import geopandas\nfrom sqlalchemy import create_engine\n\n"
        "engine = create_engine('postgresql://gis@db/gis')\n"
        "geopandas.read_file('stops.geojson').to_postgis('stops', engine)\n",
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["load.py"] = files["load.py"].replace(".to_postgis('stops', engine)", ".to_file('stops.gpkg')")
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 2)]


def test_a_program_the_code_starts_as_a_process_is_used(repo):
    """`asyncio.create_subprocess_exec("yt-dlp", ...)` runs the yt-dlp that pip installed:
    its console command, though nothing imports yt_dlp."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "bot.py"]\n',
        "requirements.txt": "python-telegram-bot==21.9\nyt-dlp==2024.12.3\n",
        "bot.py": """
            import asyncio

            import telegram


            async def fetch(url):
                process = await asyncio.create_subprocess_exec("yt-dlp", "-x", url)
                await process.wait()
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["bot.py"] = "import telegram\n"
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 2)]


def test_a_program_a_source_only_package_builds_is_its_command(repo):
    """uWSGI publishes an sdist whose setup compiles the `uwsgi` executable: an app that
    starts `["uwsgi", "--http", ...]` with subprocess uses it."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "manage.py", "api"]\n',
        "requirements.txt": "flask==3.1.0\nuwsgi==2.0.28\n",
        "manage.py": """
            import subprocess
            import sys

            from flask import Flask

            app = Flask(__name__)

            if sys.argv[1:] == ["api"]:
                subprocess.run(["uwsgi", "--http", ":8000", "--module", "manage:app"], check=True)
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["manage.py"] = "from flask import Flask\n\napp = Flask(__name__)\n"
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 2)]


def test_a_compose_file_the_image_holds_runs_its_other_services_elsewhere(repo):
    """`COPY . .` brings docker-compose.yml along; its `flower` service runs the mher/flower
    image, not this one: that command does not use the flower this image installs."""
    compose = """
        services:
          api:
            build: .
            command: uvicorn app:api --host 0.0.0.0
          flower:
            image: mher/flower
            command: celery flower --broker=redis://redis:6379/0
    """
    files = {
        "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n",
        "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\nflower==2.0.1\n",
        "app.py": "from fastapi import FastAPI\n\napi = FastAPI()\n",
        "docker-compose.yml": compose,
    }
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 3)]
    files["docker-compose.yml"] = compose.replace("image: mher/flower", "build: .")
    assert lines(findings(repo, files, ["DEP001"])) == []


def test_celery_on_a_database_broker_and_result_backend_uses_sqlalchemy(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["celery", "-A", "tasks", "worker"]\n',
        "requirements.txt": "celery==5.4.0\nsqlalchemy==2.0.36\n",
        "tasks.py": "from celery import Celery\n\n"
        "app = Celery('tasks', broker='sqla+sqlite:///broker.db', backend='db+sqlite:///results.db')\n",
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["tasks.py"] = "from celery import Celery\n\napp = Celery('tasks', broker='redis://redis:6379/0')\n"
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 2)]


def test_langchains_old_import_paths_and_chromas_embedding_functions_use_what_they_name(repo):
    """`from langchain.chat_models import ChatOpenAI` (langchain 0.3) imports it from
    langchain-community; chromadb's SentenceTransformerEmbeddingFunction runs on
    sentence-transformers."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "chat.py"]\n',
        "requirements.txt": "langchain==0.3.13\nlangchain-community==0.3.13\nchromadb==0.5.23\n"
        "sentence-transformers==3.3.1\n",
        "chat.py": "import chromadb\nfrom chromadb.utils.embedding_functions import SentenceTransformerEmbeddingFunction\n"
        "from langchain.chat_models import ChatOpenAI\n\nllm = ChatOpenAI()\n"
        "store = chromadb.Client().create_collection('m', embedding_function=SentenceTransformerEmbeddingFunction())\n",
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["chat.py"] = "import chromadb\nfrom langchain_core.prompts import PromptTemplate\n"
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 2), ("DEP001", 4)]


def test_importing_a_namespace_parent_uses_no_package_inside_it(repo):
    """`import airflow` loads no provider under airflow.providers: an unused provider is
    reported; a DAG that imports the provider's hook uses it."""
    files = {
        "Dockerfile": "FROM apache/airflow:2.10.4\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
        "COPY dags/ /opt/airflow/dags/\n",
        "requirements.txt": "apache-airflow-providers-trino==6.0.0\n",
        "dags/pipeline.py": "import airflow\nfrom airflow import DAG\n\ndag = DAG('daily')\n",
    }
    assert lines(findings(repo, files)) == [("DEP001", 1)]
    files["dags/pipeline.py"] += "from airflow.providers.trino.hooks.trino import TrinoHook\n"
    assert lines(findings(repo, files)) == []


# -- what the index cannot read ----------------------------------------------------------------

PRIVATE_PACKAGE_SERVICE = {
    "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "score.py"]\n',
    "requirements.txt": """
        --extra-index-url https://pypi.acme.internal/simple
        acme-scoring==2.3.0
        numpy==1.26.4
        pyyaml==6.0.2
    """,
    "score.py": """
        from acme_scoring import Scorer

        print(Scorer().score([1, 2, 3]))
    """,
}


def test_a_used_package_the_index_cannot_read_may_need_what_others_require(repo):
    assert not indexed("acme-scoring") and "numpy" in required_by_some()
    # acme-scoring's requirements are unknown: numpy and pyyaml, which many packages require,
    # may be among them. Said at info, without claiming their bytes or offering the removal.
    # One reason for both, one decision: one finding, at the first, naming the other.
    (finding,) = found = findings(repo, PRIVATE_PACKAGE_SERVICE)
    assert lines(found) == [("DEP001", 3)] and [item.span.line for item in finding.related] == [4]
    assert finding.severity == Severity.INFO and finding.size_bytes is None and finding.autofix is None
    assert finding.message.startswith("`numpy` and `pyyaml` are installed in the image and may be unused")
    assert "but `acme-scoring`, whose requirements it does not know, may" in finding.message
    assert finding.fix.startswith("Check whether `acme-scoring` requires them; remove from requirements.txt")
    # a noqa comment on one of them leaves the other, said on its own
    silenced = {**PRIVATE_PACKAGE_SERVICE}
    silenced["requirements.txt"] = silenced["requirements.txt"].replace(
        "numpy==1.26.4", "numpy==1.26.4  #" + " noqa: DEP001"
    )
    found = findings(repo, silenced)
    assert lines(found) == [("DEP001", 4)] and found[0].message.startswith("`pyyaml` is installed in the image and may")
    # a configured level is a ceiling for a finding a check is unsure of, never a floor
    configured = {**PRIVATE_PACKAGE_SERVICE, "pyproject.toml": '[tool.dockerlint.severity]\nDEP001 = "error"\n'}
    assert [f.severity for f in findings(repo, configured)] == [Severity.INFO]
    # the same image when nothing uses acme-scoring: whatever it requires goes with it
    unused = {**PRIVATE_PACKAGE_SERVICE, "score.py": "print(sum([1, 2, 3]))\n"}
    found = findings(repo, unused)
    assert lines(found) == [("DEP001", 3), ("DEP001", 4)]
    assert all(
        f.severity == Severity.WARNING and f.size_bytes and "no installed package needs it" in f.message for f in found
    )


def test_an_extra_of_a_used_package_that_the_index_cannot_read_may_need_what_others_require(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "search.py"]\n',
        "requirements.txt": "qdrant-client[fastembed]==1.14.2\nloguru==0.7.3\n",
        "search.py": """
            from qdrant_client import QdrantClient

            client = QdrantClient(url="http://qdrant:6333")
            print(client.query(collection_name="docs", query_text="hello"))
        """,
    }
    assert "fastembed" in lookup("qdrant-client").extras["fastembed"]
    found = findings(repo, files)
    if indexed("fastembed"):  # the index reads what fastembed requires: loguru is needed
        assert lines(found) == []
    else:  # fastembed, an extra asked for, may require loguru
        assert lines(found) == [("DEP001", 2)] and found[0].severity == Severity.INFO
    files["requirements.txt"] = "qdrant-client==1.14.2\nloguru==0.7.3\n"
    found = findings(repo, files)
    assert lines(found) == [("DEP001", 2)] and found[0].severity == Severity.WARNING


# -- LangChain's provider strings ----------------------------------------------------------------

LANGCHAIN_AGENT = {
    "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "agent.py"]\n',
    "requirements.txt": "langchain\nlangchain-openai\nlangchain-anthropic\n",
    "agent.py": """
        from langchain.agents import create_agent

        agent = create_agent("openai:gpt-4.1", tools=[], system_prompt="You answer questions about our docs.")
        print(agent.invoke({"messages": [{"role": "user", "content": "hi"}]}))
    """,
}


def test_a_provider_string_uses_the_integration_langchain_loads_for_it(repo):
    # create_agent("openai:gpt-4.1") imports langchain_openai; nothing names anthropic
    assert lines(findings(repo, LANGCHAIN_AGENT)) == [("DEP001", 3)]
    named = {
        **LANGCHAIN_AGENT,
        "agent.py": LANGCHAIN_AGENT["agent.py"]
        + "\n        from langchain.chat_models import init_chat_model\n"
        + '        judge = init_chat_model("claude-sonnet-4-5", model_provider="anthropic")\n',
    }
    assert lines(findings(repo, named)) == []


def test_a_url_or_a_host_and_port_is_no_provider_string(repo):
    files = {
        **LANGCHAIN_AGENT,
        "agent.py": """
            import os

            from langchain.agents import create_agent
            from langchain_core.language_models.fake_chat_models import FakeListChatModel

            BASE = os.environ.get("LLM_URL", "http://openai:8000/v1")
            agent = create_agent(FakeListChatModel(responses=[BASE]), tools=[])
        """,
    }
    # the URL's host names no provider, and the agent is given a model object
    assert lines(findings(repo, files)) == [("DEP001", 2), ("DEP001", 3)]


@pytest.mark.parametrize(
    "call",
    [
        'create_agent(os.environ["MODEL"], tools=[])',
        'init_chat_model(model=os.getenv("MODEL", "openai:gpt-4.1"))',
        "init_chat_model(settings.model)",
        'init_chat_model(f"{settings.provider}:{settings.model}", temperature=0)',
        'init_chat_model(temperature=0, configurable_fields=("model", "model_provider"))',
        "init_chat_model()",
    ],
)
def test_a_model_the_settings_choose_may_load_any_installed_integration(repo, call):
    """LangChain loads the integration of the provider the model names as the service runs:
    each installed one may be that provider (deepseek, groq and Vertex AI in one research
    agent, picked in its configuration)."""
    files = {
        **LANGCHAIN_AGENT,
        "agent.py": f"""
            import os

            from langchain.agents import create_agent
            from langchain.chat_models import init_chat_model

            from settings import settings

            agent = {call}
        """,
    }
    assert lines(findings(repo, files)) == []


def test_a_model_written_out_loads_only_its_own_integration(repo):
    files = {
        **LANGCHAIN_AGENT,
        "agent.py": """
            from langchain.chat_models import init_chat_model

            writer = init_chat_model(temperature=0, model="openai:gpt-4.1")
            judge = init_chat_model(model="gpt-4.1-mini", model_provider="openai")
        """,
    }
    assert lines(findings(repo, files)) == [("DEP001", 3)]  # langchain-anthropic


def test_a_pre_release_requires_what_its_final_release_does():
    # the index reads final releases; aiogram's 3.0 betas already required pydantic
    assert "pydantic" in lookup("aiogram", "3.0.0b7").requires
    assert "pydantic" not in lookup("aiogram", "2.25.1").requires


def test_an_unknown_package_imported_under_another_name_may_need_any_unused_package(repo):
    """The code imports `acmesdk`, which nothing the index knows provides: the unknown
    acme-ml-platform (whose module name is only guessed from its own) may be it, and may
    require schedule, which no indexed package requires."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "serve.py"]\n',
        "requirements.txt": "acme-ml-platform==4.2.0\nschedule==1.2.2\n",
        "serve.py": "from acmesdk import serve\n\nserve()\n",
    }
    assert "schedule" not in required_by_some() and not indexed("acme-ml-platform")
    found = findings(repo, files, ["DEP001"])
    assert lines(found) == [("DEP001", 2)] and found[0].severity == Severity.INFO
    assert "`acme-ml-platform`, whose requirements it does not know, may" in found[0].message
    # the code imports only what known packages provide: the unknown one is not used
    files["serve.py"] = "import json\n\nprint(json.dumps({}))\n"
    found = findings(repo, files, ["DEP001"])
    assert lines(found) == [("DEP001", 2)] and found[0].severity == Severity.WARNING


def test_a_requirement_with_a_legacy_range_is_still_required(repo):
    """celery 5.0.5 requires `pytz (>dev)`, a range packaging no longer reads: pytz is still
    what it installs, not an unused package; celery 5.3 dropped it."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["celery", "-A", "tasks", "worker", "--loglevel=info"]\n',
        "requirements.txt": "celery==5.0.5\nredis==3.5.3\npytz==2021.1\n",
        "tasks.py": """
            from celery import Celery

            app = Celery("tasks", broker="redis://redis:6379/0")


            @app.task
            def add(x, y):
                return x + y
        """,
    }
    assert "pytz" in lookup("celery", "5.0.5").requires
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["requirements.txt"] = "celery==5.3.6\nredis==5.0.1\npytz==2021.1\n"
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 3)]


LANGCHAIN_RAG = {
    "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
    "requirements.txt": "langchain-community==0.2.16\nopenai==1.45.0\nqdrant-client==1.11.1\ntiktoken==0.7.0\n",
    "app.py": """
        from langchain_community.embeddings import OpenAIEmbeddings
        from langchain_community.vectorstores import Qdrant
        from qdrant_client import QdrantClient

        embeddings = OpenAIEmbeddings(model="text-embedding-3-small")
        store = Qdrant(client=QdrantClient(url="http://qdrant:6333"), collection_name="docs", embeddings=embeddings)


        def answer(question: str) -> list[str]:
            return [doc.page_content for doc in store.similarity_search(question, k=4)]
    """,
}


def test_embeddings_handed_to_a_vector_store_use_what_their_methods_import(repo):
    """The vector store calls `embed_documents`/`embed_query` of the OpenAIEmbeddings it is
    given, which import tiktoken: the code never calls them itself."""
    assert "embed_query" in dict(calls("langchain-community"))["tiktoken"]
    assert lines(findings(repo, LANGCHAIN_RAG, ["DEP001"])) == []
    # no embeddings class: tiktoken is unused, and so is the openai client it would call
    files = {
        **LANGCHAIN_RAG,
        "app.py": """
            from langchain_community.vectorstores import Qdrant
            from qdrant_client import QdrantClient

            store = Qdrant(client=QdrantClient(url="http://qdrant:6333"), collection_name="docs", embeddings=None)
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 2), ("DEP001", 4)]


def test_socketio_picks_its_async_mode_from_what_is_installed(repo):
    """Flask-SocketIO's SocketIO(app) names no async mode: python-engineio takes gevent, with
    its WebSocket through gevent-websocket, because they are installed."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "main.py"]\n',
        "requirements.txt": "Flask==2.3.3\nFlask-SocketIO==5.3.6\ngevent==23.9.1\ngevent-websocket==0.10.1\n",
        "main.py": """
            from flask import Flask
            from flask_socketio import SocketIO, emit

            app = Flask(__name__)
            socketio = SocketIO(app, cors_allowed_origins="*")


            @socketio.on("ping")
            def ping(data):
                emit("pong", data)


            if __name__ == "__main__":
                socketio.run(app, host="0.0.0.0", port=5000)
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    # a plain Flask app loads no async driver: gevent-websocket is unused, with the gevent it requires
    files["requirements.txt"] = "Flask==2.3.3\ngevent==23.9.1\ngevent-websocket==0.10.1\n"
    files["main.py"] = "from flask import Flask\n\napp = Flask(__name__)\napp.run()\n"
    found = findings(repo, files, ["DEP001"])
    assert lines(found) == [("DEP001", 3)] and "gevent" in found[0].message.split("only it needs")[1]


def test_paddleocr_runs_on_the_paddlepaddle_build_the_image_installs(repo):
    """PaddleOCR leaves its framework undeclared (CPU or GPU build, the user's choice)."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "ocr.py"]\n',
        "requirements.txt": "paddleocr==3.4.0\npaddlepaddle==3.3.0\n",
        "ocr.py": """
            from paddleocr import PaddleOCR

            ocr = PaddleOCR(lang="en")
            print(ocr.predict("receipt.png"))
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    # without PaddleOCR, nothing uses it; the message names its public module only
    files["requirements.txt"] = "paddlepaddle==3.3.0\nrequests==2.32.3\n"
    files["ocr.py"] = "import requests\n\nrequests.get('https://example.org', timeout=5)\n"
    found = findings(repo, files, ["DEP001"])
    assert (
        lines(found) == [("DEP001", 1)] and "imports `paddle`," in found[0].message and "_foo" not in found[0].message
    )


def test_entries_said_together_need_every_image_that_installs_the_file(repo):
    """The web image and the worker install one requirements file; the worker runs
    `watchmedo`, watchdog's command. Folded into one finding, the web image's "may be
    unused" entries must still each be said by the worker: watchdog is not, so the finding
    said is the worker's, without it."""
    requirements = "acme-scoring==2.3.0\nnumpy==1.26.4\ntabulate==0.9.0\nwatchdog==6.0.0\ncelery==5.4.0\n"
    image = SLIM_REQUIREMENTS + "COPY score.py tasks.py ./\n"
    files = {
        "Dockerfile": image + 'CMD ["python", "score.py"]\n',
        "worker.Dockerfile": image
        + 'CMD ["watchmedo", "auto-restart", "-p", "*.py", "--", "celery", "-A", "tasks", "worker"]\n',
        "docker-compose.yml": "services:\n  web:\n    build: .\n  worker:\n    build:\n      context: .\n"
        "      dockerfile: worker.Dockerfile\n",
        "requirements.txt": requirements,
        "score.py": "from acme_scoring import Scorer\n\nimport tasks\n\nprint(Scorer().score([1, 2, 3]))\n",
        "tasks.py": "from celery import Celery\n\napp = Celery('tasks')\n",
    }
    (finding,) = findings(repo, files, ["DEP001"])
    assert finding.span.line == 2 and [item.span.line for item in finding.related] == [3]
    assert finding.message.startswith("`numpy` and `tabulate` are installed in the image and may be unused")


def test_a_release_older_than_any_the_index_read_may_require_more(repo):
    """The index read matplotlib from 3.3 on; 2.0.0 also required pytz and six. What an
    older major release requires is not known: what it may need is said at info, naming it."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "plot.py"]\n',
        "requirements.txt": "matplotlib==2.0.0\nnumpy==1.16.6\npytz==2017.2\nsix==1.12.0\nredis==3.5.3\n",
        "plot.py": "import matplotlib.pyplot as plt\n\nplt.plot([1, 2, 3])\nplt.savefig('out.png')\n",
    }
    (found,) = findings(repo, files, ["DEP001"])  # matplotlib 2 may need any of them: one decision
    assert found.severity == Severity.INFO and "`matplotlib`, whose requirements" in found.message
    assert found.message.startswith("`pytz`, `six` and `redis` are installed in the image and may be unused")
    # a release of a series the index read: judged by what it requires
    files["requirements.txt"] = "matplotlib==3.8.4\nnumpy==1.26.4\npytz==2024.1\n"
    found = {item.message.split("`")[1]: item for item in findings(repo, files, ["DEP001"])}
    assert found["pytz"].severity == Severity.WARNING


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("llama-index-vector-stores-chroma", "llama_index.vector_stores.chroma"),
        ("llama-index-readers-llama-parse", "llama_index.readers.llama_parse"),
        ("llama-index-llms-openai", "llama_index.llms.openai"),
        ("llama-index-storage-chat-store-redis", "llama_index.storage.chat_store.redis"),
        ("llama-index-multi-modal-llms-openai", "llama_index.multi_modal_llms.openai"),
    ],
)
def test_llama_index_integrations_are_imported_by_category_and_name(name, module):
    assert lookup(name).modules == (module,)


def test_a_llama_index_vector_store_the_code_imports_is_used(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["streamlit", "run", "app.py"]\n',
        "requirements.txt": "llama-index-core==0.12.52\nllama-index-vector-stores-chroma==0.4.2\nchromadb==0.6.3\n"
        "streamlit==1.41.1\n",
        "app.py": """
            import chromadb
            import streamlit as st
            from llama_index.core import VectorStoreIndex
            from llama_index.vector_stores.chroma import ChromaVectorStore

            store = ChromaVectorStore(chroma_collection=chromadb.PersistentClient("db").get_or_create_collection("docs"))
            index = VectorStoreIndex.from_vector_store(store)
            st.write(index.as_query_engine().query(st.text_input("Ask")))
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == []


def test_what_an_unknown_kept_package_may_require_is_not_claimed_as_saved(repo):
    """mlxtend-like packages the index cannot read stay in the image and may require the
    matplotlib an unused seaborn brings: removing seaborn saves seaborn."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "predict.py"]\n',
        "requirements.txt": "flask==3.0.3\nseaborn==0.13.2\n",
        "predict.py": "from flask import Flask\n\napp = Flask(__name__)\napp.run()\n",
    }
    (alone,) = findings(repo, files, ["DEP001"])
    assert "matplotlib" in alone.message
    files["requirements.txt"] += "acme-plot-helpers==0.23.1\n"
    found = {item.message.split("`")[1]: item for item in findings(repo, files, ["DEP001"])}
    assert "matplotlib" not in found["seaborn"].message and found["seaborn"].size_bytes < alone.size_bytes


def test_a_cockroachdb_url_uses_the_postgresql_driver_its_dialect_speaks(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
        "requirements.txt": "SQLAlchemy==2.0.19\nsqlalchemy-cockroachdb==2.0.1\npsycopg2-binary==2.9.6\n",
        "app.py": 'from sqlalchemy import create_engine\n\nengine = create_engine("cockroachdb://root@db:26257/bank")\n',
    }
    assert lines(findings(repo, files, ["DEP001"])) == []


def test_a_function_a_package_calls_by_a_string_uses_what_it_imports(repo):
    """`px.scatter(..., trendline="ols")` makes Plotly Express call its `ols` trendline
    function, which imports statsmodels; a scatter plot without it leaves statsmodels unused."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["streamlit", "run", "dashboard.py"]\n',
        "requirements.txt": "streamlit==1.40.2\nplotly==5.24.1\npandas==2.2.3\nstatsmodels==0.14.4\n",
        "dashboard.py": """
            import pandas as pd
            import plotly.express as px
            import streamlit as st

            frame = pd.read_csv("predictions.csv")
            st.plotly_chart(px.scatter(frame, x="actual", y="predicted", trendline="ols"))
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["dashboard.py"] = files["dashboard.py"].replace(', trendline="ols"', "")
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 4)]


def test_a_dialect_url_with_a_driver_uses_both_the_dialect_and_the_driver(repo):
    """`cockroachdb+asyncpg://` loads sqlalchemy-cockroachdb's dialect, which speaks through
    asyncpg; a `postgresql+asyncpg://` URL leaves the default psycopg2 unused."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
        "requirements.txt": "SQLAlchemy==2.0.36\nsqlalchemy-cockroachdb==2.0.2\nasyncpg==0.30.0\npsycopg2-binary==2.9.10\n",
        "app.py": "from sqlalchemy.ext.asyncio import create_async_engine\n\n"
        'engine = create_async_engine("cockroachdb+asyncpg://root@db:26257/research")\n',
    }
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 4)]  # psycopg2-binary
    files["app.py"] = files["app.py"].replace("cockroachdb+asyncpg", "postgresql+asyncpg")
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 2), ("DEP001", 4)]


def test_a_driver_named_in_the_scheme_a_url_builder_takes_is_used(repo):
    """The URL is built, not written: `PostgresDsn.build(scheme="postgresql+asyncpg")`
    (pydantic) or `URL.create(drivername="mysql+pymysql")` (SQLAlchemy) names the driver."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
        "requirements.txt": "SQLAlchemy==2.0.36\npydantic==2.9.2\nasyncpg==0.30.0\npymysql==1.1.1\nredis==5.2.1\n",
        "app.py": """
            from pydantic import PostgresDsn
            from sqlalchemy import URL, create_engine
            from sqlalchemy.ext.asyncio import create_async_engine

            url = PostgresDsn.build(scheme="postgresql+asyncpg", username="app", host="db", path="app")
            engine = create_async_engine(str(url))
            reports = create_engine(URL.create(drivername='mysql+pymysql', host="reports", database="bi"))
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 5)]  # redis: nothing names it


def test_a_database_url_field_of_a_settings_class_is_read_from_the_environment(repo):
    """pydantic-settings fills `async_database_url` from ASYNC_DATABASE_URL: whichever driver
    that URL names is the one the service loads."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
        "requirements.txt": "SQLAlchemy==2.0.36\npydantic-settings==2.6.1\nasyncpg==0.30.0\n",
        "app.py": """
            from pydantic_settings import BaseSettings
            from sqlalchemy.ext.asyncio import create_async_engine


            class Settings(BaseSettings):
                async_database_url: str
                debug: bool = False


            engine = create_async_engine(Settings().async_database_url)
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    # without the settings class, no variable names a database: asyncpg is unused
    files["app.py"] = (
        "from sqlalchemy.ext.asyncio import create_async_engine\n\nengine = create_async_engine('sqlite+aiosqlite:///app.db')\n"
    )
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 2), ("DEP001", 3)]


def test_a_database_setting_in_a_comment_selects_no_driver(repo):
    """settings.py keeps its MySQL block commented out and runs on SQLite: mysqlclient is
    unused, whatever Django's MySQL backend calls of it (`execute`, which the views call
    too). Uncommented, the ENGINE names it."""
    settings = """
        import os

        DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
        # DATABASES = {
        #     "default": {"ENGINE": "django.db.backends.mysql", "NAME": os.getenv("MYSQL_DATABASE")}
        # }
    """
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["gunicorn", "site_api.wsgi"]\n',
        "requirements.txt": "Django==5.1.4\ngunicorn==23.0.0\nmysqlclient==2.2.6\n",
        "site_api/__init__.py": "",
        "site_api/wsgi.py": "from django.core.wsgi import get_wsgi_application\n\napplication = get_wsgi_application()\n",
        "site_api/settings.py": settings,
        "site_api/views.py": "from django.db import connection\n\n\ndef count():\n"
        "    with connection.cursor() as cursor:\n        cursor.execute('SELECT 1')\n",
    }
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 3)]
    files["site_api/settings.py"] = settings.replace("# ", "").replace(
        '"django.db.backends.sqlite3", "NAME": "db.sqlite3"', '"x"'
    )
    assert lines(findings(repo, files, ["DEP001"])) == []


def test_an_engine_built_from_a_url_the_code_reads_may_use_any_installed_driver(repo):
    """`create_engine(config.get("psql", "conn_string"))`: the URL is in config.ini, which the
    image may get at run time; the only PostgreSQL driver installed is the one it selects."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
        "requirements.txt": "SQLAlchemy==2.0.36\npsycopg2-binary==2.9.10\n",
        "app.py": """
            import configparser

            from sqlalchemy import create_engine

            config = configparser.ConfigParser()
            config.read("config.ini")
            engine = create_engine(config.get("psql", "conn_string"))
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["app.py"] = files["app.py"].replace('config.get("psql", "conn_string")', '"sqlite:///app.db"')
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 2)]


def test_before_1_0_a_minor_release_older_than_any_read_is_not_known():
    from dockerlint.model.distributions import requirements_read

    oldest = load_packages().decode("sqlalchemy-utils")["oldest_read"]
    major, minor = (int(part) for part in oldest.split(".")[:2])
    assert major == 0 and requirements_read("sqlalchemy-utils", oldest)
    assert not requirements_read("sqlalchemy-utils", f"0.{minor - 2}.8")
    assert requirements_read("requests", "2.0.0") and not requirements_read("faker", "5.8.0")
    # before 0.1 each patch release is a series: deepface's index read starts at 0.0.103
    assert requirements_read("deepface", "0.0.103") and not requirements_read("deepface", "0.0.95")


def test_a_package_installed_from_git_is_not_its_pypi_namesake(repo):
    """`clip @ git+…openai/CLIP` needs ftfy, regex and torchvision; PyPI's `clip` is another,
    tiny project: what the code imports from git may need any unused package (info)."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
        "requirements.txt": "clip @ git+https://github.com/openai/CLIP.git@a1d071733d7111c9c014f024669f959182114e33\n"
        "ftfy==6.1.1\nregex==2023.10.3\ntorch==2.1.1\ntorchvision==0.16.1\n",
        "app.py": "import clip\nimport torch\n\nmodel, preprocess = clip.load('ViT-B/32', device='cpu')\n",
    }
    (found,) = findings(repo, files, ["DEP001"])
    assert (found.span.line, [item.span.line for item in found.related]) == (2, [3, 5])
    assert found.severity == Severity.INFO and "`clip`, whose requirements" in found.message
    files["requirements.txt"] = files["requirements.txt"].replace(
        "clip @ git+https://github.com/openai/CLIP.git@a1d071733d7111c9c014f024669f959182114e33", "clip==0.2.0"
    )
    assert all(item.severity == Severity.WARNING for item in findings(repo, files, ["DEP001"]))


def test_a_hyphenated_string_does_not_name_the_module_its_first_word_is(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
        "requirements.txt": "flask==3.0.3\ndvc==3.53.0\n",
        "app.py": 'from flask import Flask\n\napp = Flask(__name__)\nBUCKET = "dvc-pipeline-runs"\n',
    }
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 2)]
    files["app.py"] += 'import subprocess\n\nsubprocess.run(["dvc", "pull"], check=True)\n'
    assert lines(findings(repo, files, ["DEP001"])) == []


def test_an_mlflow_flavour_the_code_calls_through_uses_its_library(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "train.py"]\n',
        "requirements.txt": "mlflow==2.17.2\nshap==0.46.0\nscikit-learn==1.5.2\n",
        "train.py": """
            import mlflow
            from sklearn.linear_model import LinearRegression

            model = LinearRegression().fit([[0], [1]], [0, 1])
            with mlflow.start_run():
                mlflow.shap.log_explanation(model.predict, [[0], [1]])
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["train.py"] = files["train.py"].replace("mlflow.shap.log_explanation(model.predict, [[0], [1]])", "pass")
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 2)]


def test_a_meta_package_the_code_imports_through_is_never_said_removable_beside_an_unread_one(repo):
    # llama-index 0.10 requires llama-index-embeddings-openai, whose module the code imports;
    # acme-retrieval (private) may require it too, so the finding is unsure: said at info, it
    # still names what to install instead, never a bare removal that breaks the import.
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "rag.py"]\n',
        "requirements.txt": """
            --extra-index-url https://pypi.acme.internal/simple
            llama-index==0.10.34
            acme-retrieval==1.4.0
        """,
        "rag.py": """
            from acme_retrieval import search
            from llama_index.embeddings.openai import OpenAIEmbedding

            print(search("query", OpenAIEmbedding()))
        """,
    }
    found = findings(repo, files, ["DEP001"])
    assert lines(found) == [("DEP001", 2)] and found[0].severity == Severity.INFO
    assert "Replace `llama-index==0.10.34` with `llama-index-embeddings-openai`" in found[0].fix
    assert "Remove" not in found[0].fix


def test_a_llamaindex_web_reader_the_code_builds_imports_its_undeclared_library(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "ingest.py"]\n',
        "requirements.txt": "llama-index-core==0.10.34\nllama-index-readers-web==0.1.9\ntrafilatura==1.8.1\n",
        "ingest.py": """
            from llama_index.core import VectorStoreIndex
            from llama_index.readers.web import TrafilaturaWebReader

            documents = TrafilaturaWebReader().load_data(["https://example.com/docs"])
            index = VectorStoreIndex.from_documents(documents)
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    # the service indexes files only: no reader of the package runs
    files["ingest.py"] = """
        from llama_index.core import SimpleDirectoryReader, VectorStoreIndex

        index = VectorStoreIndex.from_documents(SimpleDirectoryReader("docs").load_data())
    """
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 2), ("DEP001", 3)]


def test_simple_directory_reader_reads_pdfs_with_the_file_readers_package(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "index.py"]\n',
        "requirements.txt": "llama-index-core==0.12.8\nllama-index-readers-file==0.4.1\n",
        "index.py": """
            from llama_index.core import SimpleDirectoryReader, VectorStoreIndex

            documents = SimpleDirectoryReader(input_dir="files", required_exts=[".pdf"]).load_data()
            index = VectorStoreIndex.from_documents(documents)
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["index.py"] = (
        "from llama_index.core import Document, VectorStoreIndex\n\nVectorStoreIndex.from_documents([Document(text='a')])\n"
    )
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 2)]


def test_a_command_that_a_package_brings_in_uses_it_and_the_plugin_it_loads(repo):
    """`dbt` is dbt-core's command, which only dbt-postgres brings in; dbt loads the postgres
    adapter by the profile's `type: postgres`."""
    files = {
        "Dockerfile": """
            FROM python:3.10-slim
            WORKDIR /dbt
            RUN pip install --no-cache-dir dbt-postgres==1.6.0
            COPY project/ ./
            COPY scripts/ ./scripts/
            CMD ["dbt", "run", "--profiles-dir", "."]
        """,
        "project/profiles.yml": "warehouse:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n",
        "scripts/notify.py": "print('done')\n",
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["Dockerfile"] = files["Dockerfile"].replace(
        'CMD ["dbt", "run", "--profiles-dir", "."]', 'CMD ["python", "scripts/notify.py"]'
    )
    assert [item.path.name for item in findings(repo, files, ["DEP001"])] == ["Dockerfile"]


def test_a_parser_an_unused_package_would_load_is_unused_with_it(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "rank.py"]\n',
        "requirements.txt": "httpx==0.28.1\nbeautifulsoup4==4.13.4\nlxml==6.0.0\n",
        "rank.py": "import httpx\n\nprint(httpx.get('https://api.example.com/rank').json())\n",
    }
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 2), ("DEP001", 3)]
    # parsing with BeautifulSoup(text, "lxml"): both are used
    files["rank.py"] += "from bs4 import BeautifulSoup\n\nBeautifulSoup('<p>1</p>', 'lxml')\n"
    assert lines(findings(repo, files, ["DEP001"])) == []


def test_an_old_langchain_class_imports_its_google_sdk_when_built(repo):
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["streamlit", "run", "app.py"]\n',
        "requirements.txt": "langchain==0.0.180\nstreamlit==1.22.0\ngoogle-generativeai==0.1.0\ngoogle-cloud-aiplatform==1.25.0\n",
        "app.py": """
            import streamlit as st
            from langchain.chat_models import ChatGooglePalm
            from langchain.embeddings import VertexAIEmbeddings

            embeddings = VertexAIEmbeddings()
            st.write(ChatGooglePalm(temperature=0).predict(st.text_input("Question")))
        """,
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["app.py"] = (
        "import streamlit as st\nfrom langchain.chat_models import ChatOpenAI\n\nst.write(ChatOpenAI().predict('hi'))\n"
    )
    (found,) = findings(repo, files, ["DEP001"])
    assert (found.span.line, [item.span.line for item in found.related]) == (3, [4])


def test_an_async_telegram_bot_needs_aiohttp_and_the_hedge_is_gone(repo):
    """pyTelegramBotAPI (import name ``telebot``) is in the index. Before 4.34 aiohttp was
    an extra, yet ``telebot.asyncio_helper`` imports it: the async bot uses it at any
    version. A package nothing uses beside it is no longer hedged with "pytelegrambotapi
    may need it"."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "bot.py"]\n',
        "requirements.txt": "pyTelegramBotAPI==4.21.0\naiohttp==3.9.5\npython-slugify==8.0.4\n",
        "bot.py": """
            import asyncio
            import os

            from telebot.async_telebot import AsyncTeleBot

            bot = AsyncTeleBot(os.environ["BOT_TOKEN"])


            @bot.message_handler(commands=["start"])
            async def start(message):
                await bot.reply_to(message, "Hello")


            asyncio.run(bot.polling())
        """,
    }
    found = findings(repo, files)
    assert lines(found) == [("DEP001", 3)]  # python-slugify
    assert found[0].severity is Severity.WARNING
    assert "may" not in found[0].message


MINERU_OCR = {
    "Dockerfile": """
        FROM python:3.10-slim-bookworm
        WORKDIR /app
        RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch torchvision
        RUN pip install --no-cache-dir \\
            "fastapi>=0.110" \\
            "uvicorn>=0.29" \\
            "mineru>=2.5.4" \\
            "doclayout-yolo>=0.0.4" \\
            "ultralytics>=8.0.0" \\
            "transformers>=4.38.0" \\
            "ftfy>=6.1.1" \\
            "shapely>=2.0.0" \\
            "pyclipper>=1.3.0" \\
            "omegaconf>=2.3.0"
        COPY app.py .
        CMD ["uvicorn", "app:app", "--host", "0.0.0.0"]
    """,
    "app.py": """
        from fastapi import FastAPI

        app = FastAPI()


        @app.post("/parse")
        def parse(path: str) -> dict:
            from mineru.cli.common import do_parse

            do_parse(output_dir="/tmp/out", pdf_file_names=[path], pdf_bytes_list=[open(path, "rb").read()],
                     p_lang_list=["en"], backend="pipeline")
            return {"ok": True}
    """,
}


def test_the_packages_of_an_extra_written_out_by_hand_are_installed_for_it(repo):
    """mineru 2.5's `pipeline` extra is doclayout-yolo, ultralytics, transformers, ftfy,
    shapely, pyclipper, omegaconf, torch, torchvision and four more: an image that installs 9 of its 13
    beside mineru installs them for mineru (the extra is gone from mineru 4, the newest
    release the range allows: the image is written for the release that has it)."""
    assert "doclayout-yolo" in lookup("mineru", "2.5.4").extras["pipeline"]
    assert "pipeline" not in lookup("mineru").extras
    assert findings(repo, MINERU_OCR) == []


def test_one_package_of_an_extra_is_not_the_extra(repo):
    """Two of the extra's packages are not it written out: omegaconf is unused (pyclipper
    is not: mineru's OCR modules import it)."""
    dockerfile = MINERU_OCR["Dockerfile"].replace(
        " --index-url https://download.pytorch.org/whl/cpu torch torchvision", " uv"
    )
    for line in ('"doclayout-yolo>=0.0.4"', '"ultralytics>=8.0.0"', '"transformers>=4.38.0"', '"ftfy>=6.1.1"',
                 '"shapely>=2.0.0"'):  # fmt: skip
        dockerfile = dockerfile.replace(f"            {line} \\\n", "")
    files = {**MINERU_OCR, "Dockerfile": dockerfile}
    assert [(f.code, f.span.line) for f in findings(repo, files, ["DEP001"])] == [("DEP001", 9)]


ARQ_WORKER = {
    "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["arq", "worker.WorkerSettings"]\n',
    "requirements.txt": "arq\nredis\nhttpx\n",
    "worker.py": """
        import time

        import httpx
        import jwt
        from arq.connections import RedisSettings


        def token(key: str, secret: str) -> str:
            return jwt.encode({"iss": key, "exp": int(time.time()) + 1800}, secret, algorithm="HS256")


        async def render(ctx, prompt: str) -> dict:
            async with httpx.AsyncClient() as client:
                response = await client.post("https://api.example.com/v1/videos", json={"prompt": prompt},
                                             headers={"Authorization": f"Bearer {token('k', 's')}"})
            return response.json()


        class WorkerSettings:
            functions = [render]
            redis_settings = RedisSettings(host="redis")
    """,
}


def test_an_import_an_older_release_of_an_unpinned_package_brings_is_not_missing(repo):
    """arq caps redis below 6, and redis 5 requires PyJWT: `import jwt` is served though
    the newest redis no longer requires it. A redis range that starts at 6 does not."""
    assert "pyjwt" in lookup("redis", "5.3.1").requires and "pyjwt" not in lookup("redis").requires
    assert findings(repo, ARQ_WORKER, ["DEP002"]) == []
    floored = {**ARQ_WORKER, "requirements.txt": "redis>=6.0\nhttpx\narq==0.26.3\n"}
    assert [(f.code, f.path.name, f.span.line) for f in findings(repo, floored, ["DEP002"])] == [
        ("DEP002", "worker.py", 4)
    ]


@pytest.mark.parametrize(
    "requirements, code, backend",
    [
        ("torch==2.5.1\ntorchaudio==2.5.1\nsoundfile==0.12.1\n",
         "import torchaudio\n\nwaveform, rate = torchaudio.load('call.wav')\n", "soundfile"),
        ("torch==2.9.0\ntorchaudio==2.9.0\ntorchcodec==0.8.0\n",
         "import torchaudio\n\nwaveform, rate = torchaudio.load('call.wav')\n", "torchcodec"),
        ("mlflow==2.19.0\nboto3==1.35.81\n",
         "import mlflow\n\nmodel = mlflow.pyfunc.load_model('runs:/abc/model')\n", "boto3"),
        ("diffusers==0.31.0\nimageio==2.36.1\nimageio-ffmpeg==0.5.1\n",
         "from diffusers.utils import export_to_video\nimport imageio\n\nexport_to_video([], 'out.mp4')\n",
         "imageio-ffmpeg"),
    ],
)  # fmt: skip
def test_an_io_backend_the_library_picks_by_itself_is_used(repo, requirements, code, backend):
    """torchaudio reads through whichever backends are installed (soundfile among them);
    imageio writes video through its ffmpeg plugin: neither is imported by the code. With
    the library gone, the backend is unused."""
    files = {"Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n', "requirements.txt": requirements,
             "app.py": code}  # fmt: skip
    assert findings(repo, files, ["DEP001"]) == []
    alone = {**files, "app.py": "print('idle')\n", "requirements.txt": f"{backend}\n"}
    assert [f.message.split("`")[1] for f in findings(repo, alone, ["DEP001"])] == [backend]


def test_a_package_the_code_only_names_in_a_setting_lends_it_no_function_names(repo):
    """elasticsearch is used through Wagtail's search backend setting; its serializer's
    `default()` reaches pandas, but the code never imports elasticsearch: the settings'
    `"default"` database is not a call of it, and an unused pandas is reported."""
    assert "default" in calls("elasticsearch").get("pandas", ())
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["gunicorn", "site_app.wsgi"]\n',
        "requirements.txt": "django==5.2.1\nwagtail==7.0\nelasticsearch==7.17.12\ngunicorn==23.0.0\npandas==2.2.3\n",
        "site_app/__init__.py": "",
        "site_app/wsgi.py": "from django.core.wsgi import get_wsgi_application\n\napplication = get_wsgi_application()\n",
        "site_app/settings.py": """
            DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
            WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.elasticsearch7"}}
            INSTALLED_APPS = ["wagtail", "wagtail.search", "django.contrib.contenttypes"]
            LOGGING = {"version": 1, "loggers": {"elasticsearch": {"level": "WARNING"}}}
        """,
    }
    assert [f.message.split("`")[1] for f in findings(repo, files, ["DEP001"])] == ["pandas"]


def test_a_url_with_a_driver_asks_for_that_driver_only(repo):
    """`postgresql+asyncpg://` is asyncpg's: psycopg2-binary beside it serves nothing. A
    plain `postgresql://` (Alembic's sync URL, say) asks for the scheme's default driver."""
    code = (
        "from sqlalchemy.ext.asyncio import create_async_engine\n\n"
        "engine = create_async_engine('postgresql+asyncpg://bot:bot@db:5432/bot')\n"
    )
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
        "requirements.txt": "sqlalchemy==2.0.36\nasyncpg==0.30.0\npsycopg2-binary==2.9.10\n",
        "app.py": code,
    }
    assert [f.message.split("`")[1] for f in findings(repo, files, ["DEP001"])] == ["psycopg2-binary"]
    both = {**files, "app.py": code + "SYNC_URL = 'postgresql://bot:bot@db:5432/bot'\n"}
    assert findings(repo, both, ["DEP001"]) == []


FREEZE_WITH_A_HAND_ADDED_TORCH = """
    certifi==2024.2.2
    charset-normalizer==3.2.0
    contourpy==1.2.1
    cycler==0.12.1
    defusedxml==0.7.1
    fonttools==4.51.0
    idna==3.4
    kiwisolver==1.4.5
    matplotlib==3.8.4
    numpy==1.26.4
    packaging==24.0
    pillow==10.3.0
    pyparsing==3.1.2
    python-dateutil==2.9.0.post0
    rca-toolkit-internal==0.3.1
    requests==2.31.0
    six==1.16.0
    torch==2.2.2
    urllib3==1.26.18
"""


def test_a_freeze_stays_one_with_an_entry_added_by_hand(repo):
    """torch from the CPU index was added to this freeze by hand (none of its requirements
    are listed): the rest reads as `pip freeze` output, so the unknown rca-toolkit-internal
    may be what needs defusedxml, and that is said at info."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
        "requirements.txt": FREEZE_WITH_A_HAND_ADDED_TORCH,
        "app.py": "import matplotlib\nimport requests\nimport torch\n",
    }
    (finding,) = [f for f in findings(repo, files, ["DEP001"]) if "defusedxml" in f.message]
    assert finding.severity is Severity.INFO and "rca-toolkit-internal" in finding.message


def test_pymysql_logs_in_to_mysql_8_through_cryptography(repo):
    """MySQL 8's default login needs cryptography in PyMySQL (its `rsa` extra): installed
    beside a PyMySQL the service connects with, it is used."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
        "requirements.txt": "sqlalchemy==2.0.36\npymysql==1.1.1\ncryptography==44.0.0\n",
        "app.py": "from sqlalchemy import create_engine\n\nengine = create_engine('mysql+pymysql://app:app@mysql:3306/app')\n",
    }
    assert findings(repo, files, ["DEP001"]) == []


@pytest.mark.parametrize(("cmd", "unused"), [
    ('CMD ["opentelemetry-instrument", "uvicorn", "app:app", "--host", "0.0.0.0"]\n', []),
    ('CMD ["uvicorn", "app:app", "--host", "0.0.0.0"]\n', ["opentelemetry-distro"]),
])  # fmt: skip
def test_the_opentelemetry_distro_is_loaded_by_the_instrument_command(repo, cmd, unused):
    """`opentelemetry-instrument` loads the distro registered in its entry-point group
    before it starts the server; without that command nothing loads the distro."""
    assert "opentelemetry_distro" in lookup("opentelemetry-distro").groups
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + cmd,
        "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\nopentelemetry-distro==0.60b1\n",
        "app.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    }
    assert [f.message.split("`")[1] for f in findings(repo, files, ["DEP001"])] == unused


@pytest.mark.parametrize("types_import", ["", "from sqlalchemy.dialects.mysql import LONGTEXT\n"])
def test_the_url_picks_the_mysql_driver_not_its_scheme_or_the_dialect_types(repo, types_import):
    """`mysql+pymysql://` asks for PyMySQL: the scheme's `mysql` is not the `mysql` module
    of mysql-connector-python, and MySQL's column types do not pick a driver either."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
        "requirements.txt": "sqlalchemy==2.0.36\npymysql==1.1.1\nmysql-connector-python==9.1.0\n",
        "app.py": "from sqlalchemy import create_engine\n"
        + types_import
        + "engine = create_engine('mysql+pymysql://app:app@db:3306/app')\n",
    }
    assert [f.message.split("`")[1] for f in findings(repo, files, ["DEP001"])] == ["mysql-connector-python"]


def test_a_keyword_argument_is_no_call_of_the_function_of_that_name(repo):
    """torch's `add_text` and `text` summaries reach tensorboard; `subprocess.run(...,
    text=True)` calls neither, and an unused tensorboard is reported. A real call is a use."""
    assert "text" in calls("torch").get("tensorboard", ())
    code = "import subprocess\n\nimport torch\n\nout = subprocess.run(['nvidia-smi'], capture_output=True, text=True)\n"
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "train.py"]\n',
        "requirements.txt": "torch==2.5.1\ntensorboard==2.18.0\n",
        "train.py": code,
    }
    assert [f.message.split("`")[1] for f in findings(repo, files, ["DEP001"])] == ["tensorboard"]
    writer = (
        code + "from torch.utils.tensorboard import SummaryWriter\n\nSummaryWriter('runs').add_scalar('loss', 0.1, 1)\n"
    )
    assert findings(repo, {**files, "train.py": writer}, ["DEP001"]) == []


def test_a_backend_loaded_through_the_library_adapter_is_used(repo):
    """stable-ts's load_faster_whisper() imports faster_whisper (its `fw` extra, installed
    by name here): the service calls it, so faster-whisper is used."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "tasks.py"]\n',
        "requirements.txt": "stable-ts==2.17.5\nfaster-whisper==1.1.0\n",
        "tasks.py": "import stable_whisper\n\nmodel = stable_whisper.load_faster_whisper('small')\n",
    }
    assert findings(repo, files, ["DEP001"]) == []


def test_a_django_engine_read_from_sql_engine_is_decided_where_the_container_runs(repo):
    """`'ENGINE': env.str('SQL_ENGINE')`: the database (and its driver) comes from the
    environment, so psycopg stays."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["gunicorn", "core.wsgi"]\n',
        "requirements.txt": "django==5.2.1\ndjango-environ==0.12.0\ngunicorn==23.0.0\npsycopg[binary]==3.2.9\n",
        "core/__init__.py": "",
        "core/wsgi.py": "from django.core.wsgi import get_wsgi_application\n\napplication = get_wsgi_application()\n",
        "core/settings.py": "import environ\n\nenv = environ.Env()\n"
        "DATABASES = {'default': {'ENGINE': env.str('SQL_ENGINE'), 'NAME': env.str('SQL_DATABASE')}}\n",
    }
    assert findings(repo, files, ["DEP001"]) == []


def test_a_namespace_package_the_index_does_not_hold_is_not_judged_by_its_name(repo):
    """opentelemetry-propagator-aws-xray installs `opentelemetry.propagators.aws`, not the
    `opentelemetry.propagator.aws.xray` its name suggests: outside the index, a name in the
    opentelemetry family says nothing sure of its module, and nothing is reported."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "tracing.py"]\n',
        "requirements.txt": "opentelemetry-sdk==1.29.0\nopentelemetry-propagator-aws-xray==1.0.2\n",
        "tracing.py": "from opentelemetry.propagators.aws import AwsXRayPropagator\nfrom opentelemetry.sdk.trace import TracerProvider\n",
    }
    assert findings(repo, files, ["DEP001"]) == []


def test_a_connection_string_from_the_environment_selects_the_driver_where_it_runs(repo):
    """`create_engine(POSTGRES_CONNECTION_STRING)`: the URL, and so the driver SQLAlchemy
    loads (psycopg2 for `postgresql://`), comes from the environment."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["uvicorn", "app.main:app"]\n',
        "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\nsqlalchemy==2.0.36\npsycopg2-binary==2.9.10\n",
        "app/__init__.py": "",
        "app/main.py": "import os\n\nfrom fastapi import FastAPI\nfrom sqlalchemy import create_engine\n\n"
        'engine = create_engine(os.environ["POSTGRES_CONNECTION_STRING"])\napp = FastAPI()\n',
    }
    assert findings(repo, files, ["DEP001"]) == []
    files["app/main.py"] = files["app/main.py"].replace(
        'os.environ["POSTGRES_CONNECTION_STRING"]', '"sqlite:///app.db"'
    )
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 4)]


def test_what_an_extension_of_a_framework_requires_is_needed_by_it(repo):
    """django-ninja-extra, which the API imports, requires django-ninja and injector; the
    yayawallet SDK declares nothing but imports httpx (its functions do): none is unused."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["gunicorn", "shop.wsgi"]\n',
        "requirements.txt": "Django==5.0.6\ngunicorn==22.0.0\ndjango-ninja==1.1.0\ndjango-ninja-extra==0.20.4\n"
        "injector==0.21.0\nhttpx==0.27.0\nyayawallet-python-sdk==0.2.27\n",
        "shop/__init__.py": "",
        "shop/wsgi.py": "from django.core.wsgi import get_wsgi_application\n\napplication = get_wsgi_application()\n",
        "shop/api.py": "from ninja_extra import NinjaExtraAPI\nfrom yayawallet_python_sdk.api import transfer\n\n"
        "api = NinjaExtraAPI()\n",
    }
    assert lines(findings(repo, files, ["DEP001"])) == []


@pytest.mark.parametrize(
    ("requirements", "command", "served"),
    [
        ("langgraph==0.6.3\nlanggraph-cli==0.3.6\nlanggraph-api==0.2.120\nlanggraph-runtime-inmem==0.6.8\n"
         "sse-starlette==2.1.3\nstructlog==25.4.0\n", '["langgraph", "dev", "--host", "0.0.0.0"]', "langgraph-api"),
        ("litestar==2.16.0\nuvicorn==0.35.0\n", '["litestar", "run", "--host", "0.0.0.0"]', "uvicorn"),
    ],
)  # fmt: skip
def test_a_framework_command_runs_the_server_it_is_installed_with(repo, requirements, command, served):
    """`langgraph dev` runs langgraph-api's in-memory server (and so needs what it requires);
    `litestar run` serves the app with uvicorn: neither is imported by the code."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + f"CMD {command}\n",
        "requirements.txt": requirements,
        "app/__init__.py": "",
        "app/graph.py": "from langgraph.graph import StateGraph\n"
        if "langgraph" in requirements
        else "from litestar import Litestar\n\napp = Litestar([])\n",
    }
    found = findings(repo, files, ["DEP001"])
    assert served not in " ".join(item.message for item in found)
    assert lines(found) == []


def test_a_command_of_an_older_release_in_the_start_script_uses_its_package(repo):
    """`bash -c /app/pull-all.sh` runs the script, which runs `huggingface-cli download`:
    the command of huggingface-hub before 1.0 (`hf` since)."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'ENTRYPOINT [ "bash", "-c", "/app/pull-all.sh" ]\n',
        "requirements.txt": "huggingface-hub==0.24.0\nrequests==2.32.3\n",
        "pull-all.sh": "#!/bin/bash\nhuggingface-cli download meta-llama/Meta-Llama-3-8B-Instruct --local-dir ./model\n"
        "python scrape.py\n",
        "scrape.py": "import requests\n\nprint(requests.get('https://example.com').status_code)\n",
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["pull-all.sh"] = "#!/bin/bash\npython scrape.py\n"
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 1)]


def test_the_mariadb_connector_dialect_drives_the_mariadb_distribution(repo):
    """`mariadb+mariadbconnector://` is SQLAlchemy's dialect for MariaDB Connector/Python,
    the `mariadb` distribution, which the code never imports by name."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
        "requirements.txt": "SQLAlchemy==2.0.36\nmariadb==1.1.10\n",
        "app.py": "from sqlalchemy import create_engine\n\n"
        "engine = create_engine('mariadb+mariadbconnector://app:app@db:3306/app')\n",
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["app.py"] = "from sqlalchemy import create_engine\n\nengine = create_engine('sqlite:///app.db')\n"
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 2)]


def test_code_that_runs_scripts_with_the_image_python_may_use_any_package(repo):
    """The worker runs a document-AI script it is given (`subprocess.run([sys.executable,
    script_path])`): pymupdf may be what that script imports. Said at info, without a fix."""
    worker = (
        "import subprocess\nimport sys\n\n\ndef parse(script_path, pdf):\n"
        "    return subprocess.run([sys.executable, script_path, pdf], check=False)\n"
    )
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "worker.py"]\n',
        "requirements.txt": "pymupdf==1.25.1\n",
        "worker.py": worker,
    }
    (finding,) = findings(repo, files, ["DEP001"])
    assert finding.severity.name == "INFO" and finding.autofix is None
    assert (
        "`app/worker.py:6` runs Python scripts with the image's interpreter: that code may import it" in finding.message
    )
    for other in ("subprocess.run(['ls'], check=False)", "subprocess.run([sys.executable, '-m', 'pip', 'list'])"):
        files["worker.py"] = f"import subprocess\nimport sys\n\n{other}\n"  # a module, no script: no hedge
        (finding,) = findings(repo, files, ["DEP001"])
        assert finding.severity.name == "WARNING"


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("import torch\n\nmodel = torch.hub.load('ultralytics/yolov5', 'custom', path='best.pt')\n",
         "runs a repository's code that torch.hub.load fetches"),
        ("from transformers import AutoModel\n\nmodel = AutoModel.from_pretrained('acme/ocr', trust_remote_code=True)\n",
         "runs a Hub model's own code (`trust_remote_code=True`)"),
        ("import paddlehub as hub\n\nocr = hub.Module(name='ch_pp-ocrv3', enable_mkldnn=True)\n",
         "runs a PaddleHub module's own code, which `hub.Module` downloads by its name"),
    ],
)  # fmt: skip
def test_code_that_runs_fetched_code_may_use_any_package(repo, code, said):
    """yolov5's hubconf checks and imports its own requirements (gitpython among them); a
    Hub model's modeling code imports what its authors chose: unused by the image's own code
    is not unused."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "serve.py"]\n',
        "requirements.txt": "torch==2.5.1\ntransformers==4.46.3\ngitpython==3.1.43\n",
        "serve.py": code,
    }
    found = [item for item in findings(repo, files, ["DEP001"]) if "gitpython" in item.message]
    assert [item.severity.name for item in found] == ["INFO"] and said in found[0].message


def test_the_cuda_library_wheels_of_a_cuda_torch_build_are_its(repo):
    """`torch==2.6.0+cu118` from PyTorch's index requires the nvidia-*-cu11 set (PyPI's torch
    the -cu12 one): a freeze lists them beside it, and none is unused. Without a framework
    that loads them, they are."""
    freeze = "torch==2.6.0+cu118\nnvidia-cuda-runtime-cu11==11.8.89\nnvidia-cufft-cu11==10.9.0.58\nnumpy==1.26.4\n"
    files = {
        "Dockerfile": SLIM_REQUIREMENTS.replace(
            "RUN pip install --no-cache-dir -r requirements.txt",
            "RUN pip install --no-cache-dir -r requirements.txt --extra-index-url https://download.pytorch.org/whl/cu118",
        )
        + 'CMD ["python", "ocr.py"]\n',
        "requirements.txt": freeze,
        "ocr.py": "import numpy\nimport torch\n\nprint(torch.cuda.is_available(), numpy.__version__)\n",
    }
    assert [line for code, line in lines(findings(repo, files, ["DEP001"]))] == []
    files["requirements.txt"] = freeze.replace("torch==2.6.0+cu118\n", "")
    files["ocr.py"] = "import numpy\n\nprint(numpy.__version__)\n"
    assert [line for code, line in lines(findings(repo, files, ["DEP001"]))] == [1, 2]


@pytest.mark.parametrize(
    ("env", "cmd", "conf", "flagged"),
    [
        ("", '["gunicorn", "app:app"]', None, True),
        ("", '["gunicorn", "-k", "eventlet", "app:app"]', None, False),
        ('ENV GUNICORN_CMD_ARGS="-k eventlet"\n', '["gunicorn", "app:app"]', None, False),
        ("", '["gunicorn", "-c", "gunicorn.conf.py", "app:app"]', 'worker_class = "eventlet"\n', False),
        ("", '["celery", "-A", "app", "worker", "-P", "eventlet"]', None, False),
    ],
)
def test_a_worker_class_is_used_where_something_names_it(repo, env, cmd, conf, flagged):
    """gunicorn and celery load eventlet or gevent only when a command, an environment
    setting or a configuration string names the worker class or pool: installed beside them
    and named nowhere, eventlet is unused."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + env + f"CMD {cmd}\n",
        "requirements.txt": "flask==3.0.3\ngunicorn==23.0.0\ncelery==5.4.0\neventlet==0.36.1\n",
        "app.py": "from celery import Celery\nfrom flask import Flask\n\napp = Flask(__name__)\nworker = Celery('app')\n",
    }
    if conf:
        files["gunicorn.conf.py"] = conf
    found = [line for code, line in lines(findings(repo, files, ["DEP001"]))]
    assert (4 in found) is flagged


def test_a_package_other_releases_of_an_unpinned_dependency_require_may_be_needed(repo):
    """faster-whisper 0.10 caps tokenizers below 0.16, which keeps huggingface-hub below
    1.0, and those releases require requests; the newest hub the index read does not. With
    hub unpinned, requests may be needed: said at info, no bytes claimed. With hub pinned
    to such a release, requests is needed; rich, which no release requires, is unused."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
        "requirements.txt": "faster-whisper==0.10.0\nrequests==2.31.0\nrich==13.9.4\n",
        "app.py": "from faster_whisper import WhisperModel\n\nWhisperModel('small', device='cpu')\n",
    }
    found_here = findings(repo, files, ["DEP001"])
    assert lines(found_here) == [("DEP001", 2), ("DEP001", 3)]
    hedged, plain = found_here
    assert hedged.severity.name == "INFO" and hedged.size_bytes is None
    assert "may be unused" in hedged.message and "other releases of `huggingface-hub`" in hedged.message
    assert plain.severity.name == "WARNING" and "`rich`" in plain.message
    files["requirements.txt"] += "huggingface-hub==0.20.3\n"
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 3)]


def test_a_script_a_run_downloads_and_runs_may_use_what_the_run_installed(repo):
    """The RUN installs gguf and sentencepiece, downloads a conversion script and runs it:
    they are that script's, used at build time, though the service never imports them. Both
    hedge for that one reason: one finding."""
    run = (
        "RUN pip install --no-cache-dir gguf==0.10.0 sentencepiece==0.2.0 && \\\n"
        "    curl -L -o /tmp/convert.py https://example.com/convert-to-gguf.py && \\\n"
        "    python3 /tmp/convert.py --output /models/speech.gguf\n"
    )
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + run + 'CMD ["python", "serve.py"]\n',
        "requirements.txt": "flask==3.1.0\n",
        "serve.py": "import flask\n",
    }
    found_here = findings(repo, files, ["DEP001"])
    assert [(f.severity.name, f.span.line) for f in found_here] == [("INFO", 6)]  # one reason, one finding
    assert "`gguf` and `sentencepiece` are installed in the image and may be unused" in found_here[0].message
    assert "the RUN at line 6 runs `/tmp/convert.py`, which it downloads" in found_here[0].message
    files["Dockerfile"] = files["Dockerfile"].replace("python3 /tmp/convert.py", "echo /tmp/convert.py")
    assert [f.severity.name for f in findings(repo, files, ["DEP001"])] == ["WARNING", "WARNING"]


def test_a_start_script_the_image_does_not_hold_leaves_the_service_code_unread(repo):
    """CMD runs run_model_server.py, but the COPY took another path: the code the service is
    meant to run (which imports redis) is not what the image holds, so its packages are not
    called unused for sure."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS.replace("COPY . .", "COPY app/ ./app/")
        + 'CMD ["python", "run_model_server.py"]\n',
        "requirements.txt": "redis==5.2.1\n",
        "app/__init__.py": "",
        "app/util.py": "import os\n",
        "server/run_model_server.py": "import redis\n",
    }
    (finding,) = findings(repo, files, ["DEP001"])
    assert finding.severity.name == "INFO"
    assert "the start command runs `run_model_server.py`, which the image does not hold" in finding.message
    files["Dockerfile"] = files["Dockerfile"].replace("run_model_server.py", "app/util.py")
    (finding,) = findings(repo, files, ["DEP001"])
    assert finding.severity.name == "WARNING"


def test_dbt_that_an_orchestrator_runs_and_its_adapter_are_used(repo):
    """An Airflow DAG builds a Cosmos DbtTaskGroup: Cosmos runs dbt, and dbt loads the
    adapter its profile names (dbt.adapters.bigquery). Without Cosmos, nothing runs dbt."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["airflow", "scheduler"]\n',
        "requirements.txt": "astronomer-cosmos==1.9.0\ndbt-core==1.9.1\ndbt-bigquery==1.9.0\n",
        "dags/transform.py": "from cosmos import DbtTaskGroup, ProjectConfig\n\nDbtTaskGroup(project_config=ProjectConfig('/dbt'))\n",
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["dags/transform.py"] = "print('no dbt here')\n"
    files["requirements.txt"] = "dbt-core==1.9.1\ndbt-bigquery==1.9.0\nrich==13.9.4\n"
    assert [f.message.split("`")[1] for f in findings(repo, files, ["DEP001"])] == ["dbt-core", "dbt-bigquery", "rich"]


def test_a_package_whose_own_requirements_are_unread_is_not_its_own_reason(repo):
    """A freeze pins python-json-logger 2.0.7, older than any release the index read, and the
    unknown acme-metrics: python-json-logger may be unused because acme-metrics may need it,
    never because of its own unread requirements."""
    assert not requirements_read("python-json-logger", "2.0.7") and "python-json-logger" in required_by_some()
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "serve.py"]\n',
        "requirements.txt": (
            "acme-metrics==1.0.3\npython-json-logger==2.0.7\nrequests==2.32.3\ncertifi==2024.12.14\n"
            "charset-normalizer==3.4.1\nidna==3.10\nurllib3==2.3.0\n"
        ),
        "serve.py": "import requests\n\nrequests.get('https://example.com')\n",
    }
    found = findings(repo, files, ["DEP001"])
    assert [(f.span.line, f.severity) for f in found] == [(2, Severity.INFO)]
    assert "but `acme-metrics`, whose requirements it does not know, may" in found[0].message


def test_a_release_before_1_0_older_than_any_read_is_unread():
    """Before 1.0 any release may change what a package requires: mediapipe 0.10.11
    required torch and jax, the 0.10 releases the index read do not. After 1.0 the oldest
    release read speaks for older ones of its major series."""
    from dockerlint.model.distributions import _index

    oldest = _index().record("mediapipe")["oldest_read"]
    assert oldest.startswith("0.10.") and oldest != "0.10.11"
    assert not requirements_read("mediapipe", "0.10.11") and requirements_read("mediapipe", oldest)
    oldest = _index().record("requests")["oldest_read"]
    major = int(oldest.split(".")[0])
    assert oldest != f"{major}.0.0" and requirements_read("requests", f"{major}.0.0")
    assert not requirements_read("requests", f"{major - 1}.0.0")


@pytest.mark.parametrize(
    ("written", "version"),
    [
        ("mediapipe-0.10.11-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "0.10.11"),
        ("./wheels/torch-2.1.0+cpu-cp311-cp311-linux_x86_64.whl", "2.1.0+cpu"),
        ("acme_tools-1.2-1-py3-none-any.whl", "1.2"),
        ("redis==4.3.4", "4.3.4"),
        ("torch", None),
        ("mediapipe>=0.10", None),
    ],
)
def test_the_release_a_requirement_or_a_wheel_file_pins(written, version):
    from dockerlint.model.installed_records import pinned_release

    assert pinned_release(written) == version


@pytest.mark.parametrize("mlflow", ["2.9.2", "2.19.0"])
def test_the_artifact_store_mlflow_loads_a_model_from_may_be_s3(repo, mlflow):
    """`mlflow.pyfunc.load_model("models:/...")` reads the model from the store the tracking
    server names; an s3:// store imports boto3. So does mlflow before it required
    mlflow-skinny (2.9) and after (2.19)."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "inference.py"]\n',
        "requirements.txt": f"mlflow=={mlflow}\nboto3==1.35.81\nrich==13.9.4\n",
        "inference.py": "import mlflow\n\nmodel = mlflow.pyfunc.load_model('models:/KShape/Staging')\n",
    }
    assert lines(findings(repo, files, ["DEP001"])) == [("DEP001", 3)]


def test_tf_keras_is_what_transformers_tensorflow_models_run_on(repo):
    """tensorflow 2.17 brings Keras 3; transformers' TensorFlow models import tf_keras and
    refuse Keras 3 without it: tf-keras beside them is used. konlpy requires JPype1."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "worker.py"]\n',
        "requirements.txt": "transformers==4.46.3\ntensorflow==2.17.1\ntf-keras==2.17.0\nkonlpy==0.6.0\njpype1==1.5.1\n",
        "worker.py": "from konlpy.tag import Okt\nfrom transformers import pipeline\n\n"
        "classify = pipeline('sentiment-analysis', framework='tf')\nprint(Okt())\n",
    }
    assert lines(findings(repo, files, ["DEP001"])) == []


def test_pytesseract_is_what_a_layoutlm_processor_reads_text_with(repo):
    """LayoutLMv3's feature extractor runs Tesseract OCR through pytesseract unless told
    not to (apply_ocr=True by default): pytesseract beside transformers is used."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "inference.py"]\n',
        "requirements.txt": "transformers==4.46.3\ntorch==2.5.1\npytesseract==0.3.13\n",
        "inference.py": "from transformers import LayoutLMv3FeatureExtractor\n\nextractor = LayoutLMv3FeatureExtractor()\n",
    }
    assert lines(findings(repo, files, ["DEP001"])) == []


def test_a_compatible_release_is_read_in_the_series_it_keeps_to(repo):
    """`SQLAlchemy~=2.0.31` stays in 2.0, whose releases require greenlet (2.1 made it an
    extra): greenlet is needed. `~=2.0` would allow 2.1 too, where nothing requires it."""
    files = {
        "Dockerfile": SLIM_REQUIREMENTS + 'CMD ["python", "app.py"]\n',
        "requirements.txt": "SQLAlchemy~=2.0.31\ngreenlet==3.0.3\n",
        "app.py": "import sqlalchemy\n\nengine = sqlalchemy.create_engine('sqlite://')\n",
    }
    assert lines(findings(repo, files, ["DEP001"])) == []
    files["requirements.txt"] = "SQLAlchemy~=2.0\ngreenlet==3.0.3\n"
    [finding] = findings(repo, files, ["DEP001"])
    assert (
        finding.span.line == 2
        and finding.severity == Severity.INFO
        and "other releases of `sqlalchemy`" in finding.message
    )
