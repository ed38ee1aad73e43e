"""``uv sync``, ``poetry install``, ``pipenv install`` and ``pdm install``/``pdm sync``
command lines: where they run, which project they read, what they install (the
tool-specific choices are in installed_uv, installed_poetry, installed_pipenv and
installed_pdm)."""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path

from msgspec import Struct
from msgspec.structs import replace

from dockerlint.model.distributions import canonical
from dockerlint.model.image import Image, ShellCommand, StageModel, Step, context_source, made_in
from dockerlint.model.installed_pdm import pdm_choice, pdm_environment, pdm_groups
from dockerlint.model.installed_pipenv import pipenv_choice, pipenv_environment
from dockerlint.model.installed_poetry import poetry_choice, poetry_environment
from dockerlint.model.installed_records import ImageInstalls, add, marker_applies, option_names, selected, unwrapped
from dockerlint.model.installed_uv import uv_choice, uv_environment
from dockerlint.model.installs import package_manager
from dockerlint.parse.dockerfile import expand
from dockerlint.parse.pyproject import Pyproject

# -- uv sync, poetry install, pipenv install, pdm install ----------------------------------
#
# Which words are options (and which take a value) decides what is understood: an option
# not listed in knowledge/package_managers.toml may change what is installed, so the
# install stays unnamed.


PROJECT_INSTALLERS = {
    "uv": "uv-project",
    "poetry": "poetry-project",
    "pipenv": "pipenv-project",
    "pdm": "pdm-project",
}  # program -> its table there
MANIFESTS = {"uv": "pyproject.toml", "poetry": "pyproject.toml", "pipenv": "Pipfile", "pdm": "pyproject.toml"}
# The variable that stands for `--project` when the option is not given.
_PROJECT_VARIABLES = {"uv": "UV_PROJECT", "pdm": "PDM_PROJECT"}


class ProjectInstall(Struct, frozen=True):
    """A ``uv sync``, ``poetry install``, ``pipenv install`` or ``pdm install`` as its
    command line, environment and configuration describe it."""

    tool: str  # "uv", "poetry", "pipenv" or "pdm"
    label: str  # the command as written, for ``unnamed``
    understood: bool
    options: dict[str, list[str]]  # long option -> values ("" for a flag)
    env: dict[str, str]  # ENV and ARG values, with the command's own assignments
    folder: str  # the project folder in the image
    pyproject: Path | None  # the build-context pyproject.toml (pipenv: Pipfile) the image holds there
    location: str  # the environment it installs into
    command: ShellCommand | None = None  # where the Dockerfile runs it


def project_installs(image: Image, stage: StageModel, step: Step) -> list[ProjectInstall]:
    found = []
    cwd: str | None = step.workdir or "/"
    for position, command in enumerate(step.commands):
        argv, env = unwrapped(command.argv, {**step.env, **dict(command.command.assignments)})
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
        variable = _PROJECT_VARIABLES.get(tool)
        project_option = options.get("--project", [env.get(variable) if variable else None])
        if tool == "pdm" and "--global" in options and project_option[-1] is None:
            start = None  # the global project, under pdm's data folder: not the build context's
        for value in (options.get("--directory", [None])[-1], project_option[-1]):
            if value is not None and start is not None:
                value = _resolved(image, value, env)
                start = None if value is None else posixpath.join(start, value)
        if tool == "pipenv" and start is not None and env.get("PIPENV_PIPFILE"):
            pipfile = _resolved(image, env["PIPENV_PIPFILE"], env)
            start = None if pipfile is None else posixpath.dirname(posixpath.join(start, pipfile))
        if start is None:
            found.append(ProjectInstall(tool, label, False, options, env, "/", None, "/", command))
            continue
        folder, pyproject = _find_pyproject(image, stage, step, posixpath.normpath(start), MANIFESTS[tool])
        if tool == "uv":
            location = uv_environment(options, env, folder)
        elif tool == "pipenv":
            location = pipenv_environment(options, env, folder, step.home)
        elif tool == "pdm":
            location = pdm_environment(image, stage, step, step.commands[:position], options, env, folder)
        else:
            location = poetry_environment(image, stage, step, step.commands[:position], env, folder)
        found.append(ProjectInstall(tool, label, understood, options, env, folder, pyproject, location, command))
    return found


# `poetry export` (poetry-plugin-export, src/poetry_plugin_export/command.py): the main group
# unless --with/--only/--without or the deprecated --dev say more; never the project itself.
_EXPORT_VALUES = frozenset({"--with", "--without", "--only", "--extras", "-E", "--output", "-o", "--format", "-f",
                            "--directory", "-C", "--project", "-P"})  # fmt: skip
_REDIRECT = re.compile(r"[^;&|\n]*?(?<![0-9&])>\s*([^\s;&|]+)")


def exported_project(image: Image, stage: StageModel, step: Step, image_path: str) -> ProjectInstall | None:
    """The project whose locked dependencies a requirements file the build wrote lists:
    ``poetry export -o requirements.txt`` (or ``> requirements.txt``) in this stage, or in
    the stage a ``COPY --from`` took the file from, read as the ``poetry install`` of the
    groups it exports (the FastAPI guide's requirements stage). Asked once per file and
    install: a hostile line names one file thousands of times."""
    key = ("exported_project", stage.index, step.index, image_path)
    return image.memoized(key, lambda: _exported_project(image, stage, step, image_path))


def _exported_project(image: Image, stage: StageModel, step: Step, image_path: str) -> ProjectInstall | None:
    for where, path, before in made_in(image, stage, image_path, step.index):
        for run in reversed([run for run in where.runs() if run.index <= before]):  # its own RUN too
            for command in run.commands:
                project = _poetry_export(image, where, run, command, path)
                if project is not None:
                    return project
    return None


def _poetry_export(image: Image, stage: StageModel, step: Step, command: ShellCommand, path: str):
    argv, env = unwrapped(command.argv, {**step.env, **dict(command.command.assignments)})
    if not argv or posixpath.basename(argv[0]) != "poetry" or "export" not in argv[1:]:
        return None
    options: dict[str, list[str]] = {}
    words = iter(argv[1:])
    for word in words:
        name, equals, value = word.partition("=")
        if name in _EXPORT_VALUES:
            options.setdefault(name, []).append(value if equals else next(words, ""))
        elif word.startswith("-"):
            options.setdefault(word, []).append("")
    if options.get("--format", options.get("-f", ["requirements.txt"]))[-1] != "requirements.txt":
        return None  # constraints.txt: it installs nothing by itself
    output = options.get("--output", options.get("-o", [None]))[-1]
    if output is None:
        locate = command.locate
        script = locate.heredoc.body if locate.heredoc is not None else locate.instruction.args
        redirect = _REDIRECT.match(script, command.command.start)
        output = redirect.group(1) if redirect else None
    cwd = step.workdir or "/"
    if output is None or posixpath.normpath(posixpath.join(cwd, output)) != path:
        return None
    for value in (*options.get("--directory", []), *options.get("-C", []), *options.get("--project", [])):
        resolved = _resolved(image, value, env)
        if resolved is None:
            return None
        cwd = posixpath.normpath(posixpath.join(cwd, resolved))
    only = option_names(options.get("--only", []))
    if not only:
        only = {"main"} | option_names(options.get("--with", [])) | ({"dev"} if "--dev" in options else set())
        only -= option_names(options.get("--without", []))
    chosen = {"--no-root": [""], "--only": [",".join(sorted(only))]}
    if "--all-groups" in options:
        chosen = {"--no-root": [""], "--all-groups": [""]}
    chosen["--extras"] = options.get("--extras", []) + options.get("-E", [])
    if "--all-extras" in options:
        chosen["--all-extras"] = [""]
    folder, pyproject = _find_pyproject(image, stage, step, cwd, MANIFESTS["poetry"])
    return ProjectInstall("poetry", "`poetry export`", True, chosen, env, folder, pyproject, "/", command)


def _resolved(image: Image, word: str, env: dict[str, str]) -> str | None:
    """A path word with its variables expanded; None when one of them is not known."""
    if any(name not in env for name in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", word)):
        return None
    return expand(word, env, image.dockerfile.escape)


def _command_line(argv: tuple[str, ...]) -> tuple[str, str, dict[str, list[str]], bool] | None:
    """(tool, subcommand, options, understood) of a ``uv sync``/``poetry install``/``pipenv
    install``/``pdm install`` command line, or None for any other command. Options may come
    before the subcommand; an alias may be long (pdm's ``--with`` is ``--group``)."""
    tool = posixpath.basename(argv[0]) if argv else ""
    if tool not in PROJECT_INSTALLERS:
        return None
    spec = package_manager(PROJECT_INSTALLERS[tool])
    verbs, values, flags = spec["subcommands"], set(spec["value_options"]), set(spec["flags"])
    short = spec["aliases"]
    options: dict[str, list[str]] = {}
    verb = None
    understood = True
    unknown = False  # the word before is an option we do not know: this one may be its value
    words = iter(argv[1:])
    for word in words:
        if not word.startswith("-") or word == "-":
            if verb is None and unknown and word not in verbs:
                unknown = False
                continue  # `pdm -c FILE install`: not the subcommand
            if verb is not None:
                understood = False  # neither command takes arguments: a value we did not expect
            verb = verb or word
            continue
        unknown = False
        if word.startswith("--"):
            name, equals, value = word.partition("=")
            name = short.get(name, name)  # pdm's `--with` is `--group`
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
            unknown = not equals
    if verb not in verbs:
        return None
    return tool, verb, options, understood


def _find_pyproject(image: Image, stage: StageModel, step: Step, start: str, manifest: str) -> tuple[str, Path | None]:
    """(project folder, its build-context manifest): each tool looks in the folder it
    starts from and then in its parents."""
    folder = start
    while True:
        source = context_source(image, stage, posixpath.join(folder, manifest), step.index)
        if source is not None and os.path.isfile(source):
            return folder, source
        if folder == "/":
            return start, None
        folder = posixpath.dirname(folder)


def read_project(image: Image, stage: StageModel, project: ProjectInstall, counts: bool, result: ImageInstalls):
    if not project.understood:
        result.unnamed.append(project.label)
        return
    if _installs_nothing(project):
        return
    pyproject = image.workspace.pyproject(project.pyproject) if project.pyproject is not None else None
    if pyproject is None or _unreadable(pyproject):
        result.unnamed.append(f"the project of {project.label} in {project.folder}")
        return
    choice = _choice(image, project, pyproject)
    if choice is None:
        result.unnamed.append(project.label)
        return
    wanted, installs_project = choice
    if installs_project:
        if project.pyproject.parent not in result.local_projects:
            result.local_projects.append(project.pyproject.parent)
        if pyproject.name:
            result.project_names.add(canonical(pyproject.name))
    add(
        selected(image, stage, project.pyproject, _dependencies(project, pyproject), pyproject.name, wanted),
        counts,
        result,
    )
    if counts and "--upgrade" not in project.options and "-U" not in project.options:
        versions, requires = _locked(image, project.pyproject.parent / LOCK_FILES[project.tool])
        if project.tool == "pdm":
            versions = _pdm_installed(image, project, pyproject, versions)
        for name, version in versions.items():
            result.locked.setdefault(name, version)
        for name, names in requires.items():
            result.lock_requires.setdefault(name, names)


def _installs_nothing(project: ProjectInstall) -> bool:
    """``--dry-run``; uv's ``--check`` (pdm's checks the lock file, then installs)."""
    return "--dry-run" in project.options or "--check" in project.options and project.tool != "pdm"


def _choice(image: Image, project: ProjectInstall, pyproject: Pyproject):
    if project.tool == "uv":
        return uv_choice(project, pyproject)
    if project.tool == "pipenv":
        return pipenv_choice(project, pyproject)
    if project.tool == "pdm":
        return pdm_choice(project, pyproject, _pdm_lock(image, project.pyproject.parent / LOCK_FILES["pdm"])[0])
    return poetry_choice(project, pyproject)


# The lock file each tool installs from, next to its manifest: uv's, poetry's and pdm's list
# ``[[package]]`` tables with ``name`` and ``version``, and what each requires (uv:
# ``dependencies``, a list of tables with ``name``; poetry: ``[package.dependencies]``,
# name -> constraint; pdm: ``dependencies``, a list of requirement strings, and a table
# more for each extra locked, with its ``extras``); Pipfile.lock is JSON,
# name -> {"version": "==x"} by category.
LOCK_FILES = {"uv": "uv.lock", "poetry": "poetry.lock", "pipenv": "Pipfile.lock", "pdm": "pdm.lock"}
# The lock files that sit beside a pyproject.toml (Pipfile.lock goes with a Pipfile).
PYPROJECT_LOCKS = tuple(name for tool, name in LOCK_FILES.items() if tool != "pipenv")


def lock_requirements(image: Image, folder: Path) -> dict[str, tuple[str, ...]]:
    """name -> the names it requires, by the project's own lock file (uv.lock, poetry.lock or
    pdm.lock) beside its pyproject.toml, for an install that does not read the lock (`pip
    install .`): what the resolver found each package requires (whisperx's pyannote-audio),
    where the package index cannot say."""
    for name in PYPROJECT_LOCKS:
        requires = _locked(image, folder / name)[1]
        if requires:
            return requires
    return {}


def locked_versions(image: Image, project: ProjectInstall) -> dict[str, str]:
    """name -> version of the lock file the project install reads (empty without one)."""
    if project.pyproject is None:
        return {}
    return _locked(image, project.pyproject.parent / LOCK_FILES[project.tool])[0]


def locked_reach(image: Image, project: ProjectInstall, start: str) -> set[str]:
    """What ``start`` brings in by the lock file the project install reads: the resolver's
    answer for the versions it pinned (empty without a lock that lists it)."""
    if project.pyproject is None:
        return set()
    return reach(_locked(image, project.pyproject.parent / LOCK_FILES[project.tool])[1], start)


def reach(requires: dict[str, tuple[str, ...]], start: str) -> set[str]:
    """What ``start`` brings in by a lock file's record of what each package requires."""
    found, pending = set(), [canonical(start)]
    while pending:
        name = pending.pop()
        for other in requires.get(name, ()):
            if other not in found:
                found.add(other)
                pending.append(other)
    return found


def _locked(image: Image, path: Path) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """(name -> version, name -> the names it requires) of a lock file in the repository
    (empty when it is not there or not TOML): the versions ``uv sync``/``poetry install``
    install, dependencies included, and what the resolver found each one requires (a git or
    private package the package index cannot read included). Read once per image: the
    installs, the torch reading and DEP001 each ask."""
    return image.memoized(("locked", str(path)), lambda: _read_lock(image, path))


def _read_lock(image: Image, path: Path) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    if not os.path.isfile(path):
        return {}, {}
    loaded = image.workspace.text(path, quiet=True)
    if loaded is None:
        return {}, {}
    if path.name == "Pipfile.lock":
        return _pipfile_locked(loaded[0].text), {}
    from dockerlint.tomlparser import tomllib

    try:
        packages = tomllib.loads(loaded[0].text).get("package", [])
    except (tomllib.TOMLDecodeError, RecursionError, AttributeError):
        return {}, {}
    found, requires = {}, {}
    for package in packages if isinstance(packages, list) else ():
        if (
            isinstance(package, dict)
            and isinstance(package.get("name"), str)
            and isinstance(package.get("version"), str)
        ):
            name = canonical(package["name"])
            found[name] = package["version"]
            more = set(_lock_dependencies(package.get("dependencies"))) - {name}  # pdm's uvicorn[standard]
            requires[name] = tuple(sorted(more.union(requires.get(name, ()))))
    return found, requires


def _pdm_installed(image: Image, project: ProjectInstall, pyproject: Pyproject, versions: dict[str, str]):
    """The locked versions a pdm install takes: pdm.lock records the groups each package is
    locked for (``groups``, with the default ``inherit_metadata`` strategy); a package of
    none of the groups the install takes is not installed (a dev tool under ``--prod``).
    A package without ``groups`` (an older lock) counts."""
    locked_groups, package_groups = _pdm_lock(image, project.pyproject.parent / LOCK_FILES["pdm"])
    groups = pdm_groups(project, pyproject, locked_groups) or set()
    return {
        name: version
        for name, version in versions.items()
        if package_groups.get(name) is None or package_groups[name] & groups
    }


def _pdm_lock(image: Image, path: Path) -> tuple[list[str] | None, dict[str, set[str] | None]]:
    """(the groups pdm.lock's ``[metadata]`` was locked for, name -> the groups each package
    is locked for), read once per image; (None, {}) without a readable lock."""
    return image.memoized(("pdm_lock", path), lambda: _read_pdm_lock(image, path))


def _read_pdm_lock(image: Image, path: Path) -> tuple[list[str] | None, dict[str, set[str] | None]]:
    if not os.path.isfile(path):
        return None, {}
    loaded = image.workspace.text(path, quiet=True)
    if loaded is None:
        return None, {}
    from dockerlint.tomlparser import tomllib

    try:
        data = tomllib.loads(loaded[0].text)
    except (tomllib.TOMLDecodeError, RecursionError):
        return None, {}
    metadata = data.get("metadata")
    groups = metadata.get("groups") if isinstance(metadata, dict) else None
    locked = [group for group in groups if isinstance(group, str)] if isinstance(groups, list) else None
    packages: dict[str, set[str] | None] = {}
    for package in data.get("package", []) if isinstance(data.get("package"), list) else ():
        if isinstance(package, dict) and isinstance(package.get("name"), str):
            name, listed = canonical(package["name"]), package.get("groups")
            if not isinstance(listed, list):
                packages[name] = None
            elif packages.get(name, set()) is not None:
                packages[name] = packages.get(name, set()) | {canonical(g) for g in listed if isinstance(g, str)}
    return locked, packages


def _pipfile_locked(text: str) -> dict[str, str]:
    """name -> version of every category of a Pipfile.lock (a name has one version in all)."""
    import json

    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    found = {}
    for category, entries in data.items() if isinstance(data, dict) else ():
        for name, entry in entries.items() if category != "_meta" and isinstance(entries, dict) else ():
            version = entry.get("version") if isinstance(entry, dict) else None
            if isinstance(version, str) and version.startswith("=="):
                found.setdefault(canonical(name), version[2:])
    return found


def _lock_dependencies(dependencies) -> tuple[str, ...]:
    if isinstance(dependencies, dict):  # poetry.lock
        names = dependencies
    elif isinstance(dependencies, list):  # uv.lock: tables; pdm.lock: `"requests>=2; python_version < '3.8'"`
        names = [
            entry.get("name") if isinstance(entry, dict) else _requirement_name(entry)
            for entry in dependencies
            if isinstance(entry, (dict, str))
        ]
    else:
        return ()
    return tuple(sorted({canonical(name) for name in names if isinstance(name, str)}))


_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


def _requirement_name(requirement: str) -> str | None:
    """The name a requirement string starts with (none for `-e file:///...`)."""
    match = _REQUIREMENT_NAME.match(requirement)
    return match.group(1) if match else None


def project_selections(image: Image, stage: StageModel, step: Step):
    """Each ``uv sync``/``poetry install`` of ``step`` that is understood, with its
    pyproject and the dependencies it installs there (groups, extras and markers as the
    tool chooses them): (ProjectInstall, Pyproject, [Dependency])."""
    for project in project_installs(image, stage, step):
        selection = project_selection(image, project)
        if selection is not None:
            yield project, *selection


def project_selection(image: Image, project: ProjectInstall):
    """(Pyproject, [Dependency]) of one understood project install; None otherwise."""
    if not project.understood or project.pyproject is None:
        return None
    if _installs_nothing(project):
        return None
    pyproject = image.workspace.pyproject(project.pyproject)
    if pyproject is None or _unreadable(pyproject):
        return None
    choice = _choice(image, project, pyproject)
    if choice is None:
        return None
    wanted = choice[0]
    itself = canonical(pyproject.name) if pyproject.name else None
    chosen = [
        dependency
        for dependency in _dependencies(project, pyproject)
        if dependency.name not in (None, "python", itself) and wanted(dependency) and marker_applies(dependency.marker)
    ]
    return pyproject, chosen


def _dependencies(project: ProjectInstall, pyproject: Pyproject) -> tuple:
    """The pyproject's dependencies as the tool reads them: uv reads its legacy
    dev-dependencies as the dev group."""
    if project.tool != "uv":
        return pyproject.dependencies
    return tuple(
        replace(item, group="group:dev") if item.group == "uv-dev" else item for item in pyproject.dependencies
    )


def _unreadable(pyproject: Pyproject) -> bool:
    """Invalid TOML leaves nothing but the problem."""
    return bool(pyproject.problems) and not (pyproject.name or pyproject.dependencies or pyproject.tool)
