"""Layers: bytes deleted too late, caches busted by copy order, packages installed twice.

A layer is immutable: what one instruction adds stays in the image even when a later
one deletes it. Only the stages whose layers ship are checked for waste (the final stage
and the stages it is FROM); copy order matters in every stage the build runs.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from dockerlint.checks import check
from dockerlint.checks.common import final_chain, finding
from dockerlint.findings import Finding, Related, human_size
from dockerlint.model import Copy, Image, Install, StageModel, Step
from dockerlint.model.image import context_source
from dockerlint.model.layers import REMOVE_ACTIONS, Package, installed_packages, removal, removed_paths
from dockerlint.model.pyenv import inside, positional
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


@dataclass(frozen=True)
class _Added:
    path: str  # absolute path in the image
    span: Span
    step: Step
    what: str  # "COPY", "ADD", "wget", "curl", "git clone"
    copy: Copy | None = None


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
    if copy is None or copy.from_stage is not None or copy.from_image is not None or "://" in added.path:
        return True, None
    if copy.is_add and any("://" in source.value for source in copy.sources):
        return True, None
    source = context_source(image, _stage_of(image, added.step), removed, added.step.index)
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


def _stage_of(image: Image, step: Step) -> StageModel:
    return next(stage for stage in image.stages if any(other is step for other in stage.steps))


@check("LAY001")
def deleted_in_later_layer(image: Image) -> Iterator[Finding]:
    stages = final_chain(image)[::-1]
    order = [step for stage in stages for step in stage.steps]
    position = {id(step): number for number, step in enumerate(order)}
    added = list(_added_paths(image, stages))
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
                    if not real:
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
    for copy in reversed(stage.copies):
        if copy.step_index >= before or copy.from_stage is not None or copy.from_image or copy.mount_only:
            continue
        if inside(image_path, copy.dest):
            return copy
    return None


@check("LAY002")
def cache_busting_copy(image: Image) -> Iterator[Finding]:
    for stage in image.stages:
        if not stage.reachable:
            continue
        reported: set[int] = set()
        for step in stage.runs():
            for install in step.installs:
                if install.family != "pip" or install.action != "install":
                    continue
                for reference in install.requirements:
                    copy = _providing_copy(stage, reference.image_path, step.index)
                    if copy is None or id(copy) in reported or not _whole_tree(image, copy, reference.context_path):
                        continue
                    reported.add(id(copy))
                    manifest = posixpath.relpath(reference.image_path, step.workdir or "/")
                    yield finding(
                        image,
                        "LAY002",
                        copy.instruction.span,
                        f"this COPY brings in the whole source tree before `pip install -r {manifest}` on "
                        f"line {install.span.line}: every code change invalidates the install layer and "
                        "reinstalls every package",
                        f"Copy the manifest first: `COPY {manifest} .`, then `RUN pip install -r {manifest}`, "
                        "then `COPY . .`.",
                        related=[Related(image.dockerfile_path, install.span, "the dependency install")],
                    )


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


@dataclass(frozen=True)
class _Pin:
    name: str
    spec: str
    index: str
    span: Span
    install: Install


def _pins(image: Image, install: Install) -> Iterator[_Pin]:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    index = str(install.option("--index-url") or install.option("--extra-index-url") or "")
    for argument in install.packages:
        try:
            parsed = Requirement(argument.value)
        except InvalidRequirement:
            continue
        yield _Pin(
            canonicalize_name(parsed.name), str(parsed.specifier) + (parsed.url or ""), index, argument.span, install
        )
    for reference in install.requirements:
        if reference.constraint or reference.context_path is None:
            continue
        loaded = image.workspace.requirements(reference.context_path)
        file_index = loaded.options.index_url or ",".join(loaded.options.extra_index_urls) or index
        for requirement in loaded.requirements:
            if requirement.name and not requirement.constraint:
                yield _Pin(
                    requirement.name,
                    requirement.specifier + (requirement.url or ""),
                    file_index,
                    reference.span,
                    install,
                )


@check("LAY003")
def pip_reinstall(image: Image) -> Iterator[Finding]:
    """Only changes pip really makes: a different exact pin (``==2.3.0`` then ``==2.3.0+cpu``)
    or ``--force-reinstall``; an already satisfied requirement is left alone by pip."""
    seen: dict[str, _Pin] = {}
    for stage in final_chain(image)[::-1]:
        for step in stage.runs():
            for install in step.installs:
                if install.family != "pip" or install.action != "install" or install.option("--target"):
                    continue
                for pin in _pins(image, install):
                    first = seen.setdefault(pin.name, pin)
                    if first.install is install or not _replaces(first, pin):
                        continue
                    seen[pin.name] = pin
                    yield finding(
                        image,
                        "LAY003",
                        pin.span,
                        f"`{pin.name}` is installed again here ({_difference(first, pin)}) after line "
                        f"{first.span.line} installed it: the first copy's bytes stay in that earlier layer",
                        f"Install `{pin.name}` once, with the version and index you want, in the first install "
                        "(for example install it from its `--index-url` before the requirements).",
                        related=[Related(image.dockerfile_path, first.span, f"`{pin.name}` first installed here")],
                    )


def _replaces(first: _Pin, later: _Pin) -> bool:
    if later.install.has("--force-reinstall"):
        return True
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    exact = re.compile(r"^===?([^,*=]+)$")
    pinned = exact.match(first.spec)
    if pinned is None or exact.match(later.spec) is None:
        return False
    try:
        return not SpecifierSet(later.spec).contains(pinned.group(1), prereleases=True)
    except InvalidSpecifier:
        return False


def _difference(first: _Pin, second: _Pin) -> str:
    spec = f"`{second.spec or 'any version'}` instead of `{first.spec or 'any version'}`"
    if first.index != second.index:
        return f"{spec}, from `{second.index or 'PyPI'}`"
    return spec
