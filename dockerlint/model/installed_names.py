"""Which Python distributions an image installs, each with the line that installs it.

Sources: requirements files of ``pip install -r`` (with their includes), the requirement
arguments of ``pip install``, and the dependencies of local projects (``pip install .``)
read from their pyproject.toml. Two answers are kept apart on purpose:

- ``items``: what is installed in the final image: installs in the stages it is built
  FROM, and installs in other stages whose install location (venv, ``--prefix``,
  ``--target``, ``--user``, system site-packages) a ``COPY --from`` carries over. These
  are the candidates for "unused" findings, so they must really be there.
- ``providers``: every distribution any stage the final image copies from installs; an
  import is only called missing when none of these could serve it.

``unnamed`` lists installs whose distributions cannot be named (a wheel glob, a URL,
``poetry install``, ``conda install``, an apt ``python3-*`` package, an unknown base
image); while it is non-empty nothing is called missing.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from dockerlint.checks.common import external_base, final_chain, image_matches
from dockerlint.model.distributions import canonical
from dockerlint.model.image import Image, StageModel, Step, context_source
from dockerlint.model.installs import Install
from dockerlint.source import Span

# Commands that install Python packages from a lock or environment file we do not read.
OTHER_INSTALLERS = {
    "poetry": ("install", "add", "sync"),
    "pipenv": ("install", "sync"),
    "pdm": ("install", "sync", "add"),
    "uv": ("sync", "add", "tool"),
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
_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(?:[<>=!~;@ ]|$)")
_WHEEL = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._]*)-[0-9][^-]*(?:-[^-]+)*\.whl$")
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class Installed:
    """One distribution named by one install, at the place that names it."""

    name: str  # canonical
    extras: tuple[str, ...]
    path: Path  # the requirements file, Dockerfile or pyproject.toml that names it
    span: Span
    written: str  # the requirement as written
    stage: int  # index of the stage whose RUN installs it
    kind: str  # "requirements", "argument" or "pyproject"


@dataclass
class ImageInstalls:
    items: list[Installed] = field(default_factory=list)
    providers: set[str] = field(default_factory=set)
    unnamed: list[str] = field(default_factory=list)  # what installs unknown distributions
    local_projects: list[Path] = field(default_factory=list)  # context folders installed as projects
    project_names: set[str] = field(default_factory=set)  # their distribution names

    @property
    def names(self) -> set[str]:
        return {item.name for item in self.items}


def image_installs(image: Image) -> ImageInstalls:
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
                    if install.action in ("install", "add") and any(
                        argument.value.startswith(OS_PYTHON_PREFIXES) for argument in install.packages
                    ):
                        result.unnamed.append(f"{install.tool} packages of Python modules")
                    continue
                counts = in_final or _location(install, step) in carried.get(index, ())
                _read_pip(image, stage, step, install, counts, result)
            for command in step.commands:
                verbs = OTHER_INSTALLERS.get(command.name.rsplit("/", 1)[-1])
                if verbs is not None and (not verbs or (len(command.argv) > 1 and command.argv[1] in verbs)):
                    result.unnamed.append(f"`{' '.join(command.argv[:2])}`")
    _base_image(image, chain[-1], result)
    _apply_uninstalls(image, chain, result)
    return result


def _read_pip(image: Image, stage: StageModel, step: Step, install: Install, counts: bool, result: ImageInstalls):
    if install.action == "uninstall" or install.action not in ("install", "sync"):
        return
    if install.action == "sync":
        result.unnamed.append(f"`{install.tool} pip sync`")
        return
    path = image.dockerfile_path
    named: list[Installed] = []
    for ref in install.requirements:
        if ref.constraint:
            continue
        if ref.context_path is None or not ref.context_path.is_file():
            result.unnamed.append(f"requirements file {ref.image_path}")
            continue
        loaded = image.workspace.requirements(ref.context_path)
        for requirement in loaded.requirements:
            if requirement.constraint:
                continue
            if requirement.name is None:
                result.unnamed.append(requirement.text)
                continue
            if not _marker_applies(requirement.marker):
                continue
            named.append(
                Installed(
                    requirement.name,
                    tuple(requirement.extras),
                    requirement.path or ref.context_path,
                    requirement.span,
                    requirement.text,
                    stage.index,
                    "requirements",
                )
            )
    for argument in (*install.packages, *install.editables):
        value = argument.value
        project = _local_project(image, stage, step, value)
        if project is not None:
            named += _project_dependencies(image, stage, project, value, result)
            continue
        name, extras = _argument_name(value)
        if name is None:
            result.unnamed.append(value)
            continue
        named.append(Installed(name, extras, path, argument.span, value, stage.index, "argument"))
    for item in named:
        result.providers.add(item.name)
        if counts:
            result.items.append(item)


def _argument_name(value: str) -> tuple[str | None, tuple[str, ...]]:
    """The distribution a ``pip install`` argument names, or None for paths, URLs and
    variables: ``uvicorn[standard]==0.30`` -> ("uvicorn", ("standard",))."""
    egg = _EGG.search(value)
    if egg:
        return canonical(egg.group(1)), ()
    wheel = _WHEEL.match(posixpath.basename(value))
    if wheel and "*" not in value:
        return canonical(wheel.group(1)), ()
    if "$" in value or "/" in value.split("@", 1)[0] or value.startswith("."):
        return None, ()
    match = _REQUIREMENT.match(value)
    if match is None:
        return None, ()
    extras = tuple(extra.strip() for extra in (match.group(2) or "").split(",") if extra.strip())
    return canonical(match.group(1)), extras


def _marker_applies(marker: str | None) -> bool:
    """Whether an environment marker holds on Linux (the Python version is not judged:
    a requirement that might apply is kept)."""
    if not marker:
        return True
    try:
        from packaging.markers import Marker

        return Marker(marker).evaluate({"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"})
    except Exception:  # an invalid marker: REQ005 reports it; keep the requirement
        return True


def _local_project(image: Image, stage: StageModel, step: Step, value: str) -> Path | None:
    bare = value.split("[", 1)[0]
    if not (bare in (".", "..") or bare.startswith(("./", "../", "/"))):
        return None
    image_path = posixpath.normpath(posixpath.join(step.workdir or "/", bare))
    source = context_source(image, stage, image_path, step.index)
    if source is not None and source.is_dir():
        return source
    return None


def _project_dependencies(image: Image, stage: StageModel, folder: Path, value: str, result: ImageInstalls):
    pyproject_path = folder / "pyproject.toml"
    pyproject = image.workspace.pyproject(pyproject_path) if pyproject_path.is_file() else None
    if folder not in result.local_projects:
        result.local_projects.append(folder)
    if pyproject is None:
        result.unnamed.append(f"the project in {folder.name or folder}")
        return []
    if pyproject.name:
        result.project_names.add(canonical(pyproject.name))
    wanted_extras = {canonical(extra) for extra in value.partition("[")[2].rstrip("]").split(",") if extra.strip()}
    items = []
    for dependency in pyproject.dependencies:
        group = dependency.group
        if group.startswith("optional:") and canonical(group.partition(":")[2]) not in wanted_extras:
            continue
        if group not in ("project", "poetry") and not group.startswith("optional:"):
            continue  # dependency groups and poetry groups are not installed by pip
        if dependency.name is None or dependency.name == "python" or not _marker_applies(dependency.marker):
            continue
        items.append(
            Installed(
                dependency.name,
                tuple(dependency.extras),
                pyproject_path,
                dependency.span,
                dependency.text,
                stage.index,
                "pyproject",
            )
        )
    return items


# -- where installs go, and what COPY --from carries ------------------------------------

_SYSTEM_BIN = ("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/sbin")


def _location(install: Install, step: Step) -> str:
    """The folder an install writes into, as a path in the image."""
    workdir = step.workdir or "/"
    for option in ("--target", "--prefix", "--root"):
        value = install.option(option)
        if isinstance(value, str) and value:
            return posixpath.normpath(posixpath.join(workdir, value))
    if install.has("--user") or step.env.get("PIP_USER", "").lower() in ("1", "true", "yes", "on"):
        home = "/root" if step.user in (None, "root", "0") else f"/home/{step.user.split(':')[0]}"
        return f"{home}/.local"
    program = install.command.argv[0]
    if "/bin/" in program:
        return posixpath.dirname(posixpath.dirname(program))
    if step.env.get("VIRTUAL_ENV"):
        return posixpath.normpath(step.env["VIRTUAL_ENV"])
    first = step.env.get("PATH", "").split(":", 1)[0]
    if first.endswith("/bin") and first not in _SYSTEM_BIN and "/.local/" not in first and "/.cargo/" not in first:
        return posixpath.dirname(first)
    return "/usr/local"


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
            for member in _with_parents(image, origin):
                for step in member.steps:
                    for install in step.installs:
                        if install.family != "pip":
                            continue
                        location = _location(install, step)
                        if any(_overlaps(source.value, location) for source in copy.sources):
                            carried.setdefault(member.index, set()).add(location)
    return carried


def _copied_from(image: Image, chain: list[StageModel]) -> set[int]:
    found: set[int] = set()
    for stage in chain:
        for copy in stage.copies:
            if copy.from_stage is not None:
                found.update(member.index for member in _with_parents(image, image.stages[copy.from_stage]))
    return found


def _with_parents(image: Image, stage: StageModel) -> list[StageModel]:
    members = []
    current: StageModel | None = stage
    while current is not None and current not in members:
        members.append(current)
        current = image.stages[current.parent] if current.parent is not None else None
    return members


def _base_image(image: Image, final: StageModel, result: ImageInstalls) -> None:
    """An image we do not know may ship Python packages of its own."""
    ref, _ = external_base(image, final)
    if ref.unresolved or not image_matches(ref, _PLAIN):
        result.unnamed.append(f"the base image `{ref.raw}`")
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
                    name, _ = _argument_name(argument.value)
                    if name:
                        removed.add(name)
    if removed:
        result.items = [item for item in result.items if item.name not in removed]
