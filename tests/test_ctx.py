"""CTX001-CTX003 on realistic build contexts: monorepos with a root context, per-Dockerfile
ignore files, exact lines, and the correct setups that must stay silent."""

from __future__ import annotations

import os

import pytest

from dockerlint.model.buildcontext import unwanted
from tests.conftest import found, run_lint

CTX = ["CTX001", "CTX002", "CTX003"]


def lint(root, codes=CTX):
    return run_lint(root, select=codes)


MONOREPO = {
    "compose.yaml": """
        services:
          api:
            build:
              context: .
              dockerfile: services/api/Dockerfile
          worker:
            build:
              context: .
              dockerfile: services/worker/Dockerfile
    """,
    ".git/HEAD": "ref: refs/heads/main\n",
    ".git/objects/pack/pack-1.pack": "x" * 5000,
    "services/api/app/__pycache__/main.cpython-311.pyc": "compiled",
    "services/api/app/main.py": "print('api')\n",
    "services/api/requirements.txt": "fastapi==0.111.0\n",
    "services/api/Dockerfile": """
        FROM python:3.11-slim
        WORKDIR /app
        COPY services/api/requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY services/api/app/ app/
        COPY libs/shared/ libs/shared/
        CMD ["uvicorn", "app.main:app"]
    """,
    "services/api/Dockerfile.dockerignore": ".git\n**/__pycache__\n",
    "services/worker/worker.py": "print('worker')\n",
    "services/worker/Dockerfile": """
        FROM python:3.11-slim
        WORKDIR /app
        COPY . .
        CMD ["python", "services/worker/worker.py"]
    """,
    "libs/shared/__init__.py": "",
    ".dockerignore": "**/__pycache__\nnode_modules\n",
}


def test_monorepo_root_context_with_per_dockerfile_ignore_files(repo):
    result = lint(repo(MONOREPO))
    # The worker uses the root .dockerignore, which forgets .git; the api's own ignore
    # file replaces it (never merged) and excludes .git.
    gaps = [f for f in result.findings if f.code == "CTX002"]
    assert [(f.path.name, f.span.line) for f in gaps] == [(".dockerignore", 1)]
    assert gaps[0].message.endswith("the build context sends what no image needs: .git/ (5 kB)")
    assert gaps[0].size_bytes == 5000 + len("ref: refs/heads/main\n")
    assert found(result, "CTX001") == []
    assert found(result, "CTX003") == []


def test_no_ignore_file_and_the_whole_context_copied(repo):
    root = repo(
        {
            "Dockerfile": """
            FROM python:3.11-slim AS base
            WORKDIR /app
            COPY requirements.txt .
            FROM base
            COPY ./ /app/
            RUN --mount=type=bind,target=/src ls /src
        """,
            "requirements.txt": "flask==3.0.3\n",
            ".venv/pyvenv.cfg": "home = /usr/bin\n",
            ".venv/lib/python3.11/site-packages/flask/__init__.py": "x" * 2000,
            "app.py": "print(1)\n",
        }
    )
    result = lint(root)
    # one root cause, one finding: CTX001 names what CTX002 would (the .venv), and its fix adds it
    assert found(result) == [("CTX001", "Dockerfile", 5)]
    (ctx001,) = result.findings
    assert "(5 files," in ctx001.message and ctx001.size_bytes > 2000
    assert "goes into the image, and no image needs .venv/ (2 kB)" in ctx001.message
    assert ".venv" in ctx001.autofix.edits[0].content
    # without CTX001, CTX002 says it
    assert found(lint(root, ["CTX002"])) == [("CTX002", "Dockerfile", 1)]


STRAY_IGNORE = {
    "backend/Dockerfile": """
        FROM python:3.11-slim
        WORKDIR /code
        COPY ./backend/requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY ./backend /code/app
        CMD ["uvicorn", "app.server:app", "--host", "0.0.0.0"]
    """,
    "backend/.dockerignore": ".venv\n__pycache__\n*.env\n",
    "backend/requirements.txt": "fastapi==0.115.0\nuvicorn==0.32.0\n",
    "backend/server.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    "compose.yaml": "services:\n  api:\n    build:\n      context: .\n      dockerfile: backend/Dockerfile\n",
}


def test_a_copied_folder_whose_own_ignore_file_docker_never_reads(repo):
    result = lint(repo(STRAY_IGNORE), ["CTX001"])
    assert found(result) == [("CTX001", "Dockerfile", 5)]  # backend/Dockerfile, by its name
    assert "`backend/.dockerignore`" in result.findings[0].fix and "never reads" in result.findings[0].message


@pytest.mark.parametrize(
    "change",
    [
        {"compose.yaml": "services:\n  api:\n    build: ./backend\n"},  # the folder is the context: it applies
        {".dockerignore": "backend/.venv\n**/__pycache__\n"},  # the root's applies
    ],
)
def test_an_ignore_file_that_applies_is_no_stray(repo, change):
    files = {**STRAY_IGNORE, **change}
    if "build: ./backend" in files["compose.yaml"]:
        files["backend/Dockerfile"] = files["backend/Dockerfile"].replace(
            "./backend/requirements.txt", "requirements.txt"
        )
        files["backend/Dockerfile"] = files["backend/Dockerfile"].replace(
            "COPY ./backend /code/app", "COPY . /code/app"
        )
    assert found(lint(repo(files), ["CTX001"])) == []


def test_gaps_at_any_depth_and_venvs_by_their_marker_file(repo):
    root = repo(
        {
            ".dockerignore": ".git\n__pycache__\n.env\n",
            "src/pkg/__pycache__/a.cpython-311.pyc": "c" * 300,
            "web/node_modules/react/index.js": "j" * 100,
            "tools/py311/pyvenv.cfg": "home = /usr/bin\n",
            "tools/py311/bin/python": "elf",
            "notebooks/.ipynb_checkpoints/eda-checkpoint.ipynb": "{}",
            "deploy/.env": "TOKEN=x\n",
            ".env": "TOKEN=x\n",
            "src/pkg/main.py": "print(1)\n",
            "Dockerfile": "FROM python:3.11-slim\nCOPY . /app/\n",
        }
    )
    result = lint(root, ["CTX002"])
    assert found(result) == [("CTX002", ".dockerignore", 1)]
    message = result.findings[0].message
    expected = (
        "src/pkg/__pycache__/",
        "web/node_modules/",
        "tools/py311/",
        "notebooks/.ipynb_checkpoints/",
        "deploy/.env",
    )
    for path in expected:
        assert path in message
    assert ".env (" not in message.replace("deploy/.env", "")  # the top-level .env is excluded
    assert "`**/__pycache__`" in result.findings[0].fix


def test_the_env_file_a_front_end_bundler_reads_at_build_is_wanted(repo):
    files = {
        ".dockerignore": ".git\n**/node_modules\n",
        "frontend/package.json": '{"scripts": {"build": "vite build"}}\n',
        "frontend/.env": "VITE_API_URL=/api\n",
        "frontend/src/main.ts": "console.log(import.meta.env.VITE_API_URL)\n",
        "backend/.env": "DATABASE_URL=postgres://app:secret@db/app\n",
        "backend/app.py": "print(1)\n",
        "Dockerfile": """
            FROM node:20-slim AS web
            WORKDIR /web
            COPY frontend/ .
            RUN npm ci && npm run build
            FROM python:3.12-slim
            COPY backend/ /app/
            COPY --from=web /web/dist /app/static
        """,
    }
    result = lint(repo(files), ["CTX002"])
    (finding,) = result.findings
    assert "backend/.env" in finding.message and "frontend/.env" not in finding.message


def test_git_is_wanted_when_the_version_comes_from_git(repo):
    root = repo(
        {
            ".dockerignore": "**/__pycache__\n",
            ".git/HEAD": "ref: refs/heads/main\n",
            "pyproject.toml": """
            [build-system]
            requires = ["setuptools>=64", "setuptools_scm>=8"]
            build-backend = "setuptools.build_meta"
            [project]
            name = "svc"
            dynamic = ["version"]
        """,
            "Dockerfile": "FROM python:3.11-slim\nWORKDIR /src\nCOPY . .\nRUN pip install --no-cache-dir .\n",
        }
    )
    assert found(lint(root, ["CTX002"])) == []


def test_missing_and_excluded_sources(repo):
    root = repo(
        {
            ".dockerignore": ".git\nconfig\n!config/logging.yaml\n*.toml\n",
            "config/settings.yaml": "a: 1\n",
            "config/logging.yaml": "version: 1\n",
            "settings.toml": "x = 1\n",
            "src/__main__.py": "print(1)\n",
            "empty/.keep": "",
            "Dockerfile": """
            # syntax=docker/dockerfile:1
            FROM python:3.11-slim AS unused
            COPY not-built.txt /
            FROM python:3.11-slim
            ARG CONFIG_DIR=config
            ARG EXTRA
            WORKDIR /app
            COPY config/logging.yaml ${CONFIG_DIR}/settings.yaml ./
            COPY ["settings.toml", "src", "./"]
            COPY scripts/entrypoint.sh ${EXTRA}/x /usr/local/bin/
            COPY *.whl requirements*.txt /tmp/
            ADD https://example.com/a.tar.gz /tmp/
            COPY --from=python:3.12 /usr/local/bin/python3 /usr/bin/
            RUN --mount=type=bind,source=tools,target=/tools ls /tools
            COPY src/missing.py src/
            CMD ["python", "-m", "src"]
        """,
        }
    )
    result = lint(root, ["CTX003"])
    assert found(result) == [
        ("CTX003", "Dockerfile", 8),  # config/settings.yaml: the `config` pattern excludes it
        ("CTX003", "Dockerfile", 9),  # settings.toml: *.toml
        ("CTX003", "Dockerfile", 14),  # the bind mount's source does not exist
        ("CTX003", "Dockerfile", 15),
    ]
    by_line = {f.span.line: f for f in result.findings}
    assert "excluded by `config` in .dockerignore (line 2)" in by_line[8].message
    assert by_line[8].span.column == 26  # the source word, not the whole line
    assert "excluded by `*.toml` in .dockerignore (line 4)" in by_line[9].message
    assert "does not exist" in by_line[15].message


def test_existing_sources_and_empty_folders_are_fine(repo, tmp_path):
    root = repo(
        {
            ".dockerignore": "data/*\n",
            "data/big.csv": "1,2\n",
            "app/main.py": "print(1)\n",
            "Dockerfile": """
            FROM python:3.11-slim
            COPY data/ /data/
            COPY cache/ /cache/
            COPY app /app
            COPY /app/main.py ./
        """,
        }
    )
    (root / "cache").mkdir()
    assert found(lint(root, ["CTX003"])) == []


def test_symlinks_are_not_followed_out_of_the_context(repo, tmp_path):
    outside = tmp_path.parent / (tmp_path.name + "-outside")
    outside.mkdir()
    (outside / "huge.bin").write_bytes(b"x" * 1000)
    (outside / "node_modules").mkdir()
    (outside / "node_modules" / "a.js").write_text("x")
    root = repo({".dockerignore": ".git\n", "Dockerfile": "FROM python:3.11-slim\nCOPY link/ /app/\n"})
    os.symlink(outside, root / "link")
    result = lint(root, ["CTX002"])
    assert found(result) == []
    assert [f.path for f in result.images[0].context.files if f.path.startswith("link")] == ["link"]


def test_many_pycache_folders_are_one_finding(tmp_path):
    """CTX002 groups what it finds: 20 `__pycache__` folders are one finding naming them.
    (Speed on 100,000 files is measured by benchmarks/bench.py, not by a timed test.)"""
    root = tmp_path / "big"
    for top in range(20):
        for sub in range(10):
            folder = root / f"pkg{top}" / (f"m{sub}" if sub else "__pycache__")
            folder.mkdir(parents=True)
            for index in range(10):
                (folder / f"f{index}.py").write_bytes(b"")
    (root / ".dockerignore").write_text(".git\n**/*.pyc\n!pkg1/keep.pyc\n")
    (root / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY . /app/\n")
    result = run_lint(root, select=CTX)
    assert len(result.images[0].context.files) == 2_002
    assert found(result) == [("CTX002", ".dockerignore", 1)]
    assert len(unwanted(result.images[0])) == 20


# -- CTX004 ------------------------------------------------------------------------------------


def _sparse(path, size):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.truncate(size)


def test_large_context_files_copied_or_only_sent(repo):
    root = repo(
        {
            "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY app/ app/\nCOPY models/ models/\n",
            ".dockerignore": ".git\n",
            "app/main.py": "print('hi')\n",
        }
    )
    _sparse(root / "models" / "encoder.safetensors", 120_000_000)
    _sparse(root / "data" / "train.parquet", 80_000_000)
    _sparse(root / "models" / "small.onnx", 10_000_000)
    result = run_lint(root, select=["CTX004"])
    located = sorted((f.path.name, f.span.line, f.size_bytes) for f in result.findings)
    assert located == [(".dockerignore", 1, 80_000_000), ("Dockerfile", 4, 120_000_000)]
    copied = next(f for f in result.findings if f.path.name == "Dockerfile")
    assert "models/encoder.safetensors" in copied.message and "120 MB" in copied.message


def test_large_file_size_is_configurable(repo):
    root = repo({"Dockerfile": "FROM python:3.11-slim\nCOPY . /app\n", "notes.txt": "x" * 5_000})
    assert found(run_lint(root, select=["CTX004"]), "CTX004") == []
    assert found(run_lint(root, select=["CTX004"], large_file_size=1_000), "CTX004") == [("CTX004", "Dockerfile", 2)]


def test_large_file_size_must_be_a_positive_integer(tmp_path):
    from dockerlint.config import ConfigError, config_from_table
    from dockerlint.rulebook import load_rules

    for value in (0, -5, "50MB", True):
        with pytest.raises(ConfigError, match="`large-file-size`"):
            config_from_table({"large-file-size": value}, tmp_path / ".dockerlint.toml", load_rules())


# --- sources git ignores ---------------------------------------------------------------------

UV_SERVICE = {
    ".git/HEAD": "ref: refs/heads/main\n",
    ".gitignore": "# local state\n\n.venv/\n*.lock\n",
    "services/api/.gitignore": "build/\n",
    "services/api/pyproject.toml": '[project]\nname = "api"\nversion = "1.0.0"\ndependencies = []\n',
    "services/api/app/__init__.py": "",
    "services/api/Dockerfile": """
        FROM python:3.12-slim
        WORKDIR /app
        COPY pyproject.toml uv.lock ./
        RUN pip install --no-cache-dir uv==0.5.11 && uv sync --frozen --no-dev
        COPY app/ app/
        COPY build/ build/
        COPY settings.toml .
        CMD ["python", "-m", "app"]
    """,
}


def _ctx003(result):
    return {f.span.line: f for f in result.findings if f.code == "CTX003"}


def test_a_gitignored_source_is_named_as_missing_from_a_clean_checkout(repo):
    root = repo(UV_SERVICE)
    findings = _ctx003(lint(root))
    assert sorted(findings) == [3, 6, 7]
    lock = findings[3]
    assert lock.message.startswith("`uv.lock` is not in the repository: .gitignore keeps it out of git (line 4)")
    assert "fails on a clean checkout" in lock.message
    assert [(r.path, r.span.line) for r in lock.related] == [(root / ".gitignore", 4)]
    # the nested .gitignore decides for the folder beside it
    build = findings[6]
    assert build.message.startswith("`build/` is not in the repository: services/api/.gitignore keeps it out")
    assert build.related[0].path == root / "services/api/.gitignore"
    # a file git does not ignore is a wrong path, said as before
    assert findings[7].message.startswith("`settings.toml` does not exist in the")
    assert not findings[7].related


def test_git_s_own_folder_is_in_every_clone_whatever_gitignore_lists(repo):
    """A RUN bind-mounts `.git` so that setuptools-scm reads the version: a clone has it, and
    `.git` in .gitignore changes nothing (git never tracks its own folder). In a copy without
    it (an archive) nothing is said either: that is no checkout the image is built from."""
    dockerfile = """
        FROM python:3.12-slim
        WORKDIR /app
        COPY pyproject.toml ./
        COPY src ./src
        RUN --mount=source=.git,target=.git,type=bind pip install --no-cache-dir -e .
        COPY .git/HEAD /app/REVISION
        CMD ["python", "-m", "nlp"]
    """
    files = {
        ".git/HEAD": "ref: refs/heads/main\n",
        ".gitignore": "models\n*.pyc\n.git\n",
        "pyproject.toml": '[project]\nname = "nlp"\ndynamic = ["version"]\n',
        "src/nlp/__init__.py": "",
        "Dockerfile": dockerfile,
    }
    root = repo(files)
    assert _ctx003(lint(root)) == {}
    (root / ".git" / "HEAD").unlink()
    (root / ".git").rmdir()
    assert _ctx003(lint(root)) == {}
    # excluded from the context by .dockerignore, the mount does fail
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / ".dockerignore").write_text(".git\n")
    assert sorted(_ctx003(lint(root))) == [5, 6]


def test_a_deeper_gitignore_that_takes_a_file_back_wins(repo):
    files = dict(UV_SERVICE)
    files["services/api/.gitignore"] = "build/\n!uv.lock\n"
    findings = _ctx003(lint(repo(files)))
    assert findings[3].message.startswith("`uv.lock` does not exist in the")


def test_unreadable_gitignore_patterns_are_skipped_and_lines_still_counted(repo):
    files = dict(UV_SERVICE)
    files[".gitignore"] = "!\n\n# comment\n\\\n*.lock\n"  # `!` and a lone backslash are not patterns git reads
    findings = _ctx003(lint(repo(files)))
    assert "(line 5)" in findings[3].message


def test_without_a_gitignore_the_message_is_unchanged(repo):
    files = {name: text for name, text in UV_SERVICE.items() if not name.endswith(".gitignore")}
    findings = _ctx003(lint(repo(files)))
    assert sorted(findings) == [3, 6, 7]
    assert all("does not exist in the" in f.message for f in findings.values())


def test_a_gitignore_outside_the_repository_is_not_read(tmp_path):
    from tests.conftest import write_tree

    write_tree(tmp_path, {".gitignore": "*.lock\nbuild/\n"})  # above the repository: not its own
    outside = write_tree(tmp_path / "elsewhere", {"ignore": "*.lock\n"})
    root = write_tree(tmp_path / "repo", {k: v for k, v in UV_SERVICE.items() if not k.endswith(".gitignore")})
    os.symlink(outside / "ignore", root / "services/api/.gitignore")  # a link out of the repository
    findings = _ctx003(lint(root))
    assert all("does not exist in the" in f.message for f in findings.values())


def test_an_image_that_takes_nothing_from_the_context_needs_no_ignore_file(repo):
    """The image clones its code; BuildKit sends nothing of the context to such a build."""
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*
            RUN git clone --depth 1 https://github.com/example/flows.git /app && pip install --no-cache-dir /app
            CMD ["python", "-m", "flows"]
        """,
        "notebooks/.ipynb_checkpoints/eda-checkpoint.ipynb": "{}",
        "flows/__pycache__/main.cpython-311.pyc": "c" * 300,
        "flows/main.py": "print(1)\n",
    }
    assert found(lint(repo(files), ["CTX002"])) == []
    files["Dockerfile"] = files["Dockerfile"].replace("RUN git clone", "COPY . /src\n            RUN git clone")
    assert found(lint(repo(files), ["CTX002"])) == [("CTX002", "Dockerfile", 1)]


def test_a_compose_service_that_extends_another_builds_with_its_context(repo):
    """`dev` extends `prod` and sets only its target: it builds with prod's context (the
    repository root), where requirements.txt and the package are."""
    root = repo(
        {
            "docker/Dockerfile": """
                FROM python:3.12-slim AS base
                WORKDIR /app
                COPY requirements.txt .
                RUN pip install --no-cache-dir -r requirements.txt
                FROM base AS app-prod
                COPY app ./app
                CMD ["python", "-m", "app.bot"]
                FROM base AS app-dev
                COPY requirements-dev.txt .
                RUN pip install --no-cache-dir -r requirements-dev.txt
            """,
            "docker/docker-compose.yaml": """
                services:
                  prod:
                    build:
                      context: ..
                      dockerfile: docker/Dockerfile
                      target: app-prod
                  dev:
                    extends:
                      service: prod
                    build:
                      target: app-dev
                    volumes:
                      - ..:/app
            """,
            "requirements.txt": "slack-bolt==1.21.2\n",
            "requirements-dev.txt": "pytest==8.3.4\n",
            "app/__init__.py": "",
            "app/bot.py": "import slack_bolt\n",
            ".dockerignore": ".git\n",
        }
    )
    assert found(lint(root, ["CTX003", "REQ004"])) == []


@pytest.mark.parametrize(
    "dockerfile, code, sent_needlessly",
    [
        ("COPY . /app", "from dotenv import load_dotenv\n\nload_dotenv()\n", False),  # copied in and read
        # read, never copied: BuildKit sends only what COPY takes, so it is not sent either
        ("COPY app.py /app/", "from dotenv import load_dotenv\n\nload_dotenv()\n", False),
        ("COPY . /app", "import os\n\nPORT = os.environ.get('PORT', '8000')\n", True),  # copied, never read
        ("COPY . /app", "import nonebot\n\nnonebot.init()\nnonebot.run()\n", False),  # NoneBot reads .env at init
        # a settings class names the file it reads (pydantic-settings' env_file)
        (
            "COPY . /app",
            "from pydantic_settings import BaseSettings, SettingsConfigDict\n\n\nclass Settings(BaseSettings):\n"
            '    model_config = SettingsConfigDict(env_file=".env", extra="ignore")\n',
            False,
        ),
        # a string that only looks like one (`.envrc`, `env_prefix`) names no `.env`
        ("COPY . /app", 'import os\n\nPREFIX = os.environ.get("APP_ENV", ".envrc")\n', True),
        # `flask run` reads it by itself, with python-dotenv installed (the RUN above)...
        ('COPY . /app\nCMD ["flask", "run"]', "from flask import Flask\n\napp = Flask(__name__)\n", False),
        ('COPY . /app\nCMD ["sh", "start.sh"]', "from flask import Flask\n\napp = Flask(__name__)\n", False),
        # ...but not when the container starts something else: the last CMD is the one that runs
        (
            'CMD ["flask", "run"]\nCOPY . /app\nCMD ["gunicorn", "app:app"]',
            "from flask import Flask\n\napp = Flask(__name__)\n",
            True,
        ),
    ],
)
def test_a_dotenv_file_the_service_loads_is_wanted(repo, dockerfile, code, sent_needlessly):
    """`load_dotenv()` reads the `.env` the image copies in: sending it is the point.
    Copied but never read, it is sent for nothing."""
    start = "" if "CMD" in dockerfile else 'CMD ["python", "/app/app.py"]\n'
    root = repo(
        {
            "Dockerfile": f"FROM python:3.12-slim\nWORKDIR /app\nRUN pip install python-dotenv==1.0.1\n{dockerfile}\n"
            + start,
            "app.py": code,
            "start.sh": "#!/bin/sh\nset -e\nexec flask run --host 0.0.0.0\n",
            ".env": "DG_SERVICE_URL=http://dendogram\nDG_SERVICE_PORT=3009\n",
        }
    )
    assert [f.code for f in lint(root, ["CTX002"]).findings] == (["CTX002"] if sent_needlessly else [])


def test_a_dotenv_file_compose_hands_to_the_container_need_not_be_in_the_image(repo):
    """compose's `env_file: .env` gives the container its variables: `load_dotenv()` finds
    them in the environment, and the copy in the image is the file sent for nothing."""
    root = repo(
        {
            "Dockerfile": 'FROM python:3.12-slim\nWORKDIR /app\nRUN pip install python-dotenv==1.0.1\nCOPY . /app\nCMD ["python", "bot.py"]\n',
            "bot.py": "import os\n\nfrom dotenv import load_dotenv\n\nload_dotenv()\nTOKEN = os.environ['DISCORD_BOT_TOKEN']\n",
            ".env": "DISCORD_BOT_TOKEN=abc\n",
            "docker-compose.yml": "services:\n  bot:\n    build: .\n    env_file: .env\n",
        }
    )
    assert [f.code for f in lint(root, ["CTX002"]).findings] == ["CTX002"]


@pytest.mark.parametrize("ignore_text, reported", [("", True), ("# nothing yet\n\n", True), (".env\n", False)])
def test_an_ignore_file_with_no_patterns_is_no_ignore_file(repo, ignore_text, reported):
    """An empty .dockerignore (or one of comments only) excludes nothing: `COPY . .` takes
    the .env and the bot's media folder as if there were none."""
    files = {
        "Dockerfile": 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nCMD ["python", "bot.py"]\n',
        "requirements.txt": "aiogram==3.15.0\n",
        "bot.py": "import aiogram\n",
        ".dockerignore": ignore_text,
        ".env": "TOKEN=123:abc\n",
    }
    result = lint(repo(files), ["CTX001"])
    assert found(result) == ([("CTX001", "Dockerfile", 3)] if reported else [])
    if reported:
        assert "the .dockerignore there excludes nothing" in result.findings[0].message
        # one finding for the image: CTX001 names the .env that CTX002 would
        assert found(lint(repo(files), ["CTX001", "CTX002"])) == [("CTX001", "Dockerfile", 3)]
        assert ".env" in result.findings[0].autofix.message


def test_a_pattern_written_as_gitignore_would_is_anchored_at_the_context_root(repo):
    """`*.sqlite3` and `chroma_storage/` in .dockerignore match only at the context root;
    the vector store a local run left in backend/ (git ignores it) is sent anyway. The
    fix writes the pattern for every depth."""
    files = {
        "Dockerfile": 'FROM python:3.12-slim\nWORKDIR /app\nCOPY backend/ backend/\nCMD ["python", "-m", "backend"]\n',
        "backend/__main__.py": "print('ok')\n",
        "backend/chroma_storage/chroma.sqlite3": "s" * 3000,
        ".gitignore": "chroma_storage/\n*.sqlite3\n",
        ".dockerignore": ".git\n*.sqlite3\n",
    }
    result = lint(repo(files), ["CTX002"])
    assert found(result) == [("CTX002", ".dockerignore", 1)]
    (finding,) = result.findings
    assert "backend/chroma_storage/chroma.sqlite3 (3 kB)" in finding.message
    assert "`*.sqlite3` (line 2) of .dockerignore matches only at the context root" in finding.message
    assert "`**/*.sqlite3`" in finding.fix
    # a file of that kind the repository keeps may be one the image needs: not said
    files[".gitignore"] = "__pycache__/\n"
    assert found(lint(repo(files), ["CTX002"])) == []
    # a pattern that matches at the root is what the author meant
    files[".gitignore"] = "*.sqlite3\n"
    files["local.sqlite3"] = "l"
    assert found(lint(repo(files), ["CTX002"])) == []


def test_only_what_copy_takes_is_sent(repo):
    """BuildKit transfers the context paths the COPY, ADD and bind-mount sources of the
    built stages name (dockerfile2llb's FollowPaths), the whole context only for `COPY .`:
    a .env beside a Dockerfile that copies the lock files and src/ never leaves the machine."""
    files = {
        "Dockerfile": 'FROM python:3.12-slim\nCOPY pyproject.toml poetry.lock ./\nCOPY src/ src/\nCMD ["python", "-m", "src"]\n',
        "pyproject.toml": "[tool.poetry]\nname = 'bot'\n",
        "poetry.lock": "",
        "src/__main__.py": "print(1)\n",
        "src/__pycache__/__main__.cpython-312.pyc": "c" * 500,
        ".env": "TOKEN=1\n",
        ".dockerignore": ".git\n",
    }
    result = lint(repo(files), ["CTX002"])
    assert found(result) == [("CTX002", ".dockerignore", 1)]
    assert "src/__pycache__/" in result.findings[0].message and ".env" not in result.findings[0].message
    # a bind mount of the whole context, as `COPY . .`, sends everything
    files["Dockerfile"] = files["Dockerfile"].replace("COPY src/ src/", "RUN --mount=type=bind,target=/ctx ls /ctx")
    assert ".env" in lint(repo(files), ["CTX002"]).findings[0].message


def test_a_file_a_repository_script_writes_before_building_is_made_not_missing(repo):
    """deploy.sh writes aws.env (`cat <<EOF > aws.env`) and then builds both images: the COPY
    finds it there, though a checkout does not hold it. A file no script writes is missing."""
    dockerfile = (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\nCOPY aws.env /app/aws.env\nCOPY app.py .\n"
        'CMD ["python", "app.py"]\n'
    )
    deploy = (
        "#!/bin/bash\nset -e\ncat <<EOF > aws.env\nAWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID}\nEOF\n"
        "docker build -t pathogen-api -f Dockerfile .\n"
    )
    files = {"Dockerfile": dockerfile, "requirements.txt": "boto3==1.35.0\n", "app.py": "import boto3\n"}
    assert found(lint(repo(files), ["CTX003"])) == [("CTX003", "Dockerfile", 5)]
    assert found(lint(repo({**files, "deploy.sh": deploy}), ["CTX003"])) == []


def test_a_folder_a_build_script_copies_into_the_context_is_made_not_missing(repo):
    """build_summarizer.sh finds its own folder (`path=`realpath $0``, then `dirname`),
    copies the model folder and the shared server into it, builds with that folder as the
    context and removes the copies: the COPY finds them there. A folder no script copies
    in is missing."""
    dockerfile = (
        "FROM python:3.11-slim\nWORKDIR /app\nRUN pip install --no-cache-dir transformers==4.46.3\n"
        "COPY stevhliu stevhliu\nCOPY model_server.py model_server.py\nCOPY summarizer.py summarizer.py\n"
        'CMD ["python", "model_server.py"]\n'
    )
    script = (
        '#!/bin/bash\n\npath=`realpath $0`;\npath=`dirname "$path"`\n\n'
        "cp $path/../model_server.py $path\ncp -r $path/../saved_models/stevhliu $path\n"
        "docker build -t acme/summarizer -f $path/summarizer.Dockerfile $path\n"
        "rm $path/model_server.py\nrm -rf $path/stevhliu\n"
    )
    files = {
        "pipelines/nlp/summarizer.Dockerfile": dockerfile,
        "pipelines/nlp/summarizer.py": "import transformers\n",
        "pipelines/model_server.py": "import summarizer\n",
        "pipelines/saved_models/README.md": "Download the models here.\n",
    }
    assert found(lint(repo(files), ["CTX003"])) == [("CTX003", "summarizer.Dockerfile", 4)]
    files["pipelines/nlp/build_summarizer_image.sh"] = script
    assert found(lint(repo(files), ["CTX003"])) == []
    files["pipelines/nlp/build_summarizer_image.sh"] = script.replace(
        "cp -r $path/../saved_models/stevhliu $path\n", ""
    )
    assert found(lint(repo(files), ["CTX003"])) == [("CTX003", "summarizer.Dockerfile", 4)]


def test_a_folder_a_workflow_makes_before_building_is_made_not_missing(repo):
    """The CI job makes models/ (`mkdir -p models`, then writes a test model into it) and
    builds the image after: the COPY finds the folder there."""
    dockerfile = (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\nCOPY models ./models\nCOPY app.py .\n"
        'CMD ["python", "app.py"]\n'
    )
    workflow = (
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - run: |\n          mkdir -p models\n          python make_test_model.py models/model.pt\n"
        "      - run: docker build -t api:test .\n"
    )
    files = {"Dockerfile": dockerfile, "requirements.txt": "torch==2.5.1\n", "app.py": "import torch\n"}
    assert found(lint(repo(files), ["CTX003"])) == [("CTX003", "Dockerfile", 5)]
    assert found(lint(repo({**files, ".github/workflows/test.yml": workflow}), ["CTX003"])) == []


def test_a_file_dvc_tracks_is_fetched_by_dvc_pull_not_mistyped(repo):
    """models/best.pt is gitignored and tracked by DVC (models/best.pt.dvc): the COPY works
    once `dvc pull` has run, which is said at info; without the pointer it is not in git."""
    dockerfile = (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\nCOPY models/best.pt models/best.pt\nCOPY app.py .\n"
        'CMD ["python", "app.py"]\n'
    )
    files = {
        "Dockerfile": dockerfile,
        "requirements.txt": "torch==2.5.1\n",
        "app.py": "import torch\n",
        ".gitignore": "/models/*.pt\n",
        "models/best.pt.dvc": "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 102400000\n  path: best.pt\n",
    }
    (finding,) = lint(repo(files), ["CTX003"]).findings
    assert finding.severity.name == "INFO" and "tracked by DVC (`models/best.pt.dvc`)" in finding.message
    files["Dockerfile"] = dockerfile.replace("models/best.pt models/best.pt", "models/last.pt models/last.pt")
    (finding,) = lint(repo(files), ["CTX003"]).findings  # no pointer for this one
    assert "keeps it out of git" in finding.message and finding.severity.name != "INFO"


def test_a_folder_the_readme_downloads_a_model_into_is_made_not_mistyped(repo):
    """The README's `hf download BAAI/bge-reranker-large --local-dir ./bge-reranker-large`
    fills the folder the COPY takes: the build works where that step ran, so the finding
    says so at info instead of calling the path wrong."""
    dockerfile = (
        "FROM python:3.11-slim\nWORKDIR /reranks\nCOPY ./bge-reranker-large ./bge-reranker-large\n"
        "COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY app.py .\n"
        'CMD ["python", "app.py"]\n'
    )
    readme = (
        "# Rerankers\n\n```bash\nhf download BAAI/bge-reranker-large --local-dir ./bge-reranker-large\n"
        "docker build -t rerankers .\n```\n"
    )
    files = {"Dockerfile": dockerfile, "requirements.txt": "flask==3.0.3\n", "app.py": "import flask\n"}
    (plain,) = lint(repo(files), ["CTX003"]).findings
    assert plain.severity.name == "ERROR"
    (told,) = lint(repo({**files, "README.md": readme}), ["CTX003"]).findings
    assert told.severity.name == "INFO" and "README.md:4 downloads it before the build" in told.message


def test_a_dockerfile_two_compose_files_build_from_two_contexts_names_each(repo):
    """docker-compose.local.yaml builds the inference image from src/inference (which holds
    its requirements and a .dockerignore); docker-compose.cloud.yaml from the Dockerfile's
    own folder, where `COPY requirements.txt` fails. Each finding names the context it is
    about and the file that builds from it."""
    root = repo(
        {
            "docker/inference/Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
            'RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nCMD ["python", "-m", "main"]\n',
            "docker/inference/docker-compose.local.yaml": "services:\n  app:\n    build:\n"
            "      context: ../../src/inference\n      dockerfile: ../../docker/inference/Dockerfile\n",
            "docker/inference/docker-compose.cloud.yaml": "services:\n  app:\n    build:\n      context: .\n",
            "src/inference/.dockerignore": "__pycache__\n.env\n",
            "src/inference/requirements.txt": "fastapi==0.115.6\n",
            "src/inference/main.py": "import fastapi\n",
        }
    )
    result = run_lint(root, select=["CTX001", "CTX003"])
    by_code = {finding.code: finding.message for finding in result.findings}
    assert sorted(by_code) == ["CTX001", "CTX003"]
    assert "(docker/inference/, as docker-compose.cloud.yaml builds it)" in by_code["CTX003"]
    assert "build context (docker/inference/, " in by_code["CTX001"]
    assert by_code["CTX001"].split(") and")[0].endswith("as docker-compose.cloud.yaml builds it")


def test_an_ignore_file_named_in_the_wrong_case_is_named(repo):
    """`.Dockerignore` lists .venv, but Docker on Linux reads only `.dockerignore`: the
    whole context goes in, and the finding says why the file there does not count."""
    files = {
        "Dockerfile": 'FROM python:3.12-slim\nADD . /app\nCMD ["python", "/app/main.py"]\n',
        ".Dockerignore": ".venv\n.git\n",
        "main.py": "print('load test')\n",
    }
    (finding,) = run_lint(repo(files), select=["CTX001"]).findings
    assert "(`.Dockerignore` is there, but Docker reads only `.dockerignore`" in finding.message
