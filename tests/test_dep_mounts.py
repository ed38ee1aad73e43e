"""Code that compose binds into the container at run time (``.:/django``): the DEP rules
judge the packages by the files the container runs, not by what the image copied."""

from __future__ import annotations

from dockerlint.model.code import CodeFile
from tests.conftest import found, run_lint

DEP = ["DEP001", "DEP002", "DEP003", "DEP004"]

# A Django service whose image holds only its dependencies: compose mounts the code.
DJANGO_MOUNTED = {
    ".git/HEAD": "ref: refs/heads/main\n",
    "Dockerfile": """
        FROM python:3.11-slim
        ENV PYTHONUNBUFFERED=1
        WORKDIR /django
        COPY requirements.txt requirements.txt
        RUN pip install --no-cache-dir -r requirements.txt
        CMD ["gunicorn", "site_app.wsgi", "--bind", "0.0.0.0:8000"]
    """,
    "requirements.txt": """
        Django==4.2.16
        gunicorn==23.0.0
        django-debug-toolbar==4.4.6
        requests==2.32.3
        markdown==3.7
        pytest==8.3.3
    """,
    "docker-compose.yml": """
        services:
          app:
            build: .
            volumes:
              - .:/django
              - static:/django/static
            ports:
              - "8000:8000"
        volumes:
          static:
    """,
    "manage.py": "import os\nimport sys\nfrom django.core.management import execute_from_command_line\n",
    "site_app/__init__.py": "",
    "site_app/wsgi.py": "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
    "site_app/settings.py": """
        INSTALLED_APPS = ["django.contrib.admin", "django.contrib.staticfiles", "debug_toolbar", "shop"]
        MIDDLEWARE = ["debug_toolbar.middleware.DebugToolbarMiddleware"]
        ROOT_URLCONF = "site_app.urls"
    """,
    "site_app/urls.py": """
        from django.urls import include, path
        urlpatterns = [path("__debug__/", include("debug_toolbar.urls"))]
    """,
    "shop/__init__.py": "",
    "shop/views.py": "import requests\n\ndef prices(request):\n    return requests.get('https://example.com').json()\n",
    "shop/tests.py": "import pytest\n\ndef test_prices():\n    assert True\n",
}


def lint(root):
    return found(run_lint(root, select=DEP))


def test_the_mounted_code_is_what_the_container_runs(repo):
    findings = lint(repo(DJANGO_MOUNTED))
    # debug_toolbar is named by the settings the container loads; pytest only by tests;
    # nothing imports markdown; requests is imported by a view.
    assert findings == [("DEP001", "requirements.txt", 5), ("DEP003", "requirements.txt", 6)]


def test_without_the_mount_the_image_holds_no_code_to_judge_by(repo):
    files = dict(DJANGO_MOUNTED)
    files["docker-compose.yml"] = "services:\n  app:\n    build: .\n"
    findings = lint(repo(files))
    assert ("DEP001", "requirements.txt", 5) not in findings  # no code: nothing is judged unused
    assert ("DEP003", "requirements.txt", 3) in findings  # nothing in the image names the toolbar


def test_named_volumes_and_folders_outside_the_repository_are_not_read(tmp_path):
    from tests.conftest import write_tree

    write_tree(tmp_path / "shared", {"app.py": "import markdown\n"})  # beside the repository, not in it
    files = dict(DJANGO_MOUNTED)
    files["docker-compose.yml"] = """
        services:
          app:
            build: .
            volumes:
              - ../shared:/django
              - code:/django/shop
        volumes:
          code:
    """
    findings = lint(write_tree(tmp_path / "repo", files))
    assert ("DEP001", "requirements.txt", 5) not in findings
    assert ("DEP003", "requirements.txt", 3) in findings


def test_the_mount_hides_what_the_image_put_at_that_path(repo):
    files = dict(DJANGO_MOUNTED)
    files["Dockerfile"] = DJANGO_MOUNTED["Dockerfile"].replace(
        "CMD", "COPY site_app/ /django/site_app/\n        COPY legacy/ /django/shop/\n        CMD"
    )
    files["legacy/views.py"] = "import markdown\n"  # the image's /django/shop/views.py
    files["docker-compose.yml"] = "services:\n  app:\n    build: .\n    volumes:\n      - ./shop:/django/shop\n"
    findings = lint(repo(files))
    assert ("DEP001", "requirements.txt", 5) in findings  # the container runs ./shop, never legacy/views.py
    assert ("DEP001", "requirements.txt", 4) not in findings  # ./shop/views.py imports requests


def test_a_developers_virtualenv_in_the_mounted_folder_is_not_the_service(repo):
    files = dict(DJANGO_MOUNTED)
    files["env/pyvenv.cfg"] = "home = /usr/bin\n"
    files["env/lib/python3.11/site-packages/markdown/__init__.py"] = "import markdown.core\n"
    files["node_modules/tool/build.py"] = "import markdown\n"
    findings = lint(repo(files))
    assert ("DEP001", "requirements.txt", 5) in findings


def test_django_test_modules_count_as_tests():
    assert CodeFile("/app/shop/tests.py", "shop/tests.py").is_test
    assert CodeFile("/app/shop/test.py", "shop/test.py").is_test
    assert not CodeFile("/app/shop/testing.py", "shop/testing.py").is_test


def test_an_import_of_the_mounted_code_that_nothing_installs(repo):
    files = dict(DJANGO_MOUNTED)
    files["shop/feeds.py"] = "import feedparser\n"
    findings = lint(repo(files))
    assert ("DEP002", "feeds.py", 1) in findings


def test_code_under_a_volume_dockerlint_cannot_read_keeps_dep002_quiet(repo):
    files = dict(DJANGO_MOUNTED)
    files["Dockerfile"] = DJANGO_MOUNTED["Dockerfile"].replace("CMD", "COPY shop/ /django/shop/\n        CMD")
    files["shop/feeds.py"] = "import feedparser\n"
    files["docker-compose.yml"] = (
        "services:\n  app:\n    build: .\n    volumes:\n      - code:/django/shop\nvolumes:\n  code:\n"
    )
    findings = lint(repo(files))
    assert not [finding for finding in findings if finding[0] == "DEP002"]


def test_a_requirements_line_two_images_share_is_one_finding(repo):
    """Unused in both images, at a cost that differs between them (the second image uses
    SQLAlchemy, which alembic would otherwise bring alone): said once."""
    files = {
        "compose.yaml": """
            services:
              api:
                build: {context: ., dockerfile: api/Dockerfile}
              jobs:
                build: {context: ., dockerfile: jobs/Dockerfile}
        """,
        "requirements.txt": "flask==3.0.3\nalembic==1.14.0\n",
        "api/Dockerfile": """
            FROM python:3.12-slim
            WORKDIR /app
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY api/app.py .
            CMD ["python", "app.py"]
        """,
        "api/app.py": "import flask\n",
        "jobs/Dockerfile": """
            FROM python:3.12-slim
            WORKDIR /app
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt sqlalchemy==2.0.36
            COPY jobs/run.py .
            CMD ["python", "run.py"]
        """,
        "jobs/run.py": "import flask\nimport sqlalchemy\n",
    }
    result = run_lint(repo(files), select=["DEP001"])
    unused = [f for f in result.findings if f.path.name == "requirements.txt"]
    assert [(f.code, f.span.line) for f in unused] == [("DEP001", 2)]
    assert unused[0].message.startswith("`alembic`")
