"""How images are really built: build commands in CI workflows, Makefiles, scripts and
package.json, bake and skaffold files, moves of a Dockerfile before a build, the order
in which sources win, and what must never become a fact."""

from __future__ import annotations

import json

import pytest

from dockerlint.parse.buildcmd import RunCommand, build_command, file_move, run_command
from dockerlint.parse.shellflow import commands
from tests.conftest import found, run_lint, write_tree

# A service whose Dockerfile lives in docker/ and is built from the repository root.
DOCKER_FOLDER_SERVICE = {
    "docker/Dockerfile": """
        FROM python:3.12-slim AS runtime
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY app/ app/
        COPY docker/entrypoint.sh /entrypoint.sh
        ENTRYPOINT ["/entrypoint.sh"]
        FROM runtime AS test
        RUN pip install --no-cache-dir pytest==8.3.4
    """,
    "docker/entrypoint.sh": "#!/bin/sh\nexec uvicorn app.main:app\n",
    "requirements.txt": "fastapi==0.115.6\n",
    "app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
    ".dockerignore": ".git\n.venv\n",
}


def images_of(root, **config):
    result = run_lint(root, select=["CTX001", "CTX003"], **config)
    return {image.dockerfile_path.relative_to(root).as_posix(): image for image in result.images}, result


def where(image, root):
    context = image.context_root.relative_to(root.resolve()).as_posix()
    origin = image.origin
    path = origin.path.relative_to(root.resolve()).as_posix() if origin.path else None
    return context, origin.kind, path, origin.line


# -- reading one command line ------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, context, dockerfile, target, args, platforms",
    [
        ("docker build -t api:1 -f docker/Dockerfile .", "/r", "/r/docker/Dockerfile", None, (), ()),
        ("docker build --file=docker/Dockerfile --target=runtime ..", "/", "/r/docker/Dockerfile", "runtime", (), ()),
        ("docker build -fdocker/Dockerfile -qt api .", "/r", "/r/docker/Dockerfile", None, (), ()),
        ("sudo -E docker build api", "/r/api", "/r/api/Dockerfile", None, (), ()),
        (
            "docker buildx build --platform linux/amd64,linux/arm64 --push -t x svc",
            "/r/svc",
            "/r/svc/Dockerfile",
            None,
            (),
            ("linux/amd64", "linux/arm64"),
        ),
        (
            "docker --context ci buildx --builder b build --build-arg PY=3.12 --build-arg TOKEN .",
            "/r",
            "/r/Dockerfile",
            None,
            (("PY", "3.12"),),
            (),
        ),
        ("docker image build --unknown-option=value .", "/r", "/r/Dockerfile", None, (), ()),
        ("podman build -f deploy/Containerfile", "/r/deploy", "/r/deploy/Containerfile", None, (), ()),
    ],
)
def test_build_commands(argv, context, dockerfile, target, args, platforms):
    command = build_command(argv.split(), "/r")
    assert command is not None
    assert command.context == context and command.dockerfiles[0] == dockerfile
    assert (command.target, command.args, command.platforms) == (target, args, platforms)


def test_podman_without_arguments_builds_the_working_directory():
    command = build_command(["podman", "build", "-t", "x"], "/r")
    assert command.context == "/r" and command.dockerfiles == ("/r/Containerfile", "/r/Dockerfile")


@pytest.mark.parametrize(
    "argv",
    [
        ["docker", "build", None, "."],  # $FLAGS: could be -f anything
        ["docker", "build", "-t", "x"],  # no context: not a valid build
        ["docker", "build", "--mystery", "value", "."],  # value or context? unknown
        ["docker", "compose", "build"],
        ["docker", "run", "-v", ".:/app", "img"],
        ["env", "-C", "sub", "docker", "build", "."],  # another directory
    ],
)
def test_commands_that_give_no_build(argv):
    assert build_command(argv, "/r") is None


def test_unknown_values_are_left_out_not_guessed():
    command = build_command(["docker", "build", "-f", None, "--target", None, "--build-arg", None, "."], "/r")
    assert command.dockerfiles == () and command.target is None and command.args == ()
    assert build_command(["docker", "build", "git@github.com:o/r.git"], "/r").context is None
    assert build_command(["docker", "build", "."], None).context is None  # directory unknown


def test_file_moves():
    move = file_move(["mv", "./docker/api.Dockerfile", "./api/"], "/r")
    assert (move.source, move.destination, move.into_folder) == ("/r/docker/api.Dockerfile", "/r/api", True)
    assert file_move(["cp", "-f", "Dockerfile.prod", "Dockerfile"], "/r").destination == "/r/Dockerfile"
    assert file_move(["mv", "a", "b", "c/"], "/r") is None
    assert file_move(["mv", None, "b"], "/r") is None


# -- following a script ---------------------------------------------------------------------------


def ran(script, cwd="/r", **kwargs):
    return [(run.argv, run.cwd) for run in commands(script, cwd=cwd, **kwargs) if run.argv[:2] == ("docker", "build")]


def test_script_directory_variables_functions_and_loops():
    script = """
set -euo pipefail
DOCKERFILE=docker/Dockerfile
build() {
    docker build -t "$1" -f "$2" $3 .
}
build api:1 "$DOCKERFILE" "--build-arg PY=3.12"
cd services && docker build -f "$GITHUB_WORKSPACE/x/Dockerfile" .
(cd api; docker build .)
for service in api worker; do docker build "$service"; done
docker build -f ${DOCKERFILE:-Dockerfile} .
"""
    assert ran(script, variables={"GITHUB_WORKSPACE": "/r"}) == [
        (("docker", "build", "-t", "api:1", "-f", "docker/Dockerfile", "--build-arg", "PY=3.12", "."), "/r"),
        (("docker", "build", "-f", "/r/x/Dockerfile", "."), "/r/services"),
        (("docker", "build", "."), "/r/services/api"),
        (("docker", "build", "api"), "/r/services"),
        (("docker", "build", "worker"), "/r/services"),
        (("docker", "build", "-f", "docker/Dockerfile", "."), "/r/services"),
    ]


def test_what_only_some_paths_through_the_script_do_is_unknown():
    script = """
if [ -n "$CI" ]; then cd deploy; fi
docker build .
TAG=1
source ./env.sh
docker build -f "docker/$TAG/Dockerfile" .
"""
    assert ran(script) == [
        (("docker", "build", "."), None),
        (("docker", "build", "-f", None, "."), None),
    ]


def test_the_script_folder_idiom_and_unset_variables():
    script = 'cd "$(dirname "$0")/.."\ndocker build -f "$DOCKERFILE" .\nROOT=$(git rev-parse --show-toplevel)\ndocker build "$ROOT"\n'
    assert ran(script, cwd=None, script_path="/r/scripts/build.sh", repository="/r") == [
        (("docker", "build", "-f", None, "."), "/r"),
        (("docker", "build", "/r"), "/r"),
    ]


def test_the_script_folder_found_in_two_steps():
    """`path=`realpath $0``, then `path=$(dirname "$path")`: each step of a variable whose
    value is known; `readlink -f` of a relative path starts from the folder the script is
    in. A variable with no known value gives no folder."""
    script = (
        'path=`realpath $0`\npath=$(dirname "$path")\ndocker build -f $path/api.Dockerfile $path\n'
        "here=$(readlink -f build)\ndocker build $here\ndocker build $(dirname $UNSET)\n"
    )
    assert ran(script, cwd="/r/deploy", script_path="/r/deploy/build.sh", repository="/r") == [
        (("docker", "build", "-f", "/r/deploy/api.Dockerfile", "/r/deploy"), "/r/deploy"),
        (("docker", "build", "/r/deploy/build"), "/r/deploy"),
        (("docker", "build", None), "/r/deploy"),
    ]


# -- each kind of build file, on a small repository ------------------------------------------------


def test_github_workflow_run_step_builds_from_the_root(repo):
    root = repo(
        {
            **DOCKER_FOLDER_SERVICE,
            ".github/workflows/ci.yml": """
                name: ci
                on: push
                jobs:
                  image:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                      - name: Build
                        run: |
                          echo building
                          docker build -t api:${{ github.sha }} -f docker/Dockerfile --target runtime .
            """,
        }
    )
    images, result = images_of(root)
    assert where(images["docker/Dockerfile"], root) == (".", "command", ".github/workflows/ci.yml", 11)
    assert images["docker/Dockerfile"].target == "runtime"
    assert found(result) == []  # docker/entrypoint.sh is in the root context


def test_without_the_workflow_the_same_repository_is_a_guess_and_stays_quiet(repo):
    root = repo(DOCKER_FOLDER_SERVICE)
    images, result = images_of(root)
    image = images["docker/Dockerfile"]
    assert image.origin.kind == "guess" and image.context_root == root.resolve()
    assert found(result) == []


def test_build_push_action_inputs(repo):
    root = repo(
        {
            **DOCKER_FOLDER_SERVICE,
            ".github/workflows/release.yaml": """
                on: {push: {tags: ["v*"]}}
                env:
                  PY: "3.12"
                jobs:
                  release:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: docker/setup-buildx-action@v3
                      - uses: docker/build-push-action@v6
                        with:
                          context: .
                          file: ./docker/Dockerfile
                          target: runtime
                          platforms: linux/amd64,linux/arm64
                          build-args: |
                            PYTHON=${{ env.PY }}
                            VERSION=${{ github.ref_name }}
                          tags: ghcr.io/acme/api:${{ github.ref_name }}
            """,
        }
    )
    image = images_of(root)[0]["docker/Dockerfile"]
    assert where(image, root)[:3] == (".", "command", ".github/workflows/release.yaml")
    assert image.target == "runtime" and image.build_args == {"PYTHON": "3.12"}
    assert image.platforms == ("linux/amd64", "linux/arm64")


def test_a_target_ci_builds_and_compose_does_not_is_an_image_too(repo):
    """compose builds the `development` target; the release workflow builds `production`,
    whose CMD runs gunicorn: that image is linted too, so gunicorn is not unused, and the
    context both build from is named once, by both files. A CI build of the target compose
    builds already adds nothing."""
    dockerfile = (
        "FROM python:3.11-slim AS builder\nWORKDIR /app\nCOPY . /app\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n\n"
        "FROM builder AS development\nEXPOSE 4444\n\n"
        'FROM builder AS production\nCMD ["gunicorn", "app.main:app", "--bind", "0.0.0.0:80"]\n'
    )
    compose = (
        "services:\n  app:\n    build:\n      context: .\n      target: development\n"
        '    command: ["uvicorn", "app.main:app", "--host", "0.0.0.0"]\n'
    )
    workflow = (
        "on: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: docker/build-push-action@v6\n        with:\n          target: production\n"
        "          tags: acme/plants:latest\n"
    )
    files = {
        "Dockerfile": dockerfile,
        "docker-compose.yml": compose,
        "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\ngunicorn==23.0.0\n",
        "app/__init__.py": "",
        "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    }
    assert found(run_lint(repo(files), select=["DEP001"])) == [("DEP001", "requirements.txt", 3)]
    files[".github/workflows/release.yml"] = workflow
    result = run_lint(repo(files), select=["DEP001", "CTX001"])
    assert found(result) == [("CTX001", "Dockerfile", 3)]
    assert "as docker-compose.yml and release.yml build it" in result.findings[0].message
    files[".github/workflows/release.yml"] = workflow.replace("target: production", "target: development")
    result = run_lint(repo(files), select=["DEP001", "CTX001"])
    assert found(result) == [("CTX001", "Dockerfile", 3), ("DEP001", "requirements.txt", 3)]


def test_working_directory_and_a_default_git_context(repo):
    root = repo(
        {
            "services/api/Dockerfile": "FROM python:3.12-slim\nCOPY . /app\n",
            "services/api/.dockerignore": ".git\n",
            "Dockerfile": "FROM python:3.12-slim\nCOPY services/ /srv/\n",
            ".github/workflows/ci.yml": """
                jobs:
                  api:
                    runs-on: ubuntu-latest
                    defaults:
                      run:
                        working-directory: services
                    steps:
                      - run: cd api && docker build -t api .
                      - uses: docker/build-push-action@v5
            """,
        }
    )
    images = images_of(root)[0]
    assert where(images["services/api/Dockerfile"], root)[:2] == ("services/api", "command")
    assert where(images["Dockerfile"], root)[:3] == (".", "command", ".github/workflows/ci.yml")


def test_gitlab_jobs_with_variables_and_extends(repo):
    root = repo(
        {
            "services/worker/Dockerfile": "FROM python:3.12-slim\nCOPY services/worker/ /app/\nCOPY libs/ /libs/\n",
            "services/worker/main.py": "print(1)\n",
            "libs/common.py": "",
            ".gitlab-ci.yml": """
                variables:
                  DOCKERFILE: services/worker/Dockerfile
                .docker:
                  image: docker:27
                  before_script:
                    - cd $CI_PROJECT_DIR
                build-worker:
                  extends: .docker
                  script:
                    - docker build -f $DOCKERFILE -t $CI_REGISTRY_IMAGE/worker:$CI_COMMIT_SHA .
            """,
        }
    )
    image = images_of(root)[0]["services/worker/Dockerfile"]
    assert where(image, root) == (".", "command", ".gitlab-ci.yml", 10)


@pytest.mark.parametrize("needs", ["build", "[build]", None])
def test_a_github_job_that_runs_in_the_image_another_job_builds(repo, needs):
    """The test job runs in `container: ghcr.io/${{ github.repository }}:...` and needs the
    job that builds the Dockerfile: its `run:` lines run in that image (uv run pytest -n 8)."""
    needs_line = f"    needs: {needs}\n" if needs else ""
    workflow = (
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - uses: docker/build-push-action@v6\n        with:\n          context: .\n          push: true\n"
        "          tags: ghcr.io/${{ github.repository }}:latest\n"
        "  test:\n    runs-on: ubuntu-latest\n" + needs_line + "    container:\n"
        "      image: ghcr.io/${{ github.repository }}:latest\n    steps:\n"
        "      - run: uv run pytest -v -n 8\n        working-directory: /app\n"
    )
    root = repo(
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY requirements.txt .\n"
            'RUN pip install --no-cache-dir -r requirements.txt\nCOPY app/ app/\nCMD ["uvicorn", "app.main:app"]\n',
            "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\npytest==8.3.4\n",
            "app/__init__.py": "",
            "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
            ".github/workflows/ci.yml": workflow,
        }
    )
    result = run_lint(root, select=["DEP003"])
    (image,) = result.images
    if needs:
        assert image.run_by_repository == (("uv", "run", "pytest", "-v", "-n", "8"),)
        assert found(result, "DEP003") == []
    else:
        assert image.run_by_repository == ()
        assert found(result, "DEP003") == [("DEP003", "requirements.txt", 3)]


def test_circleci_run_steps_build_and_run_the_image(repo):
    root = repo(
        {
            **DOCKER_FOLDER_SERVICE,
            ".circleci/config.yml": """
                version: 2.1
                jobs:
                  build:
                    docker:
                      - image: cimg/python:3.12
                    steps:
                      - checkout
                      - setup_remote_docker
                      - run: docker build -t acme/api -f docker/Dockerfile --target runtime .
                      - run:
                          name: unit tests
                          command: docker run --rm -e CI=1 acme/api pytest -q --cov=app
            """,
        }
    )
    image = images_of(root)[0]["docker/Dockerfile"]
    assert where(image, root) == (".", "command", ".circleci/config.yml", 9)
    assert image.run_by_repository == (("pytest", "-q", "--cov=app"),)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ("docker", "run", "--rm", "-v", "out:/out", "-e", "A=1", "app:latest", "pytest"),
            ("image", "app:latest", ("pytest",)),
        ),
        (("docker", "container", "run", "--name=t", "app"), ("image", "app", ())),
        (("podman", "run", "-it", "app", "python", "-m", "app.check"), ("image", "app", ("python", "-m", "app.check"))),
        (
            ("docker", "compose", "-f", "ci.yml", "run", "--rm", "-e", "X=1", "web", "python", "manage.py", "test"),
            ("service", "web", ("python", "manage.py", "test")),
        ),
        (("docker-compose", "exec", "-T", "web", "pytest"), ("service", "web", ("pytest",))),
        (("docker", "compose", "up", "-d"), None),
        (("docker", "build", "-t", "app", "."), None),
        (("docker", "run", "--rm"), None),
    ],
)
def test_commands_run_in_a_container(argv, expected):
    assert run_command(argv) == (RunCommand(*expected) if expected else None)


def test_the_tests_ci_runs_in_the_image_use_its_test_tools(repo):
    files = {
        "Dockerfile": """
            FROM python:3.12-slim
            WORKDIR /app
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY . .
            CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]
        """,
        "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\npytest==8.3.4\npytest-cov==6.0.0\n",
        "app/__init__.py": "",
        "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
        "tests/test_main.py": "from app.main import app\n",
        ".github/workflows/ci.yml": """
            on: push
            jobs:
              test:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - run: docker build -t acme/api .
                  - run: docker run --rm acme/api:latest pytest --cov=app tests/
        """,
    }
    assert found(run_lint(repo(files), select=["DEP003"])) == []
    # the same image with CI running the tests on the runner, not in it
    files[".github/workflows/ci.yml"] = files[".github/workflows/ci.yml"].replace(
        "docker run --rm acme/api:latest pytest --cov=app tests/", "pip install -r requirements.txt && pytest"
    )
    assert found(run_lint(repo(files), select=["DEP003"])) == [
        ("DEP003", "requirements.txt", 3),
        ("DEP003", "requirements.txt", 4),
    ]


def test_the_tests_compose_runs_in_a_service_use_its_test_tools(repo):
    files = {
        "Dockerfile": "FROM python:3.12-slim\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
        'COPY . /app\nWORKDIR /app\nCMD ["python", "manage.py", "runserver", "0.0.0.0:8000"]\n',
        "requirements.txt": "django==5.1.4\npytest-django==4.9.0\n",
        "manage.py": "import django\n",
        "docker-compose.yml": "services:\n  web:\n    build: .\n",
        "Makefile": "test:\n\tdocker compose run --rm web pytest\n",
    }
    assert found(run_lint(repo(files), select=["DEP003"])) == []


def test_makefile_variables_and_targets(repo):
    root = repo(
        {
            **DOCKER_FOLDER_SERVICE,
            "Makefile": """
                IMAGE ?= registry.example.com/api
                DOCKERFILE := docker/Dockerfile
                STAGE = test

                .PHONY: image
                image:
                \t@docker build -t $(IMAGE):$(shell git rev-parse --short HEAD) \\
                \t\t-f $(DOCKERFILE) --target $(STAGE) \\
                \t\t--build-arg PIP_INDEX_URL=$$PIP_INDEX_URL .
            """,
        }
    )
    image = images_of(root)[0]["docker/Dockerfile"]
    assert where(image, root) == (".", "command", "Makefile", 7)
    assert image.target == "test" and image.build_args == {}


def test_a_script_that_may_run_from_the_root_or_its_own_folder(repo):
    root = repo(
        {
            **DOCKER_FOLDER_SERVICE,
            "script/release": """
                #!/usr/bin/env bash
                set -e
                build_and_push() {
                    docker build -t $1 -f $2 $3 .
                    docker push $1
                }
                build_and_push acme/api:cpu docker/Dockerfile "--build-arg BASE=cpu"
                build_and_push acme/api:gpu docker/Dockerfile "--build-arg BASE=gpu"
            """,
        }
    )
    images = images_of(root)[1].images
    assert [where(image, root) for image in images] == [(".", "command", "script/release", 4)] * 2
    # the two builds disagree on BASE: an image for each value
    assert sorted(image.build_args.get("BASE") for image in images) == ["cpu", "gpu"]


# A Django backend whose Dockerfile sits in docker/ and is built with backend/ as its context.
SPLIT_BACKEND = {
    "docker/backend.Dockerfile": """
        FROM python:3.12-slim
        WORKDIR /app
        COPY pyproject.toml uv.lock ./
        RUN pip install --no-cache-dir uv==0.5.11 && uv sync --frozen --no-dev
        COPY . .
        CMD ["uv", "run", "manage.py", "runserver", "0.0.0.0:8000"]
    """,
    "backend/pyproject.toml": '[project]\nname = "shop"\nversion = "0.1.0"\ndependencies = ["django==5.1.4"]\n',
    "backend/uv.lock": "version = 1\n",
    "backend/manage.py": "import django\n",
    "backend/.dockerignore": ".venv\n.env\n",
}


@pytest.mark.parametrize(
    ("name", "script", "line"),
    [
        (
            "docker/scripts/build-backend.bat",
            '@echo off\r\nREM Build the backend image\r\ncd "../"\r\n'
            "start cmd /k docker build --file backend.Dockerfile --tag shop/backend:latest ^\r\n"
            "  .\\..\\backend\r\n",
            4,
        ),
        (
            "docker/scripts/build-backend.ps1",
            "# Build the backend image\nSet-Location (Join-Path $PSScriptRoot '..')\n"
            "docker build `\n  --file $PSScriptRoot\\..\\backend.Dockerfile `\n  --tag shop/backend:latest $PSScriptRoot\\..\\..\\backend\n",
            3,
        ),
    ],
)
def test_a_windows_script_says_the_context(repo, name, script, line):
    """A batch or PowerShell script builds the image the way a shell script would, in its
    own syntax: its context (backend/) is the one the Dockerfile's COPY lines read."""
    root = repo({**SPLIT_BACKEND, name: script})
    images, result = images_of(root)
    assert where(images["docker/backend.Dockerfile"], root) == ("backend", "command", name, line)
    assert found(result, "CTX003") == [] and found(result, "CTX001") == []


def test_a_whole_context_copy_from_a_folder_of_dockerfiles_means_the_project_above(repo):
    """docker/worker.Dockerfile copies `.` and runs `pip install -e .` and `python -m
    app.worker`: docker/ holds only Dockerfiles and a compose file, the root holds the
    project and its .dockerignore. A folder that holds a project of its own stays the guess."""
    files = {
        "docker/worker.Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
        'RUN pip install --no-cache-dir -e .\nCMD ["python", "-m", "app.worker"]\n',
        "docker/api.Dockerfile": "FROM python:3.12-slim\n",
        "docker/mysql/init.sql": "CREATE DATABASE app;\n",
        "pyproject.toml": "[project]\nname = 'app'\nversion = '1.0'\ndependencies = ['aiokafka==0.12.0']\n",
        "app/__init__.py": "",
        "app/worker.py": "import aiokafka\n",
        ".dockerignore": ".git\n.venv\n.env\n",
    }
    root = repo(files)
    images, result = images_of(root)
    image = images["docker/worker.Dockerfile"]
    assert image.context_root == root and image.origin.kind == "guess"
    assert found(result, "CTX001") == []
    files["docker/worker.py"] = "print('the worker of this folder')\n"
    images, _ = images_of(repo(files))
    assert images["docker/worker.Dockerfile"].context_root.name == "docker"


def test_without_a_script_the_folder_beside_that_holds_every_copy_source_is_the_guess(repo):
    """No file says how docker/backend.Dockerfile is built, and neither docker/ nor the
    root holds what it copies: backend/, beside docker/, holds all of it."""
    root = repo(SPLIT_BACKEND)
    images, result = images_of(root)
    image = images["docker/backend.Dockerfile"]
    assert where(image, root) == ("backend", "guess", None, None)
    assert image.origin.detail == "the folder that holds its COPY sources"
    assert found(result, "CTX003") == [] and found(result, "CTX001") == []
    # Two folders that could be it: no guess between them, and the Dockerfile's folder stays.
    twice = {
        **SPLIT_BACKEND,
        **{"shop/" + key[len("backend/") :]: text for key, text in SPLIT_BACKEND.items() if key.startswith("backend/")},
    }
    images, result = images_of(repo(twice))
    assert images["docker/backend.Dockerfile"].context_root.name == "docker"
    assert [code for code, _, _ in found(result, "CTX003")] == ["CTX003", "CTX003"]


def test_a_dockerfile_at_the_root_copies_from_the_root(repo):
    """At the root there is no folder of its own to leave: a requirements file that only
    app/ holds is missing from the context the root's `docker build .` sends."""
    files = {
        "Dockerfile": "FROM python:3.12-slim\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n",
        "app/requirements.txt": "flask==3.0.3\n",
    }
    root = repo(files)
    images, result = images_of(root)
    assert images["Dockerfile"].context_root == root.resolve()
    assert found(result, "CTX003") == [("CTX003", "Dockerfile", 2)]


def test_package_json_scripts(repo):
    root = repo(
        {
            "web/Dockerfile": "FROM node:20-slim\nCOPY web/ /app/\nCOPY shared/ /shared/\n",
            "shared/index.js": "",
            "web/package.json": json.dumps(
                {"name": "web", "scripts": {"test": "jest", "docker:build": "docker build -f Dockerfile .."}}, indent=2
            ),
        }
    )
    image = images_of(root)[0]["web/Dockerfile"]
    assert where(image, root) == (".", "command", "web/package.json", 5)


def test_bake_hcl_with_variables_and_inherits(repo):
    root = repo(
        {
            **DOCKER_FOLDER_SERVICE,
            "docker-bake.hcl": """
                variable "PY" {
                  default = "3.12"
                }
                variable "TAG" { default = "latest" }
                // shared settings
                target "_common" {
                  args = {
                    PYTHON = "${PY}"
                    BUILT_AT = timestamp()
                  }
                  platforms = ["linux/amd64"]
                }
                target "api" {
                  inherits   = ["_common"]
                  context    = "."
                  dockerfile = "docker/Dockerfile"
                  target     = "runtime"
                  tags       = ["acme/api:${TAG}", upper("x")]
                }
                group "default" { targets = ["api"] }
            """,
        }
    )
    image = images_of(root)[0]["docker/Dockerfile"]
    assert where(image, root) == (".", "bake", "docker-bake.hcl", 13)
    assert image.target == "runtime" and image.build_args == {"PYTHON": "3.12"}
    assert image.platforms == ("linux/amd64",)


def test_bake_json_and_an_override_file(repo):
    root = repo(
        {
            "deploy/api/Dockerfile": "FROM python:3.12-slim\nCOPY . /app\n",
            "deploy/api/.dockerignore": ".git\n",
            "deploy/docker-bake.json": json.dumps({"target": {"api": {"context": "api", "target": "base"}}}),
            "deploy/docker-bake.override.hcl": 'target "api" {\n  target = "final"\n}\n',
        }
    )
    image = images_of(root)[0]["deploy/api/Dockerfile"]
    assert where(image, root)[:2] == ("deploy/api", "bake") and image.target == "final"


def test_skaffold_artifacts(repo):
    root = repo(
        {
            "k8s/skaffold.yaml": """
                apiVersion: skaffold/v4beta11
                kind: Config
                build:
                  artifacts:
                    - image: acme/api
                      context: ..
                      docker:
                        dockerfile: docker/Dockerfile
                        target: runtime
                        buildArgs:
                          PY: "3.12"
                          SHA: "{{.GIT_COMMIT}}"
                    - image: acme/jib
                      jib: {}
            """,
            **DOCKER_FOLDER_SERVICE,
        }
    )
    image = images_of(root)[0]["docker/Dockerfile"]
    assert where(image, root) == (".", "skaffold", "k8s/skaffold.yaml", 5)
    assert image.target == "runtime" and image.build_args == {"PY": "3.12"}


def test_jenkinsfile_sh_steps_inside_dir_blocks(repo):
    root = repo(
        {
            "services/api/Dockerfile": "FROM python:3.12-slim\nCOPY services/api/ /app/\n",
            "Jenkinsfile": """
                pipeline {
                  agent any
                  environment { DOCKERFILE = 'services/api/Dockerfile' }
                  stages {
                    stage('build') {
                      steps {
                        dir('services') {
                          sh 'echo in services'
                        }
                        sh "docker build -t api:${env.BUILD_NUMBER} -f \\$DOCKERFILE ."
                      }
                    }
                  }
                }
            """,
        }
    )
    image = images_of(root)[0]["services/api/Dockerfile"]
    assert where(image, root) == (".", "command", "Jenkinsfile", 10)


def test_azure_pipelines_docker_task_and_script(repo):
    root = repo(
        {
            **DOCKER_FOLDER_SERVICE,
            "worker/Dockerfile": "FROM python:3.12-slim\nCOPY . /app\n",
            "worker/.dockerignore": ".git\n",
            "azure-pipelines.yml": """
                trigger: [main]
                variables:
                  dockerfile: docker/Dockerfile
                steps:
                  - task: Docker@2
                    inputs:
                      command: build
                      Dockerfile: $(dockerfile)
                      buildContext: $(Build.SourcesDirectory)
                      arguments: --target runtime
                  - script: docker build -t worker worker
                    workingDirectory: $(System.DefaultWorkingDirectory)
            """,
        }
    )
    images = images_of(root)[0]
    assert (
        where(images["docker/Dockerfile"], root)[:2] == (".", "command")
        and images["docker/Dockerfile"].target == "runtime"
    )
    assert where(images["worker/Dockerfile"], root) == ("worker", "command", "azure-pipelines.yml", 11)


def test_compose_is_named_as_the_source(repo):
    root = repo(
        {
            **DOCKER_FOLDER_SERVICE,
            "compose.yaml": "services:\n  api:\n    build:\n      context: .\n      dockerfile: docker/Dockerfile\n",
        }
    )
    image = images_of(root)[0]["docker/Dockerfile"]
    assert where(image, root) == (".", "compose", "compose.yaml", 2) and image.origin.detail == "service api"


# -- a Dockerfile moved before it is built -----------------------------------------------------------


def test_ci_moves_the_dockerfile_into_the_folder_it_builds(repo):
    root = repo(
        {
            "docker/web.Dockerfile": "FROM node:20 AS build\nWORKDIR /build\nCOPY . .\nRUN npm ci\n",
            "web/package.json": "{}\n",
            "web/.dockerignore": "node_modules\n",
            ".github/workflows/deploy.yml": """
                jobs:
                  deploy:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                      - run: mv ./docker/web.Dockerfile ./web/Dockerfile.web
                      - run: cd web && heroku container:push web --recursive
            """,
        }
    )
    images, result = images_of(root)
    image = images["docker/web.Dockerfile"]
    assert image.context_root == (root / "web").resolve() and image.origin.kind == "guess"
    assert image.origin.path == root / ".github/workflows/deploy.yml" and image.origin.line == 6
    assert found(result) == []  # web/ has its .dockerignore


def test_a_build_of_the_moved_file_names_the_original(repo):
    root = repo(
        {
            **DOCKER_FOLDER_SERVICE,
            "build.sh": "#!/bin/sh\ncp docker/Dockerfile Dockerfile\ndocker build -t api .\n",
        }
    )
    image = images_of(root)[0]["docker/Dockerfile"]
    assert where(image, root) == (".", "command", "build.sh", 3)


# -- what must not become a fact -------------------------------------------------------------------


def test_unresolvable_dockerfile_or_context_is_ignored(repo):
    root = repo(
        {
            "svc/Dockerfile": "FROM python:3.12-slim\nCOPY app.py /app/\n",
            "svc/app.py": "",
            ".github/workflows/ci.yml": """
                jobs:
                  build:
                    runs-on: ubuntu-latest
                    strategy:
                      matrix:
                        service: [svc]
                    steps:
                      - run: docker build -f ${{ matrix.service }}/Dockerfile .
                      - run: docker build -f svc/Dockerfile $CONTEXT
                      - run: docker build $EXTRA_FLAGS .
                      - uses: docker/build-push-action@v6
                        with:
                          context: ${{ matrix.service }}
            """,
            "Makefile": "build:\n\tdocker build -f $(SERVICE)/Dockerfile .\n",
        }
    )
    images, result = images_of(root)
    image = images["svc/Dockerfile"]
    assert image.origin.kind == "guess" and image.context_root == (root / "svc").resolve()
    assert found(result) == []


def test_a_command_for_another_dockerfile_changes_nothing(repo):
    root = repo(
        {
            "api/Dockerfile": "FROM python:3.12-slim\nCOPY main.py /app/\n",
            "api/main.py": "",
            "worker/Dockerfile": "FROM python:3.12-slim\nCOPY worker/run.py /app/\n",
            "worker/run.py": "",
            "Makefile": "worker:\n\tdocker build -f worker/Dockerfile .\n",
        }
    )
    images, result = images_of(root)
    assert where(images["api/Dockerfile"], root)[:2] == ("api", "guess")
    assert where(images["worker/Dockerfile"], root)[:2] == (".", "command")
    assert found(result) == []


def test_a_context_outside_the_repository_is_not_read(repo, tmp_path):
    root = repo(
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY app.py /app/\n",
            "app.py": "",
            "build.sh": "#!/bin/sh\ndocker build -f Dockerfile ..\ndocker build -f Dockerfile /etc\n",
        }
    )
    (root / ".git").mkdir()
    images, result = images_of(root)
    assert images["Dockerfile"].origin.kind == "guess" and images["Dockerfile"].context_root == root.resolve()
    notes = [note.message for note in result.notes]
    assert any("line 3: the build context /etc is outside the repository; not read" in note for note in notes)


def test_a_script_that_reads_two_ways_is_not_used(repo):
    root = repo(
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY app.py /app/\n",
            "app.py": "",
            "tools/Dockerfile": "FROM alpine:3.20\nCOPY lint.sh /\n",
            "tools/lint.sh": "#!/bin/sh\n",
            "tools/build.sh": "#!/bin/sh\ndocker build .\n",  # the root's or tools/'s Dockerfile?
        }
    )
    images = images_of(root)[0]
    assert images["Dockerfile"].origin.kind == "guess" and images["tools/Dockerfile"].origin.kind == "guess"


def test_configuration_beats_compose_and_compose_beats_commands(repo):
    root = repo(
        {
            **DOCKER_FOLDER_SERVICE,
            "worker/Dockerfile": "FROM python:3.12-slim\nCOPY . /app\n",
            "worker/.dockerignore": ".git\n",
            "compose.yaml": "services:\n  worker:\n    build: ./worker\n",
            "Makefile": "all:\n\tdocker build -f worker/Dockerfile .\n\tdocker build -f docker/Dockerfile --target test .\n",
        }
    )
    images = images_of(root, contexts={"docker/Dockerfile": "docker"})[0]
    assert where(images["worker/Dockerfile"], root)[:2] == ("worker", "compose")
    api = images["docker/Dockerfile"]
    assert where(api, root)[:2] == ("docker", "config") and api.target == "test"


def test_a_file_named_on_the_command_line_still_uses_the_build_files(repo):
    root = repo({**DOCKER_FOLDER_SERVICE, "Makefile": "image:\n\tdocker build -f docker/Dockerfile .\n"})
    (root / ".git").mkdir()
    result = run_lint(root, paths=[root / "docker" / "Dockerfile"], select=["CTX003"])
    assert [image.origin.kind for image in result.images] == ["command"]
    assert found(result) == []


# -- the CTX rules on a guessed context --------------------------------------------------------------


def test_ctx003_on_a_guess_is_quiet_when_the_source_is_in_a_folder_above(repo):
    root = repo(
        {
            "src/jobs/Dockerfile": "FROM python:3.12-slim\nCOPY pyproject.toml /app/\nCOPY src/ /app/src/\nCOPY jobs.yaml /app/\n",
            "src/jobs/jobs.yaml": "x: 1\n",
            "pyproject.toml": "[project]\nname = 'x'\nversion = '0'\n",
        }
    )
    images, result = images_of(root)
    # two of three sources are at the root: that is the guess; jobs.yaml is in the folder
    assert images["src/jobs/Dockerfile"].context_root == root.resolve()
    assert found(result) == []


def test_ctx003_on_a_guess_reports_a_source_that_is_nowhere(repo):
    root = repo({"Dockerfile": "FROM python:3.12-slim\nCOPY uv.lock pyproject.toml /app/\n", "pyproject.toml": ""})
    (root / ".git").mkdir()
    result = run_lint(root, select=["CTX003"])
    (finding,) = result.findings
    assert finding.span.line == 2 and "`uv.lock` does not exist in the assumed build context" in finding.message
    assert "`contexts`" in finding.fix


def test_ctx003_on_a_known_context_says_so_plainly(repo):
    root = repo({"Dockerfile": "FROM python:3.12-slim\nCOPY uv.lock /app/\n", "Makefile": "i:\n\tdocker build .\n"})
    (finding,) = run_lint(root, select=["CTX003"]).findings
    assert "does not exist in the build context (" in finding.message and "assumed" not in finding.message


# -- CTX001 and builder stages -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "final_copy, reported",
    [
        ("COPY --from=build /build/target/app.jar /app/app.jar", False),
        ("COPY --from=build /build/target/*.jar /app/", False),
        ("COPY --from=build /build /app", True),
        ("COPY --from=build / /app", True),
    ],
)
def test_ctx001_follows_what_a_builder_stage_hands_on(repo, final_copy, reported):
    root = repo(
        {
            "Dockerfile": f"FROM maven:3-eclipse-temurin-21 AS build\nWORKDIR /build\nCOPY . .\nRUN mvn package\n"
            f"FROM eclipse-temurin:21-jre\n{final_copy}\n",
            "pom.xml": "<project/>\n",
        }
    )
    assert (found(run_lint(root, select=["CTX001"])) == [("CTX001", "Dockerfile", 3)]) is reported


# -- reports ----------------------------------------------------------------------------------------------


def test_json_and_verbose_say_where_each_context_comes_from(repo, monkeypatch):
    from click.testing import CliRunner

    from dockerlint.cli import main

    root = repo(
        {**DOCKER_FOLDER_SERVICE, "Makefile": "image:\n\tdocker build -f docker/Dockerfile --platform linux/arm64 .\n"}
    )
    (root / ".git").mkdir()
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, [".", "--format", "json", "--exit-zero", "--verbose", "--isolated"])
    document = json.loads(result.stdout)
    sizes = ("estimated_bytes", "low_bytes", "high_bytes", "unknown_parts", "after_fixes_bytes", "savings")
    images = [{key: value for key, value in image.items() if key not in sizes} for image in document["images"]]
    assert all(set(sizes) <= set(image) for image in document["images"])  # the bill of bytes (tests/test_size.py)
    assert images == [
        {
            "dockerfile": "docker/Dockerfile",
            "context": ".",
            "target": None,
            "platforms": ["linux/arm64"],
            "build_args": {},
            "context_source": "command",
            "context_origin": {"path": "Makefile", "line": 2},
            "context_detail": "docker build -f docker/Dockerfile --platform linux/arm64 .",
        }
    ]
    assert (
        "dockerlint: docker/Dockerfile: context . from a build command "
        "(Makefile:2: docker build -f docker/Dockerfile --platform linux/arm64 .), platform linux/arm64"
    ) in result.stderr


# -- hostile and odd inputs never crash and never count ----------------------------------------------


def test_malformed_build_files_are_read_safely(repo):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(9)
    )
    root = repo(
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY app.py /app/\n",
            "app.py": "",
            ".github/workflows/bomb.yml": bomb + "jobs: {}\n# docker\n",
            ".github/workflows/broken.yml": "jobs:\n  a: [\n# docker build .\n",
            ".github/workflows/windows.yml": "jobs:\n  w:\n    runs-on: windows-latest\n    steps:\n      - run: docker build -f Dockerfile ..\n",
            ".gitlab-ci.yml": "!!python/object:os.system docker\n",
            "Jenkinsfile": "pipeline { sh '''docker build \n",
            "docker-bake.hcl": 'target "x" {\n  context = "${\n',
            "skaffold.yaml": "build: [docker]\n",
            "package.json": "{not json docker",
            "scripts/deploy": b"#!/bin/bash\n\x00docker build ..\n",
            "Makefile": "ifeq ($(X),1)\nDF = other\nendif\nb:\n\tdocker build -f $(DF) ..\n",
        }
    )
    images, result = images_of(root)
    assert images["Dockerfile"].origin.kind == "guess"
    assert found(result) == []


def test_a_checkout_into_another_folder_makes_the_job_unreadable(repo):
    root = repo(
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY app.py /app/\n",
            "app.py": "",
            ".github/workflows/ci.yml": """
                jobs:
                  build:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                        with:
                          path: src
                      - run: docker build -f src/Dockerfile src
            """,
        }
    )
    assert images_of(root)[0]["Dockerfile"].origin.kind == "guess"


def test_a_dockerfile_copied_over_another_is_the_one_built(repo):
    root = repo(
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY app.py /app/\n",
            "Dockerfile.prod": "FROM python:3.12-slim\nCOPY app.py /app/\n",
            "app.py": "",
            "release.sh": "#!/bin/sh\ncp Dockerfile.prod Dockerfile\ndocker build -t app .\n",
        }
    )
    images = images_of(root)[0]
    assert where(images["Dockerfile.prod"], root) == (".", "command", "release.sh", 3)
    assert images["Dockerfile"].origin.kind == "guess"


@pytest.mark.parametrize(
    "step",
    [
        "envsubst < Dockerfile.template > Dockerfile",
        'cp "$VARIANT.Dockerfile" Dockerfile',
    ],
)
def test_a_dockerfile_replaced_before_the_build_is_not_taken_for_the_one_built(repo, step):
    root = repo(
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY app.py /app/\n",
            "Dockerfile.prod": "FROM python:3.12-slim\nCOPY app.py /app/\n",
            "app.py": "",
            "release.sh": f"#!/bin/sh\n{step}\ndocker build -t app .\n",
        }
    )
    assert images_of(root)[0]["Dockerfile"].origin.kind == "guess"


def test_build_arguments_fill_arg_defaults_in_the_model(repo):
    root = repo(
        {
            "Dockerfile": "ARG PY=3.10\nFROM python:${PY}-slim\nCOPY app.py /app/\n",
            "app.py": "",
            ".gitlab-ci.yml": "build:\n  script:\n    - docker build --build-arg PY=3.12 -t app .\n",
        }
    )
    image = images_of(root)[0]["Dockerfile"]
    assert image.build_args == {"PY": "3.12"} and image.final.base.raw == "python:3.12-slim"


def test_one_dockerfile_built_with_two_values_of_an_argument_is_two_images(repo, monkeypatch):
    from click.testing import CliRunner

    from dockerlint.cli import main

    """`--build-arg NAME=api` and `NAME=ray` copy two services' requirements: each value is
    an image of its own, linted with its files (neither `src/services//requirements.in`)."""
    dockerfile = (
        "FROM python:3.12-slim\nARG NAME\nCOPY src/services/${NAME}/requirements.txt /tmp/requirements.txt\n"
        "RUN pip install --no-cache-dir -r /tmp/requirements.txt\nCOPY src/services/${NAME} /app\n"
        'CMD ["python", "/app/main.py"]\n'
    )
    files = {
        "docker/Dockerfile": dockerfile,
        "Makefile": "build:\n\tdocker build --build-arg NAME=api -f docker/Dockerfile .\n"
        "\tdocker build --build-arg NAME=ray -f docker/Dockerfile .\n",
        "src/services/api/requirements.txt": "fastapi==0.115.6\n",
        "src/services/api/main.py": "import fastapi\n",
        "src/services/ray/requirements.txt": "ray==2.40.0\n",
        "src/services/ray/main.py": "import ray\n",
    }
    root = repo(files)
    result = run_lint(root, select=["REQ004", "CTX003", "DEP001", "DEP002"])
    assert sorted(image.build_args["NAME"] for image in result.images) == ["api", "ray"]
    assert result.findings == []
    (root / ".git").mkdir()
    monkeypatch.chdir(root)
    output = CliRunner().invoke(main, [".", "--exit-zero", "--isolated", "--no-cache"]).stdout
    assert "docker/Dockerfile (NAME=api) ~" in output and "docker/Dockerfile (NAME=ray) ~" in output


@pytest.mark.parametrize(
    "platform, machines",
    [
        ("--platform linux/arm64", {"aarch64"}),
        ("--platform linux/amd64,linux/arm64", {"x86_64", "aarch64"}),
        ("", {"x86_64", "aarch64"}),
    ],
)
def test_the_build_platform_reaches_the_model(repo, platform, machines):
    from dockerlint.model.requested import environments

    root = repo(
        {
            "Dockerfile": "FROM python:3.12-slim\nCOPY app.py /app/\n",
            "app.py": "",
            "Makefile": f"image:\n\tdocker buildx build {platform} -t app .\n",
        }
    )
    image = images_of(root)[0]["Dockerfile"]
    assert {dict(env)["platform_machine"] for env in environments(image, image.final)} == machines


def test_a_compose_file_named_by_a_command_is_read(repo):
    root = repo(
        {
            **DOCKER_FOLDER_SERVICE,
            "deploy/stack.yml": "services:\n  api:\n    build:\n      context: ..\n      dockerfile: docker/Dockerfile\n      target: runtime\n",
            "Makefile": "up:\n\tcd deploy && docker compose -f stack.yml -p app up --build\n",
        }
    )
    image = images_of(root)[0]["docker/Dockerfile"]
    assert where(image, root) == (".", "compose", "deploy/stack.yml", 2) and image.target == "runtime"


@pytest.mark.parametrize(
    "outputs, image",
    [
        ("-o ./bin", False),
        ("--output type=local,dest=dist", False),
        ("--output=type=cacheonly", False),
        ("--output type=registry", True),
        ("--load", True),
    ],
)
def test_a_build_that_exports_files_is_not_an_image(outputs, image):
    command = build_command(f"docker buildx build {outputs} --target binaries .".split(), "/r")
    assert command.exports_files is not image


def test_bake_targets_that_export_files_are_not_images(repo):
    root = repo(
        {
            **DOCKER_FOLDER_SERVICE,
            "docker-bake.hcl": """
                target "validate" {
                  dockerfile = "docker/Dockerfile"
                  target = "test"
                  output = ["type=cacheonly"]
                }
                target "image" {
                  dockerfile = "docker/Dockerfile"
                  target = "runtime"
                }
            """,
        }
    )
    result = run_lint(root, select=["CTX003"])
    assert [(image.target, image.origin.kind) for image in result.images] == [("runtime", "bake")]


# -- named build contexts ------------------------------------------------------------------------

NAMED_CONTEXT_DOCKERFILE = """
    FROM python:3.12-slim
    COPY --from=shared-lib pyproject.toml /lib/pyproject.toml
    COPY --from=wheels / /wheels/
    RUN pip install --no-cache-dir /lib /wheels/*.whl
"""


@pytest.mark.parametrize(
    "name, text",
    [
        (
            "docker-bake.hcl",
            'target "app" {\n  context = "./app"\n  contexts = {\n    "shared-lib" = "./lib"\n    wheels = "./dist"\n  }\n}\n',
        ),
        (
            "compose.yaml",
            "services:\n  app:\n    build:\n      context: ./app\n"
            "      additional_contexts:\n        shared-lib: ./lib\n        wheels: ./dist\n",
        ),
        (
            "compose.yml",
            "services:\n  app:\n    build:\n      context: ./app\n"
            "      additional_contexts:\n        - shared-lib=./lib\n        - wheels=./dist\n",
        ),
        (
            ".github/workflows/build.yml",
            "jobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: docker buildx build"
            " --build-context shared-lib=./lib --build-context wheels=./dist -t app ./app\n",
        ),
    ],
)
def test_a_copy_from_a_named_build_context_is_no_image(tmp_path, name, text):
    """bake `contexts`, compose `additional_contexts` and `--build-context` name contexts a
    `COPY --from` may read: DL3022 is for names that are neither a stage nor one of those."""
    files = {"app/Dockerfile": NAMED_CONTEXT_DOCKERFILE, "lib/pyproject.toml": "[project]\nname = 'lib'\n"}
    assert found(run_lint(write_tree(tmp_path / "named", {**files, name: text}), select=["DL3022"])) == []
    plain = found(run_lint(write_tree(tmp_path / "plain", files), select=["DL3022"]))
    assert [line for _, _, line in plain] == [2, 3]


def test_a_heredoc_written_to_a_file_is_a_write():
    """`cat <<EOF > aws.env`: the file redirect sits inside the heredoc's, and writes the file."""
    script = "cat <<EOF > aws.env\nAWS_REGION=us-east-1\nEOF\necho done >> build.log\n"
    writes = [run.argv for run in commands(script, cwd="/r") if run.argv[0] == ">"]
    assert writes == [(">", "aws.env"), (">", "build.log")]


def test_a_compose_path_from_the_working_folder_is_the_compose_files_folders(repo):
    """`dockerfile: ${PWD}/backend/.Dockerfile`: `docker compose` runs from the compose file's
    folder, so the service builds backend/.Dockerfile and its GPU reservation is that image's."""
    compose = (
        "services:\n  flask:\n    build:\n      dockerfile: ${PWD}/backend/.Dockerfile\n"
        "    deploy:\n      resources:\n        reservations:\n          devices:\n"
        "            - driver: nvidia\n              count: all\n              capabilities: [gpu]\n"
    )
    files = {
        "docker-compose.yml": compose,
        "backend/.Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY backend/requirements.txt .\n"
        'RUN pip install --no-cache-dir -r requirements.txt\nCOPY backend/ .\nCMD ["python", "app.py"]\n',
        "backend/requirements.txt": "openai-whisper==20240930\nflask==3.1.0\n",
        "backend/app.py": "import flask\nimport whisper\n\nmodel = whisper.load_model('base')\n",
    }
    result = run_lint(repo(files), select=["GPU001"])
    assert found(result) == []
    assert [image.services for image in result.images] == [("flask",)]
