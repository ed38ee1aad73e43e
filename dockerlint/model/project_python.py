"""The projects of the build context that an image installs, each with the installer that
reads it and the Python of the stage it runs in: what IMG007 compares with the project's
``requires-python``.

An install counts when it reaches the final image (``install_stages``) and reads a
pyproject.toml the build context holds: ``pip install .`` (``uv pip install``, ``-e``),
``uv sync`` and ``poetry install``. Pipenv and PDM choose their interpreter by settings
of their own and are left out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from msgspec import Struct

from dockerlint.model.image import Image, StageModel, Step
from dockerlint.parse.pyproject import Pyproject
from dockerlint.source import Span

_PROJECT_TOOLS = ("uv", "poetry")  # project installers whose interpreter is the stage's Python unless told


class ProjectPython(Struct, frozen=True):
    stage: StageModel
    step: Step
    installer: str  # "pip install", "uv pip install", "uv sync", "poetry install"
    span: Span  # the command in the Dockerfile
    manifest: Path  # the project's pyproject.toml in the build context
    pyproject: Pyproject


def project_pythons(image: Image) -> Iterator[ProjectPython]:
    from dockerlint.model.installed_pip import local_project
    from dockerlint.model.installed_projects import project_installs
    from dockerlint.model.ml import install_stages

    for stage in install_stages(image):
        for step in stage.steps:
            for install in step.installs:
                if install.family != "pip" or install.action != "install":
                    continue
                installer = "uv pip install" if install.tool == "uv" else "pip install"
                for argument in (*install.packages, *install.editables):
                    folder = local_project(image, stage, step, argument.value)
                    found = _read(image, folder / "pyproject.toml") if folder is not None else None
                    if found is not None:
                        yield ProjectPython(stage, step, installer, install.span, *found)
            for project in project_installs(image, stage, step):
                if project.tool not in _PROJECT_TOOLS or project.pyproject is None or project.command is None:
                    continue
                found = _read(image, project.pyproject)
                if found is not None:
                    verb = "sync" if project.tool == "uv" else "install"
                    yield ProjectPython(stage, step, f"{project.tool} {verb}", project.command.span, *found)


def _read(image: Image, manifest: Path) -> tuple[Path, Pyproject] | None:
    if manifest.name != "pyproject.toml" or not os.path.isfile(manifest):
        return None
    pyproject = image.workspace.pyproject(manifest)
    return (manifest, pyproject) if pyproject is not None else None
