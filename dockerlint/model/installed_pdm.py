"""What ``pdm install``/``pdm sync`` installs from pyproject.toml, and into which environment.

Sources: PDM's documentation (pdm-project.org/latest/usage/dependency/ "Select a subset of
dependency groups to install", /usage/project/ "Library or Application", /usage/venv/,
/reference/configuration/) and, where it is silent, PDM 2.x's code (src/pdm/cli/filters.py
``GroupSelection``, src/pdm/project/core.py ``is_distribution``, ``get_environment``).
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from dockerlint.model.distributions import canonical
from dockerlint.model.image import Image, StageModel, Step, made_folders
from dockerlint.model.installed_records import active_environment, configured, option_names
from dockerlint.parse.pyproject import Dependency, Pyproject

if TYPE_CHECKING:
    from dockerlint.model.installed_projects import ProjectInstall


def _on(value: str | None) -> bool:
    """PDM's reading of a boolean setting or variable (``ensure_boolean``): any non-empty
    value but false, no or 0."""
    return bool(value) and value.strip().lower() not in ("false", "no", "0")


def pdm_environment(
    image: Image, stage: StageModel, step: Step, before, options: dict[str, list[str]], env: dict[str, str], folder: str
) -> str:
    """``-g`` installs into the Python pdm finds (the one on PATH); else, with
    ``python.use_venv`` on (the default), into the activated virtualenv, or the one it
    makes: ``.venv`` in the project (``venv.in_project``, on by default) or under
    ``venv.location``; with it off into ``__pypackages__`` in the project (PEP 582).
    PDM_USE_VENV and PDM_VENV_IN_PROJECT override ``pdm config KEY VALUE`` run before; a
    project's own pdm.toml is not read (kept simple: rare in images)."""
    if "--global" in options:
        return active_environment(env)
    settings = _pdm_settings(image, stage, step, before)
    for key, variable in (("python.use_venv", "PDM_USE_VENV"), ("venv.in_project", "PDM_VENV_IN_PROJECT")):
        if variable in env:
            settings[key] = env[variable]
    if not _on(settings.get("python.use_venv", "true")):
        return posixpath.join(folder, "__pypackages__")
    if env.get("VIRTUAL_ENV") and not _on(env.get("PDM_IGNORE_ACTIVE_VENV")):
        return posixpath.normpath(env["VIRTUAL_ENV"])
    local = posixpath.join(folder, "__pypackages__")
    if local in _made_before(stage, step, before):
        # PDM's Project.resolve_interpreter: with no virtualenv to reuse, an existing
        # __pypackages__ means PEP 582 mode ("__pypackages__ is detected")
        return local
    if _on(settings.get("venv.in_project", "true")):
        return posixpath.join(folder, ".venv")
    data = env.get("XDG_DATA_HOME") or f"{step.home}/.local/share"
    return posixpath.normpath(settings.get("venv.location") or f"{data}/pdm/venvs")


def _made_before(stage: StageModel, step: Step, before) -> set[str]:
    """Folders `mkdir` made in this stage before the command (`mkdir __pypackages__`)."""
    made = made_folders(step, tuple(before))
    for done in stage.steps:
        if done.index < step.index:
            made |= made_folders(done)
    return made


def _pdm_settings(image: Image, stage: StageModel, step: Step, before) -> dict[str, str]:
    """Every ``pdm config [-g|-l] KEY VALUE`` (``-d KEY`` unsets it) run before this command
    in this stage and the stages it is built on."""
    return configured(image, stage, step, before, "pdm", ("-d", "--delete"))


def pdm_choice(project: ProjectInstall, pyproject: Pyproject, locked_groups: list[str] | None = None):
    """(which dependencies ``pdm install``/``pdm sync`` installs, whether it installs the
    project), or None for what we do not model (another lock file, a workspace, a local
    path in a group it installs). ``locked_groups``: the groups pdm.lock's ``[metadata]``
    was locked for, which an install without a group option takes."""
    options, env = project.options, project.env
    pdm = pyproject.tool.get("pdm") if isinstance(pyproject.tool.get("pdm"), dict) else {}
    if "workspace" in pdm:
        return None  # PDM 2.28's workspaces (usage/workspace): members installed with the root
    groups = pdm_groups(project, pyproject, locked_groups)
    if groups is None:
        return None

    def wanted(dependency: Dependency) -> bool:
        kind, _, name = dependency.group.partition(":")
        if kind == "project":
            return "default" in groups
        if kind in ("optional", "group", "pdm-dev"):
            return canonical(name) in groups
        return False  # poetry's and uv's own tables: pdm does not read them

    # `-e file:///${PROJECT_ROOT}/packages/core` in a group (PDM's monorepo guide): a local
    # project whose own requirements we would not read
    local = [item for item in pyproject.dependencies if item.name is None and item.text.lstrip().startswith("-e")]
    if any(wanted(item) for item in local):
        return None
    # A project with a name is a library, installed itself, unless `[tool.pdm] distribution
    # = false` (or a newer `package-type = "application"`) says it is an application
    # (usage/project "Library or Application"); never with --no-self (PDM_NO_SELF) or
    # --no-default. A missing [build-system] does not matter: pdm builds it with its default.
    if "package-type" in pdm:
        library = pdm["package-type"] == "library"
    else:
        library = pdm.get("distribution", True) is not False
    no_self = "--no-self" in options or bool(env.get("PDM_NO_SELF"))
    return wanted, bool(pyproject.name) and library and not no_self and "default" in groups


def pdm_groups(project: ProjectInstall, pyproject: Pyproject, locked_groups: list[str] | None) -> set[str] | None:
    """The groups PDM installs ("default" for ``[project] dependencies``; canonical names),
    as its ``GroupSelection`` picks them: with no group option, those pdm.lock was locked
    for; else the default group (not with --no-default), the optional groups ``-G`` names
    (``:all``: every one), every dev group (``[dependency-groups]``,
    ``[tool.pdm.dev-dependencies]``) unless ``--prod`` or ``-G`` names some, less
    ``--without`` (which alone means ``-G :all``). None: not modelled (PDM_LOCKFILE), or PDM
    refuses it (``--prod`` with a dev group)."""
    options = project.options
    if project.env.get("PDM_LOCKFILE"):
        return None
    optional, dev = set(), set()
    for dependency in pyproject.dependencies:
        kind, _, name = dependency.group.partition(":")
        if kind == "optional":
            optional.add(canonical(name))
        elif kind in ("group", "pdm-dev"):
            dev.add(canonical(name))
    named = option_names(options.get("--group", []))  # ":all" stays as it is
    without = option_names(options.get("--without", []))
    prod = "--prod" in options
    dev_option = "--dev" in options or prod
    default = "--no-default" not in options
    every = {"default"} | optional | dev
    if without and not named and not dev_option:
        named = {":all"}
    if default and not dev_option and not named and locked_groups:
        return {canonical(group) for group in locked_groups} & every
    chosen = {name for name in named if name != ":all"}
    if chosen & dev:
        if prod:
            return None
    elif not prod:
        chosen |= dev
    if ":all" in named:
        chosen |= optional
    if default:
        chosen.add("default")
    return (chosen - without) & every
