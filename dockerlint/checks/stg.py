"""Multi-stage builds: what COPY --from really carries, and what the final image keeps.

Only stages the build needs are checked (the final stage and what it is FROM or copies
from: BuildKit skips the rest). A builder stage may hold compilers and caches; the
question is what reaches the final image.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from fnmatch import fnmatchcase

from msgspec import Struct

from dockerlint.checks import check
from dockerlint.checks.common import external_base, final_chain, finding, from_image_span, image_matches
from dockerlint.findings import Finding, Related, Severity, human_size
from dockerlint.knowledge import load
from dockerlint.model import Image, ImageRef, StageModel, Step
from dockerlint.model.distributions import canonical, closure, lookup
from dockerlint.model.image import context_source
from dockerlint.model.installed_pip import wheel_names, wheels_copied
from dockerlint.model.installed_records import pinned_release
from dockerlint.model.installs import wrapper_words
from dockerlint.model.layers import Package, installed_packages, removal
from dockerlint.model.ml import install_stages, pip_commands, start_command
from dockerlint.model.native_build import copies_native_sources, installs_native_program
from dockerlint.model.pyenv import (
    Tree,
    chain,
    clean_base,
    copied_paths,
    holds,
    inside,
    libc,
    mentioned,
    python_image,
    python_version,
    source_path,
    trees,
)
from dockerlint.model.queries import compose_services, development_image, keeps_alive
from dockerlint.model.size.figures import (
    cache_settings,
    debian_bytes,
    debian_known,
    debian_members,
    debian_present,
)
from dockerlint.parse.buildfiles import makefile_rules
from dockerlint.parse.dockerfile import expand
from dockerlint.source import Span


class _Take(Struct, frozen=True):
    """A path one stage takes from another: ``COPY --from`` or ``RUN --mount=…,from=``."""

    stage: StageModel  # the stage that takes
    step: Step
    origin: StageModel  # the stage taken from
    path: str  # absolute path in ``origin``
    span: Span
    dest: str
    written: str  # the instruction as a reader would name it


def _takes(image: Image) -> Iterator[_Take]:
    for stage in image.stages:
        if not stage.reachable:
            continue
        for copy in stage.copies:
            if copy.from_stage is None or copy.mount_only:
                continue
            origin = image.stages[copy.from_stage]
            step = stage.steps[copy.step_index]
            for source in copy.sources:
                path = source_path(source.value)
                written = f"COPY --from={origin.name or origin.index} {source.value}"
                yield _Take(stage, step, origin, path, source.span, copy.dest, written)
        for step in stage.steps:
            for mount in step.mounts:
                reference = mount.get("from")
                origin = image.stage_by_reference(reference, stage.index) if reference else None
                if origin is None or mount.get("type", "bind") != "bind":
                    continue
                path = source_path(mount.get("source", mount.get("src", "/")))
                dest = mount.get("target", mount.get("dst", mount.get("destination", "")))
                written = f"--mount=from={reference},source={path}"
                yield _Take(stage, step, origin, path, step.instruction.span, dest, written)


# -- STG005 --------------------------------------------------------------------------------


@check("STG005")
def copy_from_unknown_stage(image: Image) -> Iterator[Finding]:
    names = [stage.name for stage in image.stages if stage.name]
    for stage in image.stages:
        if not stage.reachable:
            continue
        for copy in stage.copies:
            flag = copy.instruction.flag("from")
            if copy.from_image is None or flag is None:
                continue
            yield from _unknown_reference(image, stage, copy.from_image, flag.span, names)
        for step in stage.steps:
            for mount in step.mounts:
                reference = mount.get("from")
                if reference and image.stage_by_reference(reference, stage.index) is None:
                    yield from _unknown_reference(image, stage, reference, step.instruction.span, names)


def _unknown_reference(
    image: Image, stage: StageModel, reference: str, span: Span, names: list[str]
) -> Iterator[Finding]:
    if not reference or "$" in reference:
        return
    later = image.stage_by_reference(reference, len(image.stages))
    if later is not None:
        yield finding(
            image,
            "STG005",
            span,
            f"`--from={reference}` names {later.label} on line {later.from_instruction.span.line}, which is "
            f"not defined before {stage.label}: a stage can only take files from an earlier stage",
            f"Move {later.label} above the stage that copies from it.",
        )
        return
    if reference.isdigit():
        yield finding(
            image,
            "STG005",
            span,
            f"`--from={reference}` names stage number {reference}, but only stages 0 to "
            f"{stage.index - 1} come before it: the build fails",
            "Name the stage (`FROM … AS builder`) and use `--from=builder`.",
        )
        return
    if any(mark in reference for mark in ":@/"):
        return  # a tagged, pinned or registry image reference: pullable
    from difflib import get_close_matches  # only for a --from no stage or image answers

    close = get_close_matches(reference.lower(), names, n=1, cutoff=0.75)
    if close:
        yield finding(
            image,
            "STG005",
            span,
            f"`--from={reference}` matches no stage (did you mean `{close[0]}`?): Docker will try to pull "
            f"an image `{reference}:latest` instead, and the build fails or copies the wrong files",
            f"Use `--from={close[0]}`.",
        )


# -- STG002 --------------------------------------------------------------------------------


def _python_looking(image: Image, take: _Take, all_trees: list[Tree]) -> bool:
    """The copied path is where Python packages or wheels are meant to be."""
    facts = load("python_layouts")
    parts = [part for part in take.path.split("/") if part]
    if any(part in facts["package_dirs"] or fnmatchcase(part, "python3.*") for part in parts):
        return True
    if any(tree.path and take.path == tree.path for tree in all_trees):
        return True
    env = take.stage.steps[-1].env if take.stage.steps else {}
    named = [env.get("VIRTUAL_ENV", ""), *env.get("PYTHONPATH", "").split(":")]
    named += [posixpath.dirname(folder) for folder in env.get("PATH", "").split(":") if folder.endswith("/bin")]
    return take.dest in named


def _describe(tree: Tree) -> str:
    where = tree.path or "the system site-packages"
    return f"`{tree.how}` (line {tree.line}) put them in `{where}`"


@check("STG002")
def copy_from_missing_path(image: Image) -> Iterator[Finding]:
    takes = list(_takes(image))
    all_trees = [tree for stage in image.stages for tree in trees(image, stage)]
    for take in takes:
        if take.path == "/" or any(char in take.path for char in "*?[$"):
            continue
        if not _python_looking(image, take, all_trees):
            yield from _never_created(image, take)
            continue
        made = trees(image, take.origin)
        if any(holds(tree, take.path) for tree in made):
            continue
        if not clean_base(image, take.origin) or mentioned(image, take.origin, take.path) is not None:
            continue
        label = take.origin.label
        related_items = [
            Related(image.dockerfile_path, tree.span, f"`{tree.how}` fills `{tree.path or 'site-packages'}`")
            for tree in made[:3]
        ]
        if made:
            places = "; ".join(_describe(tree) for tree in made[-2:])
            message = (
                f"`{take.written}` takes nothing {label} installed: {places}, so the packages will be "
                f"missing at run time (ModuleNotFoundError)"
            )
            wanted = made[-1]
            fix = (
                f"Copy `{wanted.path}` instead"
                + (" (and put its `bin` folder on PATH)" if wanted.kind in ("venv", "user", "prefix") else "")
                + f", or change the install so it fills `{take.path}`."
                if wanted.path
                else f"Install with `--prefix={take.path}` (or into a venv at `{take.path}`) in {label}."
            )
        else:
            message = (
                f"`{take.written}`: nothing in {label} creates `{take.path}` (it installs no Python "
                "packages), so the build fails or the packages will be missing at run time"
            )
            fix = (
                f"Create and fill `{take.path}` in {label} (for example `python -m venv {take.path}` "
                "and install with its pip), or copy from the stage that does."
            )
        yield finding(image, "STG002", take.span, message, fix, related=related_items)


def _never_created(image: Image, take: _Take) -> Iterator[Finding]:
    """A path the origin stage only ever gets from the build context, which does not hold
    it, and that no RUN there could have made: the COPY --from fails the build."""
    source = context_source(image, take.origin, take.path, len(take.origin.steps))
    if source is None:
        return  # from the base image or a RUN: not known here
    try:
        relative = source.relative_to(image.context_root).as_posix()
    except ValueError:
        return
    if relative in ("", ".") or os.path.lexists(source) or image.context.sent(relative):
        return
    copy = _context_copy(image, take.origin, take.path)
    if copy is None:
        return
    for member in chain(image, take.origin):
        for step in member.runs():
            if any(_may_create(image, step, command, take.path) for command in step.commands):
                return
    folder, name = posixpath.split(relative)
    names = _context_names(image, folder)
    from difflib import get_close_matches  # only for a copied path nothing creates

    close = get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f" (did you mean `{posixpath.join(folder, close[0])}`?)" if close else ""
    sources = " ".join(item.value for item in copy.sources)
    instead = f" (`{posixpath.join(posixpath.dirname(take.path), close[0])}`)" if close else ""
    yield finding(
        image,
        "STG002",
        take.span,
        f"`{take.written}`: nothing in {take.origin.label} creates `{take.path}`: its `COPY {sources}` "
        f"(line {copy.instruction.span.line}) brings the build context there, which has no `{relative}`{hint}, "
        "and no RUN makes it, so the build fails",
        f"Copy a path the stage holds{instead}, or create it in the stage before copying it.",
        related=[Related(image.dockerfile_path, copy.instruction.span, "the build context arrives here")],
    )


def _context_copy(image: Image, stage: StageModel, path: str):
    """The last COPY of the build context whose destination holds ``path``."""
    for member in reversed(chain(image, stage)):
        for copy in reversed(member.copies):
            if copy.from_stage is not None or copy.from_image or copy.heredoc or copy.mount_only:
                continue
            if any(inside(path, dest) for dest in copied_paths(copy)):
                return copy
    return None


def _may_create(image: Image, step: Step, command, path: str) -> bool:
    """Whether a RUN command could leave something at ``path``: it names it (or a folder
    inside it), installs a local project, or is a program this model does not know
    running in a folder that holds ``path``."""
    inert = load("build_tools")["stages"]["inert_programs"]
    install = next((item for item in step.installs if item.command is command), None)
    if install is not None:
        return any(
            argument.value.split("[", 1)[0] in (".", "..") or argument.value.startswith(("./", "../", "/"))
            for argument in (*install.packages, *install.editables)
        )
    words = command.argv[1:]
    for word in words:
        value = expand(word.split("=", 1)[-1] if word.startswith("-") else word, step.env, image.dockerfile.escape)
        if not value or value.startswith("-") or "://" in value:
            continue
        absolute = posixpath.normpath(posixpath.join(step.workdir or "/", value))
        if inside(absolute, path) or (inside(path, absolute) and command.name not in inert):
            return True
    return command.name not in inert and inside(path, step.workdir or "/")


def _context_names(image: Image, folder: str) -> list[str]:
    """Names directly inside a context folder, for a did-you-mean."""
    prefix = folder + "/" if folder else ""
    names = set()
    for file in image.context.files:
        if file.path.startswith(prefix):
            names.add(file.path[len(prefix) :].split("/", 1)[0])
    return sorted(names)


# -- STG003 --------------------------------------------------------------------------------


@check("STG003")
def stage_abi_mismatch(image: Image) -> Iterator[Finding]:
    for take in _takes(image):
        if take.path == "/":
            continue
        packages = [tree for tree in trees(image, take.origin) if tree.holds_packages and holds(tree, take.path)]
        if not packages:
            continue
        tree = packages[-1]
        ours, theirs = python_version(image, take.stage), python_version(image, take.origin)
        if ours and theirs and ours != theirs:
            yield finding(
                image,
                "STG003",
                take.span,
                f"`{take.written}` carries packages built for Python {theirs} ({take.origin.label}, "
                f"line {tree.line}) into {take.stage.label}, which runs Python {ours}: they sit under "
                f"`lib/python{theirs}` where Python {ours} never looks, and compiled extensions "
                f"(`*.cpython-{theirs.replace('.', '')}-*.so`) cannot load",
                f"Build both stages on the same Python minor version (for example `python:{ours}-slim` "
                f"for the builder too).",
                related=[Related(image.dockerfile_path, from_image_span(take.origin), f"builder runs Python {theirs}")],
            )
            continue
        our_libc, their_libc = libc(image, take.stage), libc(image, take.origin)
        if our_libc and their_libc and our_libc != their_libc:
            yield finding(
                image,
                "STG003",
                take.span,
                f"`{take.written}` carries packages installed on {their_libc} ({take.origin.label}) into a "
                f"{our_libc} stage: compiled extensions link against the other C library and fail to load "
                "at run time",
                "Use the same libc family for builder and final stage (both Debian-based `-slim`, or both Alpine).",
                related=[Related(image.dockerfile_path, from_image_span(take.origin), f"builder is {their_libc}")],
            )


# -- STG001 / STG004 --------------------------------------------------------------------------


def _build_tools(image: Image, stage: StageModel) -> Iterator[tuple[Step, Package]]:
    """Compilers and headers installed in ``stage`` and still there after their RUN; git
    only in an image that starts a Python service which never runs it itself (a tool image,
    a desktop or a shell, may be for running git)."""
    patterns = load("build_tools")
    for step in stage.runs():
        for package in installed_packages(step):
            if not any(fnmatchcase(package.name, pattern) for pattern in patterns[package.family]["packages"]):
                continue
            if package.name == "git" and image.memoized(("git_kept",), lambda: _git_kept(image)):
                continue
            if _kept_on_purpose(image, step, package.name):
                continue  # `# gcc/g++ ARE runtime deps (Triton's JIT). Do NOT remove them.`
            if removal(step, package, package.install.command) is None:
                yield step, package


_RUNTIME_NEED = re.compile(
    r"\b(?:run[- ]?time|at run time|when the (?:service|container|app) runs"
    r"|do not remove|don'?t remove|keep (?:it|them))\b",
    re.IGNORECASE,
)


def _kept_on_purpose(image: Image, step: Step, name: str) -> bool:
    """Whether the comment right above the RUN says the package is needed as the service
    runs and names it (or its kind): the maintainers' word, which no reading of the code
    can weigh (Triton's JIT calls gcc on a GPU)."""
    text = image.dockerfile.text
    line = step.instruction.span.line - 1
    comment = []
    while line >= 1 and len(comment) < 8:
        written = text.line(line).strip()
        if not written.startswith("#"):
            break
        comment.append(written)
        line -= 1
    said = " ".join(comment)
    if not said or not _RUNTIME_NEED.search(said):
        return False
    words = {name, "compiler", "compilers", "build tools", "toolchain"}
    lowered = said.lower()
    return any(word.lower() in lowered for word in words)


def _git_kept(image: Image) -> bool:
    return not _starts_python(image) or _runs_git(image)


def _compiles_at_run_time(image: Image, final: StageModel) -> list[str]:
    """The compiler packages the service itself uses, when its base carries or the image
    installs a framework that compiles kernels at run time (vLLM, Triton), or its code calls
    one that does (torch.compile); else []."""
    facts = load("build_tools")["compile"]
    users = set(facts["runtime_compiler_users"])
    from dockerlint.model.baseimage import base_image

    base = base_image(external_base(image, final)[0])
    carried = set(base.carries) if base is not None else set()
    installed = {
        request.name
        for stage in install_stages(image)
        for command in pip_commands(image, stage)
        for request in command.requests
    }
    if users & (carried | installed):
        return list(facts["runtime_compilers"])
    from dockerlint.model.code import image_code

    calls = image_code(image).mentions.calls
    return list(facts["runtime_compilers"]) if calls.intersection(facts["runtime_compile_calls"]) else []


def _starts_python(image: Image) -> bool:
    """Whether the container starts a Python service: python, a server or runner that runs
    Python code (uvicorn, gunicorn, celery, streamlit, ...), a console command of a
    distribution the image installs (`langgraph dev`, the project's own script), or a shell
    script of the repository that ends by starting one of those."""
    from dockerlint.model.ml import start_script_commands

    found = start_command(image)
    if found is None:
        return False
    if _python_program(image, found[1]):
        return True
    script = [words for words in start_script_commands(image) if words]
    return bool(script) and _python_program(image, script[-1])


def _python_program(image: Image, argv: tuple[str, ...]) -> bool:
    from dockerlint.model.ml import ml

    words = [word for word in argv if word not in ("exec", "--")]
    program = posixpath.basename(words[0]) if words else ""
    shells = {"sh", "bash"}
    if program in set(ml()["gpu_signals"]["python_programs"]) - shells or program.startswith("python"):
        return True
    return program in _console_commands(image)


def _console_commands(image: Image) -> set[str]:
    """The console commands the image's Python installs put on PATH: those the package
    index records for the distributions it installs, and the `[project.scripts]` of the
    projects it installs from the build context."""

    def commands() -> set[str]:
        from dockerlint.model.distributions import command_owners
        from dockerlint.model.installed_names import image_installs, project_scripts

        installed = image_installs(image).names
        found = {command for command, owners in command_owners().items() if installed.intersection(owners)}
        return found | set(project_scripts(image))

    return image.memoized(("console_commands",), commands)


def _runs_git(image: Image) -> bool:
    """Whether the service runs git: it imports GitPython, installs a package that calls
    git as it runs (DVC, pre-commit), or its code starts a process named `git`."""
    from dockerlint.model.code import image_code

    facts = load("build_tools")["git"]
    installed = {
        request.name
        for stage in install_stages(image)
        for command in pip_commands(image, stage)
        for request in command.requests
    }
    if installed & set(facts["users"]):
        return True
    if any(option in _runtime_text(image) for option in facts["runtime_options"]):
        return True  # `huggingface-cli login --add-to-git-credential` at start: git keeps the token
    code = image_code(image, image.local_projects())
    imported = {module.split(".", 1)[0] for module in code.imports.run_time}
    if imported & set(facts["modules"]) or "git" in code.mentions.programs:
        return True
    from dockerlint.model.ml import start_script_commands

    return any(words and posixpath.basename(words[0]) == "git" for words in start_script_commands(image))


def _removed_later(image: Image, step: Step, package: Package) -> bool:
    for stage in final_chain(image):
        for later in stage.runs():
            if later is not step and later.instruction.span.line > step.instruction.span.line:
                if removal(later, package) is not None:
                    return True
    return False


def _size(names: list[str]) -> int | None:
    sizes = load("build_tools")["sizes"]
    known = [sizes[name] for name in names if name in sizes]
    return max(known) if known else None


@check("STG001")
def build_tools_in_final_image(image: Image) -> Iterator[Finding]:
    final = image.final
    if final is None or _build_environment(image, final) or copies_native_sources(image):
        return  # an image made to build, or a build environment for C/C++/CUDA sources, needs them
    by_install: dict[int, list[tuple[Step, Package]]] = {}
    commands = load("build_tools")["apt"]["commands"]
    compiles_at_run_time = None  # read once a compiler is found: it reads the image's code
    native = installs_native_program(image)  # `./configure && make && make install` in the image
    runs_java = _runs_java(image)
    for step, package in _build_tools(image, final):
        if native and fnmatchcase(package.name, "*-dev*"):
            continue  # its shared library (liblept5 under libleptonica-dev) serves the program built here
        if _removed_later(image, step, package):
            continue  # removed in a later layer: LAY001 says so
        if runs_java and _runtime_packages([package.name]):
            yield _jdk_for_java_finding(image, package, runs_java)  # the JVM serves the service
            continue
        if compiles_at_run_time is None:
            compiles_at_run_time = _compiles_at_run_time(image, final)
        if compiles_at_run_time and any(fnmatchcase(package.name, glob) for glob in compiles_at_run_time):
            continue  # Triton (vLLM) or torch.compile builds kernels with the C compiler as the service runs
        if _runtime_names(image, commands.get(package.name, [package.name])):
            if _needed_only_for(image, package.name):
                yield _needed_only_for_finding(image, final, package)
            continue  # the container runs it: `make prod-gunicorn` is how compose starts the service
        by_install.setdefault(id(package.install), []).append((step, package))
    for items in by_install.values():
        step, first = items[0]
        names = [package.name for _, package in items]
        shown = ", ".join(f"`{name}`" for name in names[:5]) + (" …" if len(names) > 5 else "")
        size = None
        if first.family == "apt":  # the apt closure over the base, as `dockerlint size` counts it
            size = _apt_bytes(image, final, names, not first.install.has("--no-install-recommends"))
        size = size or _size(names)
        if not _base_known(image, final):
            size = None  # what a base the knowledge does not describe ships is unknown (a wrapper of python:3.8)
        cost = f" (~{human_size(size)})" if size else ""
        where = "are installed in the final stage and stay in the image"
        full_base = _full_base(image, final)
        shipped = load("build_tools")["apt"]["full_base_ships"]
        if full_base is not None and all(any(fnmatchcase(name, glob) for glob in shipped) for name in names):
            # they add little: the base's own tool chain is IMG001's to count
            where = (
                f"are installed in the final stage, on `{full_base}`, which holds a tool chain already; "
                "on a slim base they would stay in the image"
            )
            size = None
        remove = {
            "apk": "`apk add --virtual .build-deps …`, then `apk del .build-deps`",
            "rpm": f"`dnf remove -y {' '.join(names[:5])}`",
        }.get(first.family, f"`apt-get purge -y --auto-remove {' '.join(names[:5])}`")
        runtime = _runtime_packages(names)
        java = f" A service that only runs Java needs {', '.join(runtime)} instead of the JDK." if runtime else ""
        message = f"build tools {shown} {where}{cost}: the service needs them only to build packages"
        if names == ["git"] and full_base is None:  # it fetched sources at most: the service never runs it
            message = f"`git` is installed in the final stage and stays in the image{cost}: the service never runs git"
        elif names == ["software-properties-common"]:  # add-apt-repository, for the build's PPA
            message = (
                "`software-properties-common` (add-apt-repository, with the OS's python3 it needs) is installed in "
                f"the final stage and stays in the image{cost}: it only adds package repositories during the build"
            )
        yield finding(
            image,
            "STG001",
            first.install.span,
            message,
            "Compile in a builder stage and copy the result (a venv or wheels) into the final stage, "
            f"or remove them in the same RUN after use ({remove}).{java}",
            size,
            autofix=_builder_suggestion(image, final, step),
        )
    yield from _build_only_python_tools(image, final)
    yield from _unpacked_jdk(image)
    yield from _script_toolchains(image)


def _needed_only_for(image: Image, name: str) -> bool:
    """Whether the container runs only the one small program of ``name`` it is installed
    for (`make`, of build-essential), never the compilers, and the Makefile of the
    service's folder compiles and installs nothing (an unread Makefile: not said)."""
    facts = load("build_tools")["apt"]
    program = facts["needed_for"].get(name)
    if program is None or _runtime_names(image, [tool for tool in facts["commands"][name] if tool != program]):
        return False
    rules = _final_makefile_rules(image)
    if rules is None:
        return False
    recipes = _recipes_run(rules, _runtime_text(image))
    return recipes is not None and re.search(facts["compiling_recipe"], recipes) is None


_MAKE = re.compile(r"(?<![\w./-])make(?![\w.-])((?:[ \t]+[^\s;&|()\"'`]+)*)")


def _recipes_run(rules: dict[str, tuple[list[str], list[str]]], runtime: str) -> str | None:
    """The recipe lines of the targets the container's `make` commands build, their
    prerequisites included; None when a command is one dockerlint cannot follow (`make -C
    dir`, `make -f file`, a target the Makefile does not have)."""
    default = next((target for target in rules if not target.startswith(".")), None)
    wanted: list[str] = []
    for match in _MAKE.finditer(runtime):
        words = match.group(1).split()
        if any(word.startswith("-") for word in words):
            return None
        targets = [word for word in words if "=" not in word]
        wanted += targets or ([default] if default else [])
    lines, seen = [], set()
    while wanted:
        target = wanted.pop()
        if target in seen:
            continue
        if target not in rules:
            return None
        seen.add(target)
        prerequisites, recipe = rules[target]
        wanted += prerequisites
        lines += recipe
    return "\n".join(lines)


def _needed_only_for_finding(image: Image, final: StageModel, package: Package) -> Finding:
    program = load("build_tools")["apt"]["needed_for"][package.name]
    size = _apt_bytes(image, final, [package.name], not package.install.has("--no-install-recommends"))
    size = size or _size([package.name])
    cost = f" (~{human_size(size)})" if size else ""
    return finding(
        image,
        "STG001",
        package.install.span,
        f"`{package.name}` is installed in the final stage for `{program}`, which the container runs, and keeps "
        f"the C and C++ compilers in the image{cost}: nothing the container runs compiles",
        f"Install `{program}` alone (`apt-get install -y --no-install-recommends {program}`).",
        size,
    )


def _base_known(image: Image, stage: StageModel) -> bool:
    """Whether the knowledge describes the base image under ``stage``."""
    from dockerlint.model.baseimage import base_image

    ref, _ = external_base(image, stage)
    return ref is not None and base_image(ref) is not None


def _full_base(image: Image, stage: StageModel) -> str | None:
    """The base image under ``stage`` when it is a full one that ships a compiler tool chain
    (``python:3.10``, buildpack-deps): build tools installed on it add little."""
    from dockerlint.model.baseimage import base_image

    ref, _ = external_base(image, stage)
    facts = base_image(ref)
    return ref.raw if facts is not None and facts.compilers else None


def _builder_suggestion(image: Image, final: StageModel, tools: Step):
    """Shown, never applied: a builder stage that installs the build tools and the
    requirements into a virtualenv, which the final stage copies; the tools' RUN and the
    install leave the final stage. Offered for one ``pip install -r FILE`` in the final
    stage, after the tools, on a registry base image."""
    from dockerlint.checks import fixing
    from dockerlint.findings import Edit
    from dockerlint.source import Span

    if final.parent is not None or tools.keyword != "RUN":
        return None
    installs = [
        (step, install)
        for step in final.runs()
        for install in step.installs
        if install.family == "pip" and install.requirements
    ]
    if len(installs) != 1 or len(installs[0][1].requirements) != 1 or installs[0][0].index <= tools.index:
        return None
    step, install = installs[0]
    if len(step.commands) != 1 or install.requirements[0].context_path is None:
        return None
    try:
        manifest = install.requirements[0].context_path.relative_to(image.context_root).as_posix()
    except ValueError:
        return None
    text = image.dockerfile.text
    tool_lines = [text.line(n) for n in range(tools.instruction.span.line, tools.instruction.span.end_line + 1)]
    start = final.from_instruction.span
    base = fixing.span_text(image, from_image_span(final))
    builder = [
        f"FROM {base} AS build",
        *tool_lines,
        "RUN python -m venv /opt/venv",
        "ENV PATH=/opt/venv/bin:$PATH",
        f"COPY {manifest} .",
        f"RUN pip install --no-cache-dir -r {manifest}",
        "",
        "",
    ]
    end = len(text.line(start.end_line)) + 1
    edits = [
        Edit(image.dockerfile_path, Span(start.line, 1, start.line, 1), "\n".join(builder)),
        Edit(
            image.dockerfile_path,
            Span(start.end_line, end, start.end_line, end),
            "\nCOPY --from=build /opt/venv /opt/venv\nENV PATH=/opt/venv/bin:$PATH",
        ),
    ]
    for removed in sorted({tools.instruction.span, step.instruction.span}, key=lambda span: span.line):
        edits.append(Edit(image.dockerfile_path, Span(removed.line, 1, removed.end_line + 1, 1), ""))
    return fixing.display_only("Build in a builder stage, copy the virtualenv", *edits)


def _script_toolchains(image: Image) -> Iterator[Finding]:
    """A tool chain an install script put into the home folder of the final image (rustup's
    ~/.rustup and ~/.cargo) and that no later step removes, while nothing the container runs
    calls it."""
    commands = [command for stage in final_chain(image) for step in stage.runs() for command in step.commands]
    for toolchain in load("build_tools")["script_toolchains"]:
        if _runtime_names(image, toolchain["commands"]):
            continue  # the service builds or runs with it
        installs = [
            index for index, command in enumerate(commands)
            if any(url in word for word in command.argv for url in toolchain["urls"])
        ]  # fmt: skip
        if not installs:
            continue
        later = commands[installs[-1] + 1 :]
        if any(_removes_toolchain(command.argv, toolchain) for command in later):
            continue
        yield finding(
            image,
            "STG001",
            commands[installs[0]].span,
            f"{toolchain['name']} that this install script puts into "
            f"{' and '.join('~/' + folder for folder in toolchain['folders'])} stays in the final image, and "
            "nothing the container runs calls it: the service needs it only to build packages",
            "Build what needs it in a builder stage and copy the result into the final stage, or remove it in the "
            f"same RUN after use (`{' '.join(toolchain['uninstall'])} -y`); Python packages with wheels for the "
            "image's Python and platform need no compiler at all.",
        )


def _removes_toolchain(argv: tuple[str, ...], toolchain: dict) -> bool:
    uninstall = toolchain["uninstall"]
    if tuple(argv[: len(uninstall)]) == tuple(uninstall) or (
        argv and posixpath.basename(argv[0]) == uninstall[0] and tuple(argv[1:3]) == tuple(uninstall[1:])
    ):
        return True
    return (
        bool(argv)
        and argv[0] == "rm"
        and any(word.rstrip("/").endswith(tuple("/" + folder for folder in toolchain["folders"])) for word in argv[1:])
    )


def _unpacked_jdk(image: Image) -> Iterator[Finding]:
    """A JDK downloaded and unpacked in the final image (`tar xzf openjdk-11.0.2_linux-x64_bin.tar.gz`)
    while nothing there compiles Java: running Java needs only a runtime."""
    table = load("build_tools")["jdk_archives"]
    name = re.compile(table["name"])
    chain = final_chain(image)
    commands = [command for stage in chain for step in stage.runs() for command in step.commands]
    compilers = set(table["compilers"])
    if any(posixpath.basename(command.name) in compilers for command in commands):
        return
    if _runtime_names(image, sorted(compilers), before=r"\w.-"):
        return
    for command in commands:
        if posixpath.basename(command.name) not in ("tar", "unzip"):
            continue
        for word in command.argv[1:]:
            archive = posixpath.basename(word)
            if archive.lower().endswith(tuple(table["extensions"])) and name.match(archive):
                yield finding(
                    image,
                    "STG001",
                    command.span,
                    f"a whole JDK (`{archive}`) is unpacked into the final image, and nothing in it compiles Java: "
                    "the service only runs Java, which needs a Java runtime, not the compiler, tools and modules "
                    "of the JDK",
                    "Unpack the vendor's JRE build instead (Adoptium `OpenJDK<N>U-jre_x64_linux_*.tar.gz`, "
                    "Corretto and Zulu `-jre` archives), install the distribution's `openjdk-<N>-jre-headless`, "
                    "or build a smaller runtime with `jlink` in a builder stage and copy it across.",
                )
                return


def _runs_java(image: Image) -> str | None:
    """A Python distribution the final image installs that starts a JVM as the service runs
    (build_tools.toml, ``java_runtime``), or None."""
    from dockerlint.model.installed_names import image_installs

    wanted = set(load("build_tools")["java_runtime"]["distributions"])
    return next((item.name for item in image_installs(image).items if item.name in wanted), None)


def _jdk_for_java_finding(image: Image, package: Package, user: str) -> Finding:
    """A JDK where the service runs Java: the runtime serves it, the compiler and tools do not."""
    runtime = ", ".join(_runtime_packages([package.name]))
    return Finding(
        "STG001",
        image.dockerfile_path,
        package.install.span,
        f"`{package.name}` is a JDK in the final stage: `{user}` runs Java as the service runs, which needs "
        "only the Java runtime, not the JDK's compiler and tools",
        f"A service that only runs Java needs {runtime} instead of the JDK.",
        severity=Severity.INFO,
    )


def _runtime_packages(names: list[str]) -> list[str]:
    """The runtime package to install instead of a JDK (``openjdk-17-jre-headless``)."""
    table = load("build_tools")["runtime_instead"]
    found = []
    for name in names:
        for pattern, hint in table.items():
            if fnmatchcase(name, pattern):
                version = re.search(r"\d+", name)
                found.append(hint.replace("{N}", version.group(0) if version else ""))
                break
    return list(dict.fromkeys(found))


def _build_only_python_tools(image: Image, final: StageModel) -> Iterator[Finding]:
    """A Python command-line tool the final stage installs and only its RUN steps use
    (``pip install "dvc[s3]"`` then ``dvc pull``): the service never needs it. One finding
    per tool, at the install written in the Dockerfile when there is one."""
    tools = load("build_tools")["build_only_python"]
    installs: dict[str, list] = {}
    for command in pip_commands(image, final):
        for request in command.requests:
            if request.name in tools:
                installs.setdefault(request.name, []).append((command, request))
    for name, found in installs.items():
        first_line = min(command.span.line for command, _ in found)
        uses = [
            other
            for step in final.runs()
            for other in step.commands
            if other.name == name and other.span.line > first_line
        ]
        if not uses or _used_at_run_time(image, name):
            continue
        written = [item for item in found if item[1].path == image.dockerfile_path]
        command, request = (written or found)[0]
        span = request.span if request.path == image.dockerfile_path else command.span
        use = uses[-1]
        others = [Related(r.path, r.span, "installed here too") for c, r in found if r is not request]
        yield finding(
            image,
            "STG001",
            span,
            f"`{request.text}` is installed in the final stage only to {tools[name]} during the build "
            f"(`{_shown(use.argv)}`, line {use.span.line}): the service never uses it, yet it ships with "
            "every copy of the image",
            f"Run `{_shown(use.argv)}` in a builder stage and `COPY --from` only the files it fetched; pass "
            "the remote's credentials there as a build secret.",
            related=[Related(image.dockerfile_path, other.span, "used here at build") for other in uses[::-1][:3]]
            + others,
        )


def _used_at_run_time(image: Image, name: str) -> bool:
    """The service imports the tool's module, something it runs names the tool, or its code
    holds a command line of the tool (an Airflow task's `bash_command` running `dvc pull`)."""
    from dockerlint.model.code import image_code, on_comment_line, service_sources

    if _runtime_names(image, [name], before=r"\w.-"):
        return True
    code = image_code(image)
    if any(path == name or path.startswith(name + ".") for path in code.imports.run_time):
        return True
    command = re.compile(rf"(?<![\w.-]){re.escape(name)}[ \t]+-*[a-z]")  # `dvc pull`, not a word in prose
    return any(
        not on_comment_line(text, found.start())
        for text in service_sources(image, code)
        for found in command.finditer(text)
    )


@check("STG004")
def final_from_builder(image: Image) -> Iterator[Finding]:
    chain = final_chain(image)
    if len(chain) < 2:
        return
    final = chain[0]
    for ancestor in chain[1:]:
        tools = [
            (step, package)
            for step, package in _build_tools(image, ancestor)
            if not _removed_later(image, step, package)
        ]
        if not tools:
            built = _builds_code(ancestor)
            if built is not None:
                yield _inherits_build(image, final, ancestor, built)
                return
            continue
        names = [package.name for _, package in tools]
        shown = ", ".join(f"`{name}`" for name in names[:5]) + (" …" if len(names) > 5 else "")
        size = _size(names)
        cost = f" (~{human_size(size)})" if size else ""
        full_base = _full_base(image, final)
        if full_base is not None:
            cost = (
                f" (`{full_base}` holds a tool chain already; on a slim base they would cost ~{human_size(size)})"
                if size
                else ""
            )
            size = None
        yield finding(
            image,
            "STG004",
            from_image_span(final),
            f"the final stage is built FROM {ancestor.label}, so it inherits the build tools {shown} "
            f"installed on line {tools[0][1].span.line}{cost}",
            f"Start the final stage from a clean base (for example the builder's base image) and "
            f"`COPY --from={ancestor.name or ancestor.index}` only what the service runs (a venv or wheels).",
            size,
            related=[Related(image.dockerfile_path, tools[0][1].install.span, "build tools installed here")],
        )
        return


def _builds_code(stage: StageModel):
    """The command that compiles or builds code in a stage that is a build stage (named
    so, or working in a `git clone` checkout), or None."""
    patterns = load("build_tools")["compile"]
    clones = False
    found = None
    for step in stage.runs():
        for command in step.commands:
            words = [posixpath.basename(word) for word in command.argv]
            if words[:2] == ["git", "clone"]:
                clones = True
            if found is None and any(_contains(words, pattern) for pattern in patterns["commands"]):
                found = command
    name = (stage.name or "").lower()
    named = any(word in name for word in patterns["stage_words"])
    return found if found is not None and (named or clones) else None


def _contains(words: list[str], pattern: list[str]) -> bool:
    size = len(pattern)
    return any(words[i : i + size] == pattern for i in range(len(words) - size + 1))


def _inherits_build(image: Image, final: StageModel, ancestor: StageModel, command) -> Finding:
    shown = " ".join(command.argv[:4]) + (" …" if len(command.argv) > 4 else "")
    line = command.span.line
    label = ancestor.name or ancestor.index
    return finding(
        image,
        "STG004",
        from_image_span(final),
        f"the final stage is built FROM {ancestor.label}, which builds code (`{shown}`, line {line}): it "
        "inherits the sources, the build's intermediate files and everything the build needed",
        f"Build a wheel (or install into a venv or a prefix) in {ancestor.label}, start the final stage from a "
        f"clean base and `COPY --from={label}` only that.",
        related=[Related(image.dockerfile_path, command.span, "the build happens here")],
    )


def _build_environment(image: Image, final: StageModel) -> bool:
    """An image made to build things, not to run a service: other Dockerfiles of the
    repository start only builder stages FROM it, or its final stage or its Dockerfile is
    named for building (`AS builder`, `Dockerfile.builder`) and it starts nothing (no CMD
    or ENTRYPOINT beyond a shell). Compilers are its purpose."""
    if image.base_for_builders or development_image(image):
        return True
    words = load("build_tools")["compile"]["stage_words"]
    name = (final.name or "").lower()
    file_name = image.dockerfile_path.name.lower().replace("dockerfile", "")
    if not any(word in name or word in file_name for word in words):
        return False
    shells = ("sh", "bash", "/bin/sh", "/bin/bash")
    for stage in final_chain(image):
        for step in stage.steps:
            if step.keyword in ("CMD", "ENTRYPOINT"):
                words_run = step.instruction.json_args or tuple(step.instruction.args.split())
                if words_run and words_run[0] not in shells:
                    return False
    return True


# -- STG006 --------------------------------------------------------------------------------


@check("STG006")
def database_server_in_image(image: Image) -> Iterator[Finding]:
    others = _other_services(image)
    runtime = _runtime_text(image)
    alone = None  # whether the container starts only a Python service: read once a server is found
    reported = set()
    for stage in final_chain(image):
        for step in stage.runs():
            for package in installed_packages(step):
                server = _server(package)
                if server is None or server["name"] in reported:
                    continue
                if removal(step, package, package.install.command) is not None or _removed_later(image, step, package):
                    continue
                if any(command in runtime for command in server["commands"]):
                    continue  # the image starts the server itself
                service = next((s for s in others if image_matches(ImageRef.parse(s.image), server["images"])), None)
                if service is None:
                    if alone is None:
                        alone = _starts_only_python(image, runtime)
                    if alone:
                        reported.add(server["name"])
                        yield finding(
                            image,
                            "STG006",
                            package.span,
                            f"`{package.name}` puts a {server['name']} server into an image whose container starts "
                            f"`{_start_shown(image)}` and never the server: its files only make the image bigger "
                            "and its attack surface wider",
                            f"Drop the server package and run {server['name']} as a service of its own; the image "
                            f"needs at most {server['client']}.",
                        )
                    continue
                reported.add(server["name"])
                compose = image.compose_file.name if image.compose_file else "the compose file"
                yield finding(
                    image,
                    "STG006",
                    package.span,
                    f"`{package.name}` puts a {server['name']} server into the image of "
                    f"{_service_names(image)}, but `{compose}` runs {server['name']} as its own service "
                    f"`{service.name}` (image `{service.image}`): the server is never started here, "
                    "its files only make the image bigger and its attack surface wider",
                    f"Drop the server package; the service needs at most {server['client']}.",
                )


def _starts_only_python(image: Image, runtime: str) -> bool:
    """Whether the container starts a Python service and nothing that could start a
    database beside it (a process supervisor), and installs no test helper that starts one."""
    facts = load("build_tools")["server_hosting"]
    if not _starts_python(image) or any(program in runtime for program in facts["supervisor_programs"]):
        return False
    from dockerlint.model.installed_names import image_installs

    return not image_installs(image).names & set(facts["server_test_packages"])


def _start_shown(image: Image) -> str:
    found = start_command(image)
    words = " ".join(found[1]) if found is not None else ""
    return words if len(words) <= 60 else words[:57] + "..."


def _server(package: Package) -> dict | None:
    for server in load("build_tools")["servers"]:
        if any(fnmatchcase(package.name, pattern) for pattern in server["exclude"]):
            continue
        if any(fnmatchcase(package.name, pattern) for pattern in server["packages"]):
            return server
    return None


def _other_services(image: Image) -> list:
    """The compose services that run an image of their own (not one this Dockerfile builds)."""
    if image.compose_file is None or not image.services:
        return []
    from dockerlint.parse.compose import parse_compose

    loaded = image.workspace.text(image.compose_file, quiet=True)
    if loaded is None:
        return []
    services = parse_compose(loaded[0].text).services
    return [s for s in services if s.name not in image.services and s.image and s.context is None]


def _service_names(image: Image) -> str:
    names = [f"`{name}`" for name in image.services[:3]]
    more = f" and {len(image.services) - 3} more" if len(image.services) > 3 else ""
    return ("service " if len(image.services) == 1 else "services ") + ", ".join(names) + more


def _runtime_names(image: Image, names, before: str = r"\w./-") -> bool:
    """Whether what the container runs names one of ``names`` as a word; ``before``: the
    characters that may not come right before it (a ``/`` too by default: not a folder of a
    path). A program run by its path in a ``bin`` folder (``/root/.local/bin/poetry``) counts."""
    alternatives = "|".join(map(re.escape, names))
    pattern = rf"(?<![{before}])({alternatives})(?![\w-])|/bin/({alternatives})(?![\w./-])"
    return re.search(pattern, _runtime_text(image)) is not None


def _runtime_text(image: Image) -> str:
    """What the container runs: CMD/ENTRYPOINT of the final image, compose commands and
    entrypoints of its services, and the text of a build-context script they start (worked
    out once per image: STG001 asks for each package)."""
    return image.memoized(("runtime_text",), lambda: _read_runtime_text(image))


def _read_runtime_text(image: Image) -> str:
    parts: list[str] = []
    programs: list[tuple[StageModel, Step, str]] = []
    for stage in final_chain(image):
        for step in stage.steps:
            if step.keyword in ("CMD", "ENTRYPOINT"):
                words = step.instruction.json_args or tuple(step.instruction.args.split())
                parts.append(" ".join(words))
                programs += [(stage, step, word) for word in words[:2]]
    final = image.final
    for service in compose_services(image):
        for command in (service.entrypoint, service.command):
            if command:
                parts.append(command if isinstance(command, str) else " ".join(command))
                words = command.split() if isinstance(command, str) else list(command)
                if final is not None and final.steps:  # `command: ./start-worker`: the script it runs
                    programs += [(final, final.steps[-1], word) for word in words[:2]]
    for stage, step, word in programs:
        if word.endswith(".sh") or word.startswith("./"):
            path = posixpath.normpath(posixpath.join(step.workdir or "/", word))
            source = context_source(image, stage, path, len(stage.steps))
            if source is not None and os.path.isfile(source):
                loaded = image.workspace.text(source, quiet=True)
                if loaded is not None:
                    parts.append(loaded[0].text)
    runtime = "\n".join(parts)
    recipes = _make_recipes(image, runtime) if _MAKE.search(runtime) else None
    return runtime + "\n" + recipes if recipes else runtime


def _make_recipes(image: Image, runtime: str) -> str | None:
    """The recipe lines of the Makefile targets the container's `make` commands run (`CMD
    ["make", "run"]`, whose `run:` is `poetry run python main.py`), read from the Makefile
    the final stage's working folder holds; None when there is none to read."""
    rules = _final_makefile_rules(image)
    return _recipes_run(rules, runtime) if rules is not None else None


def _final_makefile_rules(image: Image) -> dict | None:
    """The rules of the Makefile the final stage's working folder holds (as `make` looks for
    it: GNUmakefile, makefile, Makefile), or None."""

    def read() -> dict | None:
        final = image.final
        if final is None or not final.steps:
            return None
        folder = final.steps[-1].workdir or "/"
        for makefile in ("GNUmakefile", "makefile", "Makefile"):
            source = context_source(image, final, posixpath.join(folder, makefile), len(final.steps))
            loaded = image.workspace.text(source, quiet=True) if source is not None and os.path.isfile(source) else None
            if loaded is not None:
                return makefile_rules(loaded[0].text)
        return None

    return image.memoized(("final_makefile_rules",), read)


# -- STG007 --------------------------------------------------------------------------------


@check("STG007")
def node_toolchain_in_final_image(image: Image) -> Iterator[Finding]:
    node = load("build_tools")["node"]
    final = image.final
    if final is None or _build_environment(image, final):
        return
    requested = {
        request.name
        for stage in install_stages(image)
        for command in pip_commands(image, stage)
        for request in command.requests
    }
    if not requested or requested & set(node["runtime_users"]):
        return  # not a Python service, or one whose packages run Node.js
    source = _node_source(image, node)
    if source is None:
        return
    uses = [
        (step, command)
        for stage in reversed(final_chain(image))
        for step in stage.runs()
        for command in step.commands
        if command.name in node["commands"]
    ]
    if not uses:
        return
    if _runtime_names(image, node["commands"]):
        return  # the container runs Node.js
    if _runs_global_node_tools(image, [command for _, command in uses]):
        return  # the service runs a program `npm install -g` put there (snarkjs): Node.js runs it
    where, span, related = source
    installs = [(step, command) for step, command in uses if _fills_node_modules(command.argv, node)]
    modules = ""
    if installs:
        step, command = installs[0]
        modules = f" and the `node_modules` that `{_shown(command.argv)}` installs (line {command.span.line})"
    step, command = next(((s, c) for s, c in uses if (s, c) not in installs), uses[0])
    yield finding(
        image,
        "STG007",
        span,
        f"the final image carries Node.js ({where}){modules}, but only the build uses them "
        f"(`{_shown(command.argv)}`, line {command.span.line}): the Python service runs without them",
        "Build the front end in a stage of its own (`FROM node:22-slim AS web`, install and build there) and "
        "`COPY --from=web` only the built assets into a Python final stage without Node.js.",
        related=list(
            {c.span.line: Related(image.dockerfile_path, c.span, "uses Node.js at build") for _, c in uses}.values()
        )[:3]
        + related,
    )


def _runs_global_node_tools(image: Image, commands) -> bool:
    """Whether the container runs a program a global npm install put into the image
    (`npm install -g snarkjs` and `subprocess.run(["snarkjs", ...])`): by its start command
    or the service's code, which starts it as a process."""
    from dockerlint.model.code import image_code

    tools = set()
    for command in commands:
        words = [word for word in command.argv[1:] if not word.startswith("-")]
        if (
            command.name == "npm"
            and words[:1] in (["install"], ["i"], ["add"])
            and {"-g", "--global"} & set(command.argv)
        ):
            tools.update(word.rsplit("@", 1)[0] if not word.startswith("@") else word for word in words[1:])
    tools = {tool.rsplit("/", 1)[-1] for tool in tools if tool}  # @scope/name installs `name`
    if not tools:
        return False
    return bool(_runtime_names(image, sorted(tools))) or not tools.isdisjoint(image_code(image).mentions.programs)


def _node_source(image: Image, node: dict):
    """Where the final image gets Node.js: its base image or a package it installs."""
    ref, stage = external_base(image, image.final)
    if image_matches(ref, node["images"]):
        return f"from `{ref.raw}`", from_image_span(stage), []
    for stage in final_chain(image):
        for step in stage.runs():
            for package in installed_packages(step):
                if package.name in node["packages"] and removal(step, package, package.install.command) is None:
                    if not _removed_later(image, step, package):
                        return f"`{package.name}`, line {package.span.line}", package.span, []
    return None


def _fills_node_modules(argv: tuple[str, ...], node: dict) -> bool:
    words = [posixpath.basename(argv[0])] if argv else []
    skip = False
    for word in argv[1:]:
        if skip:
            skip = False
        elif word in node["value_options"]:
            skip = True
        elif not word.startswith("-"):
            words.append(word)
    if words in (["yarn"], ["yarnpkg"]):
        return True
    return any(words[: len(pattern)] == pattern for pattern in node["installs"])


def _shown(argv: tuple[str, ...]) -> str:
    return " ".join(argv[:5]) + (" …" if len(argv) > 5 else "")


@check("STG008")
def cloud_cli_in_final_image(image: Image) -> Iterator[Finding]:
    final = image.final
    if final is None or _build_environment(image, final):
        return
    found = _cloud_cli(image, load("build_tools")["cloud_clis"])
    if found is None:
        return
    cli, span, how = found
    commands = cli["commands"]
    if _runtime_names(image, commands):
        return  # the container runs it
    from dockerlint.model.code import image_code

    if set(commands) & image_code(image, image.local_projects()).mentions.names:
        return  # the service's code names it (a subprocess call, a setting)
    shown = " or ".join(f"`{command}`" for command in commands)
    yield finding(
        image,
        "STG008",
        span,
        f"{cli['name']} ({how}) is installed in the final image, but nothing the container runs calls {shown}: "
        "the tool and its own Python or libraries ship with every copy of the service",
        "Install it where it is used: a separate stage or image for local work and deployment scripts, or a "
        "CI step. If the service needs the cloud at run time, the SDK package it imports is enough.",
    )


# -- STG011 --------------------------------------------------------------------------------


@check("STG011")
def installer_in_final_image(image: Image) -> Iterator[Finding]:
    """Poetry, Pipenv, PDM or uv installed in the final stage only to install the service's
    dependencies: nothing the container runs calls it, yet it ships with its own packages."""
    final = image.final
    if final is None or _build_environment(image, final) or image.base_for_others or _placeholder_start(image):
        return  # a base of other images (of the repository, or pushed): they run the installer, or say so
    found = _cloud_cli(image, load("build_tools")["installers"])
    if found is None:
        return
    tool, span, how = found
    commands = tool["commands"]
    if _runtime_names(image, commands) or _uninstalled(image, tool["python"]):
        return  # the container runs it (`poetry run`), or the build removes it
    if _declared_by_project(image, tool["python"]):
        return  # the project lists it among its own dependencies: its install puts it back
    if _service_code_names(image, set(commands)):
        return  # the service's code names it
    size = _tool_bytes(image, tool["python"])
    shown = " or ".join(f"`{command}`" for command in commands)
    ships = f", and ships ~{human_size(size)} with what only it needs" if size else ""
    ran = any(
        _runs_tool(command.argv, commands)
        for stage in final_chain(image)
        for step in stage.runs()
        for command in step.commands
    )
    if ran:
        what, fix = f"it only installed the dependencies{ships}", tool["fix"]
    else:  # a requirements line of the service, which no step of the build runs either
        what = f"the build does not run it either{ships}"
        fix = f"Remove {tool['name']} from what the image installs: neither the build nor the service uses it."
    yield finding(
        image,
        "STG011",
        span,
        f"{tool['name']} ({how}) stays in the final image, but nothing the container runs calls {shown}: {what}",
        fix,
        size,
    )


def _service_code_names(image: Image, words: set[str]) -> bool:
    """Whether the service's files name one of ``words``; not its tests or build scripts (a
    packaging test's `data["tool"]["pdm"]`, setup.py's "run `pdm install`")."""
    from dockerlint.model.code import image_code, service_mentions

    if words.isdisjoint(image_code(image, image.local_projects()).mentions.names):
        return False
    return not words.isdisjoint(service_mentions(image, image.local_projects()).names)


def _declared_by_project(image: Image, names: list[str]) -> bool:
    """Whether a pyproject the image installs names one of ``names`` as a dependency of its
    own (`poetry = "^1.8"` under [tool.poetry.dependencies])."""
    from dockerlint.model.installed_names import image_installs

    return any(item.kind == "pyproject" and item.name in names for item in image_installs(image).items)


def _placeholder_start(image: Image) -> bool:
    """The image starts nothing of its own: no CMD or ENTRYPOINT, nor a compose command (the
    base image's `python3`), or only a keep-alive command (``CMD ["sleep", "infinity"]``). A
    base or toolbox image, whose installer serves what is built on it or run in it."""
    found = start_command(image)
    if found is None:  # compose services that start it with commands of their own start something
        return not any(service.entrypoint or service.command for service in compose_services(image))
    return keeps_alive(found[1])


def _runs_tool(argv: tuple[str, ...], commands: list[str]) -> bool:
    """Whether a command runs the tool: by name, after wrappers (`conda run -n env uv ...`),
    or as a module (`python -m pipenv install`)."""
    words = argv[wrapper_words(argv) :]
    if not words:
        return False
    if posixpath.basename(words[0]) in commands:
        return True
    return any(word == "-m" and following in commands for word, following in zip(words, words[1:], strict=False))


def _uninstalled(image: Image, names: list[str]) -> bool:
    """Whether a RUN of the final image uninstalls one of these distributions with pip."""
    return any(
        install.family == "pip" and install.action == "uninstall" and any(
            canonical(argument.value) in names for argument in install.packages)
        for stage in final_chain(image) for step in stage.runs() for install in step.installs
    )  # fmt: skip


def _tool_bytes(image: Image, names: list[str]) -> int | None:
    """Installed bytes of the tool and of what only it brings among the image's packages."""
    from dockerlint.model.installed_names import image_installs

    others = {item.name for item in image_installs(image).items} - set(names)
    only = closure(set(names), loads=False) - closure(others, loads=False)
    sizes = [lookup(name).installed_bytes() for name in only]
    return sum(size for size in sizes if size) or None


def _cloud_cli(image: Image, clis: list[dict]) -> tuple[dict, Span, str] | None:
    """The first cloud CLI (or project installer) the final image installs, in build
    order: where and how."""
    for stage in reversed(final_chain(image)):
        for step in stage.runs():
            for package in installed_packages(step):
                for cli in clis:
                    if package.name in cli["packages"] and removal(step, package, package.install.command) is None:
                        if not _removed_later(image, step, package):
                            return cli, package.span, f"the package `{package.name}`"
            for command in step.commands:
                for cli in clis:
                    if any(url in word for word in command.argv for url in cli["urls"]):
                        return cli, command.span, "its install script"
        for copy in sorted(stage.copies, key=lambda copy: copy.step_index):
            repository = (copy.from_image or "").split("@", 1)[0].rsplit(":", 1)[0] if copy.from_image else ""
            for cli in clis:
                if repository and repository in cli.get("images", ()) and not copy.mount_only:
                    return cli, copy.instruction.span, f"copied from `{copy.from_image}`"
        for command in pip_commands(image, stage):
            for request in command.requests:
                for cli in clis:
                    if request.name in cli["python"]:
                        return cli, command.span, f"`{request.text}` from PyPI"
    return None


# -- STG012 --------------------------------------------------------------------------------

# What apt and apk call the OS's own Python and its packages: python3, python3-pip,
# python3.11-venv, python3-opencv; Alpine's py3-numpy.
_OS_PYTHON = re.compile(r"(python3(\.\d+)?(-[\w.+-]+)?|py3-[\w.+-]+)")


@check("STG012")
def os_python_on_python_image(image: Image) -> Iterator[Finding]:
    """apt/apk packages of the OS's python3 on the official python image: a second Python
    beside the image's own in /usr/local, which the container runs and which imports none
    of them. Headers (python3-dev) are STG001's."""
    final = image.final
    if final is None or not python_image(image, final) or "/usr/bin/python" in _runtime_text(image):
        return  # the container may run the OS's Python on purpose
    for stage in final_chain(image):
        for step in stage.runs():
            packages = [
                package
                for package in installed_packages(step)
                if _OS_PYTHON.fullmatch(package.name) and not package.name.endswith("-dev")
                and removal(step, package, package.install.command) is None
                and not _removed_later(image, step, package)
            ]  # fmt: skip
            if not packages:
                continue
            names = [package.name for package in packages]
            shown = ", ".join(f"`{name}`" for name in names[:4]) + (" …" if len(names) > 4 else "")
            size = _os_python_bytes(image, stage, names)
            cost = f" (~{human_size(size)} with the OS's python3 they need)" if size else ""
            pip = [name for name in names if name.startswith(("python3-", "py3-"))]
            yield finding(
                image,
                "STG012",
                packages[0].span,
                f"{shown} {'install' if len(names) > 1 else 'installs'} packages for the OS's own python3 "
                f"beside the Python this image is built on (in /usr/local), which the container runs and which "
                f"cannot import them{cost}",
                "Remove them: the image's Python already has pip and venv; install Python libraries with its "
                "pip (`pip install opencv-python-headless`, not `python3-opencv`), and only the system libraries "
                "they load with apt (`libgl1`)."
                if pip
                else "Remove them: the image's Python already has pip and venv.",
                size,
            )


def _os_python_bytes(image: Image, stage: StageModel, names: list[str]) -> int | None:
    return _apt_bytes(image, stage, names, recommends=False)


def _apt_bytes(image: Image, stage: StageModel, names: list[str], recommends: bool) -> int | None:
    """Installed bytes the apt closure of ``names`` adds to the base (Debian's table, as the
    bill of bytes counts it), or None when the table does not know one of them."""
    if libc(image, stage) == "musl" or not all(debian_known(name) for name in names):
        return None
    members = {member for name in names for member in debian_members(name, recommends=recommends)}
    present = debian_present(_full_base(image, stage) is not None)
    return debian_bytes(members - present) or None


# -- STG009 --------------------------------------------------------------------------------


@check("STG009")
def build_folder_copied_whole(image: Image) -> Iterator[Finding]:
    """A multi-stage build that copies the builder's whole working folder across: the
    node_modules a development install filled there come along."""
    node = load("build_tools")["node"]
    for stage in final_chain(image):
        for copy in stage.copies:
            if copy.from_stage is None or copy.mount_only or copy.heredoc:
                continue
            origin = image.stages[copy.from_stage]
            for source in copy.sources:
                folder = posixpath.normpath(posixpath.join("/", source.value))
                command = _development_install_in(origin, folder, node)
                if command is None:
                    continue
                sources = " and the sources copied from the build context" if _context_copied_to(origin, folder) else ""
                yield finding(
                    image,
                    "STG009",
                    source.span,
                    f"`COPY --from={origin.name or origin.index}` takes the whole folder "
                    f"`{folder}` of {origin.label}, with the `node_modules` that `{_shown(command.argv)}` "
                    f"(line {command.span.line}) filled with development packages{sources}: the final image is no "
                    "smaller than a single-stage build",
                    "Copy only what the build produced (for example `COPY --from=build /build/dist ./dist`); a Node.js "
                    "server installs its production packages in the final stage (`npm ci --omit=dev`, "
                    "`yarn install --production`).",
                    related=[Related(image.dockerfile_path, command.span, "development packages installed here")],
                )
                return


def _context_copied_to(stage: StageModel, folder: str) -> bool:
    """Whether the stage copies the whole build context into ``folder`` (``COPY . .``)."""
    for copy in stage.copies:
        if copy.from_stage is not None or copy.from_image is not None or copy.mount_only or copy.heredoc:
            continue
        if any(posixpath.normpath(source.value) == "." for source in copy.sources):
            if posixpath.normpath(copy.dest) == folder:
                return True
    return False


def _development_install_in(stage: StageModel, folder: str, node: dict):
    """The npm/yarn/pnpm install that fills ``folder``/node_modules with development
    packages (no production-only option, no NODE_ENV=production, no later prune or
    removal of node_modules), or None."""
    production = set(node["production_options"])
    found = None
    for step in stage.runs():
        for command in step.commands:
            words = list(command.argv)
            if found is not None and (
                (words[:1] in (["npm"], ["pnpm"]) and "prune" in words)
                or (words[:1] == ["rm"] and any(word.rstrip("/").endswith("node_modules") for word in words))
            ):
                return None  # the development packages are gone again
            if found is not None or posixpath.normpath(step.workdir) != folder:
                continue
            if not _fills_node_modules(words, node) or _cwd_option(words, node):
                continue
            environment = {**step.env, **dict(command.command.assignments)}
            if environment.get("NODE_ENV") != "production" and not set(words[1:]) & production:
                found = command
    return found


def _cwd_option(argv: list[str], node: dict) -> bool:
    """An install told to work in another folder (``yarn --cwd frontend``)."""
    return any(word.split("=", 1)[0] in node["value_options"] for word in argv[1:])


@check("STG010")
def built_wheels_left_in_image(image: Image) -> Iterator[Finding]:
    """Wheels a builder made, copied into the final image and installed from there: the COPY
    layer keeps every .whl beside the packages installed from them."""
    chain = final_chain(image)
    for stage in chain:
        for copy in stage.copies:
            built = wheels_copied(image, copy)
            if built is None:
                continue
            origin, origin_step, wheel = built
            folder = posixpath.normpath(copy.dest)
            install = _installed_from(chain, copy, folder)
            if install is None or _folder_removed_later(chain, copy, folder):
                continue  # not installed from there, or deleted a layer later (LAY001's)
            source = posixpath.normpath(posixpath.join("/", copy.sources[0].value))
            size = _wheels_size(image, origin, origin_step, wheel)
            cost = f" (~{human_size(size)})" if size else ""
            yield finding(
                image,
                "STG010",
                copy.instruction.span,
                f"the wheels `pip {wheel.action}` built in {origin.label} (line {wheel.span.line}) are copied to "
                f"`{folder}`{cost} and installed from there (line {install.span.line}): the COPY layer keeps every "
                ".whl in the image beside the packages installed from it",
                f"Install them from the builder without copying them: `RUN --mount=type=bind,from="
                f"{origin.name or origin.index},source={source},target={folder} pip install --no-cache-dir "
                f"{folder}/*`, in place of the COPY and the install.",
                size,
                related=[Related(image.dockerfile_path, install.span, "installed from the copied wheels here")],
            )


def _installed_from(chain: list[StageModel], copy, folder: str):
    """The first ``pip install`` after the COPY, in the final chain, that reads ``folder``."""
    for stage in chain:
        for step in stage.runs():
            if step.instruction.span.line <= copy.instruction.span.line:
                continue
            for install in step.installs:
                if install.family != "pip" or install.action != "install":
                    continue
                paths = [argument.value for argument in install.packages]
                paths += [value for value in (install.option("--find-links"),) if isinstance(value, str)]
                for path in paths:
                    resolved = posixpath.normpath(posixpath.join(step.workdir or "/", path.split("*", 1)[0] or "."))
                    if resolved == folder or resolved.startswith(folder + "/"):
                        return install
    return None


def _folder_removed_later(chain: list[StageModel], copy, folder: str) -> bool:
    for stage in chain:
        for step in stage.runs():
            if step.instruction.span.line <= copy.instruction.span.line:
                continue
            for command in step.commands:
                if command.name == "rm" and any(
                    posixpath.normpath(word.rstrip("*")) in (folder, folder + "/") for word in command.argv[1:]
                ):
                    return True
    return False


def _wheels_size(image: Image, stage: StageModel, step: Step, install) -> int | None:
    """What the wheels weigh: the packages named and what they require, at the pinned
    versions, by the index's installed sizes times the download ratio (a wheel is compressed)."""
    named = wheel_names(image, stage, step, install)
    if not named:
        return None
    versions = {item.name: pinned_release(item.written) for item in named}
    total = 0
    for name in closure(set(versions), version=versions.get, loads=False):
        size = lookup(name, versions.get(name)).installed_bytes(compiled=False)
        if size is None:
            return None
        total += size
    return round(total * cache_settings()["download_ratio"])
