"""DL, IMG and SEC rules on realistic Dockerfiles: what they must flag, at which line,
and the correct variants they must leave alone."""

from __future__ import annotations

import pytest

from tests.conftest import found, run_lint


def lint(repo, dockerfile: str, code: str, files: dict[str, str] | None = None):
    root = repo({"Dockerfile": dockerfile, **(files or {})})
    return found(run_lint(root, select=[code]), code)


# -- DL3006 / DL3007 ----------------------------------------------------------------------


def test_untagged_and_latest_including_through_arg_defaults(repo):
    dockerfile = """
        ARG BASE=python
        ARG TAG=latest
        FROM ${BASE} AS one
        FROM python:${TAG} AS two
        FROM ubuntu:latest AS three
        FROM python:3.11-slim
    """
    assert lint(repo, dockerfile, "DL3006") == [("DL3006", "Dockerfile", 3)]
    assert lint(repo, dockerfile, "DL3007") == [("DL3007", "Dockerfile", 4), ("DL3007", "Dockerfile", 5)]


def test_tags_digests_stages_scratch_and_unknown_args_are_fine(repo):
    dockerfile = """
        ARG PY=3.11
        ARG IMAGE
        FROM python:${PY:-3.10}-slim AS build
        FROM python@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef AS pinned
        FROM ${IMAGE} AS unknown
        FROM build
        FROM scratch
        COPY --from=build /app /app
    """
    assert lint(repo, dockerfile, "DL3006") == []
    assert lint(repo, dockerfile, "DL3007") == []


# -- DL3009 / DL3015 ------------------------------------------------------------------------


def test_apt_lists_and_recommends_in_the_final_stage(repo):
    dockerfile = """
        FROM python:3.11-slim
        RUN apt-get update \\
            && apt-get install -y libpq5
        RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
    """
    assert lint(repo, dockerfile, "DL3009") == [("DL3009", "Dockerfile", 2)]
    assert lint(repo, dockerfile, "DL3015") == [("DL3015", "Dockerfile", 3)]


def test_apt_cleanup_cache_mounts_heredocs_and_builders_are_fine(repo):
    dockerfile = """
        # syntax=docker/dockerfile:1
        FROM python:3.11 AS builder
        RUN apt-get update && apt-get install -y build-essential
        FROM python:3.11-slim
        RUN --mount=type=cache,target=/var/cache/apt --mount=type=cache,target=/var/lib/apt \\
            apt-get update && apt-get install -y --no-install-recommends libgomp1
        RUN <<EOF
        set -eux
        apt-get update
        apt-get install -y --no-install-recommends libpq5
        rm -rf /var/lib/apt/lists/*
        EOF
        RUN apt-get update && apt-get -o APT::Install-Recommends=false install -y git \\
            && apt-get clean && rm -rf /var/lib/apt/lists/*
    """
    assert lint(repo, dockerfile, "DL3009") == []
    assert lint(repo, dockerfile, "DL3015") == []


def test_apt_recommends_disabled_in_apt_config(repo):
    dockerfile = """
        FROM debian:bookworm-slim
        RUN echo 'APT::Install-Recommends "0";' > /etc/apt/apt.conf.d/99norecommends
        RUN apt-get update && apt-get install -y python3 && rm -rf /var/lib/apt/lists/*
    """
    assert lint(repo, dockerfile, "DL3015") == []


# -- DL3019 ---------------------------------------------------------------------------------


def test_apk_cache(repo):
    dockerfile = """
        FROM python:3.12-alpine
        RUN apk add --no-cache libffi
        RUN apk add --virtual .build-deps gcc musl-dev
        RUN apk update && apk add postgresql-libs && rm -rf /var/cache/apk/*
        RUN --mount=type=cache,target=/var/cache/apk apk add git
    """
    assert lint(repo, dockerfile, "DL3019") == [("DL3019", "Dockerfile", 3)]


# -- DL3042 ---------------------------------------------------------------------------------


def test_pip_cache_in_every_spelling(repo):
    dockerfile = """
        FROM python:3.11-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install -r requirements.txt
        RUN pip3 install gunicorn
        RUN python -m pip install --upgrade pip
        RUN python3.11 -m pip install uvicorn
        RUN uv pip install --system fastapi
    """
    assert lint(repo, dockerfile, "DL3042", {"requirements.txt": "fastapi==0.115.0\n"}) == [
        ("DL3042", "Dockerfile", 4),
        ("DL3042", "Dockerfile", 5),
        ("DL3042", "Dockerfile", 6),
        ("DL3042", "Dockerfile", 7),
        ("DL3042", "Dockerfile", 8),
    ]


def test_pip_cache_handled_is_fine(repo):
    dockerfile = """
        # syntax=docker/dockerfile:1
        FROM python:3.11-slim AS builder
        RUN pip install --prefix=/install numpy
        FROM python:3.11-slim
        ENV PIP_NO_CACHE_DIR=1
        RUN pip install fastapi
        COPY --from=builder /install /usr/local
        RUN --mount=type=cache,target=/root/.cache/pip pip install uvicorn
        RUN --mount=type=cache,target=/root/.cache/uv uv pip install --system httpx
        RUN PIP_NO_CACHE_DIR=1 pip install pydantic
        RUN pip install --no-cache-dir orjson && pip3 install --no-cache-dir ujson
        RUN uv pip install --system --no-cache anyio
        RUN pip install rich && pip cache purge
        RUN pip install click && rm -rf /root/.cache/pip
        RUN <<EOF
        pip install --no-cache-dir structlog
        EOF
    """
    assert lint(repo, dockerfile, "DL3042") == []


def test_pip_no_cache_dir_false_does_not_count(repo):
    dockerfile = """
        FROM python:3.11-slim
        ENV PIP_NO_CACHE_DIR=0
        RUN pip install fastapi
    """
    assert lint(repo, dockerfile, "DL3042") == [("DL3042", "Dockerfile", 3)]


# -- DL3059 ---------------------------------------------------------------------------------


def test_consecutive_runs(repo):
    dockerfile = """
        FROM python:3.11-slim
        RUN useradd app
        RUN mkdir /data
        # the model cache is a separate layer on purpose
        RUN mkdir /cache
        RUN --mount=type=cache,target=/root/.cache/pip pip install fastapi
        COPY . /app
        RUN chown -R app /app
    """
    assert lint(repo, dockerfile, "DL3059") == [("DL3059", "Dockerfile", 3)]


# -- DL3002 / SEC001 ------------------------------------------------------------------------


def test_last_user_root_and_no_user(repo):
    back_to_root = """
        FROM python:3.11-slim
        RUN useradd --create-home app
        USER app
        RUN echo hi
        USER root
        CMD ["python", "-V"]
    """
    assert lint(repo, back_to_root, "DL3002") == [("DL3002", "Dockerfile", 5)]
    assert lint(repo, back_to_root, "SEC001") == []
    no_user = """
        FROM python:3.11-slim AS builder
        USER root
        FROM python:3.11-slim
        CMD ["python", "-V"]
    """
    assert lint(repo, no_user, "SEC001") == [("SEC001", "Dockerfile", 3)]
    assert lint(repo, no_user, "DL3002") == []


def test_users_set_in_a_parent_stage_or_by_the_base_image_count(repo):
    inherited = """
        FROM python:3.11-slim AS base
        RUN useradd app
        USER app
        FROM base
        CMD ["python", "-V"]
    """
    assert lint(repo, inherited, "SEC001") == []
    assert lint(repo, inherited, "DL3002") == []
    non_root_base = """
        FROM jupyter/scipy-notebook:2024-05-27
        COPY notebooks /home/jovyan/work
    """
    assert lint(repo, non_root_base, "SEC001") == []
    private_base = """
        FROM registry.example.com/platform/python-base:3.11
        COPY app /app
    """
    assert lint(repo, private_base, "SEC001") == []  # unknown base: it may set USER


# -- DL3020 / DL3025 ------------------------------------------------------------------------


def test_add_local_files_but_not_urls_or_archives(repo):
    dockerfile = """
        FROM python:3.11-slim
        ADD app/ /app/
        ADD https://example.com/model-card.md /docs/
        ADD vendor.tar.gz /opt/vendor/
        ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/x.bin /x
        COPY app/ /app/
    """
    assert lint(repo, dockerfile, "DL3020") == [("DL3020", "Dockerfile", 2)]


def test_shell_form_cmd_in_final_stage_only(repo):
    dockerfile = """
        FROM python:3.11-slim AS test
        CMD pytest -q
        FROM python:3.11-slim
        ENTRYPOINT ["gunicorn"]
        CMD gunicorn app:app \\
            --bind 0.0.0.0:8000
    """
    assert lint(repo, dockerfile, "DL3025") == [("DL3025", "Dockerfile", 5)]


def test_shell_form_cmd_with_exec_is_still_shell_form_but_passes_signals(repo):
    root = repo({"Dockerfile": "FROM python:3.11-slim\nCMD exec uvicorn app:app --host 0.0.0.0\n"})
    (finding,) = [f for f in run_lint(root, select=["DL3025"]).findings]
    assert "`exec` hands the process over" in finding.message and "cannot stop cleanly" not in finding.message


def test_a_shell_form_cmd_that_needs_the_shell_is_told_to_exec_its_last_program(repo):
    """`$PORT` and `&&` are the shell's: the JSON form would hand them to gunicorn as text."""
    cmd = "CMD python manage.py migrate && gunicorn -b 0.0.0.0:$PORT site.wsgi"
    root = repo({"Dockerfile": f"FROM python:3.12-slim\nUSER nobody\n{cmd}\n"})
    (finding,) = run_lint(root, select=["DL3025"]).findings
    assert "exec gunicorn" in finding.fix and "Use the JSON form" not in finding.fix and finding.autofix is None
    root = repo({"Dockerfile": "FROM python:3.12-slim\nUSER nobody\nCMD gunicorn -b 0.0.0.0:8000 site.wsgi\n"})
    (finding,) = run_lint(root, select=["DL3025"]).findings
    assert 'Use the JSON form: CMD ["gunicorn", "-b", "0.0.0.0:8000", "site.wsgi"]' in finding.fix


def test_a_cmd_written_as_an_array_with_single_quotes_is_a_broken_json_form(repo):
    dockerfile = "FROM python:3.12-slim\nUSER nobody\nENTRYPOINT ['python', '-m', 'app']\nCMD [\"--port\", \"8000\"]\n"
    root = repo({"Dockerfile": dockerfile})
    (finding,) = run_lint(root, select=["DL3025"]).findings
    assert (
        finding.span.line == 3
        and "is not JSON" in finding.message
        and "fails when the container starts" in finding.message
    )
    assert finding.autofix is not None and finding.autofix.applicability == "safe"
    (edit,) = finding.autofix.edits
    assert edit.content == '["python", "-m", "app"]'
    # valid JSON, and a shell command that only starts with a bracket test, are not broken arrays
    for fine in ('CMD ["python", "-m", "app"]\n', "CMD [ -f /app/ready ] && python -m app\n"):
        found_now = run_lint(repo({"Dockerfile": "FROM python:3.12-slim\n" + fine}), select=["DL3025"]).findings
        assert all("is not JSON" not in f.message for f in found_now)


def test_a_json_array_with_the_next_instruction_run_into_it_is_no_json(repo):
    """Two Dockerfiles pasted together: `CMD ["bash", "startup.sh"]RUN pip3 install …` is one
    line of shell form, and the container starts nothing."""
    dockerfile = 'FROM python:3.12-slim\nUSER nobody\nCMD ["bash", "startup.sh"]RUN pip3 install --no-cache-dir x==1\n'
    (finding,) = run_lint(repo({"Dockerfile": dockerfile}), select=["DL3025"]).findings
    assert finding.span.line == 3 and "a newline is missing before `RUN`" in finding.message
    assert finding.fix == "Put `RUN` on a line of its own."
    other = dockerfile.replace("RUN pip3 install --no-cache-dir x==1", " # start")
    (finding,) = run_lint(repo({"Dockerfile": other}), select=["DL3025"]).findings
    assert "`# start` follows the array" in finding.message


# -- DL4006 / SEC003 ------------------------------------------------------------------------


def test_pipes_without_pipefail(repo):
    dockerfile = """
        FROM python:3.11-slim
        RUN curl -fsSL https://example.com/install.sh | sh
        RUN set -o pipefail && wget -qO- https://example.com/key.asc | gpg --dearmor > /k.gpg
        RUN <<EOF
        set -euo pipefail
        pip freeze | grep torch
        EOF
        SHELL ["/bin/bash", "-o", "pipefail", "-c"]
        RUN pip freeze | sort
    """
    assert lint(repo, dockerfile, "DL4006") == [("DL4006", "Dockerfile", 2)]


def test_pipe_to_shell(repo):
    dockerfile = """
        FROM python:3.11-slim
        RUN curl -LsSf https://astral.sh/uv/install.sh | sh
        RUN wget -qO- https://example.com/setup | sudo -E bash -
        RUN sh -c "$(curl -fsSL https://example.com/install.sh)"
        RUN curl -fsSLo /tmp/install.sh https://example.com/install.sh \\
            && echo "0123  /tmp/install.sh" | sha256sum -c - && sh /tmp/install.sh
        RUN curl -fsSL https://example.com/key.asc | gpg --dearmor -o /usr/share/keyrings/x.gpg
    """
    assert lint(repo, dockerfile, "SEC003") == [
        ("SEC003", "Dockerfile", 2),
        ("SEC003", "Dockerfile", 3),
        ("SEC003", "Dockerfile", 4),
    ]


# -- IMG ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "base, flagged",
    [
        ("python:3.11", True),
        ("python:3.11-bookworm", True),
        ("python", True),
        ("docker.io/library/python:3.12", True),
        ("python:3.11-slim", False),
        ("python:3.11-slim-bookworm", False),
        ("python:3.12-alpine", False),
        ("pypy:3.10", False),
    ],
)
def test_full_python_base_in_final_stage(repo, base, flagged):
    dockerfile = f'FROM {base}\nCMD ["python", "-V"]\n'
    expected = [("IMG001", "Dockerfile", 1)] if flagged else []
    assert lint(repo, dockerfile, "IMG001") == expected


def test_full_python_builder_with_slim_final_is_fine(repo):
    dockerfile = """
        FROM python:3.11 AS builder
        RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir numpy
        FROM python:3.11-slim
        COPY --from=builder /opt/venv /opt/venv
    """
    assert lint(repo, dockerfile, "IMG001") == []


def test_full_python_reached_through_a_stage(repo):
    dockerfile = """
        FROM python:3.11 AS base
        RUN pip install --no-cache-dir fastapi
        FROM base AS final
        CMD ["python", "-V"]
    """
    assert lint(repo, dockerfile, "IMG001") == [("IMG001", "Dockerfile", 1)]


def test_framework_bases(repo):
    api = {"app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n"}
    for base in ("pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime", "nvcr.io/nvidia/pytorch:24.05-py3"):
        dockerfile = f"FROM {base}\nCOPY app/ /app/app/\n"
        assert lint(repo, dockerfile, "IMG002", api) == [("IMG002", "Dockerfile", 1)]
    builder_only = """
        FROM pytorch/pytorch:2.3.1-cuda12.1-cudnn8-devel AS build
        RUN python setup.py bdist_wheel
        FROM python:3.11-slim
        COPY --from=build /dist /dist
    """
    assert lint(repo, builder_only, "IMG002") == []


def test_digest_pinning_is_opt_in(repo):
    root = repo({"Dockerfile": "FROM python:3.11-slim\nFROM python:3.11-slim@sha256:" + "a" * 64 + "\n"})
    assert found(run_lint(root), "IMG004") == []
    assert found(run_lint(root, extend_select=["IMG004"]), "IMG004") == [("IMG004", "Dockerfile", 1)]


def test_apt_recommends_say_what_they_add_when_it_is_much(repo):
    """python3-pip recommends build-essential, g++ and python3-dev on Debian: hundreds of MB
    that `--no-install-recommends` leaves out. A package with little behind it gets no figure."""
    dockerfile = (
        "FROM python:3.11-slim\nRUN apt-get update && apt-get install -y python3-pip && rm -rf /var/lib/apt/lists/*\n"
    )
    (finding,) = run_lint(repo({"Dockerfile": dockerfile}), select=["DL3015"]).findings
    assert finding.size_bytes > 100_000_000 and "more here" in finding.message and "`gcc-12`" in finding.message
    small = dockerfile.replace("python3-pip", "tini")
    (finding,) = run_lint(repo({"Dockerfile": small}), select=["DL3015"]).findings
    assert finding.size_bytes is None and "more here" not in finding.message
