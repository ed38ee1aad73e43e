"""Layers: bytes deleted too late, caches busted by copy order, packages installed twice.

A layer is immutable: what one instruction adds stays in the image even when a later
one deletes it. Only the stages whose layers ship are checked for waste (the final stage
and the stages it is FROM); copy order matters in every stage the build runs.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path

from msgspec import Struct

from dockerlint.checks import check
from dockerlint.checks.common import final_chain, finding
from dockerlint.findings import Edit, Finding, Related, human_size
from dockerlint.model import Copy, Image, Install, StageModel, Step, coupling
from dockerlint.model.buildcontext import has_glob
from dockerlint.model.distributions import canonical, newest_version, tooling
from dockerlint.model.image import context_source
from dockerlint.model.installed_projects import MANIFESTS, ProjectInstall, project_installs
from dockerlint.model.layers import (
    REMOVE_ACTIONS,
    Package,
    dvc_outputs,
    installed_packages,
    recursive_rewrites,
    removal,
    removed_paths,
)
from dockerlint.model.pyenv import inside, positional
from dockerlint.model.queries import stage_of, workdir_before
from dockerlint.source import Span

# git-clone(1) options that take a separate value.
GIT_CLONE_VALUES = {
    "--depth",
    "-b",
    "--branch",
    "-o",
    "--origin",
    "-c",
    "--config",
    "--filter",
    "-j",
    "--jobs",
    "--reference",
    "--separate-git-dir",
    "--template",
    "-u",
    "--upload-pack",
    "--shallow-since",
    "--shallow-exclude",
}
DOWNLOAD_OUTPUT = {"wget": ("-O", "--output-document"), "curl": ("-o", "--output")}


class _Added(Struct, frozen=True):
    path: str  # absolute path in the image
    span: Span
    step: Step
    what: str  # "COPY", "ADD", "wget", "curl", "git clone", "dvc pull"
    copy: Copy | None = None
    size: int | None = None  # known without a copy: a .dvc file's recorded size


def _added_paths(image: Image, stages: list[StageModel]) -> Iterator[_Added]:
    for stage in stages:
        for copy in stage.copies:
            if copy.mount_only or copy.heredoc:
                continue
            step = stage.steps[copy.step_index]
            what = "ADD" if copy.is_add else "COPY"
            for source in copy.sources:
                name = posixpath.basename(source.value.rstrip("/").split("?", 1)[0])
                whole = source.value in (".", "./") or not name
                path = copy.dest if whole or not copy.dest_is_dir else posixpath.join(copy.dest, name)
                yield _Added(path, source.span, step, what, copy)
        for step in stage.runs():
            for command in step.commands:
                target = _download_target(command.argv, command.name)
                if target is not None:
                    path = posixpath.normpath(posixpath.join(step.workdir or "/", target))
                    what = "git clone" if command.name == "git" else command.name
                    yield _Added(path, command.span, step, what)
                for path, size in dvc_outputs(image, stage, step, command):
                    yield _Added(path, command.span, step, f"dvc {command.argv[1]}", size=size)


def _download_target(argv: tuple[str, ...], name: str) -> str | None:
    """Where ``wget -O F``, ``curl -o F`` or ``git clone URL [DIR]`` writes."""
    if name in DOWNLOAD_OUTPUT:
        flags = DOWNLOAD_OUTPUT[name]
        for index, word in enumerate(argv[1:-1], 1):
            if word in flags and argv[index + 1] != "-":
                return argv[index + 1]
            for flag in flags:
                if flag.startswith("--") and word.startswith(flag + "="):
                    return word.split("=", 1)[1]
        return None
    if name == "git" and len(argv) > 2 and argv[1] == "clone":
        words = positional(list(argv[2:]), GIT_CLONE_VALUES)
        if len(words) >= 2:
            return words[1]
        if words:
            return posixpath.basename(words[0].rstrip("/")).removesuffix(".git")
    return None


def _copied_size(image: Image, added: _Added, removed: str) -> tuple[bool, int | None]:
    """Whether the build context really put something at ``removed`` through this copy,
    and how many bytes; (True, None) when the copy is from a stage or a URL."""
    copy = added.copy
    if copy is None:
        return True, added.size
    if copy.from_stage is not None or copy.from_image is not None or "://" in added.path:
        return True, None
    if copy.is_add and any("://" in source.value for source in copy.sources):
        return True, None
    source = context_source(image, stage_of(image, added.step), removed, added.step.index)
    if source is None:
        return False, None
    try:
        relative = source.relative_to(image.context_root).as_posix()
    except ValueError:
        return False, None
    files = image.context.glob(relative)
    if not files:
        return False, None
    return True, sum(file.size for file in files)


def _layers(image: Image):
    """The final image's stages (base first), its steps in layer order with each one's
    place, and the paths steps add: what LAY001 and LAY007 compare later layers against."""
    stages = final_chain(image)[::-1]
    order = [step for stage in stages for step in stage.steps]
    position = {id(step): number for number, step in enumerate(order)}
    return stages, order, position, list(_added_paths(image, stages))


@check("LAY001")
def deleted_in_later_layer(image: Image) -> Iterator[Finding]:
    stages, order, position, added = _layers(image)
    kept = _kept_packages(order)
    for stage in stages:
        for step in stage.runs():
            here = position[id(step)]
            for removed in removed_paths(image, step):
                if removed.target in ("/", "/tmp", "/var/lib/apt/lists") and not any(
                    item.path == removed.target for item in added
                ):
                    continue
                for item in added:
                    if position[id(item.step)] >= here:
                        continue
                    if not (inside(removed.target, item.path) or inside(item.path, removed.target)):
                        continue
                    real, size = _copied_size(
                        image, item, removed.target if inside(removed.target, item.path) else item.path
                    )
                    if not real or _read_by_install(step, removed.target):
                        continue
                    cost = f" (~{human_size(size)})" if size else ""
                    yield finding(
                        image,
                        "LAY001",
                        removed.span,
                        f"`{removed.target}` is deleted here, but `{item.what}` on line {item.span.line} "
                        f"added it in an earlier layer: the bytes stay in the image{cost}",
                        _fix(item),
                        size,
                        related=[Related(image.dockerfile_path, item.span, f"`{item.path}` added here")],
                    )
                    break
            yield from _packages_removed(image, kept, here, step)


def _read_by_install(step: Step, path: str) -> bool:
    """Whether an install of the RUN that deletes ``path`` read it (`pip install -r
    requirements.txt && rm requirements.txt`): a manifest of a few hundred bytes, tidied away,
    not weight worth a change."""
    return any(ref.image_path == path for install in step.installs for ref in install.requirements)


def _fix(item: _Added) -> str:
    if item.copy is not None:
        return (
            "Do not copy it in: exclude it in `.dockerignore` or copy only what is needed; for a file "
            "needed during one RUN only, use `RUN --mount=type=bind,source=…,target=…`."
        )
    return f"Download, use and delete it in the same RUN as the `{item.what}`, or do it in a builder stage."


def _kept_packages(order: list[Step]) -> list[tuple[int, Package]]:
    """(position, package) of each package a RUN installs and does not remove itself, in
    build order: computed once, not again for every RUN after it (thousands of RUNs)."""
    return [
        (number, package)
        for number, step in enumerate(order)
        if step.keyword == "RUN"
        for package in installed_packages(step)
        if removal(step, package, package.install.command) is None
    ]


def _packages_removed(image: Image, kept: list[tuple[int, Package]], here: int, step: Step) -> Iterator[Finding]:
    """Packages an earlier RUN installed (and kept) that this RUN removes, one finding per command."""
    if not any(install.action in REMOVE_ACTIONS.get(install.family, ()) for install in step.installs):
        return
    by_remover: dict[int, tuple[Install, list]] = {}
    for number, package in kept:
        if number >= here:
            break
        remover = removal(step, package)
        if remover is not None:
            by_remover.setdefault(id(remover), (remover, []))[1].append(package)
    for remover, packages in by_remover.values():
        names = ", ".join(f"`{package.name}`" for package in packages)
        lines = sorted({package.span.line for package in packages})
        yield finding(
            image,
            "LAY001",
            remover.span,
            f"{names} {'is' if len(packages) == 1 else 'are'} removed here, but line "
            f"{', '.join(map(str, lines))} installed {'it' if len(packages) == 1 else 'them'} in an earlier "
            "layer: the files stay in the image",
            "Install, use and remove them in one RUN (or install them only in a builder stage).",
            related=[
                Related(image.dockerfile_path, package.span, f"`{package.name}` installed here") for package in packages
            ],
        )


# -- LAY002 ----------------------------------------------------------------------------------


def _providing_copy(stage: StageModel, image_path: str, before: int) -> Copy | None:
    return next(_providing_copies(stage, image_path, before), None)


def _providing_copies(stage: StageModel, image_path: str, before: int) -> Iterator[Copy]:
    """The context COPYs of the stage before step ``before`` that put ``image_path`` in
    place, the latest first."""
    for copy in reversed(stage.copies):
        if copy.step_index >= before or copy.from_stage is not None or copy.from_image or copy.mount_only:
            continue
        if inside(image_path, copy.dest):
            yield copy


def _busting_copy(image: Image, stage: StageModel, image_path: str, before: int, manifest) -> Copy | None:
    """The latest COPY of the whole source tree that also brings in the manifest the
    install at ``before`` reads: a COPY of the manifest alone after it (`COPY . /app`, then
    `COPY pyproject.toml poetry.lock ./`) still leaves the install below a layer every code
    change rebuilds."""
    for number, copy in enumerate(_providing_copies(stage, image_path, before)):
        # the latest one put the manifest there; an earlier one must have brought it too
        if _whole_tree(image, copy, manifest) and (number == 0 or _brings(image, copy, manifest)):
            return copy
    return None


def _brings(image: Image, copy: Copy, manifest: Path) -> bool:
    """Whether one of the COPY's sources holds the manifest (the context root, or a folder
    above it)."""
    try:
        relative = manifest.relative_to(image.context_root).as_posix()
    except ValueError:
        return False
    for source in copy.sources:
        value = source.value.strip().removeprefix("./").rstrip("/")
        if value in ("", ".") or relative == value or relative.startswith(value + "/"):
            return True
    return False


def _busting_copies(image: Image, stage: StageModel, reported: set[int]) -> Iterator[tuple[Copy, Step, Install, str]]:
    """COPYs of the whole source tree that bring in a manifest a later ``pip install -r``
    reads: (copy, step, install, manifest as the install names it), once per copy."""
    for step in stage.runs():
        for install in step.installs:
            if install.family != "pip" or install.action != "install":
                continue
            for reference in install.requirements:
                copy = _busting_copy(image, stage, reference.image_path, step.index, reference.context_path)
                if copy is None or id(copy) in reported:
                    continue
                reported.add(id(copy))
                yield copy, step, install, posixpath.relpath(reference.image_path, step.workdir or "/")


def _busting_project_installs(
    image: Image, stage: StageModel, reported: set[int]
) -> Iterator[tuple[Copy, Step, str, str]]:
    """COPYs of the whole source tree (or of a folder of the project's code, with the
    manifest copied on its own) before a ``pip install .`` of a project whose pyproject.toml
    declares dependencies, when no earlier install of the stage put them in place: every
    code change reinstalls them all. An install with ``--no-deps``, or of a project an earlier
    RUN installed from its manifest alone (a stub package), reinstalls only the project.
    (copy, step, the project argument, what the COPY brings)."""
    earlier_requirements = False
    installed: set[str] = set()  # project folders earlier RUNs installed, dependencies with them
    for step in stage.runs():
        for install in step.installs:
            if install.family != "pip" or install.action != "install":
                continue
            if install.requirements:
                earlier_requirements = True
            for argument in (*install.packages, *install.editables):
                value = argument.value
                if not _local(value) or value.endswith((".whl", ".tar.gz", ".zip")) or earlier_requirements:
                    continue
                folder = posixpath.normpath(
                    posixpath.join(step.workdir or "/", _without_extras(value).removeprefix("file:"))
                )
                if install.has("--no-deps") or folder in installed:
                    continue
                installed.add(folder)
                image_path = posixpath.join(folder, "pyproject.toml")
                manifest = context_source(image, stage, image_path, step.index)
                if manifest is None or not _declares_dependencies(image, manifest):
                    continue
                copy, what = _busting_copy(image, stage, image_path, step.index, manifest), "the whole source tree"
                if copy is None:
                    copy, what = _code_copy_into(image, stage, folder, step.index), "the project's code"
                if copy is not None and id(copy) not in reported:
                    reported.add(id(copy))
                    yield copy, step, value, what


def _code_copy_into(image: Image, stage: StageModel, folder: str, before: int) -> Copy | None:
    """The first COPY from the build context, before step ``before``, of a folder of Python
    code into the project folder (`COPY app /app/app`, then `COPY pyproject.toml .`)."""
    for copy in stage.copies:
        if copy.step_index >= before or copy.from_stage is not None or copy.from_image or copy.mount_only:
            continue
        if inside(copy.dest, folder) and any(_code_tree(image, source.value) for source in copy.sources):
            return copy
    return None


def _declares_dependencies(image: Image, manifest: Path) -> bool:
    pyproject = image.workspace.pyproject(manifest) if os.path.isfile(manifest) else None
    return pyproject is not None and any(item.group in ("project", "poetry") for item in pyproject.dependencies)


def _code_before_installs(image: Image, stage: StageModel, reported: set[int]) -> Iterator[tuple[Copy, Step, str, str]]:
    """COPYs of Python code that come before a ``pip install`` that reads none of it (only
    requirements files, or distributions named by the command): the install sits below the
    code, so every code change reinstalls. The first such COPY per install: (copy, step,
    the install as a message shows it, how to reorder)."""
    from dockerlint.model.installed_pip import argument_name

    code: dict[int, bool] = {}  # copy -> whether it brings Python code, asked once
    for step in stage.runs():
        if any(_installs_local_code(install) for install in step.installs):
            # `pip install . && pip install gunicorn`: the RUN reads the copied code itself; and
            # what installs after it (`pip install numpy==1.19.5`, a pin over what the project
            # brought) must stay after it
            return
        for install in step.installs:
            if install.family != "pip" or install.action != "install" or install.editables:
                continue
            if not install.requirements and not install.packages:
                continue
            if not install.requirements and all(
                argument_name(argument.value)[0] in tooling() for argument in install.packages
            ):
                continue  # `pip install --upgrade pip`: the installer, not the dependencies
            if any(_local(argument.value) or argument_name(argument.value)[0] is None for argument in install.packages):
                continue
            if any(_manifest_files(image, reference) is None for reference in install.requirements):
                continue
            providing = {id(_providing_copy(stage, ref.image_path, step.index)) for ref in install.requirements}
            for copy in stage.copies:
                if copy.step_index >= step.index:
                    break
                if copy.from_stage is not None or copy.from_image or copy.mount_only or copy.heredoc:
                    continue
                if id(copy) in providing or id(copy) in reported:
                    continue
                if id(copy) not in code:
                    code[id(copy)] = _copies_code(image, copy) and not _build_helper(stage, copy, step.index)
                if not code[id(copy)]:
                    continue
                reported.add(id(copy))
                if install.requirements:
                    reference = install.requirements[0]
                    manifest = posixpath.relpath(reference.image_path, step.workdir or "/")
                    source = _context_relative(image, reference.context_path) or manifest
                    target = "." if manifest == posixpath.basename(source) else manifest
                    shown = f"`pip install -r {manifest}`"
                    order = f"`COPY {source} {target}` and `RUN pip install -r {manifest}` first, then the code"
                else:
                    names = " ".join(argument.value for argument in install.packages[:3])
                    shown = f"`pip install {names}{' …' if len(install.packages) > 3 else ''}`"
                    order = "the install first, then the code"
                yield copy, step, shown, order
                break


def _build_helper(stage: StageModel, copy: Copy, before: int) -> bool:
    """Whether the COPY brings only scripts a RUN runs before step ``before`` (`COPY
    model_download.py .` then `RUN python model_download.py`): a step of the build, not the
    service's code; moving it below the install would move its work there too."""
    names = {posixpath.basename(source.value.rstrip("/")) for source in copy.sources}
    if not names or any(not name.endswith((".py", ".sh")) or has_glob(name) for name in names):
        return False
    ran: set[str] = set()
    for step in stage.runs():
        if copy.step_index < step.index < before:
            ran.update(posixpath.basename(word) for command in step.commands for word in command.argv[:3])
    return names <= ran


def _context_relative(image: Image, path: Path | None) -> str | None:
    """A build-context file as a COPY source names it."""
    try:
        return path.relative_to(image.context_root).as_posix() if path is not None else None
    except ValueError:
        return None


def _installs_local_code(install: Install) -> bool:
    """A pip install of a project of the source tree (`.`, `./lib`, `-e .`), not of wheels."""
    return install.family == "pip" and (
        bool(install.editables)
        or any(_local(argument.value) and not argument.value.endswith(".whl") for argument in install.packages)
    )


def _copies_code(image: Image, copy: Copy) -> bool:
    return any(file.path.endswith(".py") for source in copy.sources for file in image.context.glob(source.value))


# What installing only the dependencies looks like for each project tool, before the code
# comes in (docs.astral.sh/uv/guides/integration/docker "Intermediate layers";
# python-poetry.org/docs/cli "install --no-root"; pdm-project.org/latest/usage/dependency/
# "--no-self"); pipenv installs no project of its own.
_DEPENDENCIES_ONLY = {
    "uv": ("uv.lock", "uv sync --frozen --no-install-project"),
    "poetry": ("poetry.lock", "poetry install --no-root"),
    "pipenv": ("Pipfile.lock", None),
    "pdm": ("pdm.lock", "pdm install --frozen-lockfile --no-self"),
}


def _busting_project_copies(
    image: Image, stage: StageModel, reported: set[int]
) -> Iterator[tuple[Copy, ProjectInstall]]:
    """COPYs of the whole source tree that bring in the pyproject.toml a later ``uv sync``
    or ``poetry install`` reads, once per copy; not when the dependencies were installed
    from the manifests before that copy (the later run installs the project itself)."""
    synced: list[tuple[int, str]] = []  # (step index, project folder) of the installs so far
    for step in stage.runs():
        for project in project_installs(image, stage, step):
            synced.append((step.index, project.folder))
            if project.command is None or project.pyproject is None:
                continue
            pyproject = posixpath.join(project.folder, MANIFESTS[project.tool])
            copy = _busting_copy(image, stage, pyproject, step.index, project.pyproject)
            if copy is None or id(copy) in reported:
                continue
            if any(index < copy.step_index and folder == project.folder for index, folder in synced):
                continue
            reported.add(id(copy))
            yield copy, project


@check("LAY002")
def cache_busting_copy(image: Image) -> Iterator[Finding]:
    for stage in image.stages:
        if not stage.reachable:
            continue
        reported: set[int] = set()
        for copy, project in _busting_project_copies(image, stage, reported):
            lock, dependencies_only = _DEPENDENCIES_ONLY[project.tool]
            manifests = f"`COPY {MANIFESTS[project.tool]} {lock} ./`"
            if dependencies_only is None:
                steps = f"then {project.label} as it is, then `COPY . .`."
            else:
                steps = (
                    f"then `RUN {dependencies_only}`, then `COPY . .` and {project.label} again to install the "
                    "project itself (quick: the packages are there)."
                )
            yield finding(
                image,
                "LAY002",
                copy.instruction.span,
                f"this COPY brings in the whole source tree before {project.label} on line "
                f"{project.command.span.line}: every code change invalidates the install layer and reinstalls "
                "every package",
                f"Copy the manifests first: {manifests}, {steps}",
                related=[Related(image.dockerfile_path, project.command.span, "the dependency install")],
            )
        for copy, step, project, what in _busting_project_installs(image, stage, reported):
            yield finding(
                image,
                "LAY002",
                copy.instruction.span,
                f"this COPY brings in {what} before `pip install {project}` on line "
                f"{step.instruction.span.line}: every code change invalidates the install layer and reinstalls every "
                "dependency of the project",
                "Install the dependencies first: compile them from pyproject.toml into a requirements file "
                "(`uv pip compile pyproject.toml -o requirements.txt` or `pip-compile`), `COPY requirements.txt .` "
                "and `RUN pip install -r requirements.txt`, then `COPY . .` and "
                f"`RUN pip install --no-deps {project}`.",
                related=[Related(image.dockerfile_path, step.instruction.span, "the project install")],
            )
        for copy, step, install, manifest in _busting_copies(image, stage, reported):
            later = _downloads_after(image, copy)
            also = (
                f", and the model download on line{'s' if len(later) > 1 else ''} {', '.join(later)}" if later else ""
            )
            yield finding(
                image,
                "LAY002",
                copy.instruction.span,
                f"this COPY brings in the whole source tree before `pip install -r {manifest}` on "
                f"line {install.span.line}{also}: every code change invalidates the install layer and "
                f"reinstalls every package{' (and downloads the model again)' if later else ''}",
                f"Copy the manifest first: `COPY {manifest} .`, then `RUN pip install -r {manifest}`"
                f"{' and the download' if later else ''}, then `COPY . .`.",
                related=[Related(image.dockerfile_path, install.span, "the dependency install")],
                autofix=_manifest_first_fix(image, stage, copy, step),
            )
        for copy, step, shown, order in _code_before_installs(image, stage, reported):
            yield finding(
                image,
                "LAY002",
                copy.instruction.span,
                f"this COPY brings in code before {shown} on line {step.instruction.span.line}: "
                "every code change invalidates the install layer and reinstalls every package",
                f"Move this COPY below the install: {order}.",
                related=[Related(image.dockerfile_path, step.instruction.span, "the dependency install")],
            )


# Instructions that may sit between the COPY and the install when the COPY moves below
# the install: they neither read the copied files nor change where the COPY puts them.
_MOVABLE_OVER = ("ENV", "ARG", "LABEL", "EXPOSE")


def _manifest_first_fix(image: Image, stage: StageModel, copy: Copy, step: Step):
    """In place of the COPY, a COPY of the requirements files (with every file they
    include) to where the install reads them; the COPY itself moves to just after the
    install. Offered when the install reads nothing else from the source tree (no local
    path, no ``-e .``), the instructions in between are plain ``pip install`` RUNs or
    ENV/ARG/LABEL/EXPOSE, and the COPY is one instruction in shell form."""
    from dockerlint.checks import fixing

    instruction = copy.instruction
    if instruction.json_args is not None or instruction.heredocs or copy.step_index >= step.index:
        return None
    if len(copy.sources) != 1 or (copy.sources[0].value.rstrip("/") or ".") not in (".", "./"):
        return None
    manifests: list[str] = []
    for install in step.installs:
        if install.family != "pip" or install.action != "install" or install.editables:
            return None
        if any(_local(argument.value) for argument in install.packages):
            return None
        for reference in install.requirements:
            files = _manifest_files(image, reference)
            if files is None:
                return None
            manifests += [name for name in files if name not in manifests]
    if not manifests or len(step.commands) != len(step.installs):
        return None
    for between in stage.steps[copy.step_index + 1 : step.index]:
        if between.keyword == "RUN":
            if len(between.commands) != len(between.installs) or any(
                i.family != "pip" or i.requirements or i.editables or any(_local(a.value) for a in i.packages)
                for i in between.installs
            ):
                return None
        elif between.keyword not in _MOVABLE_OVER:
            return None
    text = image.dockerfile.text
    span = instruction.span
    written = [text.line(number) for number in range(span.line, span.end_line + 1)]
    if any(line.lstrip().startswith("#") for line in written[1:]):
        return None
    words = fixing.span_text(image, Span(span.line, span.column, span.end_line, span.end_column))
    source_word = copy.sources[0]
    head = fixing.span_text(image, Span(span.line, span.column, source_word.span.line, source_word.span.column))
    dest = instruction.args.split()[-1]
    if len(instruction.args.split()) != 2 or "\n" in head:
        return None
    if not dest.startswith("/") and not workdir_before(image, stage, copy.step_index):
        return None  # one more COPY to a path relative to an unknown directory
    if all("/" not in name for name in manifests):
        lines = [f"{head}{' '.join(manifests)} {dest.rstrip('/') + '/' if dest != '.' else './'}"]
    else:
        lines = [f"{head}{name} {posixpath.join(dest, name)}" for name in manifests]
    after = _last_passed_download(image, stage, step).instruction.span
    edits = (
        Edit(image.dockerfile_path, Span(span.line, span.column, span.end_line, span.end_column), "\n".join(lines)),
        Edit(
            image.dockerfile_path,
            Span(
                after.end_line, len(text.line(after.end_line)) + 1, after.end_line, len(text.line(after.end_line)) + 1
            ),
            "\n" + words,
        ),
    )
    return fixing.unsafe(f"Copy {', '.join(manifests)} first; `{words}` after the install", *edits)


def _last_passed_download(image: Image, stage: StageModel, install: Step) -> Step:
    """The step the moved COPY goes after: the install, or the last of the model downloads
    that follow it (ENV, ARG, LABEL, EXPOSE between them) when each reads nothing of the
    source tree (no word names a path or a file), so they too stop rerunning on every
    code change."""
    lines = set(_downloads_after_install(image, stage, install))
    last = install
    for step in stage.steps[install.index + 1 :]:
        if step.keyword in _MOVABLE_OVER:
            continue
        if step.keyword != "RUN" or step.instruction.span.line not in lines or not _self_contained(image, step):
            break
        last = step
    return last


def _downloads_after_install(image: Image, stage: StageModel, install: Step) -> list[int]:
    from dockerlint.model.ml import downloads

    return [
        download.span.line
        for download in downloads(image)
        if image.stages[download.position[0]] is stage and download.position[1] > install.index
    ]


_FILE_WORD = re.compile(r"\.(py|sh|txt|json|ya?ml|toml|cfg|ini)$")


def _self_contained(image: Image, step: Step) -> bool:
    """No word of the RUN names a path, a file, or a module of the source tree (``python
    -c "import app.fetch"``)."""
    local = {
        file.path.split("/", 1)[0].removesuffix(".py") for file in image.context.files if file.path.endswith(".py")
    }
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(local))) + r")\b") if local else None
    return bool(step.commands) and not any(
        ("/" in word and "://" not in word) or _FILE_WORD.search(word) or (pattern and pattern.search(word))
        for command in step.commands
        for word in command.argv[1:]
    )


def _local(value: str) -> bool:
    """A pip argument that names a path of the source tree (`.[inference]` with its extras)."""
    value = _without_extras(value)
    return value in (".", "..") or value.startswith(("./", "../", "/", "file:")) or value.endswith((".whl", ".tar.gz"))


def _without_extras(value: str) -> str:
    """`.[inference]` -> `.`: the path a pip argument with extras names."""
    return value[: value.index("[")] if value.endswith("]") and "[" in value else value


def _manifest_files(image: Image, reference) -> list[str] | None:
    """The context paths of a requirements file and every file it includes, when all are
    sent and none of them installs a path of the source tree."""
    if reference.context_path is None or not os.path.isfile(reference.context_path):
        return None
    loaded = image.workspace.requirements(reference.context_path)
    if loaded.problems or any(
        r.editable or (r.url and not r.url.startswith(("http", "git+"))) for r in loaded.requirements
    ):
        return None
    names = []
    for path in loaded.files:
        try:
            relative = path.relative_to(image.context_root).as_posix()
        except ValueError:
            return None
        if not image.context.sent(relative):
            return None
        names.append(relative)
    return names


def _downloads_after(image: Image, copy: Copy) -> list[str]:
    """Lines of the model downloads (LAY006's) that follow ``copy`` in the stages that ship."""
    from dockerlint.model.ml import downloads

    chain = final_chain(image)[::-1]
    lines = []
    for download in downloads(image):
        located = _step_at(chain, download.span.line)
        if located is None:
            continue
        stage, step = located
        if _code_copy_before(image, chain[: chain.index(stage) + 1], stage, step, download) is copy:
            lines.append(str(download.span.line))
    return sorted(set(lines), key=int)


def _whole_tree(image: Image, copy: Copy, manifest) -> bool:
    """The copy sends more than the manifest: the context root or a folder of code."""
    if manifest is None:
        return False
    for source in copy.sources:
        value = source.value.rstrip("/") or "."
        if value in (".", "./"):
            return len(image.context.files) > 1
        if not re.search(r"[*?\[]", value) and len(image.context.glob(value)) > 1:
            return any(file.path.endswith(".py") for file in image.context.glob(value))
    return False


# -- LAY003 ----------------------------------------------------------------------------------


class _Pin(Struct, frozen=True):
    name: str
    spec: str
    index: str
    span: Span  # the argument, or the `-r` of the file that holds the requirement
    install: Install
    text: str = ""  # the requirement as written
    where: str = ""  # "requirements.txt:31" for a requirement read from a file


def _pins(image: Image, install: Install) -> Iterator[_Pin]:
    index = str(install.option("--index-url") or install.option("--extra-index-url") or "")
    for argument in install.packages:
        # packaging's full grammar only for `pip install NAME` (most installs name files).
        from packaging.requirements import InvalidRequirement, Requirement

        try:
            parsed = Requirement(argument.value)
        except InvalidRequirement:
            continue
        spec = str(parsed.specifier) + (parsed.url or "")
        yield _Pin(canonical(parsed.name), spec, index, argument.span, install, argument.value)
    for reference in install.requirements:
        if reference.constraint or reference.context_path is None or not os.path.isfile(reference.context_path):
            continue
        loaded = image.workspace.requirements(reference.context_path)
        file_index = loaded.options.index_url or ",".join(loaded.options.extra_index_urls) or index
        for requirement in loaded.requirements:
            if requirement.name and not requirement.constraint:
                where = ""
                if requirement.path is not None:
                    where = f"{requirement.path.name}:{requirement.span.line}"
                yield _Pin(
                    requirement.name,
                    requirement.specifier + (requirement.url or ""),
                    file_index,
                    reference.span,
                    install,
                    requirement.text,
                    where,
                )


def _chains(image: Image) -> Iterator[tuple[list[StageModel], bool]]:
    """The stages whose installs follow one another, oldest first, and whether they ship:
    the final image's chain, then each builder the final stage needs."""
    final = final_chain(image)
    yield final[::-1], True
    for stage in image.stages:
        if stage.reachable and stage not in final:
            chain = [stage]
            while chain[-1].parent is not None and image.stages[chain[-1].parent] not in chain:
                chain.append(image.stages[chain[-1].parent])
            yield chain[::-1], False


@check("LAY003")
def pip_reinstall(image: Image) -> Iterator[Finding]:
    """Only changes pip really makes: a different exact pin (``==2.3.0`` then ``==2.3.0+cpu``),
    ``--force-reinstall``, or a torchvision/torchaudio/xformers pin whose torch excludes the
    torch an earlier install left; an already satisfied requirement is left alone by pip."""
    reported: set[tuple] = set()
    for chain, ships in _chains(image):
        for found in _reinstalls(image, chain, ships):
            key = (found.span, found.message.split(" ", 1)[0])
            if key not in reported:
                reported.add(key)
                yield found


def _reinstalls(image: Image, chain: list[StageModel], ships: bool) -> Iterator[Finding]:
    seen: dict[str, _Pin] = {}
    torch: _Torch | None = None
    for stage in chain:
        pythons = _pythons(image, stage)
        for step in stage.runs():
            for install in step.installs:
                if install.family != "pip" or install.action != "install" or install.option("--target"):
                    continue
                pins = list(_pins(image, install))
                replaced = set()
                for pin in pins:
                    first = seen.setdefault(pin.name, pin)
                    if first.install is install or not (_replaces(first, pin) or _newest_replaced(first, pin, pythons)):
                        continue
                    seen[pin.name] = pin
                    replaced.add(pin.name)
                    same_run = any(earlier is first.install for earlier in step.installs)
                    yield finding(
                        image,
                        "LAY003",
                        pin.span,
                        f"`{pin.name}` is installed again here ({_difference(first, pin)}) after line "
                        f"{first.span.line} installed it: {_cost(ships, same_run)}",
                        f"Install `{pin.name}` once, with the version and index you want, in the first install "
                        "(for example install it from its `--index-url` before the requirements).",
                        related=[Related(image.dockerfile_path, first.span, f"`{pin.name}` first installed here")],
                    )
                wanted = _torch_wanted(pins, install)
                if wanted is None:
                    continue
                accepted, cause = wanted
                if torch is not None and cause is not None and coupling.TORCH not in replaced:
                    if not torch.versions & accepted:
                        same_run = any(earlier is torch.pin.install for earlier in step.installs)
                        yield _torch_replaced(image, torch, cause, ships, same_run)
                torch = _torch_left(accepted, cause or torch_pin(pins), pythons)


class _Torch(Struct, frozen=True):
    """The torch releases an install may have left in the image, and the line that did it."""

    versions: frozenset[str]
    pin: _Pin
    pythons: tuple[str, ...]


def torch_pin(pins: list[_Pin]) -> _Pin:
    return next(pin for pin in pins if pin.name == coupling.TORCH)


def _torch_wanted(pins: list[_Pin], install: Install) -> tuple[frozenset[str], _Pin | None] | None:
    """The torch releases an install accepts, and the coupled pin (torchvision==0.17.0) that
    narrowed them, if one did; None when the install asks nothing of torch."""
    if not any(coupling.concerns_torch(pin.name) for pin in pins):
        return None
    accepted = frozenset(coupling.torch_releases())
    touched = False
    cause = None
    for pin in pins:
        if pin.name == coupling.TORCH:
            touched = True
            if "://" not in pin.spec:
                accepted &= coupling.torch_matching(pin.spec)
        elif pin.spec and not install.has("--no-deps") and coupling.coupled(pin.name):
            allowed = coupling.torch_allowed(pin.name, pin.spec)
            if allowed is not None and len(allowed[1]) == 1 and not allowed[0] >= accepted:
                accepted &= allowed[0]
                cause = pin
                touched = True
    if not touched or not accepted:
        return None
    return accepted, cause


def _torch_left(accepted: frozenset[str], pin: _Pin, pythons: tuple[str, ...]) -> _Torch | None:
    """What pip installs from the accepted releases: the newest one with a wheel for the
    image's Python. Only the newest per Python is known, so anything from it on counts."""
    from packaging.version import Version

    left: set[str] = set()
    for python in pythons:
        newest = coupling.newest_torch(python)
        if newest is None:
            return None
        release, final = newest
        later = {version for version in accepted if Version(version) >= Version(release)}
        if final:
            later &= {release}
        left |= later or {max(accepted, key=Version)}
    return _Torch(frozenset(left), pin, pythons)


def _torch_replaced(image: Image, torch: _Torch, cause: _Pin, ships: bool, same_run: bool) -> Finding:
    from packaging.version import Version

    shown = sorted(torch.versions, key=Version)
    if len(shown) == 1:
        before = f"torch {shown[0]}" if shown[0] != coupling.FUTURE else "a newer torch"
    else:
        before = f"torch {shown[0]} or newer"
    rows = coupling.torch_allowed(cause.name, cause.spec)
    needs = f"torch{rows[1][0][1]}" if rows else "another torch"
    where = f" ({cause.where})" if cause.where else ""
    return finding(
        image,
        "LAY003",
        cause.span,
        f"`{cause.text}`{where} requires {needs}, so pip replaces the {before} that line "
        f"{torch.pin.span.line} installed: {_cost(ships, same_run)}",
        f"Install torch once: pin the torch that `{cause.text}` needs in the first install (or install "
        "torch, torchvision and torchaudio together from one pinned set).",
        related=[Related(image.dockerfile_path, torch.pin.span, "torch first installed here")],
    )


def _pythons(image: Image, stage: StageModel) -> tuple[str, ...]:
    from dockerlint.model.requested import environments

    return tuple(sorted({dict(env)["python_version"] for env in environments(image, stage)}))


def _cost(ships: bool, same_run: bool) -> str:
    if same_run:  # one layer: it holds only what the second install left
        return "it is downloaded and installed twice in this RUN, on every build"
    if ships:
        return "the first copy's bytes stay in that earlier layer"
    return "it is downloaded and installed twice (this stage does not ship, but every build pays for it)"


def _replaces(first: _Pin, later: _Pin) -> bool:
    if later.install.has("--force-reinstall"):
        return True
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    pinned = _EXACT_PIN.match(first.spec)
    if pinned is None or _EXACT_PIN.match(later.spec) is None:
        return False
    installed = coupling.installed_release(first.name, pinned.group(1), first.index)
    try:
        return not SpecifierSet(later.spec).contains(installed, prereleases=True)
    except InvalidSpecifier:
        return False


# Below this Python, an install without a version may get an older release than the newest
# (releases drop old Pythons): what it installed is not known.
_NEWEST_FOR_PYTHON = (3, 10)


def _newest_replaced(first: _Pin, later: _Pin, pythons: tuple[str, ...]) -> bool:
    """An install without a version (pip takes the newest release), then an exact pin of an
    older minor release: pip installs that one over it. Only on one known, recent Python,
    and not under a constraints file."""
    if first.spec or first.index != later.index or len(pythons) != 1:
        return False
    if coupling.concerns_torch(first.name) or first.name in tooling():
        return False  # torch's family is judged by what torch each pin accepts; pip itself is no bloat
    if any(reference.constraint for reference in first.install.requirements):
        return False
    pinned, newest = _EXACT_PIN.match(later.spec), newest_version(first.name)
    if pinned is None or newest is None:
        return False
    from packaging.version import InvalidVersion, Version

    try:
        python = tuple(int(part) for part in pythons[0].split(".")[:2])
        older, released = Version(pinned.group(1)), Version(newest)
    except (InvalidVersion, ValueError):
        return False
    return python >= _NEWEST_FOR_PYTHON and (older.major, older.minor) < (released.major, released.minor)


_EXACT_PIN = re.compile(r"^===?([^,*=]+)$")


def _difference(first: _Pin, second: _Pin) -> str:
    if not first.spec and not second.install.has("--force-reinstall") and _EXACT_PIN.match(second.spec):
        newest = newest_version(first.name)
        return f"`{second.spec}` instead of the newest release, {newest} when dockerlint's package index was read"
    spec = f"`{second.spec or 'any version'}` instead of `{first.spec or 'any version'}`"
    if first.index != second.index:
        return f"{spec}, from `{second.index or 'PyPI'}`"
    return spec


# -- LAY004, LAY005: apt across layers ---------------------------------------------------------

_APT_USES_LISTS = ("install", "upgrade", "dist-upgrade", "full-upgrade", "build-dep", "source", "reinstall")
_APT_PROMPTS = ("upgrade", "dist-upgrade", "full-upgrade")
# Options under which apt-get never stops at its "Do you want to continue?" prompt.
_APT_NO_PROMPT = ("--yes", "--force-yes", "-s", "--simulate", "--just-print", "--dry-run", "--no-act", "--recon",
                  "-d", "--download-only", "--print-uris")  # fmt: skip


def _apt_installs(step: Step) -> list[Install]:
    return [install for install in step.installs if install.family == "apt"]


@check("LAY004")
def apt_update_split(image: Image) -> Iterator[Finding]:
    """``apt-get update`` alone in a RUN, and installs from its lists in later RUNs."""
    for stage in image.stages:
        if not stage.reachable:
            continue
        update: Install | None = None
        users: list[Install] = []
        for step in stage.runs():
            installs = _apt_installs(step)
            if not installs:
                continue
            if installs[0].action == "update" and update is not None:
                yield from _split_finding(image, update, users)
                update, users = None, []
            if update is not None:
                users += [install for install in installs if install.action in _APT_USES_LISTS]
            last_update = max((n for n, install in enumerate(installs) if install.action == "update"), default=None)
            if last_update is not None and not any(
                install.action in _APT_USES_LISTS for install in installs[last_update + 1 :]
            ):
                if update is not None:
                    yield from _split_finding(image, update, users)
                update, users = installs[last_update], []
        if update is not None:
            yield from _split_finding(image, update, users)


def _split_finding(image: Image, update: Install, users: list[Install]) -> Iterator[Finding]:
    if not users:
        return
    uses = " and ".join(f"`{install.tool} {install.action}` on line {install.span.line}" for install in users)
    yield finding(
        image,
        "LAY004",
        update.span,
        f"`{update.tool} update` runs in its own layer and {uses} use{'s' if len(users) == 1 else ''} its package "
        "lists later: when this layer comes from the build cache the lists are stale "
        "(old package versions, 404 errors), and they stay in this layer whatever a later RUN deletes",
        f"Run `{update.tool} update` in the same RUN as the install, and end that RUN with "
        "`rm -rf /var/lib/apt/lists/*`: `RUN apt-get update && apt-get install -y --no-install-recommends … "
        "&& rm -rf /var/lib/apt/lists/*`.",
        related=[
            Related(image.dockerfile_path, install.span, f"`{install.tool} {install.action}`") for install in users
        ],
    )


@check("LAY005")
def apt_prompt(image: Image) -> Iterator[Finding]:
    """``apt-get upgrade`` without ``-y``: a build has no terminal, so the prompt reads end of
    input and apt-get aborts as soon as there is anything to upgrade."""
    for stage in image.stages:
        if not stage.reachable:
            continue
        for step in stage.runs():
            for install in _apt_installs(step):
                if install.action not in _APT_PROMPTS or _apt_answers_yes(stage, step, install):
                    continue
                yield finding(
                    image,
                    "LAY005",
                    install.span,
                    f'`{install.tool} {install.action}` without `-y` stops at its "Do you want to continue?" '
                    "prompt; a build has no terminal to answer it, so apt aborts and the build fails whenever a "
                    "package can be upgraded",
                    f"Add `-y`: `{install.tool} {install.action} -y` (better still, start from a newer base image "
                    "instead of upgrading in a layer).",
                )


def _apt_answers_yes(stage: StageModel, step: Step, install: Install) -> bool:
    if any(install.has(option) for option in _APT_NO_PROMPT) or install.flags & {"-qq"}:
        return True
    option = install.option("--option")
    if isinstance(option, str) and "assume-yes" in option.lower():
        return True
    if install.command.command.pipe_position > 0:
        return True  # `yes | apt-get upgrade`
    if "APT_CONFIG" in step.env or "APT_CONFIG" in dict(install.command.command.assignments):
        return True
    for earlier in stage.steps[: step.index + 1]:
        for command in earlier.commands:
            if any("assume-yes" in word.lower() for word in command.argv):
                return True  # written into apt's configuration
    return False


# -- LAY006: model downloads after the code ------------------------------------------------------


@check("LAY006")
def download_after_copy(image: Image) -> Iterator[Finding]:
    """A model download placed after ``COPY . .``: every code change re-runs it."""
    from dockerlint.model.ml import downloads

    chain = final_chain(image)[::-1]
    reported: set[int] = set()
    for download in downloads(image):
        located = _step_at(chain, download.span.line)
        if located is None:
            continue
        stage, step = located
        copy = _code_copy_before(image, chain[: chain.index(stage) + 1], stage, step, download)
        if copy is None or id(step) in reported or _busting(image, chain, copy):
            continue  # LAY002 reports that COPY, naming this download
        reported.add(id(step))
        yield finding(
            image,
            "LAY006",
            download.span,
            f"{download.what} runs after the whole source tree is copied on line {copy.instruction.span.line}: "
            "every code change invalidates this layer and downloads the model again",
            "Move the download above `COPY . .` (copy only the files it reads first: a script, `.dvc` files), "
            "so the model layer stays cached while the code changes.",
            related=[Related(image.dockerfile_path, copy.instruction.span, "the source tree is copied here")],
        )


def _program_folder(image: Image, copy: Copy, download) -> bool:
    """Whether the COPY brings a folder (not the context root) that holds the file the
    download runs: the script's own folder, which the download needs before it."""
    programs = [path for path, _, _ in download.related if path != image.dockerfile_path]
    for source in copy.sources:
        value = source.value.strip("/")
        if value in ("", "."):
            return False
        folder = image.context_root / value
        if any(folder in program.parents for program in programs):
            return True
    return False


def _code_copied_after(image: Image, stage: StageModel, step: Step) -> bool:
    """Whether a COPY of a code folder follows ``step`` in its stage: the service's code
    comes in after the download."""
    return any(
        copy.step_index > step.index
        and copy.from_stage is None
        and not copy.from_image
        and any(_code_tree(image, source.value) for source in copy.sources)
        for copy in stage.copies
    )


def _busting(image: Image, chain: list[StageModel], copy: Copy) -> bool:
    return any(found[0] is copy for stage in chain for found in _busting_copies(image, stage, set()))


def _step_at(chain: list[StageModel], line: int) -> tuple[StageModel, Step] | None:
    for stage in chain:
        for step in stage.runs():
            span = step.instruction.span
            if span.line <= line <= span.end_line:
                return stage, step
    return None


def _code_copy_before(image: Image, stages: list[StageModel], stage: StageModel, step: Step, download) -> Copy | None:
    """The first COPY of the whole source tree (the context root, or a folder of Python code)
    made before ``step`` in the stages its layers build on. The folder of the program the
    download runs is not, when the service's code is copied after the download
    (`COPY scripts/ scripts/`, the download, `COPY app/ app/`)."""
    script_first = _code_copied_after(image, stage, step)
    for candidate in stages:
        for copy in candidate.copies:
            if candidate is stage and copy.step_index >= step.index:
                continue
            if copy.from_stage is not None or copy.from_image or copy.mount_only or copy.heredoc:
                continue
            if any(_code_tree(image, source.value) for source in copy.sources):
                if script_first and _program_folder(image, copy, download):
                    continue
                return copy
    return None


def _code_tree(image: Image, source: str) -> bool:
    value = source.rstrip("/") or "."
    if value in (".", "./"):
        return any(file.path.endswith(".py") for file in image.context.files)
    if re.search(r"[*?\[]", value):
        return False
    files = image.context.glob(value)
    return len(files) > 1 and any(file.path.endswith(".py") for file in files)


# -- LAY008: a stage's folder copied twice ------------------------------------------------------


@check("LAY008")
def copied_twice(image: Image) -> Iterator[Finding]:
    """``COPY --from=builder /app /app``, then ``COPY --from=builder /app/.venv /app/.venv``:
    the later layer holds files the earlier one already put there."""
    for stage in final_chain(image):
        earlier: list[Copy] = []
        for copy in stage.copies:
            if copy.from_stage is None or copy.mount_only or copy.heredoc:
                continue
            inside_of = next((first for first in earlier if _copied_again(first, copy)), None)
            if inside_of is not None:
                yield finding(
                    image,
                    "LAY008",
                    copy.instruction.span,
                    f"this COPY brings again files that line {inside_of.instruction.span.line} already copied from "
                    f"the same stage to the same place: they are stored in both layers",
                    "Delete this COPY, or copy the other parts of the folder one by one instead of the whole.",
                    related=[Related(image.dockerfile_path, inside_of.instruction.span, "copied here first")],
                )
            earlier.append(copy)


def _copied_again(first: Copy, later: Copy) -> bool:
    """Whether ``later`` copies, from the stage ``first`` copies a folder of, a folder inside
    that one, to where ``first`` put it: a folder source's contents land in the destination,
    so ``/app/.venv`` of ``COPY /app /app`` is at ``/app/.venv``."""
    if first.from_stage != later.from_stage or len(first.sources) != 1 or len(later.sources) != 1:
        return False
    outer = posixpath.normpath("/" + first.sources[0].value.strip())
    inner = posixpath.normpath("/" + later.sources[0].value.strip())
    if re.search(r"[*?\[$]", outer + inner) or not inner.startswith(outer.rstrip("/") + "/"):
        return False
    expected = posixpath.normpath(posixpath.join(first.dest, posixpath.relpath(inner, outer)))
    return posixpath.normpath(later.dest) == expected


# -- LAY007: recursive chmod/chown of files an earlier layer wrote ---------------------------------

_SMALL = 1_000_000  # below this the second copy is not worth a finding


@check("LAY007")
def rewritten_in_later_layer(image: Image) -> Iterator[Finding]:
    """``chmod -R``/``chown -R`` in a RUN over files an earlier layer added: the overlay file
    system copies each file up into the new layer, so the image stores it twice."""
    stages, order, position, added = _layers(image)
    for stage in stages:
        for step in stage.runs():
            for rewrite in recursive_rewrites(image, step):
                hits = []
                for item in added:
                    if position[id(item.step)] >= position[id(step)]:
                        continue
                    if not (inside(item.path, rewrite.target) or inside(rewrite.target, item.path)):
                        continue
                    real, size = _copied_size(
                        image, item, item.path if inside(item.path, rewrite.target) else rewrite.target
                    )
                    if real:
                        hits.append((item, size))
                if not hits:
                    continue
                sizes = [size for _, size in hits]
                total = sum(size for size in sizes if size)
                if None not in sizes and total < _SMALL:
                    continue
                cost = f" (~{human_size(total)}{' or more' if None in sizes else ''})" if total else ""
                lines = ", ".join(sorted({f"`{item.what}` on line {item.span.line}" for item, _ in hits}))
                yield finding(
                    image,
                    "LAY007",
                    rewrite.span,
                    f"`{rewrite.command}` rewrites every file under `{rewrite.written}`, and files there come from "
                    f"earlier layers ({lines}): each is copied into this layer, so the image stores them "
                    f"twice{cost}",
                    "Set owner and mode where the files are added: `COPY --chown=app:app --chmod=755 …`, or run "
                    "the chmod/chown in the same RUN that downloads or creates them.",
                    total or None,
                    related=[
                        Related(image.dockerfile_path, item.span, f"`{item.path}` added here") for item, _ in hits
                    ],
                )
