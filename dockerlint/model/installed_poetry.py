"""What ``poetry install`` installs from pyproject.toml, and into which environment."""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING

from dockerlint.model.distributions import canonical
from dockerlint.model.image import Image, StageModel, Step, context_source
from dockerlint.model.installed_records import active_environment, configured, option_names
from dockerlint.parse.pyproject import Dependency, Pyproject

if TYPE_CHECKING:
    from dockerlint.model.installed_projects import ProjectInstall


def poetry_environment(image: Image, stage: StageModel, step: Step, before, env: dict[str, str], folder: str) -> str:
    """Poetry installs into an activated virtual environment; with ``virtualenvs.create
    false`` into the Python it runs with; else into a virtualenv of its own, in the
    project (``virtualenvs.in-project``) or under its cache folder."""
    settings = _poetry_settings(image, stage, step, before, folder)
    for key in ("virtualenvs.create", "virtualenvs.in-project", "virtualenvs.path", "cache-dir"):
        variable = "POETRY_" + key.upper().replace(".", "_").replace("-", "_")
        if env.get(variable):
            settings[key] = env[variable]
    if env.get("VIRTUAL_ENV"):
        return posixpath.normpath(env["VIRTUAL_ENV"])
    if settings.get("virtualenvs.create", "").lower() in ("false", "0"):
        return active_environment(env)
    if settings.get("virtualenvs.in-project", "").lower() in ("true", "1"):
        return posixpath.join(folder, ".venv")
    cache = settings.get("cache-dir") or posixpath.join(env.get("XDG_CACHE_HOME") or f"{step.home}/.cache", "pypoetry")
    return posixpath.normpath(posixpath.join(folder, settings.get("virtualenvs.path") or f"{cache}/virtualenvs"))


def _poetry_settings(image: Image, stage: StageModel, step: Step, before, folder: str) -> dict[str, str]:
    """Poetry settings at this command: the project's poetry.toml, then every
    ``poetry config KEY VALUE`` run before it in this stage and the stages it is built on."""
    settings: dict[str, str] = {}
    source = context_source(image, stage, posixpath.join(folder, "poetry.toml"), step.index)
    loaded = image.workspace.text(source, quiet=True) if source is not None and os.path.isfile(source) else None
    if loaded is not None:
        from dockerlint.tomlparser import tomllib

        try:
            virtualenvs = tomllib.loads(loaded[0].text).get("virtualenvs")
        except (tomllib.TOMLDecodeError, RecursionError):
            virtualenvs = None
        for key, value in virtualenvs.items() if isinstance(virtualenvs, dict) else ():
            settings[f"virtualenvs.{key}"] = str(value).lower() if isinstance(value, bool) else str(value)
    settings.update(configured(image, stage, step, before, "poetry", ("--unset",)))
    return settings


def poetry_choice(project: ProjectInstall, pyproject: Pyproject):
    """(which dependencies ``poetry install`` installs, whether it installs the project)."""
    options = project.options
    poetry = pyproject.tool.get("poetry") if isinstance(pyproject.tool.get("poetry"), dict) else {}
    groups = poetry.get("group") if isinstance(poetry.get("group"), dict) else {}
    optional_groups = {
        canonical(name) for name, table in groups.items() if isinstance(table, dict) and table.get("optional") is True
    }
    only = option_names(options.get("--only", []))
    chosen = option_names(options.get("--with", []))
    dropped = option_names(options.get("--without", [])) | ({"dev"} if "--no-dev" in options else set())
    every_group = "--all-groups" in options
    every_extra = "--all-extras" in options
    extras = option_names(options.get("--extras", []))
    enabled = poetry_extra_names(pyproject, None if every_extra else extras)
    optional = poetry_optional_names(pyproject)
    root_only = "--only-root" in options

    def group_on(name: str) -> bool:
        if only:
            return name in only  # --with and --without are ignored
        if every_group:
            return True
        return name not in dropped and (name not in optional_groups or name in chosen)

    def wanted(dependency: Dependency) -> bool:
        kind, _, name = dependency.group.partition(":")
        if root_only:
            return False
        if kind in ("project", "poetry", "optional") and not group_on("main"):
            return False
        if kind == "optional":
            return every_extra or canonical(name) in extras
        if kind == "poetry" and dependency.name in optional:
            return dependency.name in enabled
        if kind in ("group", "poetry-group"):
            return group_on(canonical(name))
        return kind in ("project", "poetry")

    installs_project = "--no-root" not in options and poetry.get("package-mode", True) is not False
    return wanted, installs_project


def poetry_optional_names(pyproject: Pyproject) -> set[str]:
    """``[tool.poetry.dependencies]`` entries marked ``optional = true``: only an extra installs them."""
    poetry = pyproject.tool.get("poetry")
    table = poetry.get("dependencies") if isinstance(poetry, dict) else None
    names = set()
    for name, value in table.items() if isinstance(table, dict) else ():
        entries = value if isinstance(value, list) else [value]
        if any(isinstance(entry, dict) and entry.get("optional") is True for entry in entries):
            names.add(canonical(name))
    return names


def poetry_extra_names(pyproject: Pyproject, extras: set[str] | None) -> set[str]:
    """The optional poetry dependencies ``[tool.poetry.extras]`` lists for these extras
    (None: every extra)."""
    poetry = pyproject.tool.get("poetry")
    table = poetry.get("extras") if isinstance(poetry, dict) else None
    names = set()
    for extra, members in table.items() if isinstance(table, dict) else ():
        if (extras is None or canonical(extra) in extras) and isinstance(members, list):
            names.update(canonical(member) for member in members if isinstance(member, str))
    return names
