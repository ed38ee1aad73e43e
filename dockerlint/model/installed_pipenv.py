"""What ``pipenv install``/``pipenv sync`` installs from a Pipfile, and into which environment.

Without package arguments both install the Pipfile's ``[packages]`` at the versions of
Pipfile.lock, ``--dev`` adds ``[dev-packages]``, ``--categories`` names the categories
instead (pipenv's documentation, "Pipenv Commands" and "Configuration").
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING

from dockerlint.model.image import env_enabled
from dockerlint.model.installed_records import active_environment
from dockerlint.parse.pyproject import PIPENV_DEFAULT, Dependency, Pyproject

if TYPE_CHECKING:
    from dockerlint.model.installed_projects import ProjectInstall


def pipenv_environment(options: dict[str, list[str]], env: dict[str, str], folder: str, home: str) -> str:
    """``--system`` (or PIPENV_SYSTEM) installs into the Python pipenv runs with; else the
    activated venv, ``.venv`` in the project with PIPENV_VENV_IN_PROJECT, or a virtualenv
    under WORKON_HOME (``~/.local/share/virtualenvs``)."""
    if "--system" in options or env_enabled(env.get("PIPENV_SYSTEM")):
        return active_environment(env)
    if env.get("VIRTUAL_ENV"):
        return posixpath.normpath(env["VIRTUAL_ENV"])
    if env_enabled(env.get("PIPENV_VENV_IN_PROJECT")):
        return posixpath.join(folder, ".venv")
    return posixpath.normpath(env.get("WORKON_HOME") or f"{home}/.local/share/virtualenvs")


def pipenv_choice(project: ProjectInstall, pipfile: Pyproject):
    """(which dependencies it installs, False: a Pipfile installs no project of its own)."""
    options, env = project.options, project.env
    if options.get("--categories"):
        categories = {word for value in options["--categories"] for word in re.split(r"[,\s]+", value) if word}
    else:
        categories = {PIPENV_DEFAULT}
        if "--dev" in options or env_enabled(env.get("PIPENV_DEV")):
            categories.add("dev-packages")

    def wanted(dependency: Dependency) -> bool:
        kind, _, category = dependency.group.partition(":")
        return kind == "pipenv" and (category or PIPENV_DEFAULT) in categories

    return wanted, False
