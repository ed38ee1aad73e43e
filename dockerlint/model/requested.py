"""Every version requirement one image asks pip for, as one set, line by line.

Each ``pip install`` / ``uv pip install`` of a stage contributes its requirements files
(with their includes; ``-c`` files as constraints), its arguments, and the dependencies
of local projects it installs (``pip install .[extra]``, read from pyproject.toml). A
stage also holds what the stage it is built FROM asked for, and what a ``COPY --from``
brings over when it copies the place those installs went (a venv, ``/usr/local``,
``--prefix``/``--target``, ``~/.local``): a builder whose only product is ``/app/dist``
carries nothing. Two requirements files that never meet in one image never meet here.

Markers are evaluated for the image's Python and platform, taken from the base image
(notes/library-probe.md §3): packaging overlays a partial environment on the host's, so
every key is passed; an unknown patch version is tried at X.Y.0 and X.Y.99, an unknown
Python at every supported minor, an unknown architecture as both x86_64 and aarch64,
and a marker whose answer differs between them is undecided (None).
"""

from __future__ import annotations

import os
import posixpath
import re
from functools import lru_cache
from pathlib import Path

from msgspec import Struct
from msgspec.structs import replace

from dockerlint.model.image import Image, StageModel, Step, context_source
from dockerlint.model.installs import Install, with_values
from dockerlint.source import Span

# Python minors an image of unknown version may run (CPython releases still in use).
UNKNOWN_PYTHONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
# Docker platform architectures as Python's platform.machine() names them on Linux.
_MACHINES = {"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "ppc64le": "ppc64le", "s390x": "s390x"}
_PYTHON_TAG = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?(?![\d.])")
_SITE_ROOTS = ("/usr/local", "/usr")  # where a system pip install writes (python images, distro pythons)


class Entry(Struct, frozen=True):
    """One requirement as written somewhere, installed (or constraining) in one image."""

    name: str  # canonical
    specifier: str  # "" when none
    extras: tuple[str, ...]
    marker: str | None
    text: str  # as written
    path: Path  # the requirements file, pyproject.toml or Dockerfile holding it
    span: Span
    kind: str  # "requirements", "pyproject" or "command"
    constraint: bool  # from a -c file: takes part in conflicts, installs nothing
    url: str | None
    hashed: bool  # carries --hash (a compiled lock file)
    applies: bool | None  # its marker for this image: True, False, or None when undecided
    install: tuple[int, int, int] = (0, 0, 0)  # (stage, step, command) of the pip install: one resolution
    no_deps: bool = False  # installed with `--no-deps`: what it requires is not installed with it

    @property
    def key(self) -> tuple:
        return (self.path, self.span.line, self.span.column, self.constraint)


def requested(image: Image) -> list[Entry]:
    """The entries of the final image (computed once per image), in install order."""
    return image.memoized(("requested",), lambda: _collect(image))


def by_name(entries: list[Entry]) -> dict[str, list[Entry]]:
    grouped: dict[str, list[Entry]] = {}
    for entry in entries:
        grouped.setdefault(entry.name, []).append(entry)
    return grouped


# -- which stages meet in the final image ----------------------------------------------


def _collect(image: Image) -> list[Entry]:
    final = image.final
    if final is None:
        return []
    unique: dict[tuple, Entry] = {}
    for entry in _stage_entries(image, final, {}, set()):
        unique.setdefault(entry.key, entry)
    return list(unique.values())


def _stage_entries(image: Image, stage: StageModel, memo: dict, visiting: set) -> list[Entry]:
    """The requirements installed in the stage, each once: a stage that both builds FROM and
    copies out of the one before it meets those requirements twice, and a chain of such
    stages would double them at every step."""
    if stage.index in memo:
        return memo[stage.index]
    if stage.index in visiting:
        return []
    visiting.add(stage.index)
    entries: dict[tuple, Entry] = {}

    def add(more: list[Entry]) -> None:
        for entry in more:
            entries.setdefault(entry.key, entry)

    if stage.parent is not None:
        add(_stage_entries(image, image.stages[stage.parent], memo, visiting))
    envs = environments(image, stage)
    pending = sorted(
        (copy for copy in stage.copies if copy.from_stage is not None and not copy.mount_only),
        key=lambda copy: copy.step_index,
    )
    for step in stage.steps:
        while pending and pending[0].step_index <= step.index:
            copy = pending.pop(0)
            origin = image.stages[copy.from_stage]
            if _carries_installs(image, origin, [source.value for source in copy.sources]):
                add(_stage_entries(image, origin, memo, visiting))
        for number, install in enumerate(step.installs):
            if install.family == "pip" and install.action == "install":
                origin = (stage.index, step.index, number)
                alone = install.has("--no-deps")
                add(
                    [
                        replace(entry, install=origin, no_deps=alone)
                        for entry in _install_entries(image, stage, step, install, envs)
                    ]
                )
    memo[stage.index] = list(entries.values())
    visiting.discard(stage.index)
    return memo[stage.index]


def _carries_installs(image: Image, origin: StageModel, sources: list[str]) -> bool:
    """Whether copying ``sources`` out of ``origin`` takes packages its pip installs (or
    those of the stages it is built on) wrote."""
    locations: set[str] = set()
    stage: StageModel | None = origin
    while stage is not None:
        for step in stage.steps:
            for install in step.installs:
                if install.family == "pip" and install.action == "install":
                    locations |= _install_locations(step, install)
        stage = image.stages[stage.parent] if stage.parent is not None else None
    for source in sources:
        path = posixpath.normpath("/" + source.lstrip("/"))
        for location in locations:
            if path == "/" or path == location or path.startswith(location + "/") or location.startswith(path + "/"):
                return True
    return False


def _install_locations(step: Step, install: Install) -> set[str]:
    def absolute(value: str) -> str:
        return posixpath.normpath(posixpath.join(step.workdir or "/", value))

    for option in ("--target", "--prefix", "--root"):
        value = install.option(option)
        if isinstance(value, str) and value:
            return {absolute(value)}
    if install.has("--user"):
        home = "/root" if step.user in (None, "root", "0") else f"/home/{step.user.split(':')[0]}"
        return {home + "/.local"}
    locations = set(_SITE_ROOTS)
    if step.env.get("VIRTUAL_ENV"):
        locations.add(absolute(step.env["VIRTUAL_ENV"]))
    for entry in step.env.get("PATH", "").split(":"):
        if entry.endswith("/bin") and entry.startswith("/") and len(entry) > len("/bin"):
            locations.add(posixpath.normpath(entry[: -len("/bin")]))
    if install.tool == "uv" and not install.has("--system"):
        locations.add(absolute(".venv"))
    program = install.command.argv[0] if install.command.argv else ""
    prefix = absolute(program.rsplit("/bin/", 1)[0] or "/") if "/bin/" in program else None
    if prefix not in (None, "/", "/usr", "/usr/local"):  # `/venv/bin/pip install`: that venv
        locations.add(prefix)
    return locations


# -- one install ---------------------------------------------------------------------------


# Environment variables that name constraints files for every install (pip's PIP_CONSTRAINT,
# uv's UV_CONSTRAINT; several files separated by spaces), as `-c FILE` does on the command line.
_CONSTRAINT_VARIABLES = {"pip": "PIP_CONSTRAINT", "uv": "UV_CONSTRAINT"}


def _environment_constraints(image: Image, stage: StageModel, step: Step, install: Install) -> list[Path]:
    """The build-context constraints files the install's environment names
    (`ENV PIP_CONSTRAINT=/app/constraints.txt`)."""
    variable = _CONSTRAINT_VARIABLES.get(install.tool)
    value = {**step.env, **dict(install.command.command.assignments)}.get(variable or "", "")
    found = []
    for word in value.split():
        image_path = posixpath.normpath(posixpath.join(step.workdir or "/", word))
        source = context_source(image, stage, image_path, step.index)
        if source is not None and os.path.isfile(source):
            found.append(source)
    return found


def _install_entries(image: Image, stage: StageModel, step: Step, install: Install, envs) -> list[Entry]:
    entries: list[Entry] = []
    files = [(ref.context_path, ref.constraint) for ref in install.requirements]
    files += [(path, True) for path in _environment_constraints(image, stage, step, install)]
    for context_path, constrains in files:
        if context_path is None or not os.path.isfile(context_path):
            continue
        for requirement in image.workspace.requirements(context_path).requirements:
            if requirement.name is None or requirement.path is None:
                continue
            entries.append(
                Entry(
                    name=requirement.name,
                    specifier=requirement.specifier,
                    extras=requirement.extras,
                    marker=requirement.marker,
                    text=requirement.text,
                    path=requirement.path,
                    span=requirement.span,
                    kind="requirements",
                    constraint=requirement.constraint or constrains,
                    url=requirement.url,
                    hashed=bool(requirement.hashes),
                    applies=evaluate(requirement.marker, envs),
                )
            )
    for argument in (*install.packages, *install.editables):
        folder, extras = _local_project(image, stage, step, argument.value)
        if folder is not None:
            entries += _pyproject_entries(image, folder, extras, envs)
            continue
        value = with_values(argument.value, {**step.env, **dict(install.command.command.assignments)})
        parsed = _command_requirement(value)
        if parsed is not None:
            name, specifier, requirement_extras, marker = parsed
            entries.append(
                Entry(
                    name=name,
                    specifier=specifier,
                    extras=requirement_extras,
                    marker=marker,
                    text=value,
                    path=image.dockerfile_path,
                    span=argument.span,
                    kind="command",
                    constraint=False,
                    url=None,
                    hashed=False,
                    applies=evaluate(marker, envs),
                )
            )
    return entries


def _local_project(image: Image, stage: StageModel, step: Step, value: str) -> tuple[Path | None, tuple[str, ...]]:
    path, _, extras = value.partition("[")
    if not (path in (".", "..") or path.startswith(("./", "../", "/"))):
        return None, ()
    image_path = posixpath.normpath(posixpath.join(step.workdir or "/", path))
    source = context_source(image, stage, image_path, step.index)
    if source is None or not os.path.isfile(source / "pyproject.toml"):
        return None, ()
    return source, tuple(part.strip() for part in extras.rstrip("]").split(",") if part.strip())


def _pyproject_entries(image: Image, folder: Path, extras: tuple[str, ...], envs) -> list[Entry]:
    """What ``pip install .[extras]`` asks for: the project's (or poetry's main)
    dependencies and the chosen optional ones; never dev groups."""
    path = folder / "pyproject.toml"
    pyproject = image.workspace.pyproject(path)
    if pyproject is None:
        return []
    groups = {"project", "poetry"} | {f"optional:{extra}" for extra in extras}
    return [
        _dependency_entry(dependency, path, "pyproject", envs)
        for dependency in pyproject.dependencies
        if dependency.name is not None and dependency.group in groups
    ]


def _dependency_entry(dependency, path: Path, kind: str, envs) -> Entry:
    """A pyproject.toml dependency as an entry of this image."""
    return Entry(
        name=dependency.name,
        specifier=dependency.specifier,
        extras=dependency.extras,
        marker=dependency.marker,
        text=dependency.text,
        path=path,
        span=dependency.span,
        kind=kind,
        constraint=False,
        url=None,
        hashed=False,
        applies=evaluate(dependency.marker, envs),
    )


def project_entries(image: Image) -> list[Entry]:
    """What the `uv sync` / `poetry install` runs of the stages that reach the final image
    install from their pyproject.toml (groups, extras and markers as the tool chooses them),
    as entries of kind "project": the lock file, not these lines, decides their versions."""
    from dockerlint.model.installed_projects import project_selections
    from dockerlint.model.ml import install_stages

    found: list[Entry] = []
    for stage in install_stages(image):
        envs = environments(image, stage)
        for step in stage.runs():
            for project, _pyproject, chosen in project_selections(image, stage, step):
                found += [
                    replace(
                        _dependency_entry(dependency, project.pyproject, "project", envs),
                        install=(stage.index, step.index, 0),
                    )
                    for dependency in chosen
                ]
    return found


@lru_cache(maxsize=4096)
def _command_requirement(value: str) -> tuple[str, str, tuple[str, ...], str | None] | None:
    """A ``pip install`` argument that is a plain PEP 508 requirement (not a path, URL,
    archive or shell variable)."""
    if not value or "$" in value or "/" in value or "\\" in value or value.startswith("-"):
        return None
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        requirement = Requirement(value)
    except InvalidRequirement:
        return None
    if requirement.url:
        return None
    marker = str(requirement.marker) if requirement.marker else None
    return canonicalize_name(requirement.name), str(requirement.specifier), tuple(sorted(requirement.extras)), marker


# -- markers ---------------------------------------------------------------------------------


def environments(image: Image, stage: StageModel) -> tuple[tuple[tuple[str, str], ...], ...]:
    """Every marker environment the stage's Python may have, as hashable tuples."""
    root = stage
    while root.parent is not None:
        root = image.stages[root.parent]
    ref = root.base
    repository = ref.repository.rsplit("/", 1)[-1]
    tag = ref.tag or ""
    pythons: list[str] = []
    if repository in ("python", "pypy") and not ref.unresolved:
        found = _PYTHON_TAG.match(tag)
        if found:
            minor = f"{found.group(1)}.{found.group(2)}"
            pythons = [f"{minor}.{found.group(3)}"] if found.group(3) else [f"{minor}.0", f"{minor}.99"]
    if not pythons:
        pythons = [f"{minor}.{patch}" for minor in UNKNOWN_PYTHONS for patch in (0, 99)]
    windows = "windowsservercore" in tag or "nanoserver" in tag
    platform = image.platform_of(root).lower()
    architecture = platform.split("/")[1] if platform.startswith("linux/") else ""
    machines = [_MACHINES[architecture]] if architecture in _MACHINES else ["x86_64", "aarch64"]
    if windows:
        machines = ["AMD64"]
    implementation = "pypy" if repository == "pypy" else "cpython"
    return _environments(tuple(pythons), tuple(machines), windows, implementation)


@lru_cache(maxsize=256)
def _environments(
    pythons: tuple[str, ...], machines: tuple[str, ...], windows: bool, implementation: str
) -> tuple[tuple[tuple[str, str], ...], ...]:
    result = []
    for full in pythons:
        for machine in machines:
            environment = {
                "implementation_name": implementation,
                "implementation_version": full,
                "os_name": "nt" if windows else "posix",
                "platform_machine": machine,
                "platform_python_implementation": "PyPy" if implementation == "pypy" else "CPython",
                "platform_release": "",
                "platform_system": "Windows" if windows else "Linux",
                "platform_version": "",
                "python_full_version": full,
                "python_version": full.rsplit(".", 1)[0],
                "sys_platform": "win32" if windows else "linux",
                "extra": "",
            }
            result.append(tuple(sorted(environment.items())))
    return tuple(result)


def linux_environments(machines: tuple[str, ...] = ("x86_64", "aarch64")) -> tuple[tuple[tuple[str, str], ...], ...]:
    """The marker environments of a Linux image whose Python is not known."""
    pythons = tuple(f"{minor}.{patch}" for minor in UNKNOWN_PYTHONS for patch in (0, 99))
    return _environments(pythons, machines, False, "cpython")


def may_hold(marker: str | None, envs=None) -> bool:
    """Whether a marker may hold in an image of ``envs`` (default: any Linux image): only
    one that every candidate environment rules out is false, and never judged by the
    Python dockerlint itself runs on."""
    return evaluate(marker, linux_environments() if envs is None else envs) is not False


def evaluate(marker: str | None, envs) -> bool | None:
    """True or False when every candidate environment agrees, else None."""
    if not marker:
        return True
    answers = {_evaluate_one(marker, env) for env in envs}
    return answers.pop() if len(answers) == 1 else None


@lru_cache(maxsize=16384)
def _evaluate_one(marker: str, env: tuple[tuple[str, str], ...]) -> bool | None:
    from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName

    try:
        return Marker(marker).evaluate(dict(env))
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return None
