"""Multi-stage builds: what COPY --from really carries, and what the final image keeps.

Only stages the build needs are checked (the final stage and what it is FROM or copies
from: BuildKit skips the rest). A builder stage may hold compilers and caches; the
question is what reaches the final image.
"""

from __future__ import annotations

import difflib
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase

from dockerlint.checks import check
from dockerlint.checks.common import final_chain, finding, from_image_span
from dockerlint.findings import Finding, Related, human_size
from dockerlint.knowledge import load
from dockerlint.model import Image, StageModel, Step
from dockerlint.model.layers import Package, installed_packages, removal
from dockerlint.model.native_build import copies_native_sources
from dockerlint.model.pyenv import (
    Tree,
    clean_base,
    holds,
    libc,
    mentioned,
    python_version,
    source_path,
    trees,
)
from dockerlint.source import Span


@dataclass(frozen=True)
class _Take:
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
    close = difflib.get_close_matches(reference.lower(), names, n=1, cutoff=0.75)
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
    """Compilers and headers installed in ``stage`` and still there after their RUN."""
    patterns = load("build_tools")
    for step in stage.runs():
        for package in installed_packages(step):
            if not any(fnmatchcase(package.name, pattern) for pattern in patterns[package.family]["packages"]):
                continue
            if removal(step, package, package.install.command) is None:
                yield step, package


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
    if final is None or copies_native_sources(image):
        return  # a build environment for the repository's C/C++/CUDA sources needs them
    by_install: dict[int, list[tuple[Step, Package]]] = {}
    for step, package in _build_tools(image, final):
        if not _removed_later(image, step, package):  # removed in a later layer: LAY001 says so
            by_install.setdefault(id(package.install), []).append((step, package))
    for items in by_install.values():
        step, first = items[0]
        names = [package.name for _, package in items]
        shown = ", ".join(f"`{name}`" for name in names[:5]) + (" …" if len(names) > 5 else "")
        size = _size(names)
        cost = f" (~{human_size(size)})" if size else ""
        remove = {
            "apk": "`apk add --virtual .build-deps …`, then `apk del .build-deps`",
            "rpm": f"`dnf remove -y {' '.join(names[:5])}`",
        }.get(first.family, f"`apt-get purge -y --auto-remove {' '.join(names[:5])}`")
        yield finding(
            image,
            "STG001",
            first.install.span,
            f"build tools {shown} are installed in the final stage and stay in the image{cost}: "
            "the service needs them only to build packages",
            "Compile in a builder stage and copy the result (a venv or wheels) into the final stage, "
            f"or remove them in the same RUN after use ({remove}).",
            size,
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
            continue
        names = [package.name for _, package in tools]
        shown = ", ".join(f"`{name}`" for name in names[:5]) + (" …" if len(names) > 5 else "")
        size = _size(names)
        cost = f" (~{human_size(size)})" if size else ""
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
