"""Property-based fuzzing: every kind of file dockerlint reads, generated and mutated, must
end as findings or notes — never an exception, an invalid report, or a run whose time or
memory grows out of bounds.

Each example is a small repository: a Dockerfile and, by chance, the files it refers to
(.dockerignore, requirements files with includes, pyproject.toml, a compose file, Python
modules, a notebook, oddly named files, symlinks leading out of the repository). Each
file starts from a realistic seed, gets structured lines of its own grammar inserted or
spliced, and then byte-level damage: invalid UTF-8, NUL, other encodings, huge lines,
deep nesting, bidi controls, line separators.

The CI budget is the ``ci`` profile (derandomized, no example database, well under a
minute). ``scripts/fuzz.py --minutes N`` runs the same property for as long as asked
and prints its figures; ``DOCKERLINT_FUZZ_PROFILE=long`` runs a longer budget here.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings, target
from hypothesis import strategies as st

from dockerlint.cli import main
from dockerlint.config import config_from_table
from dockerlint.engine import lint
from dockerlint.report import FORMATS, Report, render
from dockerlint.rulebook import load_rules
from tests.conftest import SARIF_SCHEMA

# -- budgets ----------------------------------------------------------------------------------

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
# A failing input is reported as found: shrinking and explaining it re-run dockerlint under
# a tracer for tens of minutes (scripts/fuzz.py saves inputs to study).
_REPORT_AT_ONCE = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target)
settings.register_profile(
    "ci",
    max_examples=80,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=_QUIET,
    phases=_REPORT_AT_ONCE,
)
settings.register_profile(
    "long", max_examples=2_000, derandomize=False, database=None, deadline=None, suppress_health_check=_QUIET
)
PROFILE = settings.get_profile(os.environ.get("DOCKERLINT_FUZZ_PROFILE", "ci"))

# Bounds per input (a repository of a few files, some with megabyte lines). Real inputs
# take a fraction of these; the slack is for a 2-core machine shared with other work.
# Time is CPU time (the machine's load does not count), with a wall-clock bound above it
# for a run that blocks. Memory is the growth of the process's peak resident set where
# Linux lets a process reset it (no slowdown, and C allocations such as tree-sitter's
# count), else tracemalloc's peak (which slows allocation-heavy code several times).
MAX_CPU_SECONDS = 10.0  # linting in process with every rule, plus rendering every format
MAX_WALL_SECONDS = 60.0
MAX_BASE_MEMORY = 64 * 1024 * 1024  # plus MEMORY_PER_BYTE per byte of input
MEMORY_PER_BYTE = 40

SECRET = "SECRET-MARKER-7f3a"  # the content of a file outside the repository; never printed

# -- seeds: small realistic inputs -----------------------------------------------------------

DOCKERFILE_SEEDS = [
    """\
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
USER app
CMD ["gunicorn", "-b", "0.0.0.0:8000", "app.main:app"]
""",
    """\
# syntax=docker/dockerfile:1.7
ARG PYTHON=3.11
FROM python:${PYTHON}-slim AS builder
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN python -m venv $VIRTUAL_ENV
COPY pyproject.toml requirements.txt ./
RUN --mount=type=cache,target=/root/.cache/pip \\
    pip install -r requirements.txt && \\
    pip install .
FROM python:${PYTHON}-slim
COPY --from=builder /opt/venv /opt/venv
COPY --chown=app:app app/ /srv/app/
RUN useradd --create-home app
USER app
ENTRYPOINT ["python", "-m", "app"]
""",
    """\
FROM nvidia/cuda:12.1.0-runtime-ubuntu22.04
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y python3-pip git curl \\
 && rm -rf /var/lib/apt/lists/*
RUN pip3 install torch==2.3.1 --index-url https://download.pytorch.org/whl/cu121
RUN python3 -c "from transformers import AutoModel; AutoModel.from_pretrained('bert-base-uncased')"
COPY notebooks/ /work/notebooks/
COPY app /work/app
ENV HF_HOME=/models A=${HF_HOME:-/tmp}/x
HEALTHCHECK CMD curl -fsSL http://localhost:8000/health || exit 1
EXPOSE 8000
""",
    """\
# escape=`
FROM python:3.10
ARG POETRY_VERSION=1.8.3
RUN pip install "poetry==${POETRY_VERSION}" && `
    poetry config virtualenvs.create false
COPY pyproject.toml poetry.lock* ./
RUN poetry install --only main --no-root --no-interaction
COPY . .
ONBUILD COPY . /app
""",
    """\
FROM python:3.12-slim AS base
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN <<EOF
set -eux
pip install --no-cache-dir uv
uv pip install --system -r requirements.txt
EOF
COPY <<-EOT /app/settings.ini
	[app]
	debug = false
EOT
FROM base AS test
RUN --mount=type=bind,source=.,target=/src uv sync --frozen --no-dev --group test
FROM base
COPY --from=base --link /usr/local /usr/local
USER 10001
CMD python -m app
""",
    """\
FROM alpine:3.19
LABEL org.opencontainers.image.source="https://example.com/repo" maintainer=me
MAINTAINER someone
RUN apk add --no-cache python3 py3-pip gcc musl-dev
ADD --chmod=755 https://example.com/tool.tar.gz /opt/
ADD app.tar.gz /srv/
WORKDIR $HOME/app
VOLUME ["/data"]
STOPSIGNAL SIGTERM
RUN pip install --break-system-packages flask requests 'numpy<2'
USER nobody
""",
]

REQUIREMENTS_SEEDS = [
    """\
flask==3.0.3
gunicorn>=21.2,<23
numpy==1.26.4 ; python_version < "3.13"
requests[socks]~=2.31
-r requirements/base.txt
""",
    """\
# pinned with hashes
--index-url https://pypi.org/simple
--extra-index-url https://download.pytorch.org/whl/cu121
torch==2.3.1+cu121 \\
    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000 \\
    --hash=sha256:1111111111111111111111111111111111111111111111111111111111111111
transformers==4.41.2  # noqa: REQ001
""",
    """\
-c constraints.txt
-e .
-e git+https://github.com/example/lib.git@v1.2#egg=lib
./vendor/pkg
pkg @ https://files.example.com/pkg-1.0-py3-none-any.whl
opencv-python-headless
tensorflow-gpu==2.10.0
--find-links ./wheels
--no-binary :all:
${PRIVATE_INDEX}/simple/private-pkg
""",
]

IGNORE_SEEDS = [
    """\
.git
**/__pycache__
*.pyc
.venv/
data/
!data/schema.json
models/**/*.bin
# local files
.env
""",
    """\
*
!app/
!requirements.txt
!pyproject.toml
app/**/tests
[a-z]?.log
\\#not-a-comment
""",
]

PYPROJECT_SEEDS = [
    """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "svc"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["fastapi>=0.110", "uvicorn[standard]", "torch; extra == 'gpu'"]

[project.optional-dependencies]
gpu = ["nvidia-cudnn-cu12"]

[dependency-groups]
test = ["pytest>=8", {include-group = "lint"}]
lint = ["ruff"]
""",
    """\
[tool.poetry]
name = "svc"
version = "0.1.0"

[tool.poetry.dependencies]
python = "^3.10"
pandas = {version = "^2.2", extras = ["parquet"], optional = true}
scikit-learn = "~1.4"
mylib = {git = "https://github.com/example/mylib.git", branch = "main"}

[tool.poetry.group.dev.dependencies]
black = "*"

[tool.uv]
dev-dependencies = ["mypy"]

[tool.uv.sources]
mylib = { path = "../mylib", editable = true }
""",
    """\
[project]
name = "svc"
dynamic = ["version"]
dependencies = [
  "flask",
]

[tool.dockerlint]
ignore = ["DL3008"]
known-modules = {mylib = ["my_lib"]}

[tool.dockerlint.contexts]
"Dockerfile" = "."
""",
]

COMPOSE_SEEDS = [
    """\
x-a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
x-b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
x-c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
x-d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
x-e: &e {<<: {build: .}, x: [*d, *d, *d, *d, *d, *d, *d, *d, *d]}
x-f: &f [*e, *e, *e, *e]
services:
  web: *e
  bomb: {build: ., x: *f}
  worker:
    <<: *e
    image: !!python/object/apply:os.system ["true"]
""",
    """\
x-base: &base
  build:
    context: .
    dockerfile: Dockerfile
  environment:
    LOG_LEVEL: info
services:
  api:
    <<: *base
    ports: ["8000:8000"]
    volumes:
      - ./app:/srv/app
      - models:/models
  worker:
    <<: *base
    command: ["python", "-m", "app.worker"]
    deploy:
      resources:
        reservations:
          devices:
            - driver: nvidia
              capabilities: [gpu]
volumes:
  models: {}
""",
    """\
services:
  web:
    build: .
    image: example/web:latest
  trainer:
    build:
      context: .
      dockerfile: Dockerfile
      target: base
      args:
        PYTHON: "3.12"
        - BAD
    runtime: nvidia
    environment:
      - CUDA_VISIBLE_DEVICES=0
    command: python -m train --epochs 3
""",
]

PYTHON_SEEDS = [
    """\
from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import numpy as np
from flask import Flask

try:
    import ujson as json
except ImportError:
    import json

if TYPE_CHECKING:
    import pandas as pd

from . import settings
from .models import load

app = Flask(__name__)
""",
    """\
import importlib
from contextlib import suppress

import torch
from transformers import AutoModel, AutoTokenizer

with suppress(ModuleNotFoundError):
    import cv2

tokenizer = AutoTokenizer.from_pretrained("bert-base-uncased")
model = AutoModel.from_pretrained(os.environ.get("MODEL", "gpt2"))
plugin = importlib.import_module(".plugins.extra", package="app")
sklearn = __import__("sklearn")


def main() -> None:
    match sys.argv[1:]:
        case ["serve", *rest]:
            print(f"{rest!r:>{10}}")
        case _:
            pass


if __name__ == "__main__":
    main()
""",
]


def _notebook(cells: list, language: str = "python", nbformat: int = 4) -> str:
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": {"language": language, "name": "python3"}},
        "nbformat": nbformat,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1)


NOTEBOOK_SEEDS = [
    _notebook(
        [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Training\n"]},
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": 1,
                "outputs": [],
                "source": ["%pip install -q datasets\n", "!pip install accelerate\n", "import pandas as pd\n"],
            },
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "source": "%%bash\napt-get install -y ffmpeg\n",
            },
            {"cell_type": "code", "metadata": {}, "outputs": [], "source": ["files = !ls\n", "pd.read_csv?\n"]},
        ]
    ),
]

# -- structured generation: lines of each grammar --------------------------------------------

_IMAGES = [
    "python:3.12-slim",
    "python",
    "python:3.11-alpine",
    "nvidia/cuda:12.1.0-devel-ubuntu22.04",
    "pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime",
    "ubuntu:22.04",
    "scratch",
    "base",
    "builder",
    "${BASE}",
    "$BASE:latest",
    "ghcr.io/example/img@sha256:" + "a" * 64,
    "localhost:5000/img:tag",
    "python:3.12-slim@sha256:zz",
    "",
]
_SHELL = [
    "pip install flask",
    "pip install --no-cache-dir -r requirements.txt",
    "pip install -r requirements/base.txt -c constraints.txt",
    "pip3 install --user torch==2.3.1 --index-url https://download.pytorch.org/whl/cpu",
    "python -m pip install -e .",
    "pip install .[gpu]",
    "pip install /src",
    "uv pip install --system numpy",
    "uv sync --frozen --no-dev",
    "poetry install --only main --no-root",
    "conda install -y -c conda-forge numpy && conda clean -afy",
    "apt-get update",
    "apt-get install -y --no-install-recommends build-essential curl",
    "rm -rf /var/lib/apt/lists/*",
    "apk add --no-cache gcc musl-dev",
    "curl -fsSL https://example.com/install.sh | sh",
    "wget -qO- http://[::1/x",
    "curl http://user:pa@ss@host:99999/x",
    "python -c \"import torch; torch.hub.load('pytorch/vision', 'resnet50')\"",
    "huggingface-cli download gpt2 --local-dir /models",
    "cd /app",
    "set -eux",
    "set -o pipefail",
    "echo $(cat /etc/os-release)",
    "`which python` -V",
    "bash -c 'pip install requests'",
    'sh -c "apt-get install -y git"',
    "if [ -f x ]; then pip install x; fi",
    "for p in a b; do pip install $p; done",
    "useradd -m app && chown -R app /app",
    "pip install ${PACKAGES}",
    'pip install "$(cat reqs)"',
    "export PATH=/opt/venv/bin:$PATH",
    "python -m venv /opt/venv",
    ". /opt/venv/bin/activate",
    "git clone https://github.com/example/repo.git",
    "pip install torch --extra-index-url https://download.pytorch.org/whl/cu121",
    "pip download -d /wheels numpy",
    "npm ci",
    "cat <<EOF > /etc/x\nline\nEOF",
    "case $x in a) echo;; esac",
    "{ echo a; } 2>&1 >/dev/null",
    "arr=(a b); echo ${arr[@]}",
    "echo $((1 + 2))",
    "diff <(ls) >(cat)",
    'exec "$@"',
]
_JOINERS = [" && ", " ; ", " || ", " | ", " && \\\n    ", " \\\n && ", "\n", " & "]
_FLAGS = {
    "RUN": [
        "--mount=type=cache,target=/root/.cache/pip",
        "--mount=type=secret,id=token,required=true",
        "--mount=type=bind,source=.,target=/src",
        "--network=none",
        "--security=insecure",
        "--mount=",
    ],
    "COPY": ["--from=builder", "--from=0", "--chown=app:app", "--chmod=755", "--link", "--exclude=*.pyc", "--parents"],
    "ADD": ["--checksum=sha256:" + "0" * 64, "--keep-git-dir=true", "--chown=1000", "--unpack=true"],
    "FROM": ["--platform=$BUILDPLATFORM", "--platform=linux/amd64"],
}
_WORDS = [
    "$A",
    "${A}",
    "${A:-x}",
    "${A:+y}",
    "${A-}",
    "${A?err}",
    "${A%%.*}",
    "$$",
    "\\$A",
    "${",
    "${A:-${B:-c}}",
    "'quoted $A'",
    '"dq ${A}"',
    "$",
    "%%",
    "=",
    "==",
]
_SOURCES = [
    ".",
    "./",
    "app",
    "app/",
    "requirements.txt",
    "requirements*.txt",
    "pyproject.toml",
    "*.py",
    "app/**/*.py",
    "notebooks",
    "../outside",
    "/abs",
    "missing.txt",
    "[ab].txt",
    "data/*.bin",
    "odd",
    "link",
]
_DESTINATIONS = [".", "/app/", "/app", "./", "/srv/app/", "$HOME", "${DEST:-/opt}", "~", "/"]


def _case(draw, word: str) -> str:
    style = draw(st.integers(0, 6))
    return word.lower() if style == 0 else word.title() if style == 1 else word


@st.composite
def shell_script(draw) -> str:
    parts = draw(st.lists(st.sampled_from(_SHELL + _WORDS), min_size=1, max_size=4))
    joiners = draw(st.lists(st.sampled_from(_JOINERS), min_size=len(parts) - 1, max_size=len(parts) - 1))
    script = parts[0]
    for joiner, part in zip(joiners, parts[1:], strict=True):
        script += joiner + part
    return script


@st.composite
def json_form(draw, words: st.SearchStrategy[str]) -> str:
    items = draw(st.lists(words, max_size=4))
    text = json.dumps(items)
    breakage = draw(st.integers(0, 8))
    if breakage == 0:
        text = text[:-1]  # unterminated
    elif breakage == 1:
        text = text.replace('"', "'")
    elif breakage == 2:
        text = "[" + text
    return text


@st.composite
def dockerfile_line(draw) -> str:
    keyword = draw(
        st.sampled_from(
            ["FROM", "RUN", "RUN", "COPY", "ADD", "ENV", "ARG", "CMD", "ENTRYPOINT", "WORKDIR", "USER", "EXPOSE"]
            + ["VOLUME", "LABEL", "HEALTHCHECK", "SHELL", "STOPSIGNAL", "MAINTAINER", "ONBUILD", "ONBUILD", "FOO"]
            + ["#", "# directive", ""]
        )
    )
    flags = " ".join(draw(st.lists(st.sampled_from(_FLAGS.get(keyword, ["--bogus"])), max_size=2)))
    word = st.sampled_from(_WORDS + _SOURCES + ["app", "1000", "x=y", "A=${A}${A}"])
    if keyword == "FROM":
        stage = draw(st.sampled_from(["", " AS builder", " as base", " AS", " AS 0", " AS ${X}"]))
        args = f"{flags} {draw(st.sampled_from(_IMAGES))}{stage}"
    elif keyword == "RUN":
        form = draw(st.integers(0, 5))
        if form == 0:
            args = f"{flags} {draw(json_form(st.sampled_from(_SHELL + _WORDS)))}"
        elif form == 1:
            tag = draw(st.sampled_from(["EOF", "'EOF'", '"END"', "-EOT", "EOF1 <<EOF2"]))
            body = draw(shell_script())
            args = f"{flags} <<{tag}\n{body}\n{tag.strip(chr(39) + chr(34) + '-').split()[0]}"
        else:
            args = f"{flags} {draw(shell_script())}"
    elif keyword in ("COPY", "ADD"):
        if draw(st.integers(0, 5)) == 0:
            args = f"{flags} {draw(json_form(st.sampled_from(_SOURCES + _DESTINATIONS)))}"
        elif draw(st.integers(0, 6)) == 0:
            args = f"{flags} <<EOF /app/file.txt\ncontent $A\nEOF"
        else:
            sources = " ".join(draw(st.lists(st.sampled_from(_SOURCES), min_size=0, max_size=3)))
            args = f"{flags} {sources} {draw(st.sampled_from(_DESTINATIONS))}"
    elif keyword in ("ENV", "ARG", "LABEL"):
        pairs = draw(st.lists(st.sampled_from(["A", "B", "PATH", "HOME", "", "1X", "A B", "é"]), max_size=3))
        values = draw(st.lists(word, min_size=len(pairs), max_size=len(pairs)))
        separator = draw(st.sampled_from(["=", " ", "= ", "=="]))
        args = " ".join(f"{name}{separator}{value}" for name, value in zip(pairs, values, strict=True))
    elif keyword in ("CMD", "ENTRYPOINT", "SHELL", "VOLUME"):
        if draw(st.booleans()):
            args = draw(json_form(st.sampled_from(["python", "-m", "app", "/bin/sh", "-c", "$A", "", "\\u0000"])))
        else:
            args = draw(shell_script())
    elif keyword == "HEALTHCHECK":
        args = draw(st.sampled_from(["NONE", "--interval=5s CMD ", "CMD ", "--timeout=x CMD [", "CMD-SHELL "]))
        args += draw(shell_script())
    elif keyword == "ONBUILD":
        args = draw(dockerfile_line()) if draw(st.booleans()) else draw(st.sampled_from(["ONBUILD RUN x", "FROM x"]))
    elif keyword == "#":
        args = draw(
            st.sampled_from(
                [
                    "dockerlint: ignore=DL3008,SEC001",
                    "hadolint ignore=DL3013,SC2086",
                    "hadolint global ignore=DL3008",
                    "dockerlint: ignore-file=ALL",
                    "dockerlint: ignore=NOPE123",
                    "comment \\",
                ]
            )
        )
        return f"# {args}"
    elif keyword == "# directive":
        return draw(
            st.sampled_from(
                [
                    "# escape=`",
                    "# escape=\\",
                    "# escape=x",
                    "# syntax=docker/dockerfile:1",
                    "# check=skip=all;error=true",
                ]
            )
        )
    elif keyword == "":
        return draw(st.sampled_from(["", "   ", "\\", "\t\\ ", " \\"]))
    else:
        args = " ".join(draw(st.lists(word, max_size=3)))
    line = f"{_case(draw, keyword)} {args}".replace("  ", " ")
    if draw(st.integers(0, 5)) == 0:  # a continuation in the middle of the line
        cut = draw(st.integers(0, len(line)))
        line = line[:cut] + draw(st.sampled_from([" \\\n", "\\\n# comment\n  ", "`\n", " \\  \n\n"])) + line[cut:]
    return line


_NAMES = [
    "flask",
    "numpy",
    "torch",
    "Django",
    "scikit-learn",
    "opencv-python",
    "tensorflow-gpu",
    "jax",
    "pkg.name",
    "a_b",
]
_SPECIFIERS = [
    "==1.2.3",
    ">=1,<2",
    "~=2.0",
    "===weird",
    "==1.*",
    "",
    "!=3",
    " @ https://example.com/x-1.0.whl",
    "@ git+https://github.com/a/b@main",
    "==",
    ">=1.0.0rc1",
    "==2.3.1+cu121",
    " (>=1)",
]
_MARKERS = ["", "", "; python_version < '3.12'", '; sys_platform == "linux"', ";", "; extra == 'gpu'", "; bogus", ";;"]
_OPTION_LINES = [
    "-r base.txt",
    "-r requirements/base.txt",
    "-c constraints.txt",
    "-r missing.txt",
    "-r ../../../outside/passwd",
    "-r requirements.txt",
    "--requirement=requirements/base.txt",
    "-r https://example.com/r.txt",
    "-r",
    "-e .",
    "-e git+https://github.com/x/y.git#egg=y",
    "-e",
    "./local/pkg",
    "file:///tmp/x.whl",
    "pkg-1.0-py3-none-any.whl",
    "${HOME}/x",
    "--index-url https://user:secret@pypi.example.com/simple",
    "-i http://[::1/simple",
    "--no-index",
    "--find-links ./wheels",
    "--prefer-binary",
    "--only-binary=:all:",
    "--use-feature=fast-deps",
    "--config-settings=key=value",
    "--global-option=--x",
    "--trusted-host example.com",
    "--pre",
    "--unknown-option",
    "-Z",
    "--hash",
    "# -*- coding: latin-1 -*-",
    "# coding=utf-16",
]


@st.composite
def requirements_line(draw) -> str:
    if draw(st.integers(0, 3)) == 0:
        line = draw(st.sampled_from(_OPTION_LINES))
    else:
        name = draw(st.sampled_from(_NAMES))
        extras = draw(st.sampled_from(["", "[gpu]", "[a,b]", "[", "[]"]))
        line = name + extras + draw(st.sampled_from(_SPECIFIERS)) + draw(st.sampled_from(_MARKERS))
        for _ in range(draw(st.integers(0, 2))):
            line += draw(
                st.sampled_from(
                    [" --hash=sha256:" + "ab" * 32, " --hash=md5:00", " --hash=", " \\\n    --hash=sha512:ff"]
                )
            )
    return line + draw(st.sampled_from(["", "", "  # comment", " # noqa", "  # noqa: REQ001,REQ999", " \\"]))


_IGNORE_LINES = [
    "*",
    "**",
    "**/*.py",
    "!app",
    "!",
    "/",
    "./app",
    "../x",
    "[",
    "[a-",
    "[^a]",
    "\\",
    "a\\*b",
    "#",
    " spaced ",
    "dir/**/",
    "!**/keep/**",
    "data",
    "requirements.txt",
    "Dockerfile",
    ".dockerignore",
    "*.[ch]",
    "a{b,c}",
    "a/../b",
    "\\!x",
]


@st.composite
def pyproject_text(draw) -> str:
    def string() -> str:
        return json.dumps(draw(st.sampled_from(_NAMES + [n + s for n in _NAMES[:3] for s in _SPECIFIERS[:4]] + [""])))

    def strings() -> str:
        return "[" + ", ".join(string() for _ in range(draw(st.integers(0, 3)))) + "]"

    sections = []
    if draw(st.booleans()):
        sections.append(f"[project]\nname = {string()}\ndependencies = {strings()}\n")
        if draw(st.booleans()):
            sections.append(f"[project.optional-dependencies]\ngpu = {strings()}\n{string()} = {strings()}\n")
    if draw(st.booleans()):
        group = draw(st.sampled_from(["test", "dev", "a"]))
        included = draw(st.sampled_from(["test", "dev", "a", "missing"]))
        sections.append(f'[dependency-groups]\n{group} = [{string()}, {{include-group = "{included}"}}]\n')
    if draw(st.booleans()):
        value = draw(
            st.sampled_from(
                ['"^3.10"', '"*"', '{version = ">=1", optional = true}', '{git = "https://x/y.git"}', "[1, 2]", "{}"]
                + ['"~1.4"', '"^0.0.1"', '">=1,<2 || 3"', '{path = "../lib", develop = true}']
            )
        )
        sections.append(f"[tool.poetry.dependencies]\npython = {value}\n{string()} = {value}\n")
        sections.append(f"[tool.poetry.group.{draw(st.sampled_from(['dev', 'test', '']))}.dependencies]\nx = {value}\n")
    if draw(st.booleans()):
        sections.append(f"[tool.uv]\ndev-dependencies = {strings()}\n[tool.uv.sources]\nx = {{ workspace = true }}\n")
    if draw(st.integers(0, 3)) == 0:
        option = draw(
            st.sampled_from(
                ['select = ["ALL"]', 'ignore = ["DL"]', 'exclude = ["**"]', 'large-file-size = "10MB"']
                + ['known-modules = {x = "y"}', 'per-file-ignores = {"*" = ["SEC001"]}', "fail-level = 3"]
            )
        )
        sections.append(f"[tool.dockerlint]\n{option}\n")
    return "\n".join(sections)


@st.composite
def compose_text(draw) -> str:
    import yaml

    services = {}
    for name in draw(st.lists(st.sampled_from(["api", "worker", "web", "0", "a b", "ü"]), max_size=3, unique=True)):
        service: dict = {}
        build = draw(st.integers(0, 5))
        if build == 1:
            service["build"] = draw(st.sampled_from([".", "./app", "..", "/", "missing"]))
        elif build >= 2:
            service["build"] = {
                "context": draw(st.sampled_from([".", "app", "../outside", "/tmp", "", "https://github.com/x/y.git"])),
                "dockerfile": draw(
                    st.sampled_from(["Dockerfile", "../outside/passwd", "/etc/hostname", "nope", "", "app"])
                ),
            }
            if draw(st.booleans()):
                service["build"]["target"] = draw(st.sampled_from(["base", "builder", "missing", ""]))
            if draw(st.booleans()):
                service["build"]["args"] = draw(st.sampled_from([{"PYTHON": "3.12"}, ["A=1", "B"], "x", None]))
        if draw(st.booleans()):
            service["image"] = draw(st.sampled_from(_IMAGES))
        if draw(st.booleans()):
            service["deploy"] = {
                "resources": {
                    "reservations": {"devices": [{"capabilities": [["gpu"], "gpu"][draw(st.integers(0, 1))]}]}
                }
            }
        if draw(st.booleans()):
            service["volumes"] = draw(
                st.sampled_from([["./app:/app"], [{"type": "bind", "source": ".", "target": "/x"}], ["C:\\x:/y"], [1]])
            )
        if draw(st.booleans()):
            service["command"] = draw(st.sampled_from(["python -m app", ["a", 1], {"a": "b"}]))
        services[name] = service
    return yaml.safe_dump({"services": services}, sort_keys=False)


_PYTHON_LINES = [
    "import os",
    "import numpy as np",
    "import a.b.c",
    "from . import x",
    "from .. import y",
    "from ...z import *",
    "from sklearn.ensemble import RandomForestClassifier",
    "try:\n    import orjson\nexcept (ImportError, AttributeError):\n    orjson = None",
    "if TYPE_CHECKING:\n    import torch",
    "if typing.TYPE_CHECKING:\n    pass\nelse:\n    import jax",
    "importlib.import_module('x.y')",
    "importlib.import_module(name)",
    "__import__('pkg_resources')",
    "AutoModel.from_pretrained('bert-base-uncased', cache_dir='/models')",
    "hf_hub_download(repo_id='x/y', filename='model.bin')",
    "torch.hub.load('a/b', 'c')",
    "def f(x):\n    import yaml\n    return x",
    "class A:\n    import requests",
    "x = f'{a!r} {b:{c}}'",
    "async def g():\n    async with x as y:\n        await z",
    "print 'py2'",
    "def (",
    "\tmixed = 1",
    "x = 1 if y else\\\n    2",
    "lambda: (yield)",
    "type X = list[int]",
    "def f[T](x: T) -> T: ...",
    "with (open(a) as b, open(c) as d):\n    pass",
    "# -*- coding: latin-1 -*-",
    "'''unterminated",
    "import",
    "from import x",
    "from __future__ import braces",
]


@st.composite
def notebook_text(draw) -> str:
    cells = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["code", "code", "markdown", "raw", "weird"]))
        lines = draw(
            st.lists(
                st.sampled_from(
                    _PYTHON_LINES
                    + ["%pip install -q x", "!pip install y", "%%bash", "%%time", "%matplotlib inline", "!ls", "x?"]
                    + ["%load_ext tensorboard", "%%script bash", "files = !ls", "%time import z", "  import indented"]
                ),
                max_size=4,
            )
        )
        source = "\n".join(lines)
        shape = draw(st.integers(0, 4))
        cell: dict = {"cell_type": kind, "metadata": {}}
        if shape == 0:
            cell["source"] = source
        elif shape == 1:
            cell["source"] = [line + "\n" for line in lines]
        elif shape == 2:
            cell["source"] = draw(st.sampled_from([None, 1, {"a": 1}, [1, 2]]))
        elif shape == 3:
            cell["input"] = source
        if kind == "code":
            cell["outputs"] = []
        cells.append(cell)
    language = draw(st.sampled_from(["python", "python", "Python3", "R", "", None]))
    nbformat = draw(st.sampled_from([4, 4, 3, 5, "4"]))
    if nbformat == 3:
        return json.dumps({"worksheets": [{"cells": cells}], "metadata": {"language": language}, "nbformat": 3})
    return _notebook(cells, language, nbformat)


# -- mutation ---------------------------------------------------------------------------------

_HOSTILE_TOKENS = [
    "\\\n",
    "`\n",
    "${",
    "$(",
    "`",
    '"',
    "'",
    "<<EOF",
    "[",
    "{",
    "}",
    "]",
    "\\",
    "\x00",
    "\u2028",
    "\u2029",
    "\u202e",
    "\u2066",
    "\u200f",
    "\ufeff",
    "\x1b[31m",
    "\x85",
    "\r",
    "\r\n",
    "\t",
    "\x0b\x0c",
    "\n\n\n",
    "é",
    "漢字",
    "\U0001f600",
    "\udcff",  # a lone surrogate: written with surrogateescape, an invalid byte
    "::error::",
    "%0A",
    "#",
    ";",
    "&&",
    "|",
    "=",
    ":",
    ",",
]
_NESTERS = ["(", "[", "{", "${", "$(", "${A:-", "[[", "- ", "  ", "\\\n", "((", '"', "<<", "f'{", "{{", "!", "*", "**/"]


@st.composite
def mutated_text(draw, text: str, line_strategy: st.SearchStrategy[str]) -> str:
    """Structured mutation: lines of the file's own grammar inserted, lines dropped,
    duplicated or swapped, lines spliced in from other kinds, hostile tokens inserted."""
    lines = text.split("\n")
    for _ in range(draw(st.integers(0, 5))):
        operation = draw(st.integers(0, 9))
        index = draw(st.integers(0, len(lines)))
        if operation <= 3:
            lines.insert(index, draw(line_strategy))
        elif operation == 4 and lines:
            del lines[min(index, len(lines) - 1)]
        elif operation == 5 and lines:
            line = lines[min(index, len(lines) - 1)]
            lines[index:index] = [line] * draw(st.sampled_from([2, 10, 200]))
        elif operation == 6 and len(lines) > 1:
            other = draw(st.integers(0, len(lines) - 1))
            here = min(index, len(lines) - 1)
            lines[here], lines[other] = lines[other], lines[here]
        elif operation == 7:
            seeds = draw(st.sampled_from([DOCKERFILE_SEEDS, REQUIREMENTS_SEEDS, IGNORE_SEEDS, PYTHON_SEEDS]))
            seed_lines = draw(st.sampled_from(seeds)).split("\n")
            lines.insert(index, draw(st.sampled_from(seed_lines)))
        else:
            joined = "\n".join(lines)
            at = draw(st.integers(0, len(joined)))
            joined = joined[:at] + draw(st.sampled_from(_HOSTILE_TOKENS)) + joined[at:]
            lines = joined.split("\n")
    return "\n".join(lines)


@st.composite
def mutated_bytes(draw, text: str) -> bytes:
    """Encoding and byte-level damage: invalid UTF-8, NUL, huge lines, deep nesting,
    truncation."""
    encoding = draw(st.sampled_from(["utf-8"] * 8 + ["utf-8-sig", "utf-16", "latin-1", "cp1252"]))
    data = text.encode(encoding, "surrogateescape" if encoding.startswith("utf-8") else "replace")
    for _ in range(draw(st.integers(0, 3))):
        operation = draw(st.integers(0, 8))
        at = draw(st.integers(0, len(data)))
        if operation == 0:
            insert = draw(
                st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\x80"])
            )
        elif operation == 1:
            insert = b"\x00"
        elif operation == 2:  # a huge line
            size = draw(st.sampled_from([5_000, 70_000, 300_000, 1_200_000]))
            insert = draw(st.sampled_from([b"a", b"a ", b"-r ", b"$A", b"\\", b"*", b"x=1 ", b"\xe2\x80\xae"])) * (
                size // 2
            )
        elif operation == 3:  # deep nesting, maybe closed
            opener = draw(st.sampled_from(_NESTERS)).encode()
            depth = draw(st.sampled_from([100, 1_000, 20_000]))
            closer = {b"(": b")", b"[": b"]", b"{": b"}", b"${": b"}", b"$(": b")"}.get(opener, b"")
            insert = opener * depth + (closer * depth if draw(st.booleans()) else b"")
        elif operation == 4:
            insert = draw(st.sampled_from(["\u2028", "\u2029", "\u202e", "\u2067", "\x1b]8;;", "\x85"])).encode()
        elif operation == 5:  # many lines
            insert = draw(st.sampled_from([b"\n", b"\\\n", b"#\n", b"\r", b"x\n", b"RUN x\n"])) * draw(
                st.sampled_from([1_000, 30_000])
            )
        elif operation == 6:
            data = data[:at]
            continue
        elif operation == 7:  # flip one byte
            if not data:
                continue
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([data[at] ^ draw(st.sampled_from([0x80, 0x20, 0x01, 0xFF]))]) + data[at + 1 :]
            continue
        else:
            insert = b"\xef\xbb\xbf"
        data = data[:at] + insert + data[at:]
    return data


@st.composite
def file_content(draw, seeds: list[str], line_strategy: st.SearchStrategy[str]) -> bytes:
    """A file: a seed, a structured generation or nothing but generated lines; then
    mutated at the line level and at the byte level (each with a fair chance of none)."""
    origin = draw(st.integers(0, 5))
    if origin <= 3:
        text = draw(st.sampled_from(seeds))
    elif origin == 4:
        text = "\n".join(draw(st.lists(line_strategy, max_size=8)))
    else:
        text = ""
    if draw(st.integers(0, 3)) > 0:
        text = draw(mutated_text(text, line_strategy))
    if draw(st.integers(0, 2)) > 0:
        return text.encode("utf-8", "surrogateescape")
    return draw(mutated_bytes(text))


# -- a repository ---------------------------------------------------------------------------


@dataclass
class Repository:
    files: dict[str, bytes] = field(default_factory=dict)  # relative path -> content
    links: dict[str, str] = field(default_factory=dict)  # relative path -> link target
    specials: dict[str, str] = field(default_factory=dict)  # relative path -> "fifo" or "folder"

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        shown = {
            name: (data if len(data) <= 300 else data[:150] + b"..." + data[-100:]) for name, data in self.files.items()
        }
        sizes = {name: len(data) for name, data in self.files.items()}
        return f"Repository(files={shown!r}, links={self.links!r}, specials={self.specials!r}, sizes={sizes!r})"

    def size(self) -> int:
        return sum(len(data) for data in self.files.values())


_ODD_NAMES = [
    "a b.py",
    "ünï.py",
    "x\u202ey.py",
    "line\nbreak.py",
    "\udcff.py",
    "%SRCROOT%.py",
    "n" * 250 + ".py",
    "dir:colon,comma.py",
    "-r",
    "[ab].txt",
    "*",
    "\\back.py",
    "tab\there.py",
]
_SPECIAL_NAMES = [
    "requirements.txt",
    "requirements/base.txt",
    ".dockerignore",
    "pyproject.toml",
    "compose.yaml",
    "app/main.py",
    "notebooks/train.ipynb",
    "Dockerfile.dockerignore",
    "constraints.txt",
    "app/data.bin",
]
_DOCKERFILE_NAMES = [
    "Dockerfile",
    "Dockerfile",
    "Dockerfile",
    "Containerfile",
    "build/Dockerfile.prod",
    "app.Dockerfile",
    "Dockerfile.x\ny",
    "Dockerfile.\u2028\u202e",
    "Dockerfile.\udcff",
    "Dockerfile.%0A::error",
]


@st.composite
def repositories(draw) -> Repository:
    repo = Repository()
    repo.files[draw(st.sampled_from(_DOCKERFILE_NAMES))] = draw(file_content(DOCKERFILE_SEEDS, dockerfile_line()))
    if draw(st.integers(0, 4)) == 0:
        repo.files["svc/Dockerfile"] = draw(file_content(DOCKERFILE_SEEDS, dockerfile_line()))
    if draw(st.booleans()):
        repo.files[".dockerignore"] = draw(file_content(IGNORE_SEEDS, st.sampled_from(_IGNORE_LINES)))
    if draw(st.booleans()):
        repo.files["requirements.txt"] = draw(file_content(REQUIREMENTS_SEEDS, requirements_line()))
        if draw(st.booleans()):
            repo.files["requirements/base.txt"] = draw(file_content(REQUIREMENTS_SEEDS, requirements_line()))
        if draw(st.integers(0, 3)) == 0:
            repo.files["constraints.txt"] = draw(file_content(REQUIREMENTS_SEEDS, requirements_line()))
    if draw(st.booleans()):
        name = draw(st.sampled_from(["pyproject.toml", "pyproject.toml", "app/pyproject.toml"]))
        repo.files[name] = draw(file_content(PYPROJECT_SEEDS + [draw(pyproject_text())], pyproject_text()))
    if draw(st.integers(0, 2)) == 0:
        name = draw(st.sampled_from(["compose.yaml", "docker-compose.yml", "compose.override.yaml"]))
        repo.files[name] = draw(file_content(COMPOSE_SEEDS + [draw(compose_text())], compose_text()))
    if draw(st.booleans()):
        repo.files["app/main.py"] = draw(file_content(PYTHON_SEEDS, st.sampled_from(_PYTHON_LINES)))
        if draw(st.integers(0, 3)) == 0:
            repo.files["app/__init__.py"] = b""
    if draw(st.integers(0, 3)) == 0:
        repo.files["notebooks/train.ipynb"] = draw(file_content(NOTEBOOK_SEEDS + [draw(notebook_text())], st.just("")))
    if draw(st.integers(0, 4)) == 0:
        repo.files[draw(st.sampled_from(_ODD_NAMES))] = b"import odd\n"
    if draw(st.integers(0, 4)) == 0:
        for name in draw(
            st.lists(
                st.sampled_from([".dockerignore", "requirements.txt", "pyproject.toml", "link", "app/link.py", "loop"]),
                max_size=2,
                unique=True,
            )
        ):
            repo.links[name] = draw(
                st.sampled_from(["../outside/passwd", "../outside", "loop", ".", "/nonexistent", "requirements.txt"])
            )
            repo.files.pop(name, None)
    if draw(st.integers(0, 6)) == 0:  # a named pipe or a folder where a file is expected
        for name in draw(st.lists(st.sampled_from(_SPECIAL_NAMES), min_size=1, max_size=2, unique=True)):
            repo.specials[name] = draw(st.sampled_from(["fifo", "folder"]))
            repo.files.pop(name, None)
            repo.links.pop(name, None)
    if draw(st.integers(0, 2)) == 0:  # what git keeps out (CTX003 and SEC002 read it for missing sources)
        name = draw(st.sampled_from([".gitignore", "app/.gitignore", "svc/.gitignore"]))
        if draw(st.integers(0, 5)) == 0:
            repo.links[name] = draw(st.sampled_from(["../outside/passwd", "loop", "/nonexistent"]))
        else:
            repo.files[name] = draw(file_content(IGNORE_SEEDS, st.sampled_from(_IGNORE_LINES)))
    return repo


# -- running one input --------------------------------------------------------------------------

_HEADER = re.compile(r"^(?P<path>.+):(?P<line>\d+):(?P<column>\d+): (?:error|warning|info): .* \[[A-Z]+[0-9]+\]$")
_GITHUB = re.compile(r"^::(?:error|warning|notice)(?: [^:]*)?::.*$")
# Control characters (tab aside), line and paragraph separators, bidi controls, surrogates.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


@dataclass
class Outcome:
    cpu_seconds: float  # in process, every rule, every format
    wall_seconds: float
    peak_bytes: int  # the same run's peak memory
    findings: int
    cli_exit: int


_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kb(key: str) -> int:
    match = re.search(rf"^{key}:\s+(\d+) kB", _STATUS.read_text(), re.MULTILINE)
    return int(match.group(1)) if match else 0


@lru_cache(maxsize=1)
def _peak_rss_resets() -> bool:
    try:
        _CLEAR_REFS.write_text("5")  # 5: reset the peak resident set to the current one
    except OSError:
        return False
    return _status_kb("VmHWM") > 0


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    """``with peak_memory() as peak:`` then ``peak[0]``: bytes the block needed at most."""
    peak = [0]
    if _peak_rss_resets():
        _CLEAR_REFS.write_text("5")
        before = _status_kb("VmRSS")
        try:
            yield peak
        finally:
            peak[0] = max(_status_kb("VmHWM") - before, 0) * 1024
    else:
        tracemalloc.start()
        try:
            yield peak
        finally:
            peak[0] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()


@lru_cache(maxsize=1)
def _sarif_validator():
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def write_repository(repo: Repository, root: Path) -> None:
    """The files under ``root`` (with a ``.git`` folder, so that ``root`` is the
    repository), and a secret file beside it that no output may show."""
    outside = root.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "passwd").write_text(f"FROM {SECRET}\n{SECRET}==1.0\n{SECRET}\n[project]\nname = '{SECRET}'\n")
    (root / ".git").mkdir(parents=True)
    for name, data in repo.files.items():
        path = root / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError:  # a name this file system refuses
            continue
    for name, destination in repo.links.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(destination if destination != "loop" else name, path)
    for name, kind in repo.specials.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "fifo":
            os.mkfifo(path)
        else:
            path.mkdir(exist_ok=True)


def _check_text_formats(outputs: dict[str, str], findings: int, notes: int) -> None:
    """concise: a header line per finding then the notes and a summary; text: the same
    headers, each on a line of its own; github: one command line per finding and note;
    no control characters, line separators or bidi controls anywhere."""
    for fmt, output in outputs.items():
        output.encode("utf-8")  # no lone surrogates: the output can be written
        for line in output.split("\n"):
            assert not _UNSAFE.search(line), (fmt, line[:300])
    concise = outputs["concise"].splitlines()
    headers = concise[:findings]
    assert all(_HEADER.match(line) for line in headers), headers[:5]
    assert len(concise) == findings + notes + (1 if findings else 0), concise[-5:]
    text_lines = outputs["text"].splitlines()
    position = 0
    for header in headers:  # in order, each as a whole line
        position = text_lines.index(header, position) + 1
    github = outputs["github"].splitlines()
    assert len(github) == findings + notes and all(_GITHUB.match(line) for line in github), github[:5]


def check_repository(repo: Repository, cli_format: str = "json") -> Outcome:
    """Lint ``repo`` in process with every rule, render every format, then once more
    through the command line; raise AssertionError (or the escaped exception) when a
    property does not hold."""
    with tempfile.TemporaryDirectory(prefix="dockerlint-fuzz-") as temporary:
        root = Path(temporary) / "repo"
        write_repository(repo, root)
        rules = load_rules()
        config = config_from_table({"select": ["ALL"]}, None, rules)
        config.root = root

        started, started_cpu = time.perf_counter(), time.process_time()
        with peak_memory() as peak:
            result = lint([root], config, rules)
            report = Report(
                findings=tuple(result.findings),
                notes=tuple(result.notes),
                rules=rules,
                files_checked=result.files_checked,
                root=root,
                fail_level=config.fail_level,
                source_line=result.workspace.source_line,
            )
            outputs = {fmt: render(fmt, report) for fmt in FORMATS}
        cpu_seconds = time.process_time() - started_cpu
        wall_seconds = time.perf_counter() - started
        assert cpu_seconds < MAX_CPU_SECONDS, f"{cpu_seconds:.1f} s of CPU for one input"
        assert wall_seconds < MAX_WALL_SECONDS, f"{wall_seconds:.1f} s for one input"
        memory_limit = MAX_BASE_MEMORY + MEMORY_PER_BYTE * repo.size()
        assert peak[0] < memory_limit, f"{peak[0] / 1e6:.0f} MB for {repo.size():,} bytes of input"

        document = json.loads(outputs["json"])
        assert len(document["findings"]) == len(result.findings)
        errors = sorted(_sarif_validator().iter_errors(json.loads(outputs["sarif"])), key=str)
        assert not errors, errors[0].message
        _check_text_formats(outputs, len(result.findings), len(result.notes))
        assert all(SECRET not in output for output in outputs.values())

        cli = CliRunner().invoke(main, ["--no-cache", "--select", "ALL", "-f", cli_format, str(root)])
        if cli.exception is not None and not isinstance(cli.exception, SystemExit):
            raise cli.exception
        if cli.exit_code == 2:  # a configuration the user wrote may be refused, on one line
            assert cli.stderr.startswith("dockerlint: error: ") and cli.stderr.count("\n") == 1, cli.stderr
            assert "internal error" not in cli.stderr, cli.stderr
        else:
            assert cli.exit_code in (0, 1), (cli.exit_code, cli.stderr)
            assert "Traceback" not in cli.stderr
            if cli_format in ("json", "sarif"):
                json.loads(cli.stdout)
        assert SECRET not in cli.stdout + cli.stderr
    return Outcome(cpu_seconds, wall_seconds, peak[0], len(result.findings), cli.exit_code)


@settings(PROFILE)
@given(repo=repositories(), cli_format=st.sampled_from(FORMATS))
def test_any_repository_ends_as_findings_in_bounded_time_and_memory(repo, cli_format):
    outcome = check_repository(repo, cli_format)
    target(outcome.cpu_seconds, label="CPU seconds")
    target(outcome.peak_bytes / 1e6, label="peak MB")


def test_the_memory_meter_sees_what_a_block_allocates():
    with peak_memory() as peak:
        block = bytearray(80 * 1024 * 1024)
        block[::4096] = b"x" * len(block[::4096])  # touched, so resident
        del block
    assert 70 * 1024 * 1024 <= peak[0] < 200 * 1024 * 1024
