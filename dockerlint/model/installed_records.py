"""What one install names, and where an install writes: shared by the pip, uv and poetry readers."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from msgspec import Struct, field

from dockerlint.model.distributions import canonical
from dockerlint.model.image import Image, StageModel, Step
from dockerlint.model.installs import Install, wrapper_words
from dockerlint.model.queries import truthy
from dockerlint.source import Span

# `redis==4.3.4`, and the quoted `redis = "==4.3.4"` of a Pipfile line
_PIN = re.compile(r"(?<![=<>!~])==\s*v?([0-9][0-9A-Za-z.!-]*)(?:\+[0-9A-Za-z.]+)?\s*(?:$|[;,\s#\"'])")


def pinned_release(written: str) -> str | None:
    """The version a requirement as written pins (``redis==4.3.4``), or the file name of a
    wheel names (``mediapipe-0.10.11-cp311-cp311-manylinux_2_17_x86_64.whl``), or None."""
    match = _PIN.search(written)
    if match is None:
        wheel = _WHEEL_FILE.search(written.strip())
        return wheel.group(1) if wheel else None
    return match.group(1) if "*" not in match.group(0) else None


# A wheel's file name: {distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl
# (the binary distribution format, packaging.python.org).
_WHEEL_FILE = re.compile(r"(?:^|/)[A-Za-z0-9_.]+-([0-9][A-Za-z0-9_.!+]*)(?:-\d[^-/]*)?-[^-/]+-[^-/]+-[^-/]+\.whl$")


# the lower bound of a range (`mineru>=2.5.4`, `~=2.5`, poetry's `^2.5.4`)
_FLOOR = re.compile(r"(?:>=|~=|\^)\s*v?([0-9][0-9A-Za-z.!-]*)")


def floor_release(written: str) -> str | None:
    """The oldest release a requirement as written allows, when it names one."""
    match = _FLOOR.search(written)
    return match.group(1) if match else None


class Installed(Struct, frozen=True):
    """One distribution named by one install, at the place that names it."""

    name: str  # canonical
    extras: tuple[str, ...]
    path: Path  # the requirements file, Dockerfile or pyproject.toml that names it
    span: Span
    written: str  # the requirement as written
    stage: int  # index of the stage whose RUN installs it
    kind: str  # "requirements", "argument" or "pyproject"


class ImageInstalls(Struct):
    items: list[Installed] = field(default_factory=list)
    providers: set[str] = field(default_factory=set)
    unnamed: list[str] = field(default_factory=list)  # what installs unknown distributions
    locked: dict[str, str] = field(default_factory=dict)  # name -> version a uv.lock/poetry.lock pins
    lock_requires: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name -> what the lock says it requires
    # name -> what a compiled requirements file's `# via name` notes say it needs (the
    # resolver's answer for the pinned versions, whatever the index read of newer ones)
    compiled_requires: dict[str, set[str]] = field(default_factory=dict)
    compiled_files: set[Path] = field(default_factory=set)  # requirements files with those notes
    local_projects: list[Path] = field(default_factory=list)  # context folders installed as projects
    project_names: set[str] = field(default_factory=set)  # their distribution names
    recorded: set[Installed] = field(default_factory=set)  # ``items`` as a set, for de-duplication

    @property
    def names(self) -> set[str]:
        return {item.name for item in self.items}


def add(named: list[Installed], counts: bool, result: ImageInstalls) -> None:
    """Record what an install names; ``counts``: it lands in the final image. The same
    file installed twice (``uv sync --no-install-project``, then ``uv sync``) is one item."""
    for item in named:
        result.providers.add(item.name)
        if counts and item not in result.recorded:
            result.recorded.add(item)
            result.items.append(item)


def selected(image: Image, stage: StageModel, path: Path, dependencies, project: str | None, wanted) -> list[Installed]:
    """The dependencies ``wanted`` takes whose markers may hold in the stage, at their lines in
    pyproject.toml (the project naming itself, ``app[test]`` in a group, is left out)."""
    itself = canonical(project) if project else None
    return [
        Installed(
            dependency.name,
            tuple(dependency.extras),
            path,
            dependency.span,
            dependency.text,
            stage.index,
            "pyproject",
        )
        for dependency in dependencies
        if dependency.name not in (None, "python", itself)
        and wanted(dependency)
        and marker_applies(dependency.marker, image, stage)
    ]


def marker_applies(marker: str | None, image: Image | None = None, stage: StageModel | None = None) -> bool:
    """Whether an environment marker may hold in the stage (any Linux image when no stage
    is given): judged for the Pythons its base image may have, never for the one dockerlint
    runs on; an invalid marker (REQ005 reports it) keeps the requirement."""
    if not marker:
        return True
    from dockerlint.model.requested import environments, may_hold

    return may_hold(marker, environments(image, stage) if image is not None and stage is not None else None)


def option_names(values: list[str]) -> set[str]:
    """Group and extra names from repeated, comma- or space-separated option values."""
    return {canonical(part) for value in values for part in re.split(r"[,\s]+", value) if part}


# -- where installs go, and what COPY --from carries ------------------------------------


_SYSTEM_BIN = ("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/sbin")


def location(install: Install, step: Step) -> str:
    """The folder an install writes into, as a path in the image."""
    workdir = step.workdir or "/"
    for option in ("--target", "--prefix", "--root"):
        value = install.option(option)
        if isinstance(value, str) and value:
            return posixpath.normpath(posixpath.join(workdir, value))
    if install.has("--user") or truthy(step.env.get("PIP_USER")):
        home = "/root" if step.user in (None, "root", "0") else f"/home/{step.user.split(':')[0]}"
        return f"{home}/.local"
    program = install.command.argv[0]
    if "/bin/" in program:
        return posixpath.dirname(posixpath.dirname(program))
    return active_environment(step.env)


def active_environment(env: dict[str, str]) -> str:
    """The Python environment a command finds: the activated venv, the venv whose bin
    folder leads PATH (not a tool's own: pipx, cargo, poetry), else the system's."""
    if env.get("VIRTUAL_ENV"):
        return posixpath.normpath(env["VIRTUAL_ENV"])
    first = env.get("PATH", "").split(":", 1)[0]
    own = any(tool in first for tool in ("/.local/", "/.cargo/", "poetry"))
    if first.endswith("/bin") and first not in _SYSTEM_BIN and not own:
        return posixpath.dirname(first)
    return "/usr/local"


def with_parents(image: Image, stage: StageModel) -> list[StageModel]:
    members = []
    current: StageModel | None = stage
    while current is not None and current not in members:
        members.append(current)
        current = image.stages[current.parent] if current.parent is not None else None
    return members


def configured(
    image: Image, stage: StageModel, step: Step, before, program: str, unset: tuple[str, ...]
) -> dict[str, str]:
    """Every ``PROGRAM config KEY VALUE`` run before this command (``before``: the earlier
    commands of its RUN) in this stage and the stages it is built on, the last one winning;
    one with an option of ``unset`` (``--unset``, ``-d``) takes KEY back."""
    settings: dict[str, str] = {}
    earlier = [member for member in reversed(with_parents(image, stage)) if member is not stage]
    commands = [command for member in earlier for done in member.steps for command in done.commands]
    commands += [command for done in stage.steps if done.index < step.index for command in done.commands]
    commands += before
    for command in commands:
        argv, _ = unwrapped(command.argv, {})
        words = [word for word in argv[1:] if not word.startswith("-")]
        if argv and posixpath.basename(argv[0]) == program and words[:1] == ["config"]:
            if any(option in argv for option in unset) and len(words) > 1:
                settings.pop(words[1], None)
            elif len(words) > 2:
                settings[words[1]] = words[2]
    return settings


def unwrapped(argv: tuple[str, ...], env: dict[str, str]) -> tuple[tuple[str, ...], dict[str, str]]:
    """The command under ``env A=1``/``sudo``/``time`` and ``python -m``, with the
    variables ``env`` sets."""
    skip = wrapper_words(argv)
    for word in argv[:skip]:
        name, equals, value = word.partition("=")
        if equals and name.isidentifier():
            env = {**env, name: value}
    argv = argv[skip:]
    if len(argv) > 2 and re.fullmatch(r"python[0-9.]*", posixpath.basename(argv[0])) and argv[1] == "-m":
        argv = argv[2:]
    return argv, env
