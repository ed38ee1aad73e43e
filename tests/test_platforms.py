"""Start commands hosting platforms give an image's containers in place of its CMD
(model/platforms.py): what they run is used (DEP001)."""

import pytest

from tests.conftest import found, run_lint

DOCKERFILE = """
    FROM python:3.12-slim
    WORKDIR /app
    COPY requirements.txt .
    RUN pip install --no-cache-dir -r requirements.txt
    COPY app.py .
    CMD ["python", "app.py"]
"""
FILES = {
    "Dockerfile": DOCKERFILE,
    "requirements.txt": "flask==3.1.0\ngunicorn==23.0.0\n",
    "app.py": "from flask import Flask\n\napp = Flask(__name__)\n\nif __name__ == '__main__':\n    app.run()\n",
}

PLATFORMS = {
    "railway.json": '{"build": {"builder": "DOCKERFILE"}, "deploy": {"startCommand": "gunicorn app:app -b 0.0.0.0:8000"}}',
    "railway.toml": '[build]\nbuilder = "DOCKERFILE"\ndockerfilePath = "Dockerfile"\n\n[deploy]\nstartCommand = "gunicorn app:app"\n',
    "fly.toml": 'app = "acme-api"\n\n[processes]\n  web = "gunicorn app:app --bind 0.0.0.0:8080"\n',
    "render.yaml": "services:\n  - type: web\n    name: api\n    runtime: docker\n    dockerCommand: gunicorn app:app\n",
    "heroku.yml": "build:\n  docker:\n    web: Dockerfile\nrun:\n  web: gunicorn app:app --bind 0.0.0.0:$PORT\n",
}


def test_gunicorn_that_nothing_runs_is_unused(repo):
    assert found(run_lint(repo(FILES), select=["DEP001"])) == [("DEP001", "requirements.txt", 2)]


@pytest.mark.parametrize("name", sorted(PLATFORMS))
def test_the_platforms_start_command_runs_in_the_image(repo, name):
    assert found(run_lint(repo({**FILES, name: PLATFORMS[name]}), select=["DEP001"])) == []


def test_a_platform_file_for_another_dockerfile_runs_nothing_in_this_one(repo):
    """railway.json builds worker.Dockerfile: its start command is not this image's."""
    railway = (
        '{"build": {"builder": "DOCKERFILE", "dockerfilePath": "worker.Dockerfile"}, '
        '"deploy": {"startCommand": "gunicorn app:app"}}'
    )
    worker = DOCKERFILE.replace("requirements.txt", "requirements-worker.txt")
    files = {**FILES, "worker.Dockerfile": worker, "requirements-worker.txt": FILES["requirements.txt"]}
    files["railway.json"] = railway
    assert found(run_lint(repo(files), select=["DEP001"])) == [("DEP001", "requirements.txt", 2)]


@pytest.mark.parametrize("text", ["{not json", '{"deploy": {"startCommand": ["gunicorn"]}}', '{"deploy": 3}'])
def test_a_broken_platform_file_is_read_as_none(repo, text):
    assert found(run_lint(repo({**FILES, "railway.json": text}), select=["DEP001"])) == [
        ("DEP001", "requirements.txt", 2)
    ]
