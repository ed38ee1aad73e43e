"""What ``pip install`` puts into an image: requirements files (with their includes),
requirement arguments, and local projects (``pip install .[extra]``) read from their
pyproject.toml."""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path

from msgspec.structs import replace

from dockerlint.model.distributions import canonical, vcs_distribution
from dockerlint.model.image import Image, StageModel, Step, context_source
from dockerlint.model.installed_poetry import poetry_extra_names, poetry_optional_names
from dockerlint.model.installed_projects import exported_project, lock_requirements, read_project
from dockerlint.model.installed_records import ImageInstalls, Installed, add, marker_applies, selected, with_parents
from dockerlint.model.installs import Install
from dockerlint.parse.pyproject import Dependency
from dockerlint.regex import lazy_compile

_REQUIREMENT = lazy_compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(?:[<>=!~;@ ]|$)")


_WHEEL = lazy_compile(r"^([A-Za-z0-9][A-Za-z0-9._]*)-[0-9][^-]*(?:-[^-]+)*\.whl$")


_EGG = lazy_compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")


def read_pip(image: Image, stage: StageModel, step: Step, install: Install, counts: bool, result: ImageInstalls):
    if install.action == "uninstall" or install.action not in ("install", "sync"):
        return
    if install.action == "sync":
        result.unnamed.append(f"`{install.tool} pip sync`")
        return
    named = _named(image, stage, step, install, counts, result)
    add(named, counts, result)


def _named(
    image: Image, stage: StageModel, step: Step, install: Install, counts: bool, result: ImageInstalls
) -> list[Installed]:
    """What a ``pip install`` (or the ``pip wheel`` that built the wheels it installs) names."""
    path = image.dockerfile_path
    named: list[Installed] = []
    for ref in install.requirements:
        if ref.constraint:
            continue
        if ref.context_path is None or not os.path.isfile(ref.context_path):
            exported = exported_project(image, stage, step, ref.image_path)
            if exported is not None:
                read_project(image, stage, exported, counts, result)
            else:
                result.unnamed.append(f"requirements file {ref.image_path}")
            continue
        loaded = image.workspace.requirements(ref.context_path)
        # A requirements file exported from the project's lock (`uv export`) sits beside the
        # lock, whose record of what each package requires the index may not have (ucapi's).
        for name, names in lock_requirements(image, ref.context_path.parent).items():
            result.lock_requires.setdefault(name, names)
        for requirement in loaded.requirements:
            if requirement.constraint:
                continue
            if requirement.name is None and requirement.url and vcs_distribution(requirement.url):
                requirement = replace(requirement, name=vcs_distribution(requirement.url))
            if requirement.name is None:
                result.unnamed.append(requirement.text)
                continue
            if not marker_applies(requirement.marker, image, stage):
                continue
            for parent in requirement.via:
                result.compiled_requires.setdefault(parent, set()).add(requirement.name)
                result.compiled_files.add(requirement.path or ref.context_path)
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
        project = local_project(image, stage, step, value)
        if project is not None:
            named += _project_dependencies(image, stage, project, value, result)
            continue
        built = _wheels_built_by(image, stage, step, value) if install.action == "install" else None
        if built is not None:
            origin, origin_step, wheel = built
            named += [
                replace(item, stage=stage.index) for item in _named(image, origin, origin_step, wheel, counts, result)
            ]
            continue
        name, extras = argument_name(value)
        if name is None:
            result.unnamed.append(value)
            continue
        named.append(Installed(name, extras, path, argument.span, value, stage.index, "argument"))
    return named


def _wheels_built_by(
    image: Image, stage: StageModel, step: Step, value: str
) -> tuple[StageModel, Step, Install] | None:
    """The ``pip wheel -w DIR`` (or ``pip download -d DIR``) of an earlier stage whose folder
    a ``COPY --from`` brought to where ``value`` (``/wheels/*``, ``/wheels/*.whl``,
    ``/wheels``) installs from: the wheels are what that command named."""
    folder = value.rstrip("/")
    for suffix in ("/*.whl", "/*"):
        folder = folder.removesuffix(suffix)
    if not folder or "$" in folder or "*" in folder or not folder.startswith(("/", "./")):
        return None
    folder = posixpath.normpath(posixpath.join(step.workdir or "/", folder))
    for copy in reversed(stage.copies):
        if copy.step_index >= step.index or copy.from_stage is None:
            continue
        if posixpath.normpath(copy.dest) == folder:
            return wheels_copied(image, copy)
    return None


def wheels_copied(image: Image, copy) -> tuple[StageModel, Step, Install] | None:
    """The ``pip wheel -w DIR`` (or ``pip download -d DIR``) whose folder DIR a
    ``COPY --from=<stage> DIR ...`` takes, in that stage or the ones it is built on."""
    if copy.from_stage is None or len(copy.sources) != 1:
        return None
    source = posixpath.normpath(posixpath.join("/", copy.sources[0].value))
    for member in with_parents(image, image.stages[copy.from_stage]):
        for origin_step in member.steps:
            for built in origin_step.installs:
                if built.family != "pip" or built.action not in ("wheel", "download"):
                    continue
                target = built.option("--wheel-dir") or built.option("--dest")
                if (
                    isinstance(target, str)
                    and posixpath.normpath(posixpath.join(origin_step.workdir or "/", target)) == source
                ):
                    return member, origin_step, built
    return None


def wheel_names(image: Image, stage: StageModel, step: Step, install: Install) -> list[Installed]:
    """What a ``pip wheel`` or ``pip download`` names (its requirements files and arguments)."""
    return _named(image, stage, step, install, False, ImageInstalls())


def argument_name(value: str) -> tuple[str | None, tuple[str, ...]]:
    """The distribution a ``pip install`` argument names, or None for paths, URLs and
    variables: ``uvicorn[standard]==0.30`` -> ("uvicorn", ("standard",))."""
    egg = _EGG.search(value)
    if egg:
        return canonical(egg.group(1)), ()
    if "://" in value or value.startswith("git@"):
        return vcs_distribution(value), ()  # a known repository's, or None
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


def local_project(image: Image, stage: StageModel, step: Step, value: str) -> Path | None:
    """The build-context folder a `pip install` argument installs as a project (`.`,
    `./lib[extra]`), or None."""
    bare = value.split("[", 1)[0]
    if not (bare in (".", "..") or bare.startswith(("./", "../", "/"))):
        return None
    image_path = posixpath.normpath(posixpath.join(step.workdir or "/", bare))
    source = context_source(image, stage, image_path, step.index)
    if source is not None and os.path.isdir(source):
        return source
    # the folder put together file by file (`COPY pyproject.toml ./`, `COPY api ./api`): the
    # project is where its manifest comes from
    for manifest in ("pyproject.toml", "setup.py"):
        source = context_source(image, stage, posixpath.join(image_path, manifest), step.index)
        if source is not None and os.path.isfile(source):
            return source.parent
    return None


def _declares(pyproject) -> bool:
    """Whether a pyproject.toml names the project or its dependencies (not only a build system)."""
    return bool(pyproject.name) or any(item.group in ("project", "poetry") for item in pyproject.dependencies)


def _project_dependencies(image: Image, stage: StageModel, folder: Path, value: str, result: ImageInstalls):
    """``pip install .[extra]``: the project's dependencies and those of the extras asked for."""
    pyproject_path = folder / "pyproject.toml"
    pyproject = image.workspace.pyproject(pyproject_path) if os.path.isfile(pyproject_path) else None
    if (pyproject is None or not _declares(pyproject)) and os.path.isfile(folder / "setup.py"):
        pyproject_path = folder / "setup.py"  # setuptools' own: its literal install_requires
        pyproject = image.workspace.pyproject(pyproject_path)
    if folder not in result.local_projects:
        result.local_projects.append(folder)
    if pyproject is None:
        result.unnamed.append(f"the project in {folder.name or folder}")
        return []
    if pyproject.name:
        result.project_names.add(canonical(pyproject.name))
    for name, names in lock_requirements(image, folder).items():
        result.lock_requires.setdefault(name, names)
    wanted_extras = {canonical(extra) for extra in value.partition("[")[2].rstrip("]").split(",") if extra.strip()}
    enabled = poetry_extra_names(pyproject, wanted_extras)
    optional = poetry_optional_names(pyproject)

    def wanted(dependency: Dependency) -> bool:
        kind, _, name = dependency.group.partition(":")
        if kind == "optional":
            return canonical(name) in wanted_extras
        if dependency.group == "poetry" and dependency.name in optional:
            return dependency.name in enabled
        return dependency.group in ("project", "poetry")  # pip installs no dependency group

    return selected(image, stage, pyproject_path, pyproject.dependencies, pyproject.name, wanted)


# The command line pip-compile and `uv pip compile` write at the top of what they make:
# `#    uv pip compile pyproject.toml -o requirements.txt`.
_COMPILE_COMMAND = lazy_compile(r"^#\s+(?:uv pip compile|pip-compile)\b([^\n]*)", re.MULTILINE)
_OUTPUT_OPTIONS = ("-o", "--output-file")


def compiled_sources(image: Image) -> set[Path]:
    """The files the image's compiled requirements files were compiled from, by the command
    in their header (`uv pip compile pyproject.toml -o requirements.txt`): an image that
    installs the compiled file installs what its source lists, resolved."""
    from dockerlint.model.installed_names import image_installs

    found: set[Path] = set()
    for path in {item.path for item in image_installs(image).items if item.kind == "requirements"}:
        loaded = image.workspace.text(path, quiet=True)
        match = _COMPILE_COMMAND.search(loaded[0].text[:4000]) if loaded is not None else None
        if match is None:
            continue
        words = match.group(1).split()
        outputs = {value for option, value in zip(words, words[1:], strict=False) if option in _OUTPUT_OPTIONS}
        for word in words:
            if word.startswith("-") or word in outputs or not word.endswith((".in", ".toml", ".txt", ".cfg", ".py")):
                continue
            for folder in (path.parent, image.workspace.root):
                source = (folder / word) if folder is not None else None
                if (
                    source is not None
                    and source != path
                    and os.path.isfile(source)
                    and image.workspace.outside(source, in_context=False) is None
                ):
                    found.add(Path(os.path.normpath(source)))
                    break
    return found
