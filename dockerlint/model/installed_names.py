"""Which Python distributions an image installs, each with the line that installs it.

Sources: requirements files of ``pip install -r`` (with their includes), the requirement
arguments of ``pip install``, and the dependencies of projects that ``pip install .``,
``uv sync`` and ``poetry install`` install, read from the pyproject.toml the image holds
at that step (lock files are not read: the table of distributions supplies what they
require). Two answers are kept apart on purpose:

- ``items``: what is installed in the final image: installs in the stages it is built
  FROM, and installs in other stages whose install location (venv, ``--prefix``,
  ``--target``, ``--user``, system site-packages) a ``COPY --from`` carries over. These
  are the candidates for "unused" findings, so they must really be there.
- ``providers``: every distribution any stage the final image copies from installs; an
  import is only called missing when none of these could serve it.

``unnamed`` lists installs whose distributions cannot be named (a wheel glob, a URL,
``pdm install``, ``conda install``, an apt ``python3-*`` package, an unknown base image,
a ``uv sync`` or ``poetry install`` whose options or project are not understood); while
it is non-empty nothing is called missing.
"""

from __future__ import annotations

import os
import posixpath
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from dockerlint.checks.common import external_base, final_chain, image_matches
from dockerlint.model.distributions import canonical
from dockerlint.model.image import Image, ShellCommand, StageModel, Step, context_source, env_enabled
from dockerlint.model.installs import Install, package_manager, wrapper_words
from dockerlint.parse.dockerfile import expand
from dockerlint.parse.pyproject import Dependency, Pyproject
from dockerlint.source import Span

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

# Commands that install Python packages from a lock or environment file we do not read
# (`uv sync`, `poetry install` and `poetry sync` are read from pyproject.toml below).
OTHER_INSTALLERS = {
    "poetry": ("add",),
    "pipenv": ("install", "sync"),
    "pdm": ("install", "sync", "add"),
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
    recorded: set[Installed] = field(default_factory=set)  # ``items`` as a set, for de-duplication

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
            for project in _project_installs(image, stage, step):
                counts = in_final or project.location in carried.get(index, ())
                _read_project(image, stage, project, counts, result)
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
        if ref.context_path is None or not os.path.isfile(ref.context_path):
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
    _add(named, counts, result)


def _add(named: list[Installed], counts: bool, result: ImageInstalls) -> None:
    """Record what an install names; ``counts``: it lands in the final image. The same
    file installed twice (``uv sync --no-install-project``, then ``uv sync``) is one item."""
    for item in named:
        result.providers.add(item.name)
        if counts and item not in result.recorded:
            result.recorded.add(item)
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
    if source is not None and os.path.isdir(source):
        return source
    return None


def _project_dependencies(image: Image, stage: StageModel, folder: Path, value: str, result: ImageInstalls):
    """``pip install .[extra]``: the project's dependencies and those of the extras asked for."""
    pyproject_path = folder / "pyproject.toml"
    pyproject = image.workspace.pyproject(pyproject_path) if os.path.isfile(pyproject_path) else None
    if folder not in result.local_projects:
        result.local_projects.append(folder)
    if pyproject is None:
        result.unnamed.append(f"the project in {folder.name or folder}")
        return []
    if pyproject.name:
        result.project_names.add(canonical(pyproject.name))
    wanted_extras = {canonical(extra) for extra in value.partition("[")[2].rstrip("]").split(",") if extra.strip()}
    enabled = _poetry_extra_names(pyproject, wanted_extras)
    optional = _poetry_optional_names(pyproject)

    def wanted(dependency: Dependency) -> bool:
        kind, _, name = dependency.group.partition(":")
        if kind == "optional":
            return canonical(name) in wanted_extras
        if dependency.group == "poetry" and dependency.name in optional:
            return dependency.name in enabled
        return dependency.group in ("project", "poetry")  # pip installs no dependency group

    return _selected(stage, pyproject_path, pyproject.dependencies, pyproject.name, wanted)


def _selected(stage: StageModel, path: Path, dependencies, project: str | None, wanted) -> list[Installed]:
    """The dependencies ``wanted`` takes whose markers hold on Linux, at their lines in
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
        if dependency.name not in (None, "python", itself) and wanted(dependency) and _marker_applies(dependency.marker)
    ]


# -- uv sync and poetry install ------------------------------------------------------------
#
# Which words are options (and which take a value) decides what is understood: an option
# not listed in knowledge/package_managers.toml may change what is installed, so the
# install stays unnamed.
PROJECT_INSTALLERS = {"uv": "uv-project", "poetry": "poetry-project"}  # program -> its table there


@dataclass(frozen=True)
class ProjectInstall:
    """A ``uv sync`` or ``poetry install`` as its command line, environment and
    configuration describe it."""

    tool: str  # "uv" or "poetry"
    label: str  # the command as written, for ``unnamed``
    understood: bool
    options: dict[str, list[str]]  # long option -> values ("" for a flag)
    env: dict[str, str]  # ENV and ARG values, with the command's own assignments
    folder: str  # the project folder in the image
    pyproject: Path | None  # the build-context pyproject.toml the image holds there
    location: str  # the environment it installs into
    command: ShellCommand | None = None  # where the Dockerfile runs it


def project_selections(image: Image, stage: StageModel, step: Step):
    """Each ``uv sync``/``poetry install`` of ``step`` that is understood, with its
    pyproject and the dependencies it installs there (groups, extras and markers as the
    tool chooses them): (ProjectInstall, Pyproject, [Dependency])."""
    for project in _project_installs(image, stage, step):
        if not project.understood or project.pyproject is None:
            continue
        if "--dry-run" in project.options or "--check" in project.options:
            continue
        pyproject = image.workspace.pyproject(project.pyproject)
        if pyproject is None or _unreadable(pyproject):
            continue
        choice = _uv_choice(project, pyproject) if project.tool == "uv" else _poetry_choice(project, pyproject)
        if choice is None:
            continue
        wanted = choice[0]
        dependencies = pyproject.dependencies
        if project.tool == "uv":
            dependencies = tuple(
                replace(item, group="group:dev") if item.group == "uv-dev" else item for item in dependencies
            )
        itself = canonical(pyproject.name) if pyproject.name else None
        chosen = [
            dependency
            for dependency in dependencies
            if dependency.name not in (None, "python", itself)
            and wanted(dependency)
            and _marker_applies(dependency.marker)
        ]
        yield project, pyproject, chosen


def _project_installs(image: Image, stage: StageModel, step: Step) -> list[ProjectInstall]:
    found = []
    cwd: str | None = step.workdir or "/"
    for position, command in enumerate(step.commands):
        argv, env = _unwrapped(command.argv, {**step.env, **dict(command.command.assignments)})
        if command.name == "cd":
            target = _resolved(image, argv[1], env) if len(argv) == 2 else None
            cwd = None if cwd is None or target in (None, "-") else posixpath.join(cwd, target)
            continue
        parsed = _command_line(argv)
        if parsed is None:
            continue
        tool, verb, options, understood = parsed
        label = f"`{tool} {verb}`"
        start = cwd
        project_option = options.get("--project", [env.get("UV_PROJECT") if tool == "uv" else None])
        for value in (options.get("--directory", [None])[-1], project_option[-1]):
            if value is not None and start is not None:
                value = _resolved(image, value, env)
                start = None if value is None else posixpath.join(start, value)
        if start is None:
            found.append(ProjectInstall(tool, label, False, options, env, "/", None, "/", command))
            continue
        folder, pyproject = _find_pyproject(image, stage, step, posixpath.normpath(start))
        if tool == "uv":
            location = _uv_environment(options, env, folder)
        else:
            location = _poetry_environment(image, stage, step, step.commands[:position], env, folder)
        found.append(ProjectInstall(tool, label, understood, options, env, folder, pyproject, location, command))
    return found


def _resolved(image: Image, word: str, env: dict[str, str]) -> str | None:
    """A path word with its variables expanded; None when one of them is not known."""
    if any(name not in env for name in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", word)):
        return None
    return expand(word, env, image.dockerfile.escape)


def _unwrapped(argv: tuple[str, ...], env: dict[str, str]) -> tuple[tuple[str, ...], dict[str, str]]:
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


def _command_line(argv: tuple[str, ...]) -> tuple[str, str, dict[str, list[str]], bool] | None:
    """(tool, subcommand, options, understood) of a ``uv sync``/``poetry install``
    command line, or None for any other command. Options may come before the subcommand."""
    tool = posixpath.basename(argv[0]) if argv else ""
    if tool not in PROJECT_INSTALLERS:
        return None
    spec = package_manager(PROJECT_INSTALLERS[tool])
    verbs, values, flags = spec["subcommands"], set(spec["value_options"]), set(spec["flags"])
    short = spec["aliases"]
    options: dict[str, list[str]] = {}
    verb = None
    understood = True
    words = iter(argv[1:])
    for word in words:
        if not word.startswith("-") or word == "-":
            if verb is not None:
                understood = False  # neither command takes arguments: a value we did not expect
            verb = verb or word
            continue
        if word.startswith("--"):
            name, equals, value = word.partition("=")
        else:
            name, value = short.get(word[:2], word[:2]), word[2:]
            equals = bool(value) and name in values
            if value and not equals:  # a cluster of short flags: -qn, -vvv
                letters = {short.get(f"-{letter}") for letter in word[1:]}
                understood = understood and None not in letters and letters <= flags
                continue
        if name in values:
            options.setdefault(name, []).append(value if equals else next(words, ""))
        elif name in flags and not equals:
            options.setdefault(name, []).append("")
        else:
            understood = False
    if verb not in verbs:
        return None
    return tool, verb, options, understood


def _find_pyproject(image: Image, stage: StageModel, step: Step, start: str) -> tuple[str, Path | None]:
    """(project folder, its build-context pyproject.toml): both tools look in the folder
    they start from and then in its parents."""
    folder = start
    while True:
        source = context_source(image, stage, posixpath.join(folder, "pyproject.toml"), step.index)
        if source is not None and os.path.isfile(source):
            return folder, source
        if folder == "/":
            return start, None
        folder = posixpath.dirname(folder)


def _uv_environment(options: dict[str, list[str]], env: dict[str, str], folder: str) -> str:
    """uv syncs into ``.venv`` in the project, UV_PROJECT_ENVIRONMENT (relative to the
    project), or with ``--active`` the activated virtual environment."""
    if "--active" in options and env.get("VIRTUAL_ENV"):
        return posixpath.normpath(env["VIRTUAL_ENV"])
    return posixpath.normpath(posixpath.join(folder, env.get("UV_PROJECT_ENVIRONMENT") or ".venv"))


def _poetry_environment(image: Image, stage: StageModel, step: Step, before, env: dict[str, str], folder: str) -> str:
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
        return _active_environment(env)
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
        try:
            virtualenvs = tomllib.loads(loaded[0].text).get("virtualenvs")
        except (tomllib.TOMLDecodeError, RecursionError):
            virtualenvs = None
        for key, value in virtualenvs.items() if isinstance(virtualenvs, dict) else ():
            settings[f"virtualenvs.{key}"] = str(value).lower() if isinstance(value, bool) else str(value)
    earlier = [member for member in reversed(_with_parents(image, stage)) if member is not stage]
    commands = [command for member in earlier for done in member.steps for command in done.commands]
    commands += [command for done in stage.steps if done.index < step.index for command in done.commands]
    commands += before
    for command in commands:
        argv, _ = _unwrapped(command.argv, {})
        words = [word for word in argv[1:] if not word.startswith("-")]
        if argv and posixpath.basename(argv[0]) == "poetry" and words[:1] == ["config"]:
            if "--unset" in argv and len(words) > 1:
                settings.pop(words[1], None)
            elif len(words) > 2:
                settings[words[1]] = words[2]
    return settings


def _read_project(image: Image, stage: StageModel, project: ProjectInstall, counts: bool, result: ImageInstalls):
    if not project.understood:
        result.unnamed.append(project.label)
        return
    if "--dry-run" in project.options or "--check" in project.options:
        return  # installs nothing
    pyproject = image.workspace.pyproject(project.pyproject) if project.pyproject is not None else None
    if pyproject is None or _unreadable(pyproject):
        result.unnamed.append(f"the project of {project.label} in {project.folder}")
        return
    choice = _uv_choice(project, pyproject) if project.tool == "uv" else _poetry_choice(project, pyproject)
    if choice is None:
        result.unnamed.append(project.label)
        return
    wanted, installs_project = choice
    if installs_project:
        if project.pyproject.parent not in result.local_projects:
            result.local_projects.append(project.pyproject.parent)
        if pyproject.name:
            result.project_names.add(canonical(pyproject.name))
    dependencies = pyproject.dependencies
    if project.tool == "uv":  # uv reads its legacy dev-dependencies as the dev group
        dependencies = tuple(
            replace(item, group="group:dev") if item.group == "uv-dev" else item for item in dependencies
        )
    _add(_selected(stage, project.pyproject, dependencies, pyproject.name, wanted), counts, result)


def _unreadable(pyproject: Pyproject) -> bool:
    """Invalid TOML leaves nothing but the problem."""
    return bool(pyproject.problems) and not (pyproject.name or pyproject.dependencies or pyproject.tool)


def _names(values: list[str]) -> set[str]:
    """Group and extra names from repeated, comma- or space-separated option values."""
    return {canonical(part) for value in values for part in re.split(r"[,\s]+", value) if part}


def _uv_choice(project: ProjectInstall, pyproject: Pyproject):
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
    defaults = None if defaults == "all" else _names(defaults)
    only = _names(options.get("--only-group", [])) | ({"dev"} if "--only-dev" in options else set())
    chosen = _names(options.get("--group", [])) | only | ({"dev"} if "--dev" in options else set())
    dropped = _names(options.get("--no-group", []) + env.get("UV_NO_GROUP", "").split())
    if "--no-dev" in options or env_enabled(env.get("UV_NO_DEV")):
        dropped.add("dev")
    no_defaults = "--no-default-groups" in options or env_enabled(env.get("UV_NO_DEFAULT_GROUPS"))
    use_defaults = not only and not no_defaults
    every_group = "--all-groups" in options
    every_extra = "--all-extras" in options
    extras, not_extras = _names(options.get("--extra", [])), _names(options.get("--no-extra", []))
    left_out = _names(options.get("--no-install-package", []))

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


def _poetry_choice(project: ProjectInstall, pyproject: Pyproject):
    """(which dependencies ``poetry install`` installs, whether it installs the project)."""
    options = project.options
    poetry = pyproject.tool.get("poetry") if isinstance(pyproject.tool.get("poetry"), dict) else {}
    groups = poetry.get("group") if isinstance(poetry.get("group"), dict) else {}
    optional_groups = {
        canonical(name) for name, table in groups.items() if isinstance(table, dict) and table.get("optional") is True
    }
    only = _names(options.get("--only", []))
    chosen = _names(options.get("--with", []))
    dropped = _names(options.get("--without", [])) | ({"dev"} if "--no-dev" in options else set())
    every_group = "--all-groups" in options
    every_extra = "--all-extras" in options
    extras = _names(options.get("--extras", []))
    enabled = _poetry_extra_names(pyproject, None if every_extra else extras)
    optional = _poetry_optional_names(pyproject)
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


def _poetry_optional_names(pyproject: Pyproject) -> set[str]:
    """``[tool.poetry.dependencies]`` entries marked ``optional = true``: only an extra installs them."""
    poetry = pyproject.tool.get("poetry")
    table = poetry.get("dependencies") if isinstance(poetry, dict) else None
    names = set()
    for name, value in table.items() if isinstance(table, dict) else ():
        entries = value if isinstance(value, list) else [value]
        if any(isinstance(entry, dict) and entry.get("optional") is True for entry in entries):
            names.add(canonical(name))
    return names


def _poetry_extra_names(pyproject: Pyproject, extras: set[str] | None) -> set[str]:
    """The optional poetry dependencies ``[tool.poetry.extras]`` lists for these extras
    (None: every extra)."""
    poetry = pyproject.tool.get("poetry")
    table = poetry.get("extras") if isinstance(poetry, dict) else None
    names = set()
    for extra, members in table.items() if isinstance(table, dict) else ():
        if (extras is None or canonical(extra) in extras) and isinstance(members, list):
            names.update(canonical(member) for member in members if isinstance(member, str))
    return names


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
    return _active_environment(step.env)


def _active_environment(env: dict[str, str]) -> str:
    """The Python environment a command finds: the activated venv, the venv whose bin
    folder leads PATH (not a tool's own: pipx, cargo, poetry), else the system's."""
    if env.get("VIRTUAL_ENV"):
        return posixpath.normpath(env["VIRTUAL_ENV"])
    first = env.get("PATH", "").split(":", 1)[0]
    own = any(tool in first for tool in ("/.local/", "/.cargo/", "poetry"))
    if first.endswith("/bin") and first not in _SYSTEM_BIN and not own:
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
                    locations = [_location(install, step) for install in step.installs if install.family == "pip"]
                    locations += [project.location for project in _project_installs(image, member, step)]
                    for location in locations:
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
