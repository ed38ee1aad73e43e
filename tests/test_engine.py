"""Discovery, build contexts, the image model, configuration and suppressions."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockerlint.config import ConfigError, config_from_table, load_config
from dockerlint.discover import is_compose_name, is_dockerfile_name
from dockerlint.engine import lint
from dockerlint.rulebook import load_rules
from tests.conftest import found, run_lint

SERVICE = """
    FROM python:3.11-slim
    WORKDIR /app
    COPY requirements.txt .
    RUN pip install -r requirements.txt
    COPY app/ ./app/
    CMD ["uvicorn", "app.main:app"]
"""


# -- discovery -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Dockerfile", True),
        ("dockerfile", True),
        ("Containerfile", True),
        ("Dockerfile.dev", True),
        ("Dockerfile.gpu", True),
        ("api.Dockerfile", True),
        ("worker.dockerfile", True),
        (".dockerfile", True),  # services/metrics/.dockerfile: a folder per service names it so
        ("DOCKERFILE", True),
        ("Dockerfile-dev", True),
        ("Dockerfile_gpu", True),
        ("DockerfileTextEmbedding", True),  # docker/build-push-action `file:` names them so too
        ("Dockerfile.dockerignore", False),
        ("api.Dockerfile.dockerignore", False),
        ("Dockerfile.md", False),
        ("dockerfile.js", False),  # CodeMirror's Dockerfile mode, vendored into a static folder
        ("Dockerfile.j2", False),
        ("dockerfile-notes.txt", False),
        ("README.md", False),
    ],
)
def test_dockerfile_names(name, expected):
    assert is_dockerfile_name(name) is expected


@pytest.mark.parametrize(
    "name",
    [
        "docker-compose.yml",
        "docker-compose.prod.yaml",
        "compose.yaml",
        "compose.gpu.yml",
        "docker-compose-dev.yml",  # `docker compose -f docker-compose-dev.yml`: as common as the dotted names
        "docker-compose_prod.yaml",
        "compose-base.yml",
        "gpu-docker-compose.yml",  # the variant named before it: `docker compose -f gpu-docker-compose.yml`
        "dev.compose.yaml",
    ],
)
def test_compose_names(name):
    assert is_compose_name(name)


@pytest.mark.parametrize(
    "name", ["docker-compose.json", "composer.yml", "decompose.yml", "compose.yml.j2", "recomposed.yml"]
)
def test_other_names_are_no_compose_files(name):
    assert not is_compose_name(name)


def test_discovery_skips_git_virtualenvs_and_node_modules(repo):
    root = repo(
        {
            "services/api/Dockerfile": "FROM python\n",
            ".git/Dockerfile": "FROM python\n",
            "node_modules/pkg/Dockerfile": "FROM python\n",
            "env/pyvenv.cfg": "home = /usr/bin\n",
            "env/lib/Dockerfile": "FROM python\n",
            ".venv/Dockerfile": "FROM python\n",
        }
    )
    assert found(run_lint(root, select=["DL3006"])) == [("DL3006", "Dockerfile", 1)]


def test_configured_excludes(repo):
    root = repo({"services/api/Dockerfile": "FROM python\n", "legacy/Dockerfile": "FROM python\n"})
    result = run_lint(root, select=["DL3006"], exclude=["legacy"])
    assert [f.path.parent.name for f in result.findings] == ["api"]


# -- build contexts ----------------------------------------------------------------------------


def test_context_is_the_dockerfile_folder(repo):
    root = repo({"svc/Dockerfile": SERVICE, "svc/requirements.txt": "fastapi\n", "svc/app/main.py": ""})
    image = run_lint(root, select=["DL3042"]).images[0]
    assert image.context_root == root / "svc"
    install = next(image.final.installs())
    assert install.requirements[0].context_path == root / "svc" / "requirements.txt"


def test_context_falls_back_to_the_repository_root(repo):
    root = repo(
        {
            "docker/api/Dockerfile": SERVICE,
            "requirements.txt": "fastapi\n",
            "app/main.py": "",
        }
    )
    image = run_lint(root, select=["DL3042"]).images[0]
    assert image.context_root == root


def test_context_from_compose_with_target_args_and_gpu(repo):
    root = repo(
        {
            "docker-compose.yml": """
            services:
              api:
                build:
                  context: .
                  dockerfile: docker/api.Dockerfile
                  target: runtime
                  args:
                    PY: "3.12"
                deploy:
                  resources:
                    reservations:
                      devices:
                        - driver: nvidia
                          capabilities: [gpu]
        """,
            "docker/api.Dockerfile": """
            ARG PY=3.10
            FROM python:${PY}-slim AS runtime
            COPY requirements.txt /tmp/
            FROM runtime AS test
            RUN pip install pytest
        """,
            "requirements.txt": "fastapi\n",
        }
    )
    (image,) = run_lint(root, select=["DL3042"]).images
    assert image.context_root == root.resolve()
    assert image.target == "runtime" and image.final.name == "runtime"
    assert image.final.base.raw == "python:3.12-slim"
    assert image.gpu is True and image.services == ("api",)
    assert image.compose_file == root / "docker-compose.yml"


def test_context_from_config(repo):
    root = repo({"docker/Dockerfile": SERVICE, "requirements.txt": "fastapi\n", "docker/requirements.txt": "x\n"})
    result = run_lint(root, select=["DL3042"], contexts={"docker/Dockerfile": "."})
    assert result.images[0].context_root == root.resolve()


def test_dockerfile_specific_ignore_file_wins(repo):
    root = repo(
        {
            "Dockerfile": SERVICE,
            "api.Dockerfile": SERVICE,
            ".dockerignore": ".git\n",
            "api.Dockerfile.dockerignore": "*\n!app\n",
        }
    )
    images = {image.dockerfile_path.name: image for image in run_lint(root, select=["DL3042"]).images}
    assert images["Dockerfile"].ignore_path == root / ".dockerignore"
    assert images["api.Dockerfile"].ignore_path == root / "api.Dockerfile.dockerignore"


# -- the image model ---------------------------------------------------------------------------


def test_model_tracks_state_and_resolves_requirements_through_copy_and_workdir(repo):
    root = repo(
        {
            "Dockerfile": """
            ARG PY=3.11
            FROM python:${PY}-slim AS base
            ENV APP_HOME=/srv/app PIP_DISABLE_PIP_VERSION_CHECK=1
            WORKDIR $APP_HOME
            COPY reqs/ ./reqs/
            COPY constraints.txt /tmp/c.txt
            RUN pip install -r reqs/prod.txt -c /tmp/c.txt
            USER 1000:1000
            FROM base AS final
            RUN --mount=type=bind,source=requirements-dev.txt,target=/tmp/dev.txt \\
                python3 -m pip install -r /tmp/dev.txt
        """,
            "reqs/prod.txt": "fastapi\n",
            "constraints.txt": "fastapi<1\n",
            "requirements-dev.txt": "pytest\n",
        }
    )
    image = run_lint(root, select=["DL3042"]).images[0]
    base, final = image.stages
    assert base.base.raw == "python:3.11-slim" and final.parent == 0
    install = next(base.installs())
    assert [(r.image_path, r.context_path, r.constraint) for r in install.requirements] == [
        ("/srv/app/reqs/prod.txt", root / "reqs" / "prod.txt", False),
        ("/tmp/c.txt", root / "constraints.txt", True),
    ]
    run = final.steps[1]
    assert run.workdir == "/srv/app" and run.user == "1000:1000" and run.env["APP_HOME"] == "/srv/app"
    (dev,) = run.installs
    assert dev.module_form and dev.requirements[0].context_path == root / "requirements-dev.txt"
    assert final.is_final and base.reachable


def test_model_recognises_installs(repo):
    root = repo(
        {
            "Dockerfile": """
        FROM python:3.11-slim
        RUN apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
              build-essential libpq-dev \\
            && pip3 install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.3.1 \\
            && uv pip install --system -r /dev/null \\
            && apk add --no-cache --virtual .deps gcc \\
            && dnf -y install gcc && yum install -y make
    """
        }
    )
    image = run_lint(root, select=["DL3042"]).images[0]
    installs = [(i.tool, i.action, [p.value for p in i.packages]) for i in image.final.installs()]
    assert installs == [
        ("apt-get", "update", []),
        ("apt-get", "install", ["build-essential", "libpq-dev"]),
        ("pip", "install", ["torch==2.3.1"]),
        ("uv", "install", []),
        ("apk", "add", ["gcc"]),
        ("dnf", "install", ["gcc"]),
        ("yum", "install", ["make"]),
    ]
    pip = [i for i in image.final.installs() if i.tool == "pip"][0]
    assert pip.option("--index-url") == "https://download.pytorch.org/whl/cpu"
    torch = pip.packages[0]
    assert (torch.span.line, torch.span.column, torch.span.end_column) == (4, 85, 97)


def test_unreachable_builder_stages_are_not_final(repo):
    root = repo(
        {
            "Dockerfile": """
        FROM python:3.11 AS unused
        FROM python:3.11 AS builder
        FROM python:3.11-slim
        COPY --from=builder /opt/venv /opt/venv
    """
        }
    )
    unused, builder, final = run_lint(root, select=["DL3042"]).images[0].stages
    assert not unused.reachable and builder.reachable and final.is_final


# -- configuration -----------------------------------------------------------------------------


def test_select_ignore_extend_select_and_prefixes(repo):
    root = repo({"Dockerfile": "FROM python\nRUN pip install x\nCMD python app.py\n"})
    codes = lambda **config: sorted({code for code, _, _ in found(run_lint(root, **config))})
    assert "DL3006" in codes() and "IMG004" not in codes()
    # a prefix selects every code under it, DL3057 (off by default) included
    assert codes(select=["DL30"]) == ["DL3006", "DL3013", "DL3025", "DL3042", "DL3057"]
    assert codes(select=["DL"], ignore=["DL3042", "DL3025", "DL3013", "DL3057"]) == ["DL3006"]
    assert "IMG004" in codes(extend_select=["IMG004"])
    assert codes(select=["ALL"], ignore=["DL", "IMG", "SEC"]) == []


def test_severity_override_and_per_file_ignores(repo):
    root = repo({"svc/Dockerfile": "FROM python\n", "legacy/Dockerfile": "FROM python\n"})
    result = run_lint(root, select=["DL3006"], severity={"DL3006": "error"}, per_file_ignores={"legacy/*": ["DL3006"]})
    assert [(f.path.parent.name, f.severity.label) for f in result.findings] == [("svc", "error")]


@pytest.mark.parametrize(
    "table, key",
    [
        ({"selct": ["DL3006"]}, "selct"),
        ({"select": ["XX999"]}, "select"),
        ({"select": "DL3006"}, "select"),
        ({"severity": {"DL3006": "fatal"}}, "severity.DL3006"),
        ({"fail-level": "loud"}, "fail-level"),
        ({"per-file-ignores": {"a/*": ["NOPE1"]}}, "per-file-ignores.a/*"),
        ({"gpu": {"Dockerfile": "yes"}}, "gpu"),
        ({"known-modules": {"acme-sdk": "acmesdk"}}, "known-modules"),
        ({"large-file-size": "50MB"}, "large-file-size"),
    ],
)
def test_invalid_configuration_names_file_and_key(tmp_path, table, key):
    with pytest.raises(ConfigError) as error:
        config_from_table(table, tmp_path / ".dockerlint.toml", load_rules())
    assert str(tmp_path / ".dockerlint.toml") in str(error.value)
    assert f"`{key}`" in str(error.value)


def test_pyproject_table_and_invalid_toml(tmp_path: Path):
    rules = load_rules()
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "svc"\n[tool.dockerlint]\nignore = ["DL3059"]\nfail-level = "error"\n')
    config = load_config(pyproject, rules)
    assert config.ignore == ("DL3059",) and config.fail_level.label == "error"
    pyproject.write_text("[tool.dockerlint\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(pyproject, rules)
    pyproject.write_text('[tool.dockerlint]\nignore = ["DL3059"]\nunknown = 1\n')
    with pytest.raises(ConfigError, match="`tool.dockerlint.unknown`"):
        load_config(pyproject, rules)


# -- suppressions ------------------------------------------------------------------------------


def test_inline_suppressions_in_dockerfiles(repo):
    root = repo(
        {
            "Dockerfile": """
        # dockerlint: ignore-file=SEC001
        FROM python
        # the image needs compilers
        # dockerlint: ignore=DL3042,DL3059
        RUN pip install \\
            numpy
        # hadolint ignore=DL3042
        RUN pip install pandas
        RUN pip install scipy
        # hadolint ignore=DL3006
    """
        }
    )
    result = run_lint(root, select=["DL3042", "DL3006", "SEC001", "DL3059"])
    assert found(result) == [("DL3006", "Dockerfile", 2), ("DL3042", "Dockerfile", 9), ("DL3059", "Dockerfile", 9)]


def test_hadolint_pragmas_only_cover_dl_codes(repo):
    root = repo({"Dockerfile": "# hadolint global ignore=SEC001,DL3006\nFROM python\n"})
    assert found(run_lint(root, select=["DL3006", "SEC001"])) == [("SEC001", "Dockerfile", 2)]


def test_noqa_in_requirements_files(repo):
    root = repo(
        {
            "Dockerfile": "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n",
            "requirements.txt": "numpy==  # noqa: REQ005\nflask>=  # noqa\npandas==\nscipy== # noqa: DL3006\n",
        }
    )
    assert found(run_lint(root, select=["REQ005"])) == [
        ("REQ005", "requirements.txt", 3),
        ("REQ005", "requirements.txt", 4),
    ]


# -- files given on the command line (pre-commit) ----------------------------------------------


def test_given_files_lint_the_images_they_take_part_in(repo):
    root = repo(
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "api/Dockerfile": "FROM python\nWORKDIR /app\nCOPY requirements.txt app.py ./\nRUN pip install -r requirements.txt\n",
            "api/requirements.txt": "fastapi\n",
            "api/app.py": "import fastapi\n",
            "api/notes.py": "",
            "worker/Dockerfile": "FROM python\nCOPY . /srv\n",
            "worker/tasks.py": "",
        }
    )
    rules = load_rules()
    config = config_from_table({"select": ["DL3006"]}, None, rules)

    def dockerfiles(*names):
        result = lint([root / name for name in names], config, rules)
        return sorted(f.path.parent.name for f in result.findings)

    assert dockerfiles("api/Dockerfile") == ["api"]
    assert dockerfiles("api/requirements.txt") == ["api"]
    assert dockerfiles("api/app.py") == ["api"]
    assert dockerfiles("api/notes.py") == []
    assert dockerfiles("worker/tasks.py") == ["worker"]
    assert dockerfiles("README.md", "api/app.py", "worker/tasks.py") == ["api", "worker"]


def test_deterministic_output_in_any_order(repo):
    root = repo({f"svc{i}/Dockerfile": "FROM python\nRUN pip install x | cat\n" for i in range(5)})
    first = run_lint(root, select=["ALL"])
    second = run_lint(root, select=["ALL"])
    assert first.findings == second.findings
    assert first.findings == sorted(first.findings, key=lambda f: f.sort_key())
