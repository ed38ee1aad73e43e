"""Which Python distributions an image installs, each with the line that installs it.

Sources: requirements files of ``pip install -r`` (with their includes), the requirement
arguments of ``pip install``, and the dependencies of projects that ``pip install .``,
``uv sync``, ``poetry install``, ``pipenv install`` and ``pdm install`` install, read from
the pyproject.toml (or Pipfile) the image holds at that step, with the versions their lock
files pin. Two answers are kept apart on purpose:

- ``items``: what is installed in the final image: installs in the stages it is built
  FROM, and installs in other stages whose install location (venv, ``--prefix``,
  ``--target``, ``--user``, system site-packages) a ``COPY --from`` carries over. These
  are the candidates for "unused" findings, so they must really be there.
- ``providers``: every distribution any stage the final image copies from installs; an
  import is only called missing when none of these could serve it.

``unnamed`` lists installs whose distributions cannot be named (a wheel glob, a URL,
``conda install``, an apt ``python3-*`` package, an unknown base image, a ``uv sync``,
``poetry install`` or ``pdm install`` whose options or project are not understood); while
it is non-empty nothing is called missing.

The readers live beside this module, one per installer: installed_pip (requirements files,
arguments, local projects), installed_projects with installed_uv, installed_poetry,
installed_pipenv and installed_pdm (``uv sync``, ``poetry install``, ``pipenv install``,
``pdm install``); installed_records holds what they share.
"""

from __future__ import annotations

import os
import posixpath
import re

from dockerlint.model.image import Image, StageModel
from dockerlint.model.installed_pip import argument_name, read_pip
from dockerlint.model.installed_projects import project_installs, project_selections, read_project
from dockerlint.model.installed_records import ImageInstalls, Installed, add, location, with_parents
from dockerlint.model.pyenv import python_image
from dockerlint.model.queries import external_base, final_chain, image_matches

__all__ = ["BASE_IMAGE_INSTALLS", "ImageInstalls", "Installed", "image_installs", "project_selections"]

BASE_IMAGE_INSTALLS = "the base image"  # how ImageInstalls.unnamed names a base image's packages
OTHER_INSTALLERS = {
    "poetry": ("add",),
    "pdm": ("add",),  # `pdm install`/`pdm sync` are project installs (installed_projects)
    "uv": ("add", "tool"),
    "conda": ("install", "create", "env"),
    "mamba": ("install", "create", "env"),
    "micromamba": ("install", "create", "env"),
    "pipx": ("install",),
    "easy_install": (),
    "hatch": ("env",),
    "rye": ("sync",),
}


# Distribution packages of the OS that hold Python modules (apt python3-yaml, apk py3-numpy).
OS_PYTHON_PREFIXES = ("python3-", "python-", "py3-", "python3.")
# Of those, the interpreter, its headers and standard-library parts, and the installers
# (Debian's python3-pip, python3.11-venv, python3-tk; Alpine's py3-pip): no library a
# requirement could need.
OS_PYTHON_ITSELF = re.compile(
    r"(?:python3|python3\.\d+)(?:-(?:dev|venv|minimal|full|dbg|distutils|lib2to3|tk|gdbm|doc|examples|all|all-dev))?"
    r"|python3-(?:pip|pip-whl|setuptools|setuptools-whl|wheel|is-python3)|python-is-python3"
    r"|py3-(?:pip|setuptools|wheel)"
)


def image_installs(image: Image) -> ImageInstalls:
    """The Python distributions the final image installs, each at the place that names it
    (worked out once per image: the engine and several rules ask)."""
    return image.memoized(("image_installs",), lambda: _image_installs(image))


def project_scripts(image: Image) -> dict[str, str]:
    """Console command -> what it runs ("module:function"), of the `[project.scripts]` of the
    projects the image installs from its build context."""

    def read() -> dict[str, str]:
        found: dict[str, str] = {}
        for folder in image_installs(image).local_projects:
            manifest = folder / "pyproject.toml"
            pyproject = image.workspace.pyproject(manifest) if os.path.isfile(manifest) else None
            for name, target in pyproject.scripts if pyproject is not None else ():
                found.setdefault(name, target)
        return found

    return image.memoized(("project_scripts",), read)


def _image_installs(image: Image) -> ImageInstalls:
    result = ImageInstalls()
    chain = final_chain(image)
    if not chain:
        return result
    carried = _carried(image, chain)
    sources = {stage.index for stage in chain} | set(carried) | _copied_from(image, chain)
    for index in sorted(sources):
        stage = image.stages[index]
        in_final = stage in chain
        for step in stage.steps:
            for install in step.installs:
                if install.family != "pip":
                    # python3-opencv on a python:3.9 image is for Debian's python3, not the
                    # image's: it provides nothing the service's Python imports
                    if (
                        install.action in ("install", "add")
                        and not python_image(image, stage)
                        and any(_os_python_library(argument.value) for argument in install.packages)
                    ):
                        result.unnamed.append(f"{install.tool} packages of Python modules")
                    continue
                counts = in_final or location(install, step) in carried.get(index, ())
                read_pip(image, stage, step, install, counts, result)
            for project in project_installs(image, stage, step):
                counts = in_final or project.location in carried.get(index, ())
                read_project(image, stage, project, counts, result)
            for command in step.commands:
                argv = _installer_argv(command.argv)
                verbs = OTHER_INSTALLERS.get(argv[0].rsplit("/", 1)[-1]) if argv else None
                if verbs is not None and (not verbs or (len(argv) > 1 and argv[1] in verbs)):
                    added = _project_add(image, stage, command)
                    if added is None:
                        result.unnamed.append(f"`{' '.join(argv[:2])}`")
                    else:
                        add(added, in_final, result)
    _base_image(image, chain[-1], result)
    _apply_uninstalls(image, chain, result)
    return result


# `poetry add`, `uv add`, `pdm add`: options that take a value, and flags, that leave what
# the named packages are (their command-line references); any other option leaves the
# command unnamed.
_ADD_VALUE_OPTIONS = frozenset(
    {"--group", "-G", "--source", "--python", "--optional", "--extra", "--index", "--directory", "--project"}
)
_ADD_FLAGS = frozenset(
    {
        "--dev",
        "-D",
        "-d",
        "--lock",
        "--no-sync",
        "--frozen",
        "--locked",
        "--no-interaction",
        "-n",
        "--quiet",
        "-q",
        "--no-cache",
        "--allow-prereleases",
        "--active",
    }
)


def _project_add(image: Image, stage: StageModel, command) -> list[Installed] | None:
    """The distributions ``poetry add``/``uv add``/``pdm add`` names, each at its word (it
    installs them into the project's environment); None when one is not a plain name."""
    words = command.command.words
    values = [word.value for word in words]
    start = 3 if values[0].rsplit("/", 1)[-1].startswith("python") else 1  # python -m poetry add
    if len(values) <= start or values[start] != "add":
        return None
    named: list[Installed] = []
    index = start + 1
    while index < len(values):
        value = values[index]
        option = value.split("=", 1)[0]
        if value.startswith("-"):
            if option in _ADD_VALUE_OPTIONS and "=" not in value:
                index += 2
                continue
            if option in _ADD_VALUE_OPTIONS or value in _ADD_FLAGS:
                index += 1
                continue
            return None
        name, extras = argument_name(value)
        if name is None:
            return None
        named.append(
            Installed(name, extras, image.dockerfile_path, command.word_span(index), value, stage.index, "argument")
        )
        index += 1
    return named or None


def _os_python_library(package: str) -> bool:
    """An OS package of Python modules some requirement may need (python3-yaml), not the
    interpreter or its installers (python3-pip, python3.11-venv)."""
    name = package.split("=", 1)[0].split(":", 1)[0]
    return name.startswith(OS_PYTHON_PREFIXES) and OS_PYTHON_ITSELF.fullmatch(name) is None


def _installer_argv(argv: tuple[str, ...]) -> tuple[str, ...]:
    """The installer's own words, also when run as a module (``python -m pipenv install``)."""
    name = argv[0].rsplit("/", 1)[-1] if argv else ""
    if name.startswith("python") and len(argv) > 2 and argv[1] == "-m":
        return argv[2:]
    return argv


def _overlaps(source: str, location: str) -> bool:
    source = posixpath.normpath("/" + source.lstrip("/")) if source not in ("", ".") else "/"
    if source == "/":
        return True
    if location.endswith("/.local") and "/.local" in source:
        return True
    return source == location or source.startswith(location + "/") or location.startswith(source + "/")


def _carried(image: Image, chain: list[StageModel]) -> dict[int, set[str]]:
    """stage index -> install locations of that stage that a COPY --from brings into the
    final image (the stage's parents count as the stage)."""
    carried: dict[int, set[str]] = {}
    for stage in chain:
        for copy in stage.copies:
            if copy.from_stage is None:
                continue
            origin = image.stages[copy.from_stage]
            for member in with_parents(image, origin):
                for step in member.steps:
                    locations = [location(install, step) for install in step.installs if install.family == "pip"]
                    locations += [project.location for project in project_installs(image, member, step)]
                    for place in locations:
                        if any(_overlaps(source.value, place) for source in copy.sources):
                            carried.setdefault(member.index, set()).add(place)
    return carried


def _copied_from(image: Image, chain: list[StageModel]) -> set[int]:
    found: set[int] = set()
    for stage in chain:
        for copy in stage.copies:
            if copy.from_stage is not None:
                found.update(member.index for member in with_parents(image, image.stages[copy.from_stage]))
    return found


def _base_image(image: Image, final: StageModel, result: ImageInstalls) -> None:
    """An image we do not know may ship Python packages of its own."""
    ref, _ = external_base(image, final)
    if ref.unresolved or not image_matches(ref, _PLAIN):
        result.unnamed.append(f"{BASE_IMAGE_INSTALLS} `{ref.raw}`")
    for stage in final_chain(image):
        for copy in stage.copies:
            if copy.from_image and any(
                marker in source.value for source in copy.sources for marker in ("site-packages", "venv", "conda")
            ):
                result.unnamed.append(f"packages copied from `{copy.from_image}`")


# Base images that hold no Python packages beyond pip, setuptools and wheel.
_PLAIN = (
    "python",
    "debian",
    "ubuntu",
    "alpine",
    "busybox",
    "fedora",
    "rockylinux",
    "almalinux",
    "amazonlinux",
    "nvidia/cuda",
    "nvcr.io/nvidia/cuda",
    "gcr.io/distroless/python3*",
    "cgr.dev/chainguard/python",
    "ghcr.io/astral-sh/uv",
    "scratch",
)


def _apply_uninstalls(image: Image, chain: list[StageModel], result: ImageInstalls) -> None:
    """``pip uninstall -y opencv-python`` after the install: it is gone."""
    removed: set[str] = set()
    for stage in chain:
        for install in stage.installs():
            if install.family == "pip" and install.action == "uninstall":
                for argument in install.packages:
                    name, _ = argument_name(argument.value)
                    if name:
                        removed.add(name)
    if removed:
        result.items = [item for item in result.items if item.name not in removed]
