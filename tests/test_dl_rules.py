"""The hadolint-compatible rules beyond their catalogue examples: ONBUILD triggers and
Dockerfile fragments, the cache rules of uv, yum, dnf and zypper, hadolint's stage
pragma, and how the rules are laid out."""

from __future__ import annotations

import inspect

from dockerlint.checks import load_checks
from dockerlint.rulebook import load_rules
from tests.conftest import found, run_lint


def lint(repo, dockerfile: str, *codes: str, files: dict | None = None, **config):
    root = repo({"Dockerfile": dockerfile, **(files or {})})
    return found(run_lint(root, select=list(codes), **config))


# -- layout ------------------------------------------------------------------------------------


def test_each_dl_code_is_one_small_function_in_a_theme_module():
    seen = {}
    for function, codes in load_checks().items():
        dl = [code for code in codes if code.startswith("DL")]
        if not dl:
            continue
        assert codes == (dl[0],), f"{function.__name__} reports {codes}: one DL code per function"
        assert function.__module__.startswith("dockerlint.checks.dl."), function.__module__
        assert dl[0] not in seen, f"{dl[0]} registered twice"
        seen[dl[0]] = function
        assert len(inspect.getsource(function).splitlines()) <= 60, f"{dl[0]} is not small"
    assert set(seen) == {code for code in load_rules() if code.startswith("DL")}
    assert len(seen) == 71


def test_module_families_name_what_each_module_reports():
    from dockerlint.checks import CHECKS, MODULE_FAMILIES

    load_checks()
    for function, codes in CHECKS.items():
        module = function.__module__.split(".")[2]
        assert module in MODULE_FAMILIES, f"{module} is missing from MODULE_FAMILIES"
        assert all(code.startswith(MODULE_FAMILIES[module]) for code in codes), (module, codes)


def test_hadolint_levels_and_default_states():
    rules = load_rules()
    for code, rule in rules.items():
        if not code.startswith("DL"):
            continue
        assert rule.hadolint is not None, code
        level = rule.hadolint.severity
        assert rule.enabled == (level != "ignore"), code
        if level != "ignore":
            assert rule.severity.label == ("info" if level == "style" else level), code
    assert not rules["DL1001"].enabled and not rules["DL3057"].enabled


# -- ONBUILD -----------------------------------------------------------------------------------


def test_onbuild_run_is_checked_as_the_run_it_wraps(repo):
    dockerfile = """
        FROM python:3.12-slim
        ONBUILD RUN pip install flask && apt-get install -y curl
        ONBUILD RUN cd /app && sudo make
    """
    assert lint(repo, dockerfile, "DL3013", "DL3008", "DL3015", "DL3042", "DL3004") == [
        ("DL3004", "Dockerfile", 3),
        ("DL3008", "Dockerfile", 2),
        ("DL3013", "Dockerfile", 2),
        ("DL3015", "Dockerfile", 2),
        ("DL3042", "Dockerfile", 2),
    ]
    # as in hadolint, `cd` (DL3003) is not looked for in ONBUILD
    assert lint(repo, dockerfile, "DL3003") == []


def test_onbuild_triggers_do_not_count_as_this_images_installs_or_commands(repo):
    """Other rule families see only what this build runs: an ONBUILD trigger runs when
    another image is built FROM this one."""
    root = repo(
        {
            "Dockerfile": """
                FROM python:3.12-slim
                ONBUILD RUN pip install --no-cache-dir torch==2.3.1
                ONBUILD COPY . /app
                CMD ["python", "-V"]
            """
        }
    )
    (image,) = run_lint(root, select=["DL3013"]).images
    (stage,) = image.stages
    assert [step.keyword for step in stage.steps] == ["FROM", "ONBUILD", "ONBUILD", "CMD"]
    assert list(stage.installs()) == [] and stage.copies == []
    trigger = stage.steps[1].trigger
    assert trigger.keyword == "RUN" and [install.tool for install in trigger.installs] == ["pip"]


def test_refused_onbuild_triggers(repo):
    dockerfile = """
        FROM python:3.12-slim
        ONBUILD ONBUILD RUN echo x
        ONBUILD MAINTAINER team@example.com
        ONBUILD RUN echo fine
    """
    assert lint(repo, dockerfile, "DL3043") == [("DL3043", "Dockerfile", 2), ("DL3043", "Dockerfile", 3)]


# -- fragments ---------------------------------------------------------------------------------


def test_a_fragment_without_from_is_linted(repo):
    dockerfile = """
        RUN apt-get update && apt-get install -y curl
        USER app
        COPY app.py app.py
    """
    codes = ("DL3008", "DL3009", "DL3014", "DL3015", "DL3045", "DL3061", "DL3066")
    assert lint(repo, dockerfile, *codes) == [
        ("DL3008", "Dockerfile", 1),
        ("DL3009", "Dockerfile", 1),
        ("DL3015", "Dockerfile", 1),
        ("DL3045", "Dockerfile", 3),
        ("DL3061", "Dockerfile", 1),
        ("DL3061", "Dockerfile", 2),
        ("DL3061", "Dockerfile", 3),
        ("DL3066", "Dockerfile", 2),
    ]


def test_a_fragment_is_no_stage_for_other_rules(repo):
    root = repo({"Dockerfile": "RUN pip install torch\nUSER root\n"})
    result = run_lint(root, select=["SEC001", "DL3002", "GPU001", "SYN001"])
    (image,) = result.images
    assert image.stages == [] and image.fragment is not None
    # the syntax check still says that BuildKit refuses the file; the stage rules stay quiet
    assert {code for code, _, _ in found(result)} == {"SYN001"}


def test_global_args_alone_are_no_fragment(repo):
    root = repo({"Dockerfile": "ARG BASE=python:3.12-slim\nFROM ${BASE}\n"})
    (image,) = run_lint(root, select=["DL3061"]).images
    assert image.fragment is None


# -- caches of uv, yum, dnf and zypper ---------------------------------------------------------


def test_uv_sync_cache(repo):
    flagged = """
        FROM python:3.12-slim
        COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /bin/uv
        WORKDIR /app
        RUN uv sync --frozen
        RUN uv pip sync requirements.txt
        RUN env UV_COMPILE_BYTECODE=1 uv --directory /app sync --no-dev
    """
    assert lint(repo, flagged, "DL3042") == [
        ("DL3042", "Dockerfile", 4),
        ("DL3042", "Dockerfile", 5),
        ("DL3042", "Dockerfile", 6),
    ]


def test_uv_sync_without_a_cache_in_the_layer(repo):
    quiet = """
        # syntax=docker/dockerfile:1
        FROM python:3.12-slim AS build
        COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /bin/uv
        WORKDIR /app
        RUN uv sync --frozen
        FROM python:3.12-slim
        ENV UV_CACHE_DIR=/opt/uv-cache
        COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /bin/uv
        COPY --from=build /app/.venv /app/.venv
        RUN --mount=type=cache,target=/opt/uv-cache uv sync --frozen
        RUN uv sync -n --frozen && uv pip sync --no-cache requirements.txt
        RUN uv sync --frozen && uv cache clean
        RUN uv sync --frozen && rm -rf /opt/uv-cache
        ENV UV_NO_CACHE=1
        RUN uv sync --frozen
    """
    assert lint(repo, quiet, "DL3042") == []


def test_uv_sync_cache_mount_must_be_where_uv_writes(repo):
    dockerfile = """
        # syntax=docker/dockerfile:1
        FROM python:3.12-slim
        ENV UV_CACHE_DIR=/opt/uv-cache
        RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen
    """
    assert lint(repo, dockerfile, "DL3042") == [("DL3042", "Dockerfile", 4)]


def test_poetry_install_keeps_its_download_cache(repo):
    flagged = """
        FROM python:3.12-slim
        RUN pip install --no-cache-dir poetry==1.8.5
        WORKDIR /app
        COPY pyproject.toml poetry.lock ./
        RUN poetry config virtualenvs.create false && poetry install --no-root --only main
        RUN poetry sync --no-root
    """
    assert lint(repo, flagged, "DL3042") == [("DL3042", "Dockerfile", 5), ("DL3042", "Dockerfile", 6)]
    quiet = """
        # syntax=docker/dockerfile:1
        FROM python:3.12-slim
        RUN pip install --no-cache-dir poetry==1.8.5
        WORKDIR /app
        COPY pyproject.toml poetry.lock ./
        RUN poetry install --no-root --no-cache
        RUN --mount=type=cache,target=/root/.cache/pypoetry poetry install --no-root
        RUN poetry install --no-root && rm -rf /root/.cache/pypoetry
        ENV POETRY_CACHE_DIR=/opt/poetry-cache
        RUN --mount=type=cache,target=/opt/poetry-cache poetry install --no-root
        RUN poetry check && poetry show
    """
    assert lint(repo, quiet, "DL3042") == []


def test_rpm_caches_must_be_cleaned_in_the_same_run(repo):
    flagged = """
        FROM rockylinux:9
        RUN yum install -y httpd-2.4.57 && rm -rf /tmp/build
        RUN dnf install -y jq-1.6 && dnf makecache
        RUN microdnf install -y tar-1.34
        RUN zypper -n install curl=8.0.1
        RUN yum clean all
    """
    assert lint(repo, flagged, "DL3032", "DL3036", "DL3040") == [
        ("DL3032", "Dockerfile", 2),
        ("DL3036", "Dockerfile", 5),
        ("DL3040", "Dockerfile", 3),
        ("DL3040", "Dockerfile", 4),
    ]


def test_rpm_caches_cleaned_mounted_or_left_in_a_builder(repo):
    quiet = """
        # syntax=docker/dockerfile:1
        FROM rockylinux:9 AS build
        RUN dnf install -y gcc-11.4.1 && gcc --version > /out.txt
        FROM rockylinux:9
        RUN yum install -y httpd-2.4.57 && yum clean all
        RUN yum install -y mod_ssl-2.4.57 && rm -rf /var/cache/yum /var/cache/dnf
        RUN dnf install -y jq-1.6 && dnf clean all
        RUN microdnf install -y tar-1.34 && microdnf clean all && rm -rf /var/cache/yum
        RUN --mount=type=cache,target=/var/cache/dnf dnf install -y git-2.43.5
        RUN zypper -n install curl=8.0.1 && zypper clean --all
        RUN zypper -n in jq=1.6 && rm -rf /var/cache/zypp/*
        COPY --from=build /out.txt /
    """
    assert lint(repo, quiet, "DL3032", "DL3036", "DL3040") == []


# -- pragmas -----------------------------------------------------------------------------------


def test_hadolint_stage_pragma_covers_its_stage_only(repo):
    dockerfile = """
        # hadolint stage ignore=DL3008
        FROM debian:12 AS build
        RUN apt-get install -y --no-install-recommends gcc
        FROM debian:12
        RUN apt-get install -y --no-install-recommends curl
    """
    assert lint(repo, dockerfile, "DL3008") == [("DL3008", "Dockerfile", 5)]


def test_hadolint_stage_pragma_must_sit_right_above_from(repo):
    dockerfile = """
        # hadolint stage ignore=DL3008

        FROM debian:12
        RUN apt-get install -y --no-install-recommends curl
    """
    assert lint(repo, dockerfile, "DL3008") == [("DL3008", "Dockerfile", 4)]


def test_rule_command_says_how_the_rule_maps(repo):
    from click.testing import CliRunner

    from dockerlint.cli import main

    output = CliRunner().invoke(main, ["rule", "DL3048"]).output
    assert "## Compared with hadolint" in output
    assert "hadolint's level is `style`, which is dockerlint's `info`" in output
    output = CliRunner().invoke(main, ["rule", "DL3015"]).output
    assert "Where dockerlint decides differently, and why:" in output and "builder stage" in output
    assert "## Compared with hadolint" not in CliRunner().invoke(main, ["rule", "SEC001"]).output
