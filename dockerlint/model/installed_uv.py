"""What ``uv sync`` installs from pyproject.toml, and into which environment."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from dockerlint.model.distributions import canonical
from dockerlint.model.image import env_enabled
from dockerlint.model.installed_records import option_names
from dockerlint.parse.pyproject import Dependency, Pyproject

if TYPE_CHECKING:
    from dockerlint.model.installed_projects import ProjectInstall


def uv_environment(options: dict[str, list[str]], env: dict[str, str], folder: str) -> str:
    """uv syncs into ``.venv`` in the project, UV_PROJECT_ENVIRONMENT (relative to the
    project), or with ``--active`` the activated virtual environment."""
    if "--active" in options and env.get("VIRTUAL_ENV"):
        return posixpath.normpath(env["VIRTUAL_ENV"])
    return posixpath.normpath(posixpath.join(folder, env.get("UV_PROJECT_ENVIRONMENT") or ".venv"))


def uv_choice(project: ProjectInstall, pyproject: Pyproject):
    """(which dependencies ``uv sync`` installs, whether it installs the project), or None
    when it syncs something we do not model (a workspace, a script, one package)."""
    options, env = project.options, project.env
    uv = pyproject.tool.get("uv") if isinstance(pyproject.tool.get("uv"), dict) else {}
    if {"--package", "--script", "--all-packages", "--only-install-package"} & options.keys() or "workspace" in uv:
        return None
    if {"--only-install-project", "--only-install-workspace", "--only-install-local"} & options.keys():
        return None
    defaults = uv.get("default-groups", ["dev"])
    if defaults != "all" and not (isinstance(defaults, list) and all(isinstance(name, str) for name in defaults)):
        return None
    defaults = None if defaults == "all" else option_names(defaults)
    only = option_names(options.get("--only-group", [])) | ({"dev"} if "--only-dev" in options else set())
    chosen = option_names(options.get("--group", [])) | only | ({"dev"} if "--dev" in options else set())
    dropped = option_names(options.get("--no-group", []) + env.get("UV_NO_GROUP", "").split())
    if "--no-dev" in options or env_enabled(env.get("UV_NO_DEV")):
        dropped.add("dev")
    no_defaults = "--no-default-groups" in options or env_enabled(env.get("UV_NO_DEFAULT_GROUPS"))
    use_defaults = not only and not no_defaults
    every_group = "--all-groups" in options
    every_extra = "--all-extras" in options
    extras, not_extras = option_names(options.get("--extra", [])), option_names(options.get("--no-extra", []))
    left_out = option_names(options.get("--no-install-package", []))

    def wanted(dependency: Dependency) -> bool:
        kind, _, name = dependency.group.partition(":")
        name = canonical(name)
        if dependency.name in left_out:
            return False
        if kind == "project":
            return not only
        if kind == "optional":
            return not only and (name in extras or every_extra and name not in not_extras)
        if kind == "group":
            return name not in dropped and (
                every_group or name in chosen or use_defaults and (defaults is None or name in defaults)
            )
        return False  # poetry's tables: uv does not read them

    skipped = {"--no-install-project": "UV_NO_INSTALL_PROJECT", "--no-install-workspace": "UV_NO_INSTALL_WORKSPACE",
               "--no-install-local": "UV_NO_INSTALL_LOCAL"}  # fmt: skip
    skips = any(flag in options or env_enabled(env.get(variable)) for flag, variable in skipped.items())
    # A project without a build system (or with `package = false`) is not installed, only its dependencies.
    package = uv.get("package")
    packaged = package is True or package is None and bool(pyproject.build_requires)
    return wanted, packaged and not only and not skips
